// shapes/witness.h: sizes that satisfy every guard, found by Z3: the points verification runs the
// exported program at (lib/verify.cpp), beyond one-symbol-at-a-time scans.
//
// Given the symbols' ranges, the guards, and a target value per symbol, nearest_point asks Z3 for
// an assignment inside the ranges that satisfies every guard and is closest to the targets (sum of
// absolute distances, z3::optimize), with the rlimit of shapes/z3_lower.h (optimize has no seed
// parameter; its default seed is fixed). This finds
// joint points where symbols are tied by guards (h == w, s1 == 2*s0, divisibility) that varying
// one symbol at a time cannot reach.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "shapes/shape_env.h"
#include "shapes/z3_lower.h"

namespace ptx::shapes {

/// The assignment of env's symbols closest to `target` (by symbol id; symbols without a target aim
/// at their hint) within `ranges` (by symbol name, e.g. "s0"; a symbol without one keeps its
/// requested range) that satisfies every guard of env. nullopt when Z3 finds none within the budget.
std::optional<Assignment> nearest_point(const ShapeEnv& env, const std::map<std::string, Range>& ranges,
                                        const Assignment& target, const SolverBudget& budget = {});

}  // namespace ptx::shapes
