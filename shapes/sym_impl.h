// shapes/sym_impl.h: the private header of SymExpr's implementation (see shapes/sym.h).
//
// Split by job:
//   sym.cpp        the interning table (SymNode, SymBuilder), accessors and order, the
//                  canonicalizing arithmetic, evaluation and substitution
//   sym_poly.cpp   the polynomial view (a sum of coefficient * monomial) the arithmetic works on,
//                  with its size bounds
//   sym_print.cpp  torch-style text of SymExpr and SymBool
//   sym_bool.cpp   SymBool's normal form and the relations
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "shapes/sym.h"

namespace ptx::shapes {

// Builds and interns nodes; the only code that allocates a SymNode.
struct SymBuilder {
  static SymExpr make(SymKind kind, int64_t value, std::vector<SymExpr> ops, std::string name = {});
  static SymExpr wrap(const SymNode* n) { return SymExpr(n); }
};

// ---- checked int64 arithmetic (sym.cpp) ---------------------------------------------------------

int64_t checked_add(int64_t a, int64_t b);
int64_t checked_mul(int64_t a, int64_t b);
int64_t floordiv_i(int64_t a, int64_t b);
int64_t pymod_i(int64_t a, int64_t b);

// ---- the polynomial view (sym_poly.cpp) ----------------------------------------------------------
// A sum of coefficient * monomial. A monomial is a sorted list of non-constant, non-Add, non-Mul
// factors (empty for the constant term).

using Factors = std::vector<SymExpr>;
using Poly = std::map<Factors, int64_t>;  // ordered by factor lists

Factors factors_of_term(SymExpr t, int64_t& coeff);
void add_to(Poly& p, const Factors& f, int64_t c);
Poly poly_of(SymExpr e);
SymExpr make_term(const Factors& f, int64_t c);
void check_product_size(const Poly& a, const Poly& b);
void check_sum_size(size_t terms, uint64_t factors);
SymExpr build_from_poly(Poly p);
Poly poly_mul(const Poly& a, const Poly& b);
int64_t gcd_abs(int64_t a, int64_t b);
void split_multiples(const Poly& a, const Factors& df, int64_t dc, Poly& q, Poly& r);
bool as_monomial(SymExpr d, Factors& f, int64_t& c);

}  // namespace ptx::shapes
