// shapes/check/guard_forms.cpp: what a guard says. See internal.h.
#include <algorithm>
#include <numeric>

#include "shapes/check/internal.h"

namespace ptx::shapes::check {

std::vector<SymBool> range_facts(SymExpr s, const Range& r) {
  std::vector<SymBool> out{sym_ge(s, r.min)};
  if (r.max) out.push_back(sym_le(s, *r.max));
  return out;
}

// torch's _default_value_range lower bound for sizes: it assumes >= 2 (0/1 are specialized).
Range check_range(const Range& r) {
  Range c = r;
  if (c.min < 2 && (!c.max || *c.max >= 2)) c.min = 2;
  return c;
}

// A guard that is a bound on one symbol: s >= c, s <= c, Eq(s, c).
bool is_bound_on(const SymBool& b, SymExpr s) {
  return !b.as_const() && b.lhs() == s && (b.rel() == Rel::Ge || b.rel() == Rel::Le || b.rel() == Rel::Eq);
}

bool same(const Range& a, const Range& b) { return a.min == b.min && a.max == b.max; }

std::optional<Relation> as_relation(const SymBool& b) {
  if (b.as_const() || b.rel() != Rel::Eq) return std::nullopt;
  SymExpr l = b.lhs();
  if (l.kind() != SymKind::Add || l.operands().size() != 2) return std::nullopt;
  std::vector<std::pair<SymExpr, int64_t>> t;
  for (SymExpr op : l.operands()) {
    if (op.is_symbol()) {
      t.emplace_back(op, 1);
    } else if (op.kind() == SymKind::Mul && op.operands().size() == 2 && op.operands()[0].is_symbol() &&
               op.operands()[1].is_const()) {
      t.emplace_back(op.operands()[0], op.operands()[1].value());
    } else {
      return std::nullopt;
    }
  }
  if (t[0].first.symbol_id() > t[1].first.symbol_id()) std::swap(t[0], t[1]);
  // a*older + b*newer == c  =>  newer == (c - a*older) / b
  int64_t a = t[0].second, bc = t[1].second, c = b.rhs().value();
  if (bc != 1 && bc != -1) return std::nullopt;
  int64_t k = -a * bc, m = c * bc;
  if (k <= 0) return std::nullopt;
  return Relation{t[0].first, t[1].first, k, m};
}


std::optional<Congruence> as_congruence(const SymBool& b) {
  if (b.as_const() || b.rel() != Rel::Eq || b.rhs() != SymExpr(0)) return std::nullopt;
  SymExpr l = b.lhs();
  if (l.kind() != SymKind::Mod || !l.operands()[1].is_const()) return std::nullopt;
  const int64_t k = l.operands()[1].value();
  if (k < 2 || k > (int64_t{1} << 20)) return std::nullopt;
  // base = c*sym + a
  SymExpr base = l.operands()[0];
  int64_t a = 0;
  if (base.kind() == SymKind::Add && base.operands().size() == 2 && base.operands()[1].is_const()) {
    a = base.operands()[1].value();
    base = base.operands()[0];
  }
  int64_t c = 1;
  if (base.kind() == SymKind::Mul && base.operands().size() == 2 && base.operands()[1].is_const()) {
    c = base.operands()[1].value();
    base = base.operands()[0];
  }
  if (!base.is_symbol() || c <= 0) return std::nullopt;
  const auto mod = [](int64_t x, int64_t m) { return ((x % m) + m) % m; };
  const int64_t step = k / std::gcd(mod(c, k) == 0 ? k : mod(c, k), k);
  for (int64_t r = 0; r < step; ++r) {
    if (mod(mod(c, k) * r + mod(a, k), k) == 0) return Congruence{base, step, -r};
  }
  return std::nullopt;  // no residue satisfies it: no dynamic value does
}

int64_t floordiv64(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace ptx::shapes::check
