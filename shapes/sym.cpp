// shapes/sym.cpp: the interning table and the canonicalizing constructors of SymExpr, and SymBool.
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
#include "shapes/sym_sides.h"

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

// Builds and interns nodes; the only code that allocates a SymNode.
struct SymBuilder {
  static SymExpr make(SymKind kind, int64_t value, std::vector<SymExpr> ops, std::string name = {});
  static SymExpr wrap(const SymNode* n) { return SymExpr(n); }
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

}  // namespace

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

namespace {

// ---------------------------------------------------------------------------------------------
// Polynomial view: a sum of coefficient * monomial. A monomial is a sorted list of non-constant,
// non-Add, non-Mul factors (empty for the constant term).

using Factors = std::vector<SymExpr>;
using Poly = std::map<Factors, int64_t>;  // ordered by factor lists

Factors factors_of_term(SymExpr t, int64_t& coeff) {
  coeff = 1;
  if (t.is_const()) {
    coeff = t.value();
    return {};
  }
  if (t.kind() == SymKind::Mul) {
    Factors f;
    for (const SymExpr& op : t.operands()) {
      if (op.is_const()) {
        coeff = op.value();
      } else {
        f.push_back(op);
      }
    }
    return f;
  }
  return {t};
}

void add_to(Poly& p, const Factors& f, int64_t c) {
  if (c == 0) return;
  auto [it, inserted] = p.emplace(f, c);
  if (!inserted) {
    it->second = checked_add(it->second, c);
    if (it->second == 0) p.erase(it);
  }
}

Poly poly_of(SymExpr e) {
  Poly p;
  if (e.kind() == SymKind::Add) {
    for (const SymExpr& t : e.operands()) {
      int64_t c;
      Factors f = factors_of_term(t, c);
      add_to(p, f, c);
    }
  } else {
    int64_t c;
    Factors f = factors_of_term(e, c);
    add_to(p, f, c);
  }
  return p;
}

SymExpr make_term(const Factors& f, int64_t c) {
  if (f.empty() || c == 0) return SymExpr(f.empty() ? c : 0);
  if (f.size() == 1 && c == 1) return f[0];
  std::vector<SymExpr> ops = f;
  if (c != 1) ops.push_back(SymExpr(c));
  return SymBuilder::make(SymKind::Mul, 0, std::move(ops));
}

SymExpr build_from_poly(Poly p);

// k*(x//k)*c + Mod(x, k)*c -> x*c, for monomials that are a single FloorDiv / Mod.
bool fold_div_mod(Poly& p) {
  for (auto it = p.begin(); it != p.end(); ++it) {
    if (it->first.size() != 1 || it->first[0].kind() != SymKind::Mod) continue;
    SymExpr mod = it->first[0];
    SymExpr x = mod.operands()[0];
    SymExpr k = mod.operands()[1];
    SymExpr fd = floor_div(x, k);
    if (fd.kind() != SymKind::FloorDiv) continue;
    int64_t c = it->second;
    // Look for the FloorDiv term times k*c (k constant) or c*k (k symbolic).
    Poly want = poly_of(fd * k);
    if (want.size() != 1) continue;
    const Factors& wf = want.begin()->first;
    int64_t wc;
    if (__builtin_mul_overflow(want.begin()->second, c, &wc)) continue;
    auto jt = p.find(wf);
    if (jt == p.end() || jt->second != wc) continue;
    p.erase(jt);
    p.erase(it);
    for (const auto& [f, xc] : poly_of(x)) add_to(p, f, checked_mul(xc, c));
    return true;
  }
  return false;
}

// ---- size bounds (shapes/limits.h): an expression is at most kMaxSymTerms monomials and
// kMaxSymFactors factors over all of them; beyond, E_SYM_TOO_LARGE (exit 3). Text from a file can
// ask for a power of a long sum; refusing before the work is done keeps that work bounded.

[[noreturn]] void too_large(const std::string& what) {
  PTX_USER_FAIL(ExitCode::kInput, "E_SYM_TOO_LARGE")
      << what << "; a symbolic expression may have at most " << limits::kMaxSymTerms << " monomials and "
      << limits::kMaxSymFactors << " factors (limits::kMaxSymTerms, kMaxSymFactors)";
}

uint64_t factor_count(const Poly& p) {
  uint64_t n = 0;
  for (const auto& [f, c] : p) n += f.size();
  return n;
}

// A product, counted before like terms are collected (that is the work and memory poly_mul
// spends). A constant factor changes coefficients only; a monomial factor (x * sum) keeps the
// other's number of terms, and only the factors grow.
void check_product_size(const Poly& a, const Poly& b) {
  auto is_const = [](const Poly& p) { return p.size() == 1 && p.begin()->first.empty(); };
  if (is_const(a) || is_const(b)) return;
  uint64_t terms, factors, ta, tb;
  bool over = __builtin_mul_overflow(a.size(), b.size(), &terms);
  over |= __builtin_mul_overflow(factor_count(a), b.size(), &ta) ||
          __builtin_mul_overflow(factor_count(b), a.size(), &tb) || __builtin_add_overflow(ta, tb, &factors);
  const bool too_many_terms = a.size() > 1 && b.size() > 1 && terms > limits::kMaxSymTerms;
  if (!over && !too_many_terms && factors <= limits::kMaxSymFactors) return;
  too_large("the product of a " + std::to_string(a.size()) + "-term and a " + std::to_string(b.size()) +
            "-term expression would expand into " +
            (over ? std::string("more than 2^64 monomials") : std::to_string(terms) + " monomials of " + std::to_string(factors) + " factors"));
}

// A sum (operator+ of two bounded expressions, sym_sum accumulating term by term).
void check_sum_size(size_t terms, uint64_t factors) {
  if (terms <= limits::kMaxSymTerms && factors <= limits::kMaxSymFactors) return;
  too_large("a sum of " + std::to_string(terms) + " monomials of " + std::to_string(factors) + " factors");
}

SymExpr build_from_poly(Poly p) {
  check_sum_size(p.size(), factor_count(p));
  while (fold_div_mod(p)) {
  }
  std::vector<SymExpr> terms;
  for (const auto& [f, c] : p) terms.push_back(make_term(f, c));
  if (terms.empty()) return SymExpr(0);
  if (terms.size() == 1) return terms[0];
  std::sort(terms.begin(), terms.end());
  return SymBuilder::make(SymKind::Add, 0, std::move(terms));
}

Poly poly_mul(const Poly& a, const Poly& b) {
  Poly r;
  for (const auto& [fa, ca] : a) {
    for (const auto& [fb, cb] : b) {
      Factors f;
      f.reserve(fa.size() + fb.size());
      std::merge(fa.begin(), fa.end(), fb.begin(), fb.end(), std::back_inserter(f));
      add_to(r, f, checked_mul(ca, cb));
    }
  }
  return r;
}

int64_t gcd_abs(int64_t a, int64_t b) {
  return static_cast<int64_t>(std::gcd(static_cast<uint64_t>(a < 0 ? -(a + 1) + 1ULL : a),
                                       static_cast<uint64_t>(b < 0 ? -(b + 1) + 1ULL : b)));
}

// True if multiset `sub` is contained in `sup`; `rest` receives sup \ sub.
bool factors_divide(const Factors& sub, const Factors& sup, Factors& rest) {
  rest.clear();
  size_t i = 0;
  for (const SymExpr& f : sup) {
    if (i < sub.size() && sub[i] == f) {
      ++i;
    } else {
      rest.push_back(f);
    }
  }
  if (i != sub.size()) return false;
  // sub must be a sub-multiset in order; std::merge kept both sorted.
  return true;
}

// Splits `a` by a divisor monomial d = dc * df (dc > 0): q holds a's terms that are multiples of d,
// divided by d; r holds the others.
void split_multiples(const Poly& a, const Factors& df, int64_t dc, Poly& q, Poly& r) {
  for (const auto& [f, c] : a) {
    Factors rest;
    if (c % dc == 0 && factors_divide(df, f, rest)) {
      add_to(q, rest, c / dc);
    } else {
      add_to(r, f, c);
    }
  }
}

// The divisor as a single positive-coefficient monomial, if it is one.
bool as_monomial(SymExpr d, Factors& f, int64_t& c) {
  Poly p = poly_of(d);
  if (p.size() != 1) return false;
  f = p.begin()->first;
  c = p.begin()->second;
  return c > 0;
}

}  // namespace

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

// ---------------------------------------------------------------------------------------------
// Printing, in the style of sympy's StrPrinter with torch's FloorDiv/Mod printers.
// Precedences are sympy's: Add 40, Mul 50, Pow 60, Func 70, Atom 1000; FloorDiv and Mod 35.

namespace {

constexpr int kPrecAdd = 40, kPrecMul = 50, kPrecPow = 60, kPrecFunc = 70, kPrecAtom = 1000,
              kPrecDivMod = 35;

struct Printed {
  std::string text;
  int prec;
};

Printed print(SymExpr e);

std::string paren_below(SymExpr e, double prec) {
  Printed p = print(e);
  return p.prec < prec ? "(" + p.text + ")" : p.text;
}

// Print order of atoms inside a product or a sum (sympy's: symbols by name, then FloorDiv, Mod,
// Max, Min, by their arguments).
int atom_class(SymExpr e) {
  switch (e.kind()) {
    case SymKind::Symbol:
      return 0;
    case SymKind::FloorDiv:
      return 1;
    case SymKind::Mod:
      return 2;
    case SymKind::Max:
      return 3;
    case SymKind::Min:
      return 4;
    default:
      return 5;
  }
}

int min_symbol_id(SymExpr e) {
  auto syms = free_symbols(e);
  return syms.empty() ? -1 : syms.front().symbol_id();
}

bool atom_print_less(SymExpr a, SymExpr b) {
  int ca = atom_class(a), cb = atom_class(b);
  if (ca != cb) return ca < cb;
  if (a.is_symbol()) return a.symbol_name() != b.symbol_name() ? a.symbol_name() < b.symbol_name()
                                                               : a.symbol_id() < b.symbol_id();
  int ia = min_symbol_id(a), ib = min_symbol_id(b);
  if (ia != ib) return ia < ib;
  return a < b;
}

int degree(const Factors& f) { return static_cast<int>(f.size()); }

// A product of atoms with a coefficient: "2*s0*s1", "-s0", "s0**2*s1", "2*((s0//2))".
Printed print_product(Factors f, int64_t coeff) {
  std::sort(f.begin(), f.end(), atom_print_less);
  std::vector<std::string> parts;
  for (size_t i = 0; i < f.size();) {
    size_t j = i;
    while (j < f.size() && f[j] == f[i]) ++j;
    std::string base = paren_below(f[i], kPrecMul);
    if (j - i > 1) base = paren_below(f[i], kPrecPow) + "**" + std::to_string(j - i);
    parts.push_back(base);
    i = j;
  }
  std::string body;
  for (size_t i = 0; i < parts.size(); ++i) body += (i ? "*" : "") + parts[i];
  if (coeff == 1) {
    if (parts.size() == 1 && f.size() == 1) return print(f[0]);
    return {body, f.size() > 1 && parts.size() == 1 ? kPrecPow : kPrecMul};
  }
  if (coeff == -1) return {"-" + body, kPrecAdd};
  return {std::to_string(coeff) + "*" + body, coeff < 0 ? kPrecAdd : kPrecMul};
}

Printed print_sum(SymExpr e) {
  Poly p = poly_of(e);
  struct Term {
    Factors f;
    int64_t c;
  };
  std::vector<Term> terms;
  std::optional<int64_t> constant;
  for (auto& [f, c] : p) {
    if (f.empty()) {
      constant = c;
    } else {
      Factors sorted = f;
      std::sort(sorted.begin(), sorted.end(), atom_print_less);
      terms.push_back({sorted, c});
    }
  }
  std::stable_sort(terms.begin(), terms.end(), [](const Term& a, const Term& b) {
    if (degree(a.f) != degree(b.f)) return degree(a.f) > degree(b.f);
    return std::lexicographical_compare(a.f.begin(), a.f.end(), b.f.begin(), b.f.end(),
                                        atom_print_less);
  });
  std::vector<std::pair<bool, std::string>> parts;  // (negative, unsigned text)
  for (const Term& t : terms) {
    Printed pt = print_product(t.f, t.c);
    bool neg = !pt.text.empty() && pt.text[0] == '-';
    std::string text = neg ? pt.text.substr(1) : pt.text;
    // A negated product's factors are already parenthesized at Mul level; a lone FloorDiv or Mod
    // (precedence 35) is parenthesized inside a sum: "s0 + ((s0//2))".
    if (!neg && pt.prec < kPrecAdd) text = "(" + text + ")";
    parts.emplace_back(neg, text);
  }
  if (constant) {
    parts.emplace_back(*constant < 0, std::to_string(*constant < 0 ? -*constant : *constant));
  }
  // sympy prints a positive constant first when the only other term is a negative linear one:
  // "3 - s0", "1 - ((s0//2))", but "-s0*s1 + 1".
  if (parts.size() == 2 && constant && *constant > 0 && parts[0].first && terms.size() == 1 &&
      degree(terms[0].f) == 1) {
    std::swap(parts[0], parts[1]);
  }
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i == 0) {
      out += (parts[i].first ? "-" : "") + parts[i].second;
    } else {
      out += (parts[i].first ? " - " : " + ") + parts[i].second;
    }
  }
  return {out, kPrecAdd};
}

Printed print(SymExpr e) {
  switch (e.kind()) {
    case SymKind::Const:
      return {std::to_string(e.value()), e.value() < 0 ? kPrecAdd : kPrecAtom};
    case SymKind::Symbol:
      return {e.symbol_name(), kPrecAtom};
    case SymKind::Add:
      return print_sum(e);
    case SymKind::Mul: {
      int64_t c;
      Factors f = factors_of_term(e, c);
      return print_product(f, c);
    }
    case SymKind::FloorDiv:
      return {"(" + paren_below(e.operands()[0], kPrecAtom - 0.5) + "//" +
                  paren_below(e.operands()[1], kPrecAtom - 0.5) + ")",
              kPrecDivMod};
    case SymKind::Mod:
      return {"Mod(" + print(e.operands()[0]).text + ", " + print(e.operands()[1]).text + ")",
              kPrecDivMod};
    case SymKind::Min:
    case SymKind::Max: {
      SymExpr a = e.operands()[0], b = e.operands()[1];
      // sympy lists numbers first, then (roughly) by the first symbol.
      auto before = [](SymExpr x, SymExpr y) {
        if (x.is_const() != y.is_const()) return x.is_const();
        int ix = min_symbol_id(x), iy = min_symbol_id(y);
        if (ix != iy) return ix < iy;
        return x < y;
      };
      if (before(b, a)) std::swap(a, b);
      return {std::string(e.kind() == SymKind::Min ? "Min(" : "Max(") + print(a).text + ", " +
                  print(b).text + ")",
              kPrecFunc};
    }
  }
  return {"?", kPrecAtom};
}

}  // namespace

std::string SymExpr::str() const { return print(*this).text; }

std::string to_string(const SymShape& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + shape[i].str();
  return out + "]";
}

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

std::string SymBool::str() const {
  if (const_) return *const_ ? "True" : "False";
  // Negative terms go to the right-hand side: s0 - s1 == 0 prints as Eq(s0, s1).
  const auto [l, r] = printed_sides(*this);
  std::string ls = print(l).text, rs = print(r).text;
  switch (rel_) {
    case Rel::Eq:
      return "Eq(" + ls + ", " + rs + ")";
    case Rel::Ne:
      return "Ne(" + ls + ", " + rs + ")";
    case Rel::Lt:
      return ls + " < " + rs;
    case Rel::Le:
      return ls + " <= " + rs;
    case Rel::Gt:
      return ls + " > " + rs;
    case Rel::Ge:
      return ls + " >= " + rs;
  }
  return "?";
}

std::pair<SymExpr, SymExpr> printed_sides(const SymBool& b) {
  PTX_INTERNAL_CHECK(!b.as_const()) << "printed_sides of a constant condition";
  const SymExpr lhs = b.lhs(), rhs = b.rhs();
  Poly pos, neg;
  for (const auto& [f, c] : poly_of(lhs)) add_to(c > 0 ? pos : neg, f, c > 0 ? c : -c);
  if (pos.empty()) return {lhs, rhs};  // cannot happen: the leading coefficient is positive
  if (!neg.empty() && rhs.value() < 0) return {build_from_poly(pos) - rhs, build_from_poly(neg)};  // Eq(s0 + 1, s1)
  return {build_from_poly(pos), build_from_poly(neg) + rhs};
}

SymBool sym_eq(SymExpr a, SymExpr b) { return SymBool(Rel::Eq, a, b); }
SymBool sym_ne(SymExpr a, SymExpr b) { return SymBool(Rel::Ne, a, b); }
SymBool sym_lt(SymExpr a, SymExpr b) { return SymBool(Rel::Lt, a, b); }
SymBool sym_le(SymExpr a, SymExpr b) { return SymBool(Rel::Le, a, b); }
SymBool sym_gt(SymExpr a, SymExpr b) { return SymBool(Rel::Gt, a, b); }
SymBool sym_ge(SymExpr a, SymExpr b) { return SymBool(Rel::Ge, a, b); }

}  // namespace ptx::shapes
