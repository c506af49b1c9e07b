// shapes/sym_print.cpp: SymExpr and SymBool as text, in the style of sympy's StrPrinter with torch's
// FloorDiv/Mod printers (the text shapes/sym_parse.h reads back). See shapes/sym_impl.h.
#include <algorithm>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "shapes/error.h"
#include "shapes/sym_impl.h"
#include "shapes/sym_sides.h"

namespace ptx::shapes {

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

}  // namespace ptx::shapes
