// shapes/z3_lower.h: SymExpr/SymBool to Z3 integer terms, and a deterministic, budgeted prover.
//
// Division semantics (see also shapes/sym.h): our FloorDiv/Mod are Python's (floor, remainder
// with the divisor's sign); SMT-LIB `div`/`mod` are Euclidean (remainder always >= 0). They agree
// exactly when the divisor is positive, so the lowering emits `div`/`mod` only there:
//   FloorDiv(a, k), k > 0 constant          -> div(a, k)
//   FloorDiv(a, b), b symbolic              -> ite(b > 0, div(a, b), div(-a, -b))
//   Mod(a, k), k > 0 constant               -> mod(a, k)
//   Mod(a, b), b symbolic                   -> ite(b > 0, mod(a, b), -mod(-a, -b))
// and records `b != 0` as a definedness condition (the value of a division by zero is left to
// the caller: guards are only claimed where their terms are defined).
//
// Every query runs with a fixed `random_seed` and a deterministic resource limit (`rlimit`,
// counted in solver steps, not milliseconds), so verdicts do not depend on machine load. A query
// the solver cannot decide within its budget, or any z3::exception, is Truth::Unknown: never
// taken as proved or refuted.
#pragma once

#include <z3++.h>

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "shapes/sym.h"

namespace ptx::shapes {

/// The verdict of a decision procedure. Unknown is its own answer, never "probably true".
enum class Truth { True, False, Unknown };
const char* to_string(Truth t);  // "true", "false", "unknown"

/// Solver settings. The default rlimit decides the guard sets of real models in well under a
/// second; it is a count of solver steps, so the same query gets the same verdict everywhere.
struct SolverBudget {
  uint64_t rlimit = 4'000'000;  // per check() call
  unsigned random_seed = 0;
};

/// Lowers expressions of one z3::context, memoized by node. Symbols become integer constants
/// named `<name>!<id>` (unique even when two envs both have an `s0`).
class Z3Lowering {
 public:
  explicit Z3Lowering(z3::context& ctx) : ctx_(ctx), defined_(ctx) {}

  z3::context& ctx() { return ctx_; }
  /// The Z3 constant of symbol `sym`. Precondition: sym.is_symbol().
  z3::expr symbol(SymExpr sym);
  z3::expr lower(SymExpr e);
  z3::expr lower(const SymBool& b);
  /// Conditions under which every term lowered so far is defined: each symbolic divisor != 0.
  const z3::expr_vector& definedness() const { return defined_; }
  /// Appends to `out` the definedness conditions of the terms of `b` alone (each symbolic divisor
  /// != 0), lowering what is not lowered yet.
  void definedness_of(const SymBool& b, z3::expr_vector& out);
  /// The symbols lowered so far, by id.
  const std::unordered_map<int, SymExpr>& symbols() const { return symbols_; }

 private:
  z3::context& ctx_;
  z3::expr_vector defined_;
  std::unordered_map<const SymNode*, z3::expr> memo_;
  std::unordered_map<int, SymExpr> symbols_;
};

/// A solver (Z3's SMT kernel, no tactics and no wall-clock limits anywhere) with the budget's
/// rlimit and random_seed applied.
z3::solver make_solver(z3::context& ctx, const SolverBudget& budget);

/// Runs s.check() and maps the answer: unsat -> False (no model), sat -> True (a model exists),
/// unknown or z3::exception -> Unknown.
Truth satisfiable(z3::solver& s);

/// Do `assumptions` imply `claim` (where the terms are defined)? True: proved. False: refuted,
/// with the symbols' values of one counterexample in `counterexample` if given. Unknown: the
/// solver gave up within the budget (or failed).
Truth prove_implies(const std::vector<SymBool>& assumptions, const SymBool& claim,
                    const SolverBudget& budget, Assignment* counterexample = nullptr);

/// The value of every symbol lowered by `lowering` in `model` (symbols the model leaves free are
/// given 0 by model completion).
Assignment model_values(const z3::model& model, Z3Lowering& lowering);
/// The values of `only` (symbols) in `model`: cheaper when the lowering holds many symbols.
Assignment model_values(const z3::model& model, Z3Lowering& lowering, const std::vector<SymExpr>& only);

}  // namespace ptx::shapes
