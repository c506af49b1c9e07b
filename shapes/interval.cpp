// shapes/interval.cpp: interval arithmetic over SymExpr with 128-bit intermediates; a bound that
// leaves int64 becomes infinite (still sound).
#include "shapes/interval.h"
#include "shapes/sym_sides.h"

#include <algorithm>
#include <vector>

namespace ptx::shapes {

namespace {

using I128 = __int128;

// A bound in extended arithmetic: value or +-infinity.
struct B {
  int inf = 0;  // -1: -oo, +1: +oo, 0: finite
  I128 v = 0;
  static B fin(I128 x) { return {0, x}; }
  static B neg_inf() { return {-1, 0}; }
  static B pos_inf() { return {1, 0}; }
  bool operator<(const B& o) const {
    if (inf != o.inf) return inf < o.inf;
    return inf == 0 && v < o.v;
  }
};

constexpr I128 kMax = static_cast<I128>(INT64_MAX);
constexpr I128 kMin = static_cast<I128>(INT64_MIN);
constexpr I128 kHuge = static_cast<I128>(1) << 100;

B clampb(B b) {
  if (b.inf) return b;
  if (b.v > kHuge) return B::pos_inf();
  if (b.v < -kHuge) return B::neg_inf();
  return b;
}

B add(B a, B b) {
  if (a.inf && b.inf && a.inf != b.inf) return B::neg_inf();  // not reached for lo+lo / hi+hi
  if (a.inf) return a;
  if (b.inf) return b;
  return clampb(B::fin(a.v + b.v));
}

int sign(B a) { return a.inf ? a.inf : (a.v > 0) - (a.v < 0); }

B mul(B a, B b) {
  int s = sign(a) * sign(b);
  if (s == 0) return B::fin(0);
  if (a.inf || b.inf) return s > 0 ? B::pos_inf() : B::neg_inf();
  // |values| <= 2^100 after clamping; the product could exceed 128 bits, so check first.
  I128 aa = a.v < 0 ? -a.v : a.v, bb = b.v < 0 ? -b.v : b.v;
  if (aa != 0 && bb > kHuge / aa) return s > 0 ? B::pos_inf() : B::neg_inf();
  return clampb(B::fin(a.v * b.v));
}

struct Iv {
  B lo, hi;
};

Iv from(const Interval& i) {
  return {i.lo ? B::fin(*i.lo) : B::neg_inf(), i.hi ? B::fin(*i.hi) : B::pos_inf()};
}

Interval to(const Iv& i) {
  Interval r;
  if (!i.lo.inf && i.lo.v >= kMin && i.lo.v <= kMax) r.lo = static_cast<int64_t>(i.lo.v);
  if (!i.lo.inf && i.lo.v > kMax) r.lo = INT64_MAX;
  if (!i.hi.inf && i.hi.v >= kMin && i.hi.v <= kMax) r.hi = static_cast<int64_t>(i.hi.v);
  if (!i.hi.inf && i.hi.v < kMin) r.hi = INT64_MIN;
  return r;
}

I128 fdiv(I128 a, I128 b) {
  I128 q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

B fdiv_b(B a, I128 k) {  // k > 0; floor division is monotone in a
  if (a.inf) return a;
  return B::fin(fdiv(a.v, k));
}

Iv iv_mul(const Iv& a, const Iv& b) {
  B c[4] = {mul(a.lo, b.lo), mul(a.lo, b.hi), mul(a.hi, b.lo), mul(a.hi, b.hi)};
  return {*std::min_element(c, c + 4), *std::max_element(c, c + 4)};
}

Iv rec(SymExpr e, const SymbolBounds& sb) {
  switch (e.kind()) {
    case SymKind::Const:
      return {B::fin(e.value()), B::fin(e.value())};
    case SymKind::Symbol:
      return from(sb(e));
    case SymKind::Add: {
      Iv r{B::fin(0), B::fin(0)};
      for (const SymExpr& op : e.operands()) {
        Iv x = rec(op, sb);
        r = {add(r.lo, x.lo), add(r.hi, x.hi)};
      }
      return r;
    }
    case SymKind::Mul: {
      // Repeated factors (x*x) are squares: never negative.
      Iv r{B::fin(1), B::fin(1)};
      auto ops = e.operands();
      for (size_t i = 0; i < ops.size();) {
        size_t j = i;
        while (j < ops.size() && ops[j] == ops[i]) ++j;
        Iv x = rec(ops[i], sb);
        Iv p = x;
        for (size_t n = 1; n < j - i; ++n) p = iv_mul(p, x);
        if ((j - i) % 2 == 0 && sign(p.lo) < 0) p.lo = B::fin(0);
        r = iv_mul(r, p);
        i = j;
      }
      return r;
    }
    case SymKind::FloorDiv: {
      Iv a = rec(e.operands()[0], sb);
      Iv d = rec(e.operands()[1], sb);
      if (!d.lo.inf && d.lo.v > 0) {
        // Positive divisor in [dl, dh]: extremes at the corners.
        if (!d.hi.inf) {
          I128 dl = d.lo.v, dh = d.hi.v;
          B c[4] = {fdiv_b(a.lo, dl), fdiv_b(a.lo, dh), fdiv_b(a.hi, dl), fdiv_b(a.hi, dh)};
          return {*std::min_element(c, c + 4), *std::max_element(c, c + 4)};
        }
        I128 dl = d.lo.v;
        B lo = sign(a.lo) >= 0 ? B::fin(0) : fdiv_b(a.lo, dl);
        B hi = sign(a.hi) >= 0 ? fdiv_b(a.hi, dl) : B::fin(-1);
        if (sign(a.lo) >= 0) lo = B::fin(0);
        return {lo, hi};
      }
      return {B::neg_inf(), B::pos_inf()};
    }
    case SymKind::Mod: {
      Iv a = rec(e.operands()[0], sb);
      Iv d = rec(e.operands()[1], sb);
      if (!d.lo.inf && d.lo.v > 0) {
        B hi = d.hi.inf ? B::pos_inf() : B::fin(d.hi.v - 1);
        // A non-negative dividend below the divisor is its own remainder.
        if (sign(a.lo) >= 0 && a.hi < hi) hi = a.hi;
        return {B::fin(0), hi};
      }
      if (!d.hi.inf && d.hi.v < 0) return {B::fin(d.lo.inf ? 0 : d.lo.v + 1), B::fin(0)};
      return {B::neg_inf(), B::pos_inf()};
    }
    case SymKind::Min:
    case SymKind::Max: {
      Iv a = rec(e.operands()[0], sb);
      Iv b = rec(e.operands()[1], sb);
      if (e.kind() == SymKind::Min) return {std::min(a.lo, b.lo), std::min(a.hi, b.hi)};
      return {std::max(a.lo, b.lo), std::max(a.hi, b.hi)};
    }
  }
  return {B::neg_inf(), B::pos_inf()};
}

}  // namespace

std::string Interval::str() const {
  return "[" + (lo ? std::to_string(*lo) : std::string("-int_oo")) + ", " +
         (hi ? std::to_string(*hi) : std::string("int_oo")) + "]";
}

Interval bounds_of(SymExpr e, const SymbolBounds& symbol_bounds) {
  return to(rec(e, symbol_bounds));
}

namespace {

/// True when `a <= b` (`a < b` with `strict`) for every value of the symbols: by the bounds of
/// a - b, or because a Min on the left has an operand below the right side (Min(300, u0) <= u0) or a
/// Max on the right one above the left side (x <= Max(x, 1)), which the bounds alone cannot tell.
bool surely_le(SymExpr a, SymExpr b, bool strict, const SymbolBounds& sb, int depth = 0) {
  const Interval d = bounds_of(a - b, sb);
  if (d.hi && (strict ? *d.hi < 0 : *d.hi <= 0)) return true;
  if (depth > 4) return false;
  if (a.kind() == SymKind::Min) {
    for (const SymExpr& o : a.operands()) {
      if (surely_le(o, b, strict, sb, depth + 1)) return true;
    }
  }
  if (b.kind() == SymKind::Max) {
    for (const SymExpr& o : b.operands()) {
      if (surely_le(a, o, strict, sb, depth + 1)) return true;
    }
  }
  return false;
}

/// `cond` decided on its printed sides (Min(300, u0) - u0 <= 0 as Min(300, u0) <= u0) by surely_le.
std::optional<bool> decide_by_sides(const SymBool& cond, const SymbolBounds& sb) {
  const auto [l, r] = printed_sides(cond);
  auto min_max = [](SymExpr e) { return e.kind() == SymKind::Min || e.kind() == SymKind::Max; };
  if (!min_max(l) && !min_max(r)) return std::nullopt;  // the bounds of lhs - rhs said all there is
  auto le = [&](SymExpr a, SymExpr b) -> std::optional<bool> {
    if (surely_le(a, b, false, sb)) return true;
    if (surely_le(b, a, true, sb)) return false;
    return std::nullopt;
  };
  auto lt = [&](SymExpr a, SymExpr b) -> std::optional<bool> {
    if (surely_le(a, b, true, sb)) return true;
    if (surely_le(b, a, false, sb)) return false;
    return std::nullopt;
  };
  switch (cond.rel()) {
    case Rel::Le: return le(l, r);
    case Rel::Lt: return lt(l, r);
    case Rel::Ge: return le(r, l);
    case Rel::Gt: return lt(r, l);
    case Rel::Eq:
    case Rel::Ne:
      if (surely_le(l, r, true, sb) || surely_le(r, l, true, sb)) return cond.rel() == Rel::Ne;
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

std::optional<bool> decide_by_bounds(const SymBool& cond, const SymbolBounds& symbol_bounds) {
  if (auto k = cond.as_const()) return *k;
  Interval l = bounds_of(cond.lhs(), symbol_bounds);
  Interval r = bounds_of(cond.rhs(), symbol_bounds);
  auto le = [](const Interval& a, const Interval& b) -> std::optional<bool> {
    if (a.hi && b.lo && *a.hi <= *b.lo) return true;   // every a <= every b
    if (a.lo && b.hi && *a.lo > *b.hi) return false;   // every a > every b
    return std::nullopt;
  };
  auto lt = [](const Interval& a, const Interval& b) -> std::optional<bool> {
    if (a.hi && b.lo && *a.hi < *b.lo) return true;
    if (a.lo && b.hi && *a.lo >= *b.hi) return false;
    return std::nullopt;
  };
  std::optional<bool> by_bounds;
  switch (cond.rel()) {
    case Rel::Le:
      by_bounds = le(l, r);
      break;
    case Rel::Lt:
      by_bounds = lt(l, r);
      break;
    case Rel::Ge:
      by_bounds = le(r, l);
      break;
    case Rel::Gt:
      by_bounds = lt(r, l);
      break;
    case Rel::Eq:
    case Rel::Ne: {
      std::optional<bool> eq;
      if (l.is_point() && r.is_point() && *l.lo == *r.lo) eq = true;
      if ((l.hi && r.lo && *l.hi < *r.lo) || (l.lo && r.hi && *l.lo > *r.hi)) eq = false;
      if (eq) by_bounds = cond.rel() == Rel::Eq ? *eq : !*eq;
      break;
    }
  }
  if (by_bounds) return by_bounds;
  return decide_by_sides(cond, symbol_bounds);
}

}  // namespace ptx::shapes
