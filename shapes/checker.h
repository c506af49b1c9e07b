// shapes/checker.h: the constraint checker. Does the user's dynamic-shape spec imply every guard
// that tracing recorded? It answers per symbol, and explains a failure the way torch.export does
// (same message texts), with the op and source line of each guard and suggested fixes as structured
// values (with torch's form of each). The results are typed: how they are shown to a user (the
// report, the command line's form of a fix) is the caller's business (cmd/report.h).
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
// (shapes/z3_lower.h), asked about one connected component of the guards at a time (docs/solver.md).
// A guard Z3 cannot decide within the budget makes the result `unknown`, naming the guard; it is
// never taken as implied or violated.
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

#include "shapes/py_printer.h"
#include "shapes/shape_env.h"
#include "shapes/z3_lower.h"

namespace ptx::shapes {

struct CheckOptions {
  /// Per Z3 query: a deterministic step count and seed (verdicts do not depend on machine load).
  SolverBudget budget;
  /// A time budget per query in milliseconds; 0 means `budget` as it is. Not a wall clock: it
  /// replaces budget.rlimit by timeout_ms * kRlimitPerMs steps (see solver_budget), so the same
  /// timeout gives the same verdicts on every machine and under any load.
  unsigned timeout_ms = 0;
  /// Splits the guards into connected components (symbols linked by guards), each with its own Z3
  /// queries. Same answers either way; false (one component) is for tests and measurements.
  bool split_components = true;
};

/// Z3 resource-limit steps per millisecond of timeout_ms: 10 s is the default budget (4,000,000
/// steps). Z3 runs roughly 1,500 to 3,000 steps per millisecond on the
/// project machine, so a query stops well within the stated time.
inline constexpr uint64_t kRlimitPerMs = 400;

/// The budget every Z3 query of check_constraints(env, opts) gets: opts.budget, with the rlimit
/// taken from timeout_ms when that is set (at least 1 step).
SolverBudget solver_budget(const CheckOptions& opts);

// Whole results compare equal member by member (tests compare analyses).
inline bool operator==(const Range& a, const Range& b) { return a.min == b.min && a.max == b.max; }
inline bool operator==(const Provenance& a, const Provenance& b) {
  return a.op == b.op && a.node == b.node && a.source == b.source && a.code == b.code && a.reason == b.reason;
}
inline bool operator==(const Guard& a, const Guard& b) { return a.cond == b.cond && a.origin == b.origin; }

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
  /// When the proven range is narrower than the requested one: the guards that fail just outside
  /// it, inside the requested range (at proven.min - 1, at proven.max + 1), with the other symbols
  /// at their samples. Without a violation that happens below 2 (a named range is held to the guards
  /// from 2 up: torch's 0/1 specialization) and for Dim.DYNAMIC/AUTO symbols (ranges refined freely).
  std::vector<Guard> narrowed_by;
  bool operator==(const SymbolVerdict&) const = default;
};

/// A suggested fix, re-checked: applied to the spec, every guard holds. A derived dim's fix is two
/// suggestions: the new root's range (kRange on "_batch"), then the relation (batch = 2*_batch).
struct Suggestion {
  enum class Kind {
    kRange,     // `symbol` gets `range`
    kStatic,    // `symbol`'s dims are static, `value` (their sample size)
    kRelation,  // `symbol` = k*root + m
  };
  Kind kind = Kind::kRange;
  std::string symbol;      // the user's name the fix is about ("batch", "other", "_batch")
  std::string torch_form;  // "batch = Dim('batch', min=5, max=1024)", "other = batch", "dy = 2*dx";
                           // empty where torch suggests nothing (a Dim.DYNAMIC dim forced constant)
  std::vector<std::string> sources;  // kStatic, kRelation: the input dims of `symbol`, "y.size()[0]"
  Range range;                       // kRange
  int64_t value = 0;                 // kStatic
  std::string root;                  // kRelation
  int64_t k = 1, m = 0;              // kRelation
  bool operator==(const Suggestion&) const = default;
};

struct CheckResult {
  bool ok = true;        // no violation and nothing unknown
  bool unknown = false;  // some guard could not be decided (no violation was found elsewhere)
  std::vector<SymbolVerdict> symbols;  // in the env's symbol order
  /// torch's text ("Constraints violated (batch)! ...\n  - ...") with, after each item, our note
  /// naming the op and source line of the guards; empty when ok.
  std::string violation_text;
  std::vector<Suggestion> suggestions;
  /// Guards not implied by the final ranges, kept as runtime asserts in the program (divisibility,
  /// relations, exclusions of 0/1, guards on kDynamic/kAuto symbols).
  std::vector<Guard> runtime_asserts;
  /// kAuto symbols the guards force to a constant: user name -> value.
  std::map<std::string, int64_t> specializations;
  /// The program's range_constraints: symbol name (s0) -> final range (the proven range).
  std::map<std::string, Range> final_ranges;
  bool operator==(const CheckResult&) const = default;
};

/// Checks `env`'s guards against its symbols' specs. Never throws for a model's guards (solver
/// failures are `unknown`); throws InternalError only on a malformed env.
CheckResult check_constraints(const ShapeEnv& env, const CheckOptions& opts = {});

/// The note under a guard in messages: "      required by aten::view at model.py:41 (element
/// counts must match): y = x.view(-1, 4)".
std::string required_by(const Guard& g);

}  // namespace ptx::shapes
