// serialize/sympy_text.cpp: printing SymExpr as sympy srepr, and parsing sympy text back.
// See serialize/sympy_text.h.
#include "serialize/sympy_text.h"

#include <cctype>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

namespace ptx::serialize {
namespace {

using shapes::SymExpr;
using shapes::SymKind;

const char* kSymbolAssumptions = "positive=True, integer=True";

std::string symbol_repr(const std::string& name) {
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

// ---- Parser -----------------------------------------------------------------------------------

/// A parsed value: an integer expression, a relation, a string literal (Symbol's name) or a
/// keyword flag (positive=True), depending on where it appears.
struct Parsed {
  enum class Kind { kExpr, kBool, kString, kKeyword } kind = Kind::kExpr;
  SymExpr expr;
  std::optional<shapes::SymBool> rel;
  std::string text;
};

class Parser {
 public:
  Parser(const std::string& text, SymbolTable& symbols) : s_(text), symbols_(symbols) {}

  Parsed parse_top() {
    Parsed p = parse_relation();
    skip_ws();
    if (pos_ != s_.size()) fail("unexpected '" + std::string(1, s_[pos_]) + "'");
    return p;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw SympyParseError("cannot parse sympy expression '" + s_ + "' at offset " +
                          std::to_string(pos_) + ": " + what);
  }

  void skip_ws() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool peek(const char* tok) {
    skip_ws();
    return s_.compare(pos_, std::char_traits<char>::length(tok), tok) == 0;
  }
  bool accept(const char* tok) {
    if (!peek(tok)) return false;
    pos_ += std::char_traits<char>::length(tok);
    return true;
  }
  void expect(const char* tok) {
    if (!accept(tok)) fail(std::string("expected '") + tok + "'");
  }

  SymExpr as_expr(const Parsed& p) const {
    if (p.kind != Parsed::Kind::kExpr) fail("expected an integer expression");
    return p.expr;
  }
  static Parsed of(SymExpr e) {
    Parsed p;
    p.expr = e;
    return p;
  }
  static Parsed of(const shapes::SymBool& b) {
    Parsed p;
    p.kind = Parsed::Kind::kBool;
    p.rel = b;
    return p;
  }

  // relation := sum (("==" | "!=" | "<=" | ">=" | "<" | ">") sum)?
  Parsed parse_relation() {
    Parsed lhs = parse_sum();
    struct Op {
      const char* tok;
      shapes::Rel rel;
    };
    static const Op kOps[] = {{"==", shapes::Rel::Eq}, {"!=", shapes::Rel::Ne}, {"<=", shapes::Rel::Le},
                              {">=", shapes::Rel::Ge}, {"<", shapes::Rel::Lt},  {">", shapes::Rel::Gt}};
    for (const Op& op : kOps) {
      if (accept(op.tok)) {
        SymExpr a = as_expr(lhs);
        SymExpr b = as_expr(parse_sum());
        return of(shapes::SymBool(op.rel, a, b));
      }
    }
    return lhs;
  }

  // sum := product (("+" | "-") product)*
  Parsed parse_sum() {
    Parsed first = parse_product();
    if (!peek("+") && !peek("-")) return first;
    SymExpr acc = as_expr(first);
    while (true) {
      if (accept("+")) {
        acc = acc + as_expr(parse_product());
      } else if (accept("-")) {
        acc = acc - as_expr(parse_product());
      } else {
        return of(acc);
      }
    }
  }

  // product := unary (("*" | "//" | "%") unary)*     ("**" binds tighter, see parse_power)
  Parsed parse_product() {
    Parsed first = parse_unary();
    auto at_op = [&] { return (peek("*") && !peek("**")) || peek("//") || peek("%"); };
    if (!at_op()) return first;
    SymExpr acc = as_expr(first);
    while (at_op()) {
      if (accept("//")) {
        SymExpr d = as_expr(parse_unary());
        if (d.is_const() && d.value() == 0) fail("division by zero");
        acc = shapes::floor_div(acc, d);
      } else if (accept("%")) {
        SymExpr d = as_expr(parse_unary());
        if (d.is_const() && d.value() == 0) fail("modulo by zero");
        acc = shapes::python_mod(acc, d);
      } else {
        expect("*");
        acc = acc * as_expr(parse_unary());
      }
    }
    return of(acc);
  }

  Parsed parse_unary() {
    if (accept("-")) return of(-as_expr(parse_unary()));
    if (accept("+")) return parse_unary();
    return parse_power();
  }

  Parsed parse_power() {
    Parsed base = parse_atom();
    if (accept("**")) {
      SymExpr exp = as_expr(parse_unary());
      return of(power(as_expr(base), exp));
    }
    return base;
  }

  SymExpr power(SymExpr base, SymExpr exp) const {
    if (!exp.is_const() || exp.value() < 0 || exp.value() > 64) {
      fail("only small non-negative integer powers are supported");
    }
    SymExpr acc = 1;
    for (int64_t i = 0; i < exp.value(); ++i) acc = acc * base;
    return acc;
  }

  int64_t parse_integer_literal() {
    skip_ws();
    const size_t start = pos_;
    while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    const std::string digits = s_.substr(start, pos_ - start);
    if (digits.size() > 18) fail("integer literal too large");
    return std::stoll(digits);
  }

  std::string parse_identifier() {
    skip_ws();
    const size_t start = pos_;
    while (pos_ < s_.size() &&
           (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_')) {
      ++pos_;
    }
    return s_.substr(start, pos_ - start);
  }

  std::string parse_string_literal() {
    skip_ws();
    const char quote = s_[pos_];
    ++pos_;
    const size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != quote) ++pos_;
    if (pos_ >= s_.size()) fail("unterminated string");
    std::string out = s_.substr(start, pos_ - start);
    ++pos_;
    return out;
  }

  SymExpr symbol(const std::string& name) {
    auto it = symbols_.find(name);
    if (it != symbols_.end()) return it->second;
    SymExpr s = SymExpr::new_symbol(name);
    symbols_.emplace(name, s);
    return s;
  }

  Parsed parse_atom() {
    skip_ws();
    if (pos_ >= s_.size()) fail("unexpected end of text");
    const char c = s_[pos_];
    if (std::isdigit(static_cast<unsigned char>(c))) return of(SymExpr(parse_integer_literal()));
    if (c == '\'' || c == '"') {
      Parsed p;
      p.kind = Parsed::Kind::kString;
      p.text = parse_string_literal();
      return p;
    }
    if (accept("(")) {
      Parsed inner = parse_relation();
      expect(")");
      return inner;
    }
    if (!(std::isalpha(static_cast<unsigned char>(c)) || c == '_')) {
      fail("unexpected '" + std::string(1, c) + "'");
    }
    const std::string name = parse_identifier();
    if (!peek("==") && accept("=")) {  // a keyword argument such as positive=True: its value is ignored
      parse_identifier();
      Parsed p;
      p.kind = Parsed::Kind::kKeyword;
      p.text = name;
      return p;
    }
    if (!accept("(")) {
      if (name == "True" || name == "true") return of(shapes::SymBool(true));
      if (name == "False" || name == "false") return of(shapes::SymBool(false));
      return of(symbol(name));
    }
    std::vector<Parsed> args;
    if (!accept(")")) {
      do {
        args.push_back(parse_relation());
      } while (accept(","));
      expect(")");
    }
    return call(name, args);
  }

  Parsed call(const std::string& fn, const std::vector<Parsed>& args) {
    auto exprs = [&](size_t min_n, size_t max_n) {
      std::vector<SymExpr> out;
      for (const Parsed& a : args) {
        if (a.kind == Parsed::Kind::kKeyword) continue;
        out.push_back(as_expr(a));
      }
      if (out.size() < min_n || out.size() > max_n) {
        fail(fn + " takes " + std::to_string(min_n) +
             (max_n == min_n ? "" : " or more") + " arguments, got " + std::to_string(out.size()));
      }
      return out;
    };
    constexpr size_t kMany = std::numeric_limits<size_t>::max();
    if (fn == "Symbol") {
      if (args.empty() || args[0].kind != Parsed::Kind::kString) fail("Symbol needs a name");
      return of(symbol(args[0].text));
    }
    if (fn == "Integer") {
      const auto v = exprs(1, 1);
      if (!v[0].is_const()) fail("Integer needs a literal");
      return of(v[0]);
    }
    if (fn == "Add") {
      SymExpr acc = 0;
      for (SymExpr e : exprs(1, kMany)) acc = acc + e;
      return of(acc);
    }
    if (fn == "Mul") {
      SymExpr acc = 1;
      for (SymExpr e : exprs(1, kMany)) acc = acc * e;
      return of(acc);
    }
    if (fn == "Pow") {
      const auto v = exprs(2, 2);
      return of(power(v[0], v[1]));
    }
    if (fn == "FloorDiv" || fn == "CleanDiv" || fn == "CeilDiv" || fn == "Mod" || fn == "PythonMod") {
      const auto v = exprs(2, 2);
      if (v[1].is_const() && v[1].value() == 0) fail(fn + " by zero");
      if (fn == "FloorDiv" || fn == "CleanDiv") return of(shapes::floor_div(v[0], v[1]));
      if (fn == "CeilDiv") return of(shapes::ceil_div(v[0], v[1]));
      return of(shapes::python_mod(v[0], v[1]));
    }
    if (fn == "Min" || fn == "Max") {
      const auto v = exprs(1, kMany);
      SymExpr acc = v[0];
      for (size_t i = 1; i < v.size(); ++i) {
        acc = (fn == "Min") ? shapes::sym_min(acc, v[i]) : shapes::sym_max(acc, v[i]);
      }
      return of(acc);
    }
    struct RelName {
      const char* short_name;
      const char* long_name;
      shapes::Rel rel;
    };
    static const RelName kRels[] = {
        {"Eq", "Equality", shapes::Rel::Eq},       {"Ne", "Unequality", shapes::Rel::Ne},
        {"Lt", "StrictLessThan", shapes::Rel::Lt}, {"Le", "LessThan", shapes::Rel::Le},
        {"Gt", "StrictGreaterThan", shapes::Rel::Gt}, {"Ge", "GreaterThan", shapes::Rel::Ge}};
    for (const RelName& r : kRels) {
      if (fn == r.short_name || fn == r.long_name) {
        const auto v = exprs(2, 2);
        return of(shapes::SymBool(r.rel, v[0], v[1]));
      }
    }
    fail("unsupported function " + fn);
  }

  std::string s_;
  SymbolTable& symbols_;
  size_t pos_ = 0;
};

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

SymExpr parse_sympy_expr(const std::string& text, SymbolTable& symbols) {
  Parser p(text, symbols);
  Parsed out = p.parse_top();
  if (out.kind != Parsed::Kind::kExpr) {
    throw SympyParseError("cannot parse sympy expression '" + text + "': not an integer expression");
  }
  return out.expr;
}

shapes::SymBool parse_sympy_bool(const std::string& text, SymbolTable& symbols) {
  Parser p(text, symbols);
  Parsed out = p.parse_top();
  if (out.kind != Parsed::Kind::kBool) {
    throw SympyParseError("cannot parse sympy relation '" + text + "': not a relation");
  }
  return *out.rel;
}

}  // namespace ptx::serialize
