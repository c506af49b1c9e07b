// shapes/sym_parse.cpp: recursive-descent parser for shapes/sym_parse.h.
//   conj   := rel ('and' rel)*
//   rel    := sum (('==' | '!=' | '<' | '<=' | '>' | '>=') sum)?
//   sum    := prod (('+' | '-') prod)*
//   prod   := unary (('*' | '//' | '%') unary)*
//   unary  := '-' unary | power
//   power  := atom ('**' INT)?
//   atom   := INT | NAME | NAME '(' rel (',' rel)* ')' | '(' rel ')'
//             | "Symbol" '(' QUOTED (',' NAME '=' NAME)* ')'          (sympy srepr)
#include "shapes/sym_parse.h"

#include <algorithm>
#include <cctype>
#include <type_traits>

#include "shapes/error.h"

namespace ptx::shapes {

namespace {

using Op = SymAst::Op;

/// The text for a message: at most 200 characters (a file may hold megabytes of it).
std::string clipped(std::string_view text) {
  return text.size() > 200 ? std::string(text.substr(0, 200)) + "..." : std::string(text);
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  SymAst parse() {
    SymAst r = conj();
    skip();
    if (pos_ != text_.size()) fail("unexpected '" + std::string(1, text_[pos_]) + "'");
    return r;
  }

 private:
  [[noreturn]] void fail(const std::string& what) {
    PTX_USER_FAIL(ExitCode::kUsage, "E_SYM_PARSE")
        << "symbolic expression '" << clipped(text_) << "': " << what << " at column " << (pos_ + 1);
  }
  void skip() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool eat(std::string_view tok) {
    skip();
    if (text_.substr(pos_, tok.size()) == tok) {
      pos_ += tok.size();
      return true;
    }
    return false;
  }
  void expect(std::string_view tok) {
    if (!eat(tok)) fail("expected '" + std::string(tok) + "'");
  }
  // Operands are moved in, never copied: a left-deep sum of n terms built by copying its left
  // side at each '+' took n^2 node copies (fuzz_sym_parse's slow inputs).
  SymAst node(Op op, SymAst a) {
    std::vector<SymAst> args;
    args.push_back(std::move(a));
    return node(op, std::move(args));
  }
  SymAst node(Op op, SymAst a, SymAst b) {
    std::vector<SymAst> args;
    args.reserve(2);
    args.push_back(std::move(a));
    args.push_back(std::move(b));
    return node(op, std::move(args));
  }
  SymAst node(Op op, std::vector<SymAst> args) {
    SymAst a;
    a.op = op;
    a.args = std::move(args);
    for (const SymAst& c : a.args) a.depth = std::max(a.depth, c.depth + 1);
    if (a.depth > kMaxSymDepth) fail("expression deeper than " + std::to_string(kMaxSymDepth) + " levels");
    return a;
  }
  /// Counts one level of recursion (a bracket, a call, a unary minus) for its scope.
  struct Nested {
    explicit Nested(Parser& p) : p_(p) {
      if (++p_.nesting_ > kMaxSymNesting) p_.fail("more than " + std::to_string(kMaxSymNesting) + " nested levels");
    }
    ~Nested() { --p_.nesting_; }
    Parser& p_;
  };

  SymAst conj() {
    SymAst l = rel();
    while (eat_word("and")) l = node(Op::And, std::move(l), rel());
    return l;
  }
  bool eat_word(std::string_view w) {
    skip();
    size_t end = pos_ + w.size();
    if (text_.substr(pos_, w.size()) != w) return false;
    if (end < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[end])) || text_[end] == '_')) {
      return false;
    }
    pos_ = end;
    return true;
  }
  SymAst rel() {
    SymAst l = sum();
    struct {
      const char* tok;
      Op op;
    } const rels[] = {{"==", Op::Eq}, {"!=", Op::Ne}, {"<=", Op::Le},
                      {">=", Op::Ge}, {"<", Op::Lt},  {">", Op::Gt}};
    for (const auto& r : rels) {
      if (eat(r.tok)) return node(r.op, std::move(l), sum());
    }
    return l;
  }
  SymAst sum() {
    SymAst l = prod();
    for (;;) {
      if (eat("+")) {
        l = node(Op::Add, std::move(l), prod());
      } else if (peek_minus()) {
        ++pos_;
        l = node(Op::Sub, std::move(l), prod());
      } else {
        return l;
      }
    }
  }
  bool peek_minus() {
    skip();
    return pos_ < text_.size() && text_[pos_] == '-';
  }
  SymAst prod() {
    SymAst l = unary();
    for (;;) {
      if (eat("//")) {
        l = node(Op::FloorDiv, std::move(l), unary());
      } else if (eat("**")) {
        fail("'**' needs a parenthesized base here");
      } else if (eat("*")) {
        l = node(Op::Mul, std::move(l), unary());
      } else if (eat("%")) {
        l = node(Op::Mod, std::move(l), unary());
      } else {
        return l;
      }
    }
  }
  SymAst unary() {
    if (peek_minus()) {
      ++pos_;
      Nested level(*this);
      return node(Op::Neg, unary());
    }
    return power();
  }
  SymAst power() {
    SymAst base = atom();
    if (eat("**")) {
      skip();
      int64_t e = integer();
      if (e < 1 || e > 64) fail("exponent must be in [1, 64]");
      SymAst p = node(Op::Pow, std::move(base));
      p.value = e;
      return p;
    }
    return base;
  }
  int64_t integer() {
    skip();
    size_t start = pos_;
    int64_t v = 0;
    while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
      if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, text_[pos_] - '0', &v)) {
        fail("integer too large");
      }
      ++pos_;
    }
    if (start == pos_) fail("expected an integer");
    return v;
  }
  SymAst atom() {
    skip();
    if (pos_ >= text_.size()) fail("unexpected end");
    char c = text_[pos_];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      SymAst a;
      a.op = Op::Int;
      a.value = integer();
      return a;
    }
    if (c == '(') {
      ++pos_;
      Nested level(*this);
      SymAst inner = rel();
      expect(")");
      return inner;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t start = pos_;
      while (pos_ < text_.size() &&
             (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')) {
        ++pos_;
      }
      std::string name(text_.substr(start, pos_ - start));
      if (name == "True" || name == "False" || name == "true" || name == "false") {
        SymAst a;
        a.op = (name == "True" || name == "true") ? Op::True : Op::False;
        return a;
      }
      if (name == "Symbol" && eat("(")) return srepr_symbol();
      if (eat("(")) {
        Nested level(*this);
        std::vector<SymAst> args;
        args.push_back(rel());
        while (eat(",")) args.push_back(rel());
        expect(")");
        // sympy's srepr wrappers: Integer(3), Add(a, b, ...), Mul(a, b, ...), Pow(a, Integer(2)).
        if (name == "Integer") {
          if (args.size() != 1 || !is_integer_literal(args[0])) fail("Integer takes one integer");
          return args[0];
        }
        if (name == "Add" || name == "Mul") {
          SymAst r = std::move(args[0]);
          for (size_t i = 1; i < args.size(); ++i) r = node(name == "Add" ? Op::Add : Op::Mul, std::move(r), std::move(args[i]));
          return r;
        }
        if (name == "Pow") {
          if (args.size() != 2 || args[1].op != Op::Int || args[1].value < 1 || args[1].value > 64) {
            fail("Pow takes a base and an exponent in [1, 64]");
          }
          SymAst p = node(Op::Pow, std::move(args[0]));
          p.value = args[1].value;
          return p;
        }
        if (name == "CeilDiv") {  // ceil(a / b) = -((-a) // b)
          if (args.size() != 2) fail(name + " takes two arguments");
          return node(Op::Neg, node(Op::FloorDiv, node(Op::Neg, std::move(args[0])), std::move(args[1])));
        }
        struct {
          const char* name;
          Op op;
        } const fns[] = {{"Min", Op::Min},
                         {"min", Op::Min},
                         {"Max", Op::Max},
                         {"max", Op::Max},
                         {"Mod", Op::Mod},
                         {"PythonMod", Op::Mod},
                         {"FloorDiv", Op::FloorDiv},
                         {"CleanDiv", Op::FloorDiv},
                         {"Eq", Op::Eq},
                         {"Equality", Op::Eq},
                         {"Ne", Op::Ne},
                         {"Unequality", Op::Ne},
                         {"Lt", Op::Lt},
                         {"StrictLessThan", Op::Lt},
                         {"Le", Op::Le},
                         {"LessThan", Op::Le},
                         {"Gt", Op::Gt},
                         {"StrictGreaterThan", Op::Gt},
                         {"Ge", Op::Ge},
                         {"GreaterThan", Op::Ge}};
        for (const auto& f : fns) {
          if (name != f.name) continue;
          if (args.size() < 2 || ((f.op != Op::Min && f.op != Op::Max) && args.size() != 2)) {
            fail(name + " takes two arguments");
          }
          // Min/Max of more than two arguments nest left to right.
          SymAst r = node(f.op, std::move(args[0]), std::move(args[1]));
          for (size_t i = 2; i < args.size(); ++i) r = node(f.op, std::move(r), std::move(args[i]));
          return r;
        }
        fail("unknown function '" + name + "'");
      }
      if (name == "oo" || name == "int_oo" || name == "zoo" || name == "nan" || name == "inf") {
        pos_ = start;
        fail("'" + name + "' is not an integer");
      }
      SymAst a;
      a.op = Op::Var;
      a.name = name;
      return a;
    }
    fail("unexpected '" + std::string(1, c) + "'");
  }

  static bool is_integer_literal(const SymAst& a) {
    return a.op == Op::Int || (a.op == Op::Neg && a.args[0].op == Op::Int);
  }

  /// Symbol('s0', integer=True, positive=True), after "Symbol(": the assumptions are dropped.
  SymAst srepr_symbol() {
    skip();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) fail("expected a quoted symbol name");
    const char quote = text_[pos_++];
    const size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] != quote) ++pos_;
    if (pos_ >= text_.size()) fail("unterminated symbol name");
    SymAst a;
    a.op = Op::Var;
    a.name = std::string(text_.substr(start, pos_ - start));
    ++pos_;
    if (a.name.empty() || !(std::isalpha(static_cast<unsigned char>(a.name[0])) || a.name[0] == '_')) {
      fail("bad symbol name '" + a.name + "'");
    }
    while (eat(",")) {
      skip();
      while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')) {
        ++pos_;
      }
      expect("=");
      if (!eat_word("True") && !eat_word("False")) fail("expected True or False");
    }
    expect(")");
    return a;
  }

  std::string_view text_;
  size_t pos_ = 0;
  int nesting_ = 0;
};

}  // namespace

SymAst parse_sym(std::string_view text) { return Parser(text).parse(); }

int SymAst::size(const std::function<bool(const std::string&)>& is_constant_var) const {
  std::function<bool(const SymAst&)> has_var = [&](const SymAst& a) {
    if (a.op == Op::Var && !is_constant_var(a.name)) return true;
    for (const SymAst& c : a.args) {
      if (has_var(c)) return true;
    }
    return false;
  };
  if (!has_var(*this)) return 1;
  int n = 1;
  for (const SymAst& c : args) n += c.size(is_constant_var);
  return n;
}

std::string SymAst::str() const {
  auto bin = [&](const char* op) { return "(" + args[0].str() + " " + op + " " + args[1].str() + ")"; };
  auto fn = [&](const char* f) { return std::string(f) + "(" + args[0].str() + ", " + args[1].str() + ")"; };
  switch (op) {
    case Op::Int:
      return std::to_string(value);
    case Op::Var:
      return name;
    case Op::Add:
      return bin("+");
    case Op::Sub:
      return bin("-");
    case Op::Neg:
      return "(-" + args[0].str() + ")";
    case Op::Mul:
      return bin("*");
    case Op::Pow:
      return "(" + args[0].str() + "**" + std::to_string(value) + ")";
    case Op::FloorDiv:
      return bin("//");
    case Op::Mod:
      return fn("Mod");
    case Op::Min:
      return fn("Min");
    case Op::Max:
      return fn("Max");
    case Op::Eq:
      return fn("Eq");
    case Op::Ne:
      return fn("Ne");
    case Op::Lt:
      return bin("<");
    case Op::Le:
      return bin("<=");
    case Op::Gt:
      return bin(">");
    case Op::Ge:
      return bin(">=");
    case Op::True:
      return "True";
    case Op::False:
      return "False";
    case Op::And:
      return "(" + args[0].str() + " and " + args[1].str() + ")";
  }
  return "?";
}

namespace {
/// A written-out sum is a left-deep chain of Add/Sub: its terms are added in one pass (sym_sum;
/// one + per term re-collected the partial sum each time, n^2 for n terms). The terms are built
/// right to left, the order in which gcc evaluated `arg(0) + arg(1)` before: a name met first
/// here gets its fresh symbol in the same order as before.
SymExpr build_sum(const SymAst& ast, const std::function<SymExpr(const std::string&)>& var) {
  std::vector<SymExpr> terms;
  const SymAst* n = &ast;
  for (; n->op == Op::Add || n->op == Op::Sub; n = &n->args[0]) {
    const SymExpr t = build_expr(n->args[1], var);
    terms.push_back(n->op == Op::Sub ? -t : t);
  }
  terms.push_back(build_expr(*n, var));
  return sym_sum(terms);
}

/// The two operands of a binary node, the right one built first. C++ leaves the order of
/// `f(arg(0), arg(1))` to the compiler (gcc evaluated the right side first, clang the left), and a
/// name met first gets the next fresh symbol: this order keeps the numbering gcc gave, with any
/// compiler.
std::pair<SymExpr, SymExpr> operands(const SymAst& ast, const std::function<SymExpr(const std::string&)>& var) {
  SymExpr rhs = build_expr(ast.args[1], var);
  SymExpr lhs = build_expr(ast.args[0], var);
  return {std::move(lhs), std::move(rhs)};
}
}  // namespace

SymExpr build_expr(const SymAst& ast, const std::function<SymExpr(const std::string&)>& var) {
  auto arg = [&](size_t i) { return build_expr(ast.args[i], var); };
  switch (ast.op) {
    case Op::Int:
      return SymExpr(ast.value);
    case Op::Var:
      return var(ast.name);
    case Op::Add:
    case Op::Sub:
      return build_sum(ast, var);
    case Op::Neg:
      return -arg(0);
    case Op::Mul: { auto [a, b] = operands(ast, var); return a * b; }
    case Op::Pow: {
      // Square and multiply: about log2(e) products, each bounded by operator* (shapes/limits.h,
      // kMaxSymTerms), so a power too large to expand is refused before it is built.
      SymExpr b = arg(0), r = 1;
      for (int64_t e = ast.value; e > 0; e >>= 1) {
        if (e & 1) r = r * b;
        if (e > 1) b = b * b;
      }
      return r;
    }
    case Op::FloorDiv: { auto [a, b] = operands(ast, var); return floor_div(a, b); }
    case Op::Mod: { auto [a, b] = operands(ast, var); return python_mod(a, b); }
    case Op::Min: { auto [a, b] = operands(ast, var); return sym_min(a, b); }
    case Op::Max: { auto [a, b] = operands(ast, var); return sym_max(a, b); }
    default:
      break;
  }
  PTX_USER_FAIL(ExitCode::kUsage, "E_SYM_PARSE")
      << "symbolic expression '" << ast.str() << "': expected an integer, got a condition";
}

std::vector<SymAst> conjuncts(const SymAst& ast) {
  if (ast.op != Op::And) return {ast};
  std::vector<SymAst> out = conjuncts(ast.args[0]);
  for (SymAst& a : conjuncts(ast.args[1])) out.push_back(std::move(a));
  return out;
}

SymBool build_bool(const SymAst& ast, const std::function<SymExpr(const std::string&)>& var) {
  switch (ast.op) {
    case Op::Eq: { auto [a, b] = operands(ast, var); return sym_eq(a, b); }
    case Op::Ne: { auto [a, b] = operands(ast, var); return sym_ne(a, b); }
    case Op::Lt: { auto [a, b] = operands(ast, var); return sym_lt(a, b); }
    case Op::Le: { auto [a, b] = operands(ast, var); return sym_le(a, b); }
    case Op::Gt: { auto [a, b] = operands(ast, var); return sym_gt(a, b); }
    case Op::Ge: { auto [a, b] = operands(ast, var); return sym_ge(a, b); }
    case Op::True:
      return SymBool(true);
    case Op::False:
      return SymBool(false);
    default:
      break;
  }
  PTX_USER_FAIL(ExitCode::kUsage, "E_SYM_PARSE")
      << "symbolic condition '" << ast.str() << "': expected a condition, got an integer";
}

// ---- shortcuts for readers of files -------------------------------------------------------------

namespace {
/// Runs `f`; a syntax error becomes an input error naming the text once (it came from a file), and the
/// InternalErrors of constant folding (overflow, a constant division by zero) become input errors
/// naming the text.
template <typename F>
std::invoke_result_t<F> from_file(std::string_view text, F f) {
  try {
    return f();
  } catch (const UserError& e) {
    // A product too large to expand (shapes/sym_poly.cpp) does not know the text: name it.
    if (e.diag_code() == "E_SYM_TOO_LARGE") {
      PTX_USER_FAIL(ExitCode::kInput, "E_SYM_TOO_LARGE") << "symbolic expression '" << clipped(text) << "': " << e.what();
    }
    if (e.diag_code() != "E_SYM_PARSE") throw;
    // The syntax errors name the whole text; a misplaced condition names its part: add the text.
    const std::string msg = e.what(), quoted = "'" + clipped(text) + "'";
    throw UserError(ExitCode::kInput, "E_SYM_PARSE",
                    msg.find(quoted) != std::string::npos ? msg : "symbolic expression " + quoted + ": " + msg);
  } catch (const InternalError& e) {
    PTX_USER_FAIL(ExitCode::kInput, "E_SYM_PARSE") << "symbolic expression '" << clipped(text) << "': " << e.what();
  }
}
}  // namespace

SymExpr parse_sym(std::string_view text, const SymbolLookup& symbol) {
  return from_file(text, [&] {
    const SymAst ast = parse_sym(text);
    if (ast.is_bool()) {
      PTX_USER_FAIL(ExitCode::kInput, "E_SYM_PARSE")
          << "symbolic expression '" << clipped(text) << "': expected an integer, got a condition";
    }
    return build_expr(ast, symbol);
  });
}

SymBool parse_sym_bool(std::string_view text, const SymbolLookup& symbol) {
  return from_file(text, [&] {
    const SymAst ast = parse_sym(text);
    if (!ast.is_bool() || ast.op == SymAst::Op::And) {
      PTX_USER_FAIL(ExitCode::kInput, "E_SYM_PARSE")
          << "symbolic condition '" << clipped(text) << "': expected one relation (==, !=, <, <=, >, >=, Eq, Ne)";
    }
    return build_bool(ast, symbol);
  });
}

SymbolLookup fresh_symbols(std::map<std::string, SymExpr>& table) {
  return [&table](const std::string& name) {
    auto it = table.find(name);
    if (it == table.end()) it = table.emplace(name, SymExpr::new_symbol(name)).first;
    return it->second;
  };
}

}  // namespace ptx::shapes
