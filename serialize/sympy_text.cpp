// serialize/sympy_text.cpp: printing SymExpr as sympy srepr; parsing is shapes/sym_parse's.
// See serialize/sympy_text.h.
#include "serialize/sympy_text.h"

#include <cstdint>
#include <vector>

#include "shapes/error.h"
#include "shapes/sym_parse.h"

namespace ptx::serialize {
namespace {

using shapes::SymExpr;
using shapes::SymKind;

const char* kSymbolAssumptions = "positive=True, integer=True";

std::string symbol_repr(const std::string& name) {
  // A value read from data (u0, unbacked) may be any integer: torch writes it with integer=True only.
  if (!name.empty() && name[0] == 'u') return "Symbol('" + name + "', integer=True)";
  return "Symbol('" + name + "', " + kSymbolAssumptions + ")";
}

std::string integer_repr(int64_t v) { return "Integer(" + std::to_string(v) + ")"; }

/// True unless `e` is provably >= 0 with every symbol positive (sizes).
bool maybe_negative(SymExpr e) {
  switch (e.kind()) {
    case SymKind::Const:
      return e.value() < 0;
    case SymKind::Symbol:
      return false;
    default:
      for (SymExpr op : e.operands()) {
        if (maybe_negative(op)) return true;
      }
      return false;
  }
}

std::string repr(SymExpr e);

std::string join_repr(const std::vector<std::string>& parts) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += ", ";
    out += parts[i];
  }
  return out;
}

std::string repr(SymExpr e) {
  switch (e.kind()) {
    case SymKind::Const:
      return integer_repr(e.value());
    case SymKind::Symbol:
      return symbol_repr(e.symbol_name());
    case SymKind::Add: {
      // Note [srepr term order]: the constant term goes last.
      std::vector<std::string> terms;
      std::optional<int64_t> constant;
      for (SymExpr op : e.operands()) {
        if (op.is_const()) {
          constant = op.value();
        } else {
          terms.push_back(repr(op));
        }
      }
      if (constant) terms.push_back(integer_repr(*constant));
      return "Add(" + join_repr(terms) + ")";
    }
    case SymKind::Mul: {
      // sympy prints the coefficient first, a negative one split as Integer(-1), Integer(|c|).
      std::vector<std::string> factors;
      std::vector<std::string> rest;
      for (SymExpr op : e.operands()) {
        if (op.is_const()) {
          const int64_t c = op.value();
          if (c < 0) {
            factors.push_back(integer_repr(-1));
            if (c != -1) factors.push_back(integer_repr(-c));
          } else {
            factors.push_back(integer_repr(c));
          }
        } else {
          rest.push_back(repr(op));
        }
      }
      factors.insert(factors.end(), rest.begin(), rest.end());
      return "Mul(" + join_repr(factors) + ")";
    }
    case SymKind::FloorDiv:
      return "FloorDiv(" + repr(e.operands()[0]) + ", " + repr(e.operands()[1]) + ")";
    case SymKind::Mod: {
      // torch's Mod assumes a non-negative dividend and a positive divisor; PythonMod is general.
      SymExpr a = e.operands()[0], b = e.operands()[1];
      const bool simple = b.is_const() && b.value() > 0 && !maybe_negative(a);
      return std::string(simple ? "Mod(" : "PythonMod(") + repr(a) + ", " + repr(b) + ")";
    }
    case SymKind::Min:
    case SymKind::Max: {
      std::vector<std::string> args;
      for (SymExpr op : e.operands()) args.push_back(repr(op));
      return std::string(e.kind() == SymKind::Min ? "Min(" : "Max(") + join_repr(args) + ")";
    }
  }
  return "Integer(0)";
}

}  // namespace

std::string to_sympy_repr(SymExpr e) { return repr(e); }

std::string to_sympy_repr(const shapes::SymBool& b) {
  if (auto c = b.as_const()) return *c ? "true" : "false";
  const char* name = "Equality";
  switch (b.rel()) {
    case shapes::Rel::Eq: name = "Equality"; break;
    case shapes::Rel::Ne: name = "Unequality"; break;
    case shapes::Rel::Lt: name = "StrictLessThan"; break;
    case shapes::Rel::Le: name = "LessThan"; break;
    case shapes::Rel::Gt: name = "StrictGreaterThan"; break;
    case shapes::Rel::Ge: name = "GreaterThan"; break;
  }
  return std::string(name) + "(" + repr(b.lhs()) + ", " + repr(b.rhs()) + ")";
}

// The parsing is shapes/sym_parse's (one parser of symbolic text in ptexport); its errors
// become SympyParseError for the archive reader.
namespace {
/// The parser's message names the text already (at most 200 characters of it): "symbolic
/// expression 'TEXT': unexpected ')' at column 5". A valid expression too large to expand
/// (E_SYM_TOO_LARGE) was parsed: only a syntax error says "cannot parse".
SympyParseError parse_error(const UserError& e) {
  return SympyParseError(e.diag_code() == "E_SYM_TOO_LARGE" ? std::string(e.what()) : "cannot parse " + std::string(e.what()));
}
}  // namespace

SymExpr parse_sympy_expr(const std::string& text, SymbolTable& symbols) {
  try {
    return shapes::parse_sym(text, shapes::fresh_symbols(symbols));
  } catch (const UserError& e) {
    throw parse_error(e);
  }
}

shapes::SymBool parse_sympy_bool(const std::string& text, SymbolTable& symbols) {
  try {
    return shapes::parse_sym_bool(text, shapes::fresh_symbols(symbols));
  } catch (const UserError& e) {
    throw parse_error(e);
  }
}

}  // namespace ptx::serialize
