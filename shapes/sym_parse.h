// shapes/sym_parse.h: the one parser of symbolic-integer text in ptexport (the rewrite-rule prover,
// lib/dim_spec's dimension specs, ir/parser's annotations and serialize/'s .pt2 sizes all use it). It reads:
//   - SymExpr::str() / SymBool::str() (torch's sympy style) plus Python operators:
//       2*s0 + 1    (s0//2)    s0 // 2    Mod(s0, 4)    s0 % 4    Min(8, s0)    max(a, b)    s0**2
//       Eq(s0, 8)   Ne(a, b)   s0 >= 5    a == 2*b      True      False    a > 0 and b > 0
//   - torch 2.14's other sympy function names (print(ep), guard messages):
//       FloorDiv(a, b)  PythonMod(a, b)  CleanDiv(a, b)  CeilDiv(a, b)  Lt/Le/Gt/Ge(a, b)
//   - sympy's srepr, which torch 2.14 writes into .pt2 files (torch/_export/serde/serialize.py,
//     _print_sympy):
//       Symbol('s0', integer=True, positive=True)  Integer(3)  Add(a, b, ...)  Mul(a, b, ...)
//       Pow(a, Integer(2))  Equality  Unequality  StrictLessThan  LessThan  StrictGreaterThan
//       GreaterThan  true  false
// It yields a SymAst: the expression as written, not yet canonical. The rewrite-rule prover needs
// the left-hand side exactly as written; everyone else calls build_expr/build_bool (or the
// parse_sym(text, symbol) / parse_sym_bool(text, symbol) shortcuts), which canonicalize through the
// SymExpr constructors, so parse_sym(e.str(), ...) == e.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "shapes/sym.h"

namespace ptx::shapes {

struct SymAst {
  enum class Op : uint8_t {
    Int, Var, Add, Sub, Neg, Mul, Pow, FloorDiv, Mod, Min, Max,  // integer valued
    Eq, Ne, Lt, Le, Gt, Ge, True, False, And,                    // boolean valued
  };
  Op op = Op::Int;
  int64_t value = 0;   // Int; Pow: the exponent
  std::string name;    // Var
  std::vector<SymAst> args;
  int depth = 1;       // nodes on the longest path down from here (parse_sym bounds it: kMaxSymDepth)

  bool is_bool() const { return op >= Op::Eq; }
  /// Number of nodes; a subtree without variables counts as one node (it folds to a constant).
  int size(const std::function<bool(const std::string&)>& is_constant_var) const;
  std::string str() const;  // fully parenthesized, for messages
};

/// The deepest expression parse_sym accepts (nodes on a path from the root, and nested brackets
/// or unary minuses): text read from files is untrusted, and every walk over a SymAst or SymExpr
/// recurses. torch's own expressions are a few levels deep; a sum of n terms is n levels.
inline constexpr int kMaxSymDepth = 1000;
inline constexpr int kMaxSymNesting = 200;

/// Parses `text`. Throws ptx::UserError (ExitCode::kUsage, "E_SYM_PARSE") naming the position on
/// a syntax error or an expression deeper than kMaxSymDepth / kMaxSymNesting.
SymAst parse_sym(std::string_view text);

/// Builds the canonical SymExpr of an integer-valued AST; `var` maps each variable name.
SymExpr build_expr(const SymAst& ast, const std::function<SymExpr(const std::string&)>& var);
/// Builds the canonical SymBool of a boolean-valued AST other than `and` (split those with
/// conjuncts()).
/// The operands of a chain of `and` (the AST itself if it is not one).
std::vector<SymAst> conjuncts(const SymAst& ast);
SymBool build_bool(const SymAst& ast, const std::function<SymExpr(const std::string&)>& var);

// ---- shortcuts for readers of files (ir text, .pt2 archives) ------------------------------------

/// Maps a symbol name met in the text ("s0") to the SymExpr it stands for. It may throw (for an
/// unknown name); its UserError passes through unchanged.
using SymbolLookup = std::function<SymExpr(const std::string&)>;

/// build_expr(parse_sym(text), symbol), for text read from a file: errors are
/// UserError(ExitCode::kInput, "E_SYM_PARSE") (syntax, a condition where an integer was expected,
/// a constant division by zero, overflow while folding constants), or "E_SYM_TOO_LARGE" naming
/// the text for a product or power too large to expand (shapes/limits.h, kMaxSymTerms).
SymExpr parse_sym(std::string_view text, const SymbolLookup& symbol);
/// build_bool(parse_sym(text), symbol), with errors as parse_sym(text, symbol).
SymBool parse_sym_bool(std::string_view text, const SymbolLookup& symbol);

/// A SymbolLookup that makes a fresh symbol (SymExpr::new_symbol) the first time it meets a name
/// and returns the same one afterwards, recording it in `table`. One table per program makes "s0"
/// in two places the same symbol. `table` must outlive the returned function.
SymbolLookup fresh_symbols(std::map<std::string, SymExpr>& table);

}  // namespace ptx::shapes
