// shapes/py_printer.h: guards as torch prints them in its messages: torch's PythonPrinter
// (torch/utils/_sympy/printers.py) over our expressions, each symbol named by a caller-given name
// (the checker names a symbol by its first source, "x.size()[0]").
//
//   "(x.size()[0] % 32) == 0", "32*(x.size()[0] // 32) >= 2", "x.size()[0] != 4"
#pragma once

#include <functional>
#include <string>

#include "shapes/shape_env.h"

namespace ptx::shapes {

/// The name a symbol prints as.
using NameOf = std::function<std::string(SymExpr)>;

/// `cond` in torch's Python guard syntax, with `name` for the symbols.
std::string python_text(const SymBool& cond, const NameOf& name);

/// `cond` in torch's Python guard syntax with each symbol replaced by its first source.
std::string python_guard_text(const SymBool& cond, const ShapeEnv& env);

}  // namespace ptx::shapes
