// shapes/sym_bool.cpp: SymBool, a relation between symbolic integers in its normal form (see the
// comment of the SymBool section below), its negation and evaluation. See shapes/sym_impl.h.
#include <algorithm>
#include <numeric>
#include <optional>
#include <vector>

#include "shapes/error.h"
#include "shapes/sym_impl.h"

namespace ptx::shapes {

// ---------------------------------------------------------------------------------------------
// SymBool. Normal form of a relation: `lhs rel rhs` with rhs a constant, lhs a non-constant
// expression without constant term whose first term (in operator< order) has a positive
// coefficient, Lt/Gt rewritten as Le/Ge, and for Eq/Ne/Le/Ge the gcd of lhs's coefficients
// divided out (with the constant rounded the right way, or the relation folded).

namespace {
int64_t leading_coeff(const Poly& p) {
  // The first term in SymExpr order, as build_from_poly sorts them.
  std::optional<SymExpr> best;
  int64_t coeff = 0;
  for (const auto& [f, c] : p) {
    SymExpr t = make_term(f, c < 0 ? -c : c);
    if (!best || t < *best) {
      best = t;
      coeff = c;
    }
  }
  return coeff;
}
Rel flip(Rel r) {
  switch (r) {
    case Rel::Lt:
      return Rel::Gt;
    case Rel::Gt:
      return Rel::Lt;
    case Rel::Le:
      return Rel::Ge;
    case Rel::Ge:
      return Rel::Le;
    default:
      return r;
  }
}
bool compare(Rel r, int64_t a, int64_t b) {
  switch (r) {
    case Rel::Eq:
      return a == b;
    case Rel::Ne:
      return a != b;
    case Rel::Lt:
      return a < b;
    case Rel::Le:
      return a <= b;
    case Rel::Gt:
      return a > b;
    case Rel::Ge:
      return a >= b;
  }
  return false;
}
}  // namespace

SymBool::SymBool(bool constant) : const_(constant) {}

SymBool::SymBool(Rel rel, SymExpr lhs, SymExpr rhs) {
  Poly p = poly_of(lhs - rhs);
  int64_t c = 0;
  if (auto it = p.find(Factors{}); it != p.end()) {
    c = -it->second;
    p.erase(it);
  }
  if (p.empty()) {
    const_ = compare(rel, 0, c);
    return;
  }
  if (rel == Rel::Lt) {
    rel = Rel::Le;
    c = checked_add(c, -1);
  } else if (rel == Rel::Gt) {
    rel = Rel::Ge;
    c = checked_add(c, 1);
  }
  if (leading_coeff(p) < 0) {
    for (auto& [f, k] : p) k = -k;
    c = -c;
    rel = flip(rel);
  }
  int64_t g = 0;
  for (const auto& [f, k] : p) g = gcd_abs(g, k);
  if (g > 1) {
    for (auto& [f, k] : p) k /= g;
    switch (rel) {
      case Rel::Eq:
      case Rel::Ne:
        if (c % g != 0) {
          const_ = rel == Rel::Ne;
          return;
        }
        c /= g;
        break;
      case Rel::Ge:
        c = -floordiv_i(-c, g);  // ceil
        break;
      case Rel::Le:
        c = floordiv_i(c, g);
        break;
      default:
        break;
    }
  }
  rel_ = rel;
  lhs_ = build_from_poly(std::move(p));
  rhs_ = SymExpr(c);
}

std::optional<bool> SymBool::as_const() const { return const_; }

SymBool SymBool::negated() const {
  if (const_) return SymBool(!*const_);
  switch (rel_) {
    case Rel::Eq:
      return SymBool(Rel::Ne, lhs_, rhs_);
    case Rel::Ne:
      return SymBool(Rel::Eq, lhs_, rhs_);
    case Rel::Le:
      return SymBool(Rel::Gt, lhs_, rhs_);
    case Rel::Ge:
      return SymBool(Rel::Lt, lhs_, rhs_);
    case Rel::Lt:
      return SymBool(Rel::Ge, lhs_, rhs_);
    case Rel::Gt:
      return SymBool(Rel::Le, lhs_, rhs_);
  }
  return *this;
}

bool SymBool::operator==(const SymBool& o) const {
  if (const_ || o.const_) return const_ == o.const_;
  return rel_ == o.rel_ && lhs_ == o.lhs_ && rhs_ == o.rhs_;
}

std::optional<bool> SymBool::evaluate(const Assignment& values) const {
  if (const_) return *const_;
  auto a = ptx::shapes::evaluate(lhs_, values);
  auto b = ptx::shapes::evaluate(rhs_, values);
  if (!a || !b) return std::nullopt;
  return compare(rel_, *a, *b);
}

std::vector<SymExpr> SymBool::free_symbols() const {
  if (const_) return {};
  return ptx::shapes::free_symbols(lhs_);  // rhs is a constant
}

SymBool sym_eq(SymExpr a, SymExpr b) { return SymBool(Rel::Eq, a, b); }
SymBool sym_ne(SymExpr a, SymExpr b) { return SymBool(Rel::Ne, a, b); }
SymBool sym_lt(SymExpr a, SymExpr b) { return SymBool(Rel::Lt, a, b); }
SymBool sym_le(SymExpr a, SymExpr b) { return SymBool(Rel::Le, a, b); }
SymBool sym_gt(SymExpr a, SymExpr b) { return SymBool(Rel::Gt, a, b); }
SymBool sym_ge(SymExpr a, SymExpr b) { return SymBool(Rel::Ge, a, b); }

}  // namespace ptx::shapes
