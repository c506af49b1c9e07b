// serialize/sympy_text.h: symbolic integers as the text torch.export writes in a .pt2 file, and a
// parser for that text.
//
// torch 2.14 writes every symbolic size as sympy's srepr (torch/_export/serde/serialize.py,
// _print_sympy), and its loader reads it back with sympy.sympify:
//   s77                       -> Symbol('s77', positive=True, integer=True)
//   3*s77                     -> Mul(Integer(3), Symbol('s77', positive=True, integer=True))
//   (s77//3) + 1              -> Add(FloorDiv(Symbol(...), Integer(3)), Integer(1))
// The assumptions matter: a bare "s77" would come back from sympify as a symbol that is not known
// to be positive. Older torch versions (and people) write the plain str() form ("2*s0 + 1"), so the
// parser takes both forms, mixed freely.
//
// Note [srepr term order]: sympy prints Add terms and Mul factors in its own canonical order. We
// print the coefficient first in a product and the constant last in a sum, which is what sympy
// prints for the shapes export produces (Symbol, k*s, s + k, s // k, Mod(s, k)); for sums of
// several non-constant terms the order may differ from torch's text. Either way sympify builds the
// same expression.
//
// The parsing functions are thin wrappers of shapes/sym_parse (the one parser of symbolic text),
// turning its errors into SympyParseError.
#pragma once

#include <map>
#include <stdexcept>
#include <string>

#include "shapes/sym.h"

namespace ptx::serialize {

/// torch's srepr text of `e` (see the file comment). Every symbol is printed with
/// positive=True, integer=True, as torch creates size symbols.
std::string to_sympy_repr(shapes::SymExpr e);
/// srepr of a relation: "GreaterThan(Symbol('s0', ...), Integer(5))", "Equality(...)"; a constant
/// relation is "true" / "false" (sympy's true / false).
std::string to_sympy_repr(const shapes::SymBool& b);

/// Thrown by the parsers; the message names the offending text and position.
class SympyParseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Symbols met while parsing, by name. The parser adds a fresh symbol (SymExpr::new_symbol) the
/// first time it meets a name, and reuses it afterwards, so one table per program makes "s0" in
/// two places the same symbol.
using SymbolTable = std::map<std::string, shapes::SymExpr>;

/// Parses srepr or str() text of an integer expression: integers, symbols (s0, u3, Symbol('s0',
/// ...)), + - * // %, unary minus, parentheses, ** with a small non-negative integer exponent, and
/// the functions Integer, Add, Mul, Pow, FloorDiv, CleanDiv, CeilDiv, Mod, PythonMod, Min, Max.
/// Throws SympyParseError on anything else.
shapes::SymExpr parse_sympy_expr(const std::string& text, SymbolTable& symbols);

/// Parses a relation: Eq/Ne/Lt/Le/Gt/Ge(a, b), their srepr names (Equality, Unequality,
/// StrictLessThan, LessThan, StrictGreaterThan, GreaterThan), infix ==, !=, <, <=, >, >=, and
/// True / False / true / false.
shapes::SymBool parse_sympy_bool(const std::string& text, SymbolTable& symbols);

}  // namespace ptx::serialize
