// shapes/sym_poly.cpp: the polynomial view of a SymExpr (a sum of coefficient * monomial) that the
// canonicalizing arithmetic of shapes/sym.cpp works on, with the size bounds of shapes/limits.h.
// See shapes/sym_impl.h.
#include <algorithm>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include "shapes/error.h"
#include "shapes/limits.h"
#include "shapes/sym_impl.h"

namespace ptx::shapes {

// ---------------------------------------------------------------------------------------------
// Polynomial view: a sum of coefficient * monomial. A monomial is a sorted list of non-constant,
// non-Add, non-Mul factors (empty for the constant term).

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

namespace {

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

}  // namespace

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

namespace {

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

}  // namespace

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

}  // namespace ptx::shapes
