// shapes/sym_parse.h: a parser for the text of symbolic integers and relations, in the syntax
// SymExpr::str() / SymBool::str() print (torch's sympy style) plus Python operators:
//   2*s0 + 1    (s0//2)    s0 // 2    Mod(s0, 4)    s0 % 4    Min(8, s0)    max(a, b)    s0**2
//   Eq(s0, 8)   Ne(a, b)   s0 >= 5    a == 2*b      True      False    a > 0 and b > 0
// It yields a SymAst: the expression as written, not yet canonical. The rewrite-rule prover needs
// the left-hand side exactly as written; everyone else calls build_expr/build_bool, which
// canonicalize through the SymExpr constructors.
#pragma once

#include <cstdint>
#include <functional>
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

  bool is_bool() const { return op >= Op::Eq; }
  /// Number of nodes; a subtree without variables counts as one node (it folds to a constant).
  int size(const std::function<bool(const std::string&)>& is_constant_var) const;
  std::string str() const;  // fully parenthesized, for messages
};

/// Parses `text`. Throws ptx::UserError (ExitCode::kUsage, "E_SYM_PARSE") naming the position on
/// a syntax error.
SymAst parse_sym(std::string_view text);

/// Builds the canonical SymExpr of an integer-valued AST; `var` maps each variable name.
SymExpr build_expr(const SymAst& ast, const std::function<SymExpr(const std::string&)>& var);
/// Builds the canonical SymBool of a boolean-valued AST other than `and` (split those with
/// conjuncts()).
/// The operands of a chain of `and` (the AST itself if it is not one).
std::vector<SymAst> conjuncts(const SymAst& ast);
SymBool build_bool(const SymAst& ast, const std::function<SymExpr(const std::string&)>& var);

}  // namespace ptx::shapes
