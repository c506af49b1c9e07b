// shapes/checker.h: the constraint checker. Does the user's dynamic-shape spec imply every guard
// that tracing recorded? It answers per symbol, and explains a failure the way torch.export does
// (same message texts), with the op and source line of each guard and suggested fixes in torch's
// form and in our `--dynamic` flag form.
//
// Semantics by DimHint (torch.export's):
//   kNamed    a named Dim with a range. Every guard whose symbols are all named must follow from
//             the requested ranges, or it is a violation: a forced constant ("You marked batch as
//             dynamic but your code specialized it to be a constant (8)"), a range that is too wide
//             (suggest the tighter range), an equality with another symbol (suggest `other = batch`),
//             a linear relation (suggest the derived dim `dy = 2*dx`), or another guard (divisibility
//             becomes a derived dim `batch = 32*_batch`; anything else has no suggestion).
//   kDynamic  Dim.DYNAMIC: the range is refined freely (final range = the tightest range the guards
//             and the requested range imply); a forced constant is a violation; the other guards
//             stay as runtime asserts.
//   kAuto     Dim.AUTO: never a violation; a forced constant is a specialization, reported.
// A guard that mentions a kDynamic or kAuto symbol is never charged to a named symbol: refining
// the dynamic one can satisfy it (torch unifies such symbols).
//
// 0 and 1: like torch, a guard that fails only at sizes 0 or 1 of a symbol is not a violation (torch
// specializes 0/1 and assumes sizes >= 2). Each SymbolVerdict says whether the guards allow 0 and 1,
// and the final ranges and runtime asserts keep the exported program sound there.
//
// Layers: constants and intervals first (shapes/interval.h), Z3 last with a deterministic budget
// (shapes/z3_lower.h), asked about one connected component of the guards at a time (docs/solver.md). A guard Z3 cannot decide within the budget makes the result `unknown`,
// naming the guard (the CLI exits 7); it is never taken as implied or violated.
//
// Every suggestion is re-checked before it is returned: the suggested spec, applied to the symbols,
// must be satisfiable by the sample and imply every guard. A spec that cannot be repaired with a
// dynamic range suggests the static value and says so.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "shapes/shape_env.h"
#include "shapes/z3_lower.h"

namespace ptx::shapes {

struct CheckOptions {
  /// Per Z3 query: a deterministic step count and seed (verdicts do not depend on machine load).
  SolverBudget budget;
  /// The CLI's --solver-timeout in milliseconds; 0 means `budget` as it is. Not a wall clock: it
  /// replaces budget.rlimit by timeout_ms * kRlimitPerMs steps (see solver_budget), so the same
  /// --solver-timeout gives the same verdicts on every machine and under any load.
  unsigned timeout_ms = 0;
  /// Splits the guards into connected components (symbols linked by guards), each with its own Z3
  /// queries. Same answers either way; false (one component) is for tests and measurements.
  bool split_components = true;
};

/// Z3 resource-limit steps per millisecond of --solver-timeout: the CLI's default 10 s is the
/// default budget (4,000,000 steps). Z3 runs roughly 1,500 to 3,000 steps per millisecond on the
/// project machine, so a query stops well within the stated time.
inline constexpr uint64_t kRlimitPerMs = 400;

/// The budget every Z3 query of check_constraints(env, opts) gets: opts.budget, with the rlimit
/// taken from timeout_ms when that is set (at least 1 step).
SolverBudget solver_budget(const CheckOptions& opts);

enum class Verdict {
  kOk,           // every guard on the symbol follows from the spec
  kViolated,     // a named symbol's guard does not follow from its requested range
  kSpecialized,  // the guards force the symbol to one value (an error unless kAuto)
  kUnknown,      // the solver could not decide a guard on the symbol within its budget
};
const char* to_string(Verdict v);  // "ok", "violated", "specialized", "unknown"

struct SymbolVerdict {
  std::string name;            // the user's name ("batch"), or the source for unnamed dims
  SymExpr symbol;              // s0
  DimHint kind = DimHint::kNamed;
  int64_t hint = 0;
  std::vector<std::string> sources;  // "x.size()[0]", ...
  Range requested;
  Range proven;                // the tightest range implied by the requested ranges and the guards
  Verdict verdict = Verdict::kOk;
  std::optional<int64_t> counterexample;  // a value in the requested range that breaks a guard
  std::vector<Guard> guards;               // every guard that mentions the symbol
  std::vector<Guard> violated;             // those not implied by the spec (charged to it)
  bool allowed_at_0 = false;               // 0 is in the requested range and the guards allow it
  bool allowed_at_1 = false;
};

struct Suggestion {
  std::string symbol;      // the user's name the fix is about ("batch", "other", "_batch")
  std::string torch_form;  // "batch = Dim('batch', min=5, max=1024)", "other = batch", "dy = 2*dx";
                           // empty where torch suggests nothing (a Dim.DYNAMIC dim forced constant)
  std::string flag_form;   // "--dynamic batch=5:1024", "--dynamic y.0=batch"
};

struct CheckResult {
  bool ok = true;        // no violation and nothing unknown
  bool unknown = false;  // some guard could not be decided (no violation was found elsewhere)
  std::vector<SymbolVerdict> symbols;  // in the env's symbol order
  /// torch's text ("Constraints violated (batch)! ...\n  - ...") with, after each item, our note
  /// naming the op and source line of the guards; empty when ok.
  std::string violation_text;
  std::vector<Suggestion> suggestions;
  /// The whole explanation to print: violation_text, then "Suggested fixes:" with both forms (or,
  /// when unknown, the undecided guards and their origin). Empty when ok.
  std::string message;
  /// Guards not implied by the final ranges, kept as runtime asserts in the program (divisibility,
  /// relations, exclusions of 0/1, guards on kDynamic/kAuto symbols).
  std::vector<Guard> runtime_asserts;
  /// kAuto symbols the guards force to a constant: user name -> value.
  std::map<std::string, int64_t> specializations;
  /// The program's range_constraints: symbol name (s0) -> final range (the proven range).
  std::map<std::string, Range> final_ranges;

  /// The report's "constraints" object (ptexport.report/v1).
  nlohmann::json to_json() const;
};

/// Checks `env`'s guards against its symbols' specs. Never throws for a model's guards (solver
/// failures are `unknown`); throws InternalError only on a malformed env.
CheckResult check_constraints(const ShapeEnv& env, const CheckOptions& opts = {});

/// A guard in torch's Python guard syntax with each symbol replaced by its first source:
/// "(x.size()[0] % 32) == 0", "32*(x.size()[0] // 32) >= 2", "x.size()[0] != 4".
std::string python_guard_text(const SymBool& cond, const ShapeEnv& env);

/// "x.size()[0]" -> "x.0" (the --dynamic TARGET syntax); other text is returned unchanged.
std::string source_to_target(const std::string& source);

}  // namespace ptx::shapes
