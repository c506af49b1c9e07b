// shapes/checker.cpp: see checker.h. The parts live in shapes/check/ (check/internal.h lists them);
// the order of the messages is torch's produce_guards order: forced constants, equalities and
// derived relations, other guards, then ranges.
#include "shapes/checker.h"

#include <algorithm>

#include "shapes/check/internal.h"

namespace ptx::shapes {

const char* to_string(Verdict v) {
  switch (v) {
    case Verdict::kOk:
      return "ok";
    case Verdict::kViolated:
      return "violated";
    case Verdict::kSpecialized:
      return "specialized";
    case Verdict::kUnknown:
      return "unknown";
  }
  return "?";
}

SolverBudget solver_budget(const CheckOptions& opts) {
  SolverBudget b = opts.budget;
  if (opts.timeout_ms) b.rlimit = std::max<uint64_t>(1, uint64_t{opts.timeout_ms} * kRlimitPerMs);
  return b;
}

CheckResult check_constraints(const ShapeEnv& env, const CheckOptions& given) {
  CheckOptions opts = given;
  opts.budget = solver_budget(given);
  opts.timeout_ms = 0;
  std::map<int, Range> narrower;
  CheckResult res = check::analyze(env, opts, &narrower);
  if (!res.ok && !res.unknown) check::suggest(env, opts, narrower, res);
  return res;
}

}  // namespace ptx::shapes
