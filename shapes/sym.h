// shapes/sym.h: symbolic integers (SymExpr) and relations between them (SymBool).
//
// Every expression is canonical by construction and interned in one process-wide table, so
// structurally equal expressions are the same pointer and `==` is a pointer compare. No code
// outside shapes/sym.cpp allocates a node. Division and modulo have Python/ATen floor
// semantics (round toward -infinity; the remainder has the sign of the divisor).
//
// Printing follows torch's sympy style so that messages can be pasted next to torch.export's:
//   s0, 2*s0 + 1, s0 - 1, (s0//2), Mod(s0, 4), Min(s0, 8), Max(1, s0), ((s0 - 1)//32) + 1
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace ptx::shapes {

enum class SymKind : uint8_t {
#define PTX_SYM_KIND(name) name,
#include "shapes/sym_kinds.def"
#undef PTX_SYM_KIND
};

struct SymNode;  // interned; defined in sym.cpp

/// A symbolic integer. Cheap to copy (one pointer). Default-constructed is the constant 0.
class SymExpr {
 public:
  SymExpr();
  SymExpr(int64_t constant);  // NOLINT: implicit, so `s0 + 1` and `SymExpr e = 8` read naturally
  SymExpr(int constant) : SymExpr(static_cast<int64_t>(constant)) {}  // NOLINT

  /// A fresh symbol, distinct from every other, printed as `name` (e.g. "s0").
  static SymExpr new_symbol(const std::string& name);

  SymKind kind() const;
  bool is_const() const { return kind() == SymKind::Const; }
  bool is_symbol() const { return kind() == SymKind::Symbol; }
  /// Precondition: is_const().
  int64_t value() const;
  std::optional<int64_t> as_const() const;
  /// Precondition: is_symbol(). Ids are unique process-wide and increase in creation order.
  int symbol_id() const;
  /// Precondition: is_symbol().
  const std::string& symbol_name() const;
  /// Operands of a compound expression (Add/Mul: two or more; FloorDiv/Mod/Min/Max: two).
  std::span<const SymExpr> operands() const;

  bool operator==(const SymExpr& o) const { return node_ == o.node_; }
  bool operator!=(const SymExpr& o) const { return node_ != o.node_; }
  /// A total order (by kind order, then structure); stable within a process.
  bool operator<(const SymExpr& o) const;
  size_t hash() const { return std::hash<const void*>()(node_); }
  const SymNode* node() const { return node_; }

  /// torch-style text (see the file comment).
  std::string str() const;

 private:
  explicit SymExpr(const SymNode* n) : node_(n) {}
  friend struct SymBuilder;
  const SymNode* node_;
};

SymExpr operator+(SymExpr a, SymExpr b);
SymExpr operator-(SymExpr a, SymExpr b);
SymExpr operator-(SymExpr a);
/// Expands over sums. A product (or sum) that would have more than limits::kMaxSymTerms monomials
/// or kMaxSymFactors factors is UserError(ExitCode::kInput, "E_SYM_TOO_LARGE").
SymExpr operator*(SymExpr a, SymExpr b);
/// The sum of all `terms`, in one pass (a chain of + re-collects the partial sum at each step).
SymExpr sym_sum(std::span<const SymExpr> terms);
/// Rounds toward -infinity (Python `//`, aten::floor_divide). NOT C++ `/`.
/// A constant divisor of 0 is an InternalError; callers guard symbolic divisors.
SymExpr floor_div(SymExpr dividend, SymExpr divisor);
/// ceil(a / b) for b > 0, as -((-a) // b).
SymExpr ceil_div(SymExpr dividend, SymExpr divisor);
/// Python `%`: result has the sign of `divisor`. floor_div(a,b)*b + python_mod(a,b) == a.
SymExpr python_mod(SymExpr dividend, SymExpr divisor);
SymExpr sym_min(SymExpr a, SymExpr b);
SymExpr sym_max(SymExpr a, SymExpr b);

/// Values for symbols, by symbol id.
using Assignment = std::unordered_map<int, int64_t>;
/// The value of `e` under `values`; nullopt if a symbol of `e` has no value (or division by 0).
std::optional<int64_t> evaluate(SymExpr e, const Assignment& values);
/// Replaces symbols (by id) with expressions and re-canonicalizes.
SymExpr substitute(SymExpr e, const std::unordered_map<int, SymExpr>& by_id);
/// The symbols of `e`, in id order.
std::vector<SymExpr> free_symbols(SymExpr e);

/// A relation between two symbolic integers, or a constant truth value.
enum class Rel : uint8_t { Eq, Ne, Lt, Le, Gt, Ge };

class SymBool {
 public:
  SymBool(bool constant);  // NOLINT
  SymBool(Rel rel, SymExpr lhs, SymExpr rhs);  // folds constants and canonicalizes

  std::optional<bool> as_const() const;
  Rel rel() const { return rel_; }
  SymExpr lhs() const { return lhs_; }
  SymExpr rhs() const { return rhs_; }
  SymBool negated() const;
  bool operator==(const SymBool& o) const;
  std::optional<bool> evaluate(const Assignment& values) const;
  std::vector<SymExpr> free_symbols() const;
  /// torch-style text: Eq(s0, 8), Ne(Mod(s0, 4), 0), s0 >= 5, s0 <= 1024, s0 < s1.
  std::string str() const;

 private:
  std::optional<bool> const_;
  Rel rel_ = Rel::Eq;
  SymExpr lhs_, rhs_;
};

SymBool sym_eq(SymExpr a, SymExpr b);
SymBool sym_ne(SymExpr a, SymExpr b);
SymBool sym_lt(SymExpr a, SymExpr b);
SymBool sym_le(SymExpr a, SymExpr b);
SymBool sym_gt(SymExpr a, SymExpr b);
SymBool sym_ge(SymExpr a, SymExpr b);

/// A symbolic shape: one SymExpr per dimension.
using SymShape = std::vector<SymExpr>;
std::string to_string(const SymShape& shape);  // "[s0, 64]"

}  // namespace ptx::shapes

template <>
struct std::hash<ptx::shapes::SymExpr> {
  size_t operator()(const ptx::shapes::SymExpr& e) const { return e.hash(); }
};
