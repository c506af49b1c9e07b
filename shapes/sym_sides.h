// shapes/sym_sides.h: the one split of a condition into the two sides it prints with, shared by
// SymBool::str(), the Python-style printer of guards (shapes/py_printer.h) and the runtime asserts
// (passes/insert_runtime_asserts.h), so that all three show and compute the same sides.
#pragma once

#include <utility>

#include "shapes/sym.h"

namespace ptx::shapes {

/// The two sides of a non-constant `b` as it prints (str(), torch's printers, runtime asserts): the
/// terms with a positive coefficient on the left, the others (negated) and the constant on the right,
/// keeping the constant non-negative when both sides have terms: s0 - s1 >= -1 -> (s0 + 1, s1).
/// SymBool(b.rel(), left, right) == b.
std::pair<SymExpr, SymExpr> printed_sides(const SymBool& b);

}  // namespace ptx::shapes
