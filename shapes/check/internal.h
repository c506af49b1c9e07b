// shapes/check/internal.h: the parts of the constraint checker (shapes/checker.h), private to
// shapes/check/ and shapes/checker.cpp. One file per job:
//
//   guard_forms.cpp   what a guard says: a bound, a linear relation, a congruence; range facts
//   components.cpp    the guards' connected components (each asked about on its own)
//   range_finder.cpp  the tightest range of a symbol; deciding guards by evaluation
//   analyze.cpp       analyze(): the numbered steps of one analysis, each a function
//   torch_text.cpp    torch's message texts (the violation items, Dim(...) forms)
//   suggest.cpp       suggested fixes, each re-checked by analyzing the env it describes
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "shapes/checker.h"
#include "shapes/interval.h"
#include "shapes/prover.h"

namespace ptx::shapes::check {

// ---- guard_forms.cpp -------------------------------------------------------------------------

/// s >= r.min, and s <= r.max when bounded.
std::vector<SymBool> range_facts(SymExpr s, const Range& r);
/// torch's _default_value_range lower bound for sizes: it assumes >= 2 (0/1 are specialized).
Range check_range(const Range& r);
/// A guard that is a bound on one symbol: s >= c, s <= c, Eq(s, c).
bool is_bound_on(const SymBool& b, SymExpr s);
bool same(const Range& a, const Range& b);

/// A linear relation between exactly two symbols, solved for the later one:
/// newer == k*older + m (k > 0).
struct Relation {
  SymExpr older, newer;
  int64_t k, m;
};
/// nullopt if the guard is not of that form.
std::optional<Relation> as_relation(const SymBool& b);

/// Eq(Mod(c*s + a, k), 0) on one symbol, solved for s: s == k'*_s - a' (k' = k / gcd(c, k), and
/// -a' the smallest residue that satisfies it), e.g. Eq(Mod(3*s, 2), 0) -> s == 2*_s.
struct Congruence {
  SymExpr sym;
  int64_t k, a;
};
std::optional<Congruence> as_congruence(const SymBool& b);

int64_t floordiv64(int64_t a, int64_t b);

// ---- components.cpp --------------------------------------------------------------------------

/// The guards' connected components: two symbols are in one component when a guard mentions both
/// (a derived dim is an expression of its root, so it is in the root's component). When the sample
/// is a model of every requested range and every guard, a question about one component needs only
/// its own symbols' ranges and guards: the other components are satisfiable on their own (by the
/// sample) and share no symbol with it, so they change no answer. Otherwise (`split` false) there is
/// one component holding everything, as if nothing were split.
struct Components {
  static constexpr size_t kNone = SIZE_MAX;
  bool split = false;
  std::vector<size_t> of_symbol;             // symbol position -> component
  std::vector<std::vector<size_t>> symbols;  // component -> symbol positions, in env order
  std::vector<std::vector<size_t>> guards;   // component -> guard indices, in env order
  std::vector<size_t> of_guard;              // guard index -> component (kNone: a constant guard)
};

/// `index`: symbol id -> position in env.symbols(); `guard_symbols`: the free symbols of each guard;
/// `allowed`: CheckOptions::split_components.
Components split_components(const ShapeEnv& env, const std::unordered_map<int, size_t>& index,
                            const std::vector<std::vector<SymExpr>>& guard_symbols, bool allowed);

// ---- range_finder.cpp ------------------------------------------------------------------------

/// Tightest range of one symbol under the requested ranges and the guards.
class RangeFinder {
 public:
  /// The prover of `s`'s component: it holds the ranges and the guards considered (made on demand).
  using ProverOf = std::function<Prover&(SymExpr s)>;
  /// Is the sample, with `s` set to `v`, a model of the assumptions of s's prover? A model found by
  /// evaluation, without Z3; false when it cannot tell.
  using Witness = std::function<bool(SymExpr s, int64_t v)>;

  /// `guards`: the guards considered.
  RangeFinder(const std::vector<const Guard*>& guards, ProverOf prover, Witness witness);

  /// The tightest range of `info.sym` inside `start` (which must contain the sample).
  Range tightest(const SymbolInfo& info, Range start);

 private:
  int64_t search(SymExpr s, int64_t end, int64_t hint, bool lower);

  std::unordered_map<int, std::vector<const Guard*>> by_symbol_;
  ProverOf prover_;
  Witness witness_;
};

/// Is `cond` false somewhere in the box of the symbols' ranges? Tried by evaluation at the sample
/// (when it is in the box) with one symbol moved to an end of its range or next to its sample, and
/// with every symbol at its upper (lower) end. True means the ranges do not imply `cond` (a point of
/// the box breaks it); false means "not found".
bool refuted_in_box(const SymBool& cond, const std::vector<SymExpr>& syms, Assignment& probe,
                    const std::function<const Range&(SymExpr)>& range_of);

/// Does every guard of `which` hold on `probe` with symbol `s` set to `v`? (probe is restored.)
bool holds_with(Assignment& probe, SymExpr s, int64_t v, const std::vector<Guard>& guards,
                const std::vector<size_t>& which);

/// Decides `cond` by evaluating it at every point of its symbols' bounds when there are at most
/// `limit` of them: exact where Z3 gives up on nonlinear guards over small ranges (window padding:
/// products of floor divisions and remainders of two sizes). The limit comes from the solver budget
/// (one point per kStepsPerPoint steps, at most kEnumerationLimit), so the time budget bounds it
/// too. False comes with the first point that breaks it in `cex`; a point where a term is undefined
/// (division by zero) is skipped, as the prover claims guards only where their terms are defined.
/// nullopt: too many points.
constexpr uint64_t kEnumerationLimit = uint64_t{1} << 18;
constexpr uint64_t kStepsPerPoint = 16;
/// The points a budget allows enumerating (both steps of the checker that enumerate use it).
inline uint64_t enumeration_limit(const SolverBudget& budget) {
  return std::min(kEnumerationLimit, budget.rlimit / kStepsPerPoint);
}
std::optional<Truth> decide_by_enumeration(const SymBool& cond, const std::vector<SymExpr>& syms,
                                           const SymbolBounds& bounds, uint64_t limit, Assignment* cex);

// ---- torch_text.cpp --------------------------------------------------------------------------

/// One "  - ..." line of the violation text, with the guards its notes name.
struct Item {
  std::string debug_name;  // the symbols it is about, comma separated
  std::string text;
  std::vector<const Guard*> guards;
};

/// torch's _render_range_for_constraint_violation: "batch = x.size()[0] in the specified range
/// batch <= 1024" (bounds at the default, <= 2 and int_oo, vanish).
std::string render_range(const SymbolInfo& info);
/// k*root + m in sympy style: "2*dx", "dx + 1", "2*dx - 1".
std::string linear_text(int64_t k, const std::string& root, int64_t m);
/// torch's prettify_results form of a range: "batch = Dim('batch', min=5, max=1024)".
std::string dim_form(const std::string& name, std::optional<int64_t> lo, std::optional<int64_t> hi, bool input_dim);

/// The items, one sentence each in torch's words.
Item specialized_item(const SymbolVerdict& v);
Item relation_item(const Relation& rel, const SymbolInfo& newer, const SymbolInfo& older, const Guard& g);
Item guard_item(const Guard& g, const std::vector<const SymbolInfo*>& symbols, const ShapeEnv& env);
Item range_item(const SymbolInfo& info, const Range& allowed, std::vector<const Guard*> guards);

/// "Constraints violated (a, b)! For more information, ...\n  - item\n      required by ..." (torch's
/// order: forced constants, relations, other guards, ranges).
std::string violation_text(const std::vector<Item>& items);

// ---- analyze.cpp -----------------------------------------------------------------------------

/// The analysis without suggestions. `narrower` (if given) receives, per named symbol whose
/// requested range is too wide, the range the guards allow (torch semantics: sizes >= 2).
/// `opts.budget` is the budget of every query (check_constraints resolved timeout_ms).
CheckResult analyze(const ShapeEnv& env, const CheckOptions& opts, std::map<int, Range>* narrower);

// ---- suggest.cpp -----------------------------------------------------------------------------

/// Adds to `res` the fixes of its violations that pass the checker when applied (none if the
/// repaired spec cannot be found), in torch's order: Dim(...) ranges by source, then equalities.
void suggest(const ShapeEnv& env, const CheckOptions& opts, const std::map<int, Range>& narrower, CheckResult& res);

}  // namespace ptx::shapes::check
