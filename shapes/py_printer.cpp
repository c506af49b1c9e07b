// shapes/py_printer.cpp: see py_printer.h.
#include "shapes/py_printer.h"

#include <algorithm>
#include <vector>

#include "shapes/sym_sides.h"

namespace ptx::shapes {
namespace {

constexpr double kPrecAdd = 40, kPrecMul = 50, kPrecPow = 60, kPrecFunc = 70, kPrecAtom = 1000,
                 kPrecDivMod = 35;

struct Py {
  std::string text;
  double prec;
};

Py py(SymExpr e, const NameOf& name);

std::string paren(const Py& p, double level) {  // sympy's parenthesize(strict=False)
  return p.prec <= level ? "(" + p.text + ")" : p.text;
}

// sympy's argument order: numbers, symbols (by name), powers, products, then functions.
int py_class(SymExpr e) {
  switch (e.kind()) {
    case SymKind::Const:
      return 0;
    case SymKind::Symbol:
      return 1;
    case SymKind::Mul:
      return 3;
    case SymKind::FloorDiv:
      return 4;
    case SymKind::Max:
      return 5;
    case SymKind::Min:
      return 6;
    case SymKind::Mod:
      return 7;
    default:
      return 8;
  }
}

bool py_less(SymExpr a, SymExpr b, const NameOf& name) {
  int ca = py_class(a), cb = py_class(b);
  if (ca != cb) return ca < cb;
  if (a.is_symbol()) return name(a) < name(b);
  return a < b;
}

Py py(SymExpr e, const NameOf& name) {
  switch (e.kind()) {
    case SymKind::Const:
      return {std::to_string(e.value()), e.value() < 0 ? kPrecAdd : kPrecAtom};
    case SymKind::Symbol:
      return {name(e), kPrecAtom};
    case SymKind::Add: {
      std::vector<SymExpr> terms(e.operands().begin(), e.operands().end());
      std::stable_sort(terms.begin(), terms.end(),
                       [&](SymExpr a, SymExpr b) { return py_less(a, b, name); });
      std::string out;
      for (size_t i = 0; i < terms.size(); ++i) {
        out += (i ? " + " : "") + paren(py(terms[i], name), kPrecAdd);
      }
      return {out, kPrecAdd};
    }
    case SymKind::Mul: {
      std::vector<SymExpr> f(e.operands().begin(), e.operands().end());
      std::stable_sort(f.begin(), f.end(), [&](SymExpr a, SymExpr b) { return py_less(a, b, name); });
      std::string out;
      bool negative = false;
      for (size_t i = 0; i < f.size();) {
        size_t j = i;
        while (j < f.size() && f[j] == f[i]) ++j;
        std::string part = paren(py(f[i], name), kPrecMul);
        if (j - i > 1) part = paren(py(f[i], name), kPrecPow) + "**" + std::to_string(j - i);
        if (f[i].is_const() && f[i].value() < 0) negative = true;
        out += (out.empty() ? "" : "*") + part;
        i = j;
      }
      return {out, negative ? kPrecAdd : kPrecMul};
    }
    case SymKind::FloorDiv:
    case SymKind::Mod: {
      std::string a = paren(py(e.operands()[0], name), kPrecAtom - 0.5);
      std::string b = paren(py(e.operands()[1], name), kPrecAtom - 0.5);
      return {a + (e.kind() == SymKind::Mod ? " % " : " // ") + b, kPrecDivMod};
    }
    case SymKind::Min:
    case SymKind::Max: {
      SymExpr a = e.operands()[0], b = e.operands()[1];
      if (b.is_const() && !a.is_const()) std::swap(a, b);
      return {std::string(e.kind() == SymKind::Min ? "min(" : "max(") + py(a, name).text + ", " +
                  py(b, name).text + ")",
              kPrecFunc};
    }
  }
  return {"?", kPrecAtom};
}

std::string py_rel(const SymBool& b, const NameOf& name) {
  if (auto k = b.as_const()) return *k ? "True" : "False";
  auto [l, r] = printed_sides(b);
  Py pl = py(l, name), pr = py(r, name);
  const char* op = "==";
  bool eq = false;
  switch (b.rel()) {
    case Rel::Eq:
      op = "==";
      eq = true;
      break;
    case Rel::Ne:
      op = "!=";
      eq = true;
      break;
    case Rel::Lt:
      op = "<";
      break;
    case Rel::Le:
      op = "<=";
      break;
    case Rel::Gt:
      op = ">";
      break;
    case Rel::Ge:
      op = ">=";
      break;
  }
  // Eq/Ne parenthesize every operand that is not an atom or a call; inequalities only those
  // binding weaker than a comparison (// and %).
  double level = eq ? kPrecFunc - 1 : kPrecDivMod;
  return paren(pl, level) + " " + op + " " + paren(pr, level);
}

}  // namespace

std::string python_text(const SymBool& cond, const NameOf& name) { return py_rel(cond, name); }

std::string python_guard_text(const SymBool& cond, const ShapeEnv& env) {
  NameOf name = [&](SymExpr s) {
    const SymbolInfo* info = env.find_symbol(s);
    if (!info) return s.str();
    return info->sources.empty() ? info->user_name : info->sources.front();
  };
  return py_rel(cond, name);
}

}  // namespace ptx::shapes
