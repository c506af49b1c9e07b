// shapes/sym.cpp: the interning table and the canonicalizing constructors of SymExpr, evaluation and
// substitution. The polynomial view, printing and SymBool are in shapes/sym_*.cpp
// (shapes/sym_impl.h).
//
// Normal form (every node is built by the functions below, so every node is in it):
//   - Const: an int64 value. Symbol: a fresh id and a name.
//   - Mul: two or more factors sorted by operator<, none Const except an optional coefficient
//     (never 0 or 1) which sorts last (Const is the last kind), none an Add (products are fully
//     expanded over sums) and none a Mul (flattened). Repeated factors are kept (s0*s0).
//   - Add: two or more terms sorted by operator<, at most one Const (last), no two terms with the
//     same monomial (like terms collected), none an Add. A term is a monomial (Symbol, Mul without
//     coefficient, or a FloorDiv/Mod/Min/Max) optionally times a coefficient.
//   - FloorDiv(a, b) / Mod(a, b): a constant divisor is > 1 (negative divisors are flipped, 1 folds);
//     terms of `a` that are multiples of the divisor are pulled out (FloorDiv) or dropped (Mod), the
//     gcd of a constant divisor and the dividend's coefficients is cancelled, nested constant
//     divisions merge, and k*(x//k) + Mod(x, k) folds back to x in sums.
//   - Min/Max: two operands in canonical order, never both constant, never differing by a constant.
// The order of sym_kinds.def is the first key of operator<; see there.
#include "shapes/sym.h"
#include "shapes/sym_impl.h"

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <sstream>
#include <unordered_map>

#include "shapes/error.h"
#include "shapes/limits.h"

namespace ptx::shapes {

struct SymNode {
  SymKind kind;
  int64_t value = 0;  // Const: the value; Symbol: the id
  std::string name;   // Symbol only
  std::vector<SymExpr> ops;
  size_t hash = 0;
};

namespace {

struct Key {
  SymKind kind;
  int64_t value;
  std::vector<const SymNode*> ops;
  bool operator==(const Key& o) const {
    return kind == o.kind && value == o.value && ops == o.ops;
  }
};

size_t mix(size_t h, size_t v) { return h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2)); }

struct KeyHash {
  size_t operator()(const Key& k) const {
    size_t h = mix(static_cast<size_t>(k.kind), std::hash<int64_t>()(k.value));
    for (const SymNode* p : k.ops) h = mix(h, std::hash<const void*>()(p));
    return h;
  }
};

struct Table {
  std::mutex mu;
  std::unordered_map<Key, std::unique_ptr<SymNode>, KeyHash> nodes;
  int next_symbol_id = 0;
};

Table& table() {
  static Table* t = new Table();  // never destroyed: nodes outlive every static SymExpr
  return *t;
}

[[noreturn]] void overflow(const char* what) {
  throw InternalError(std::string("symbolic integer overflow in ") + what);
}

}  // namespace

int64_t checked_add(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) overflow("addition");
  return r;
}
int64_t checked_mul(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) overflow("multiplication");
  return r;
}
int64_t floordiv_i(int64_t a, int64_t b) {
  if (b == -1) {
    if (a == INT64_MIN) overflow("floor division");
    return -a;
  }
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}
int64_t pymod_i(int64_t a, int64_t b) {
  if (b == -1) return 0;
  int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

SymExpr SymBuilder::make(SymKind kind, int64_t value, std::vector<SymExpr> ops, std::string name) {
  Table& t = table();
  std::lock_guard<std::mutex> lock(t.mu);
  if (kind == SymKind::Symbol) {
    auto node = std::make_unique<SymNode>();
    node->kind = kind;
    node->value = t.next_symbol_id++;
    node->name = std::move(name);
    node->hash = mix(0x5ULL, static_cast<size_t>(node->value));
    Key key{kind, node->value, {}};
    key.value = -1 - node->value;  // symbols never collide with each other; keyed by id
    const SymNode* raw = node.get();
    t.nodes.emplace(std::move(key), std::move(node));
    return SymExpr(raw);
  }
  Key key{kind, value, {}};
  key.ops.reserve(ops.size());
  for (const SymExpr& e : ops) key.ops.push_back(e.node());
  auto it = t.nodes.find(key);
  if (it != t.nodes.end()) return SymExpr(it->second.get());
  auto node = std::make_unique<SymNode>();
  node->kind = kind;
  node->value = value;
  node->ops = std::move(ops);
  node->hash = KeyHash()(key);
  const SymNode* raw = node.get();
  t.nodes.emplace(std::move(key), std::move(node));
  return SymExpr(raw);
}

// ---------------------------------------------------------------------------------------------
// Accessors and order.

SymExpr::SymExpr() : SymExpr(static_cast<int64_t>(0)) {}
SymExpr::SymExpr(int64_t constant) : node_(SymBuilder::make(SymKind::Const, constant, {}).node_) {}

SymExpr SymExpr::new_symbol(const std::string& name) {
  return SymBuilder::make(SymKind::Symbol, 0, {}, name);
}

SymKind SymExpr::kind() const { return node_->kind; }
int64_t SymExpr::value() const {
  PTX_INTERNAL_CHECK(is_const()) << str() << " is not a constant";
  return node_->value;
}
std::optional<int64_t> SymExpr::as_const() const {
  if (is_const()) return node_->value;
  return std::nullopt;
}
int SymExpr::symbol_id() const {
  PTX_INTERNAL_CHECK(is_symbol()) << str() << " is not a symbol";
  return static_cast<int>(node_->value);
}
const std::string& SymExpr::symbol_name() const {
  PTX_INTERNAL_CHECK(is_symbol()) << str() << " is not a symbol";
  return node_->name;
}
std::span<const SymExpr> SymExpr::operands() const {
  return std::span<const SymExpr>(node_->ops.data(), node_->ops.size());
}

bool SymExpr::operator<(const SymExpr& o) const {
  if (node_ == o.node_) return false;
  if (node_->kind != o.node_->kind) return node_->kind < o.node_->kind;
  switch (node_->kind) {
    case SymKind::Const:
    case SymKind::Symbol:
      return node_->value < o.node_->value;
    default:
      break;
  }
  const auto& a = node_->ops;
  const auto& b = o.node_->ops;
  if (a.size() != b.size()) return a.size() < b.size();
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return a[i] < b[i];
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Arithmetic.

SymExpr operator+(SymExpr a, SymExpr b) {
  if (a.is_const() && b.is_const()) return SymExpr(checked_add(a.value(), b.value()));
  if (a.is_const() && a.value() == 0) return b;
  if (b.is_const() && b.value() == 0) return a;
  Poly p = poly_of(a);
  for (const auto& [f, c] : poly_of(b)) add_to(p, f, c);
  return build_from_poly(std::move(p));
}

SymExpr sym_sum(std::span<const SymExpr> terms) {
  Poly p;
  uint64_t factors = 0;  // over p's monomials, kept exact as terms are added and cancel
  for (const SymExpr& t : terms) {
    for (const auto& [f, c] : poly_of(t)) {
      auto [it, inserted] = p.emplace(f, c);
      if (inserted) {
        factors += f.size();
      } else {
        it->second = checked_add(it->second, c);
        if (it->second == 0) {
          factors -= f.size();
          p.erase(it);
        }
      }
    }
    check_sum_size(p.size(), factors);
  }
  return build_from_poly(std::move(p));
}

SymExpr operator-(SymExpr a) { return a * SymExpr(-1); }
SymExpr operator-(SymExpr a, SymExpr b) { return a + (-b); }

SymExpr operator*(SymExpr a, SymExpr b) {
  if (a.is_const() && b.is_const()) return SymExpr(checked_mul(a.value(), b.value()));
  if ((a.is_const() && a.value() == 0) || (b.is_const() && b.value() == 0)) return SymExpr(0);
  if (a.is_const() && a.value() == 1) return b;
  if (b.is_const() && b.value() == 1) return a;
  const Poly pa = poly_of(a), pb = poly_of(b);
  check_product_size(pa, pb);
  return build_from_poly(poly_mul(pa, pb));
}

SymExpr floor_div(SymExpr a, SymExpr b) {
  if (b.is_const()) {
    int64_t k = b.value();
    PTX_INTERNAL_CHECK(k != 0) << "floor division of " << a.str() << " by zero";
    if (a.is_const()) return SymExpr(floordiv_i(a.value(), k));
    if (k == 1) return a;
    if (k == -1) return -a;
    if (k < 0) return floor_div(-a, SymExpr(-k));  // a // -k == (-a) // k
  }
  if (a.is_const() && a.value() == 0) return SymExpr(0);
  if (a == b) return SymExpr(1);  // b != 0: division by zero is undefined anyway
  Factors df;
  int64_t dc;
  if (as_monomial(b, df, dc)) {
    Poly pa = poly_of(a);
    // Cancel the gcd of a constant divisor with every coefficient of the dividend.
    if (b.is_const()) {
      int64_t g = dc;
      for (const auto& [f, c] : pa) g = gcd_abs(g, c);
      if (g > 1) {
        Poly reduced;
        for (const auto& [f, c] : pa) add_to(reduced, f, c / g);
        return floor_div(build_from_poly(reduced), SymExpr(dc / g));
      }
    }
    // (k*q + r) // d == q + r // d for any integer q.
    Poly q, r;
    split_multiples(pa, df, dc, q, r);
    if (!q.empty()) return build_from_poly(q) + floor_div(build_from_poly(r), b);
    // (x // k1) // k2 == x // (k1*k2) for positive constants.
    if (b.is_const() && a.kind() == SymKind::FloorDiv && a.operands()[1].is_const()) {
      return floor_div(a.operands()[0], SymExpr(checked_mul(a.operands()[1].value(), dc)));
    }
    // Mod(x, k) // k == 0 for k > 0.
    if (b.is_const() && a.kind() == SymKind::Mod && a.operands()[1] == b) return SymExpr(0);
  }
  return SymBuilder::make(SymKind::FloorDiv, 0, {a, b});
}

SymExpr ceil_div(SymExpr a, SymExpr b) { return -floor_div(-a, b); }

SymExpr python_mod(SymExpr a, SymExpr b) {
  if (b.is_const()) {
    int64_t k = b.value();
    PTX_INTERNAL_CHECK(k != 0) << "modulo of " << a.str() << " by zero";
    if (a.is_const()) return SymExpr(pymod_i(a.value(), k));
    if (k == 1 || k == -1) return SymExpr(0);
    if (k < 0) return -python_mod(-a, SymExpr(-k));  // Mod(a, -k) == -Mod(-a, k)
  }
  if (a.is_const() && a.value() == 0) return SymExpr(0);
  if (a == b || a == -b) return SymExpr(0);
  Factors df;
  int64_t dc;
  if (as_monomial(b, df, dc)) {
    Poly pa = poly_of(a);
    Poly q, r;
    split_multiples(pa, df, dc, q, r);
    if (b.is_const()) {
      // Reduce the constant term into [0, k).
      auto it = r.find(Factors{});
      if (it != r.end()) {
        int64_t c = pymod_i(it->second, dc);
        r.erase(it);
        add_to(r, Factors{}, c);
      }
    }
    if (!q.empty() || r != pa) return python_mod(build_from_poly(r), b);
    // Mod(Mod(x, k*m), k) == Mod(x, k) for positive constants.
    if (b.is_const() && a.kind() == SymKind::Mod && a.operands()[1].is_const() &&
        a.operands()[1].value() % dc == 0) {
      return python_mod(a.operands()[0], b);
    }
  }
  return SymBuilder::make(SymKind::Mod, 0, {a, b});
}

namespace {
SymExpr min_max(SymKind kind, SymExpr a, SymExpr b) {
  if (a == b) return a;
  SymExpr d = a - b;
  if (auto c = d.as_const()) {
    bool a_smaller = *c < 0;
    return (kind == SymKind::Min) == a_smaller ? a : b;
  }
  // Absorption: Min(a, Min(a, b)) == Min(a, b); Min(a, Max(a, b)) == a.
  for (int swap = 0; swap < 2; ++swap) {
    SymExpr x = swap ? b : a, y = swap ? a : b;
    if (y.kind() == kind && (y.operands()[0] == x || y.operands()[1] == x)) return y;
    SymKind other = kind == SymKind::Min ? SymKind::Max : SymKind::Min;
    if (y.kind() == other && (y.operands()[0] == x || y.operands()[1] == x)) return x;
  }
  if (b < a) std::swap(a, b);
  return SymBuilder::make(kind, 0, {a, b});
}
}  // namespace

SymExpr sym_min(SymExpr a, SymExpr b) { return min_max(SymKind::Min, a, b); }
SymExpr sym_max(SymExpr a, SymExpr b) { return min_max(SymKind::Max, a, b); }

// ---------------------------------------------------------------------------------------------
// Evaluation, substitution, free symbols.

namespace {
std::optional<int64_t> eval_rec(SymExpr e, const Assignment& values) {
  switch (e.kind()) {
    case SymKind::Const:
      return e.value();
    case SymKind::Symbol: {
      auto it = values.find(e.symbol_id());
      if (it == values.end()) return std::nullopt;
      return it->second;
    }
    default:
      break;
  }
  std::vector<int64_t> v;
  for (const SymExpr& op : e.operands()) {
    auto x = eval_rec(op, values);
    if (!x) return std::nullopt;
    v.push_back(*x);
  }
  int64_t r = 0;
  switch (e.kind()) {
    case SymKind::Add:
      r = 0;
      for (int64_t x : v) {
        if (__builtin_add_overflow(r, x, &r)) return std::nullopt;
      }
      return r;
    case SymKind::Mul:
      r = 1;
      for (int64_t x : v) {
        if (__builtin_mul_overflow(r, x, &r)) return std::nullopt;
      }
      return r;
    case SymKind::FloorDiv:
      if (v[1] == 0 || (v[1] == -1 && v[0] == INT64_MIN)) return std::nullopt;
      return floordiv_i(v[0], v[1]);
    case SymKind::Mod:
      if (v[1] == 0) return std::nullopt;
      return pymod_i(v[0], v[1]);
    case SymKind::Min:
      return std::min(v[0], v[1]);
    case SymKind::Max:
      return std::max(v[0], v[1]);
    default:
      return std::nullopt;
  }
}

SymExpr rebuild(SymKind kind, const std::vector<SymExpr>& ops) {
  switch (kind) {
    case SymKind::Add: {
      SymExpr r = 0;
      for (const SymExpr& op : ops) r = r + op;
      return r;
    }
    case SymKind::Mul: {
      SymExpr r = 1;
      for (const SymExpr& op : ops) r = r * op;
      return r;
    }
    case SymKind::FloorDiv:
      return floor_div(ops[0], ops[1]);
    case SymKind::Mod:
      return python_mod(ops[0], ops[1]);
    case SymKind::Min:
      return sym_min(ops[0], ops[1]);
    case SymKind::Max:
      return sym_max(ops[0], ops[1]);
    default:
      throw InternalError("rebuild of a leaf expression");
  }
}

SymExpr subst_rec(SymExpr e, const std::unordered_map<int, SymExpr>& by_id,
                  std::unordered_map<const SymNode*, SymExpr>& memo) {
  if (e.is_const()) return e;
  if (e.is_symbol()) {
    auto it = by_id.find(e.symbol_id());
    return it == by_id.end() ? e : it->second;
  }
  auto m = memo.find(e.node());
  if (m != memo.end()) return m->second;
  std::vector<SymExpr> ops;
  bool changed = false;
  for (const SymExpr& op : e.operands()) {
    ops.push_back(subst_rec(op, by_id, memo));
    changed = changed || ops.back() != op;
  }
  SymExpr r = changed ? rebuild(e.kind(), ops) : e;
  memo.emplace(e.node(), r);
  return r;
}

void collect_symbols(SymExpr e, std::vector<SymExpr>& out) {
  if (e.is_symbol()) {
    out.push_back(e);
    return;
  }
  for (const SymExpr& op : e.operands()) collect_symbols(op, out);
}
}  // namespace

std::optional<int64_t> evaluate(SymExpr e, const Assignment& values) { return eval_rec(e, values); }

SymExpr substitute(SymExpr e, const std::unordered_map<int, SymExpr>& by_id) {
  std::unordered_map<const SymNode*, SymExpr> memo;
  return subst_rec(e, by_id, memo);
}

std::vector<SymExpr> free_symbols(SymExpr e) {
  std::vector<SymExpr> out;
  collect_symbols(e, out);
  std::sort(out.begin(), out.end(),
            [](const SymExpr& a, const SymExpr& b) { return a.symbol_id() < b.symbol_id(); });
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace ptx::shapes
