// ir/parser.cpp: the text of ir/printer.h back into a Graph / ExportedProgram. See ir/parser.h.
#include "ir/parser.h"

#include <ATen/core/dispatch/Dispatcher.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <unordered_map>
#include <vector>

#include "ir/printer.h"
#include "shapes/error.h"

namespace ptx::ir {
namespace {

using shapes::SymExpr;

// ---- lines and tokens ------------------------------------------------------------------------

struct Line {
  int number;        // 1-based, in the whole text
  std::string text;  // without surrounding whitespace
};

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return "";
  const auto e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

std::vector<Line> split_lines(std::string_view text) {
  std::vector<Line> out;
  int n = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t nl = text.find('\n', pos);
    const std::string_view raw = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    ++n;
    std::string t = trim(raw);
    if (!t.empty()) out.push_back({n, std::move(t)});
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return out;
}

[[noreturn]] void fail(int line, const std::string& what) {
  PTX_USER_FAIL(ExitCode::kInput, "E_IR_PARSE") << "ir text line " << line << ": " << what;
}

struct Token {
  enum class Kind : uint8_t { kName, kInt, kFloat, kString, kPunct, kEnd };
  Kind kind = Kind::kEnd;
  std::string text;  // names, punctuation; strings: the decoded value
  int64_t i = 0;
  double f = 0;
};

class Lexer {
 public:
  Lexer(const Line& line) : line_(line) { tokenize(); }

  const Token& peek(size_t ahead = 0) const { return toks_[std::min(pos_ + ahead, toks_.size() - 1)]; }
  Token next() { return toks_[std::min(pos_++, toks_.size() - 1)]; }
  bool at_punct(std::string_view p, size_t ahead = 0) const {
    return peek(ahead).kind == Token::Kind::kPunct && peek(ahead).text == p;
  }
  bool at_end() const { return peek().kind == Token::Kind::kEnd; }
  bool accept(std::string_view p) {
    if (!at_punct(p)) return false;
    ++pos_;
    return true;
  }
  void expect(std::string_view p) {
    if (!accept(p)) fail_here("expected '" + std::string(p) + "'");
  }
  std::string expect_name() {
    if (peek().kind != Token::Kind::kName) fail_here("expected a name");
    return next().text;
  }
  [[noreturn]] void fail_here(const std::string& what) const {
    const Token& t = peek();
    const std::string got = t.kind == Token::Kind::kEnd      ? "the end of the line"
                            : t.kind == Token::Kind::kString ? "a string"
                                                             : "'" + t.text + "'";
    fail(line_.number, what + ", got " + got + " in: " + line_.text);
  }
  /// Drops the tokens from the first top-level ';' on (the printer's frees).
  void cut_at_semicolon() {
    for (size_t k = 0; k < toks_.size(); ++k) {
      if (toks_[k].kind == Token::Kind::kPunct && toks_[k].text == ";") {
        toks_.resize(k);
        toks_.push_back(Token{});
        return;
      }
    }
  }
  int line() const { return line_.number; }
  const std::string& text() const { return line_.text; }

 private:
  void tokenize() {
    const std::string& s = line_.text;
    size_t p = 0;
    auto is_name_start = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; };
    auto is_name_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
    while (p < s.size()) {
      const char c = s[p];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++p;
        continue;
      }
      Token t;
      if (is_name_start(c)) {
        size_t e = p;
        for (;;) {
          while (e < s.size() && is_name_char(s[e])) ++e;
          if (e + 1 < s.size() && s[e] == '.' && is_name_start(s[e + 1])) {
            ++e;
            continue;
          }
          break;
        }
        t.kind = Token::Kind::kName;
        t.text = s.substr(p, e - p);
        p = e;
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        size_t e = p;
        bool is_float = false;
        while (e < s.size() && std::isdigit(static_cast<unsigned char>(s[e]))) ++e;
        if (e < s.size() && s[e] == '.') {
          is_float = true;
          ++e;
          while (e < s.size() && std::isdigit(static_cast<unsigned char>(s[e]))) ++e;
        }
        if (e < s.size() && (s[e] == 'e' || s[e] == 'E')) {
          size_t x = e + 1;
          if (x < s.size() && (s[x] == '+' || s[x] == '-')) ++x;
          if (x < s.size() && std::isdigit(static_cast<unsigned char>(s[x]))) {
            is_float = true;
            e = x;
            while (e < s.size() && std::isdigit(static_cast<unsigned char>(s[e]))) ++e;
          }
        }
        t.text = s.substr(p, e - p);
        if (is_float) {
          t.kind = Token::Kind::kFloat;
          t.f = std::strtod(t.text.c_str(), nullptr);
        } else {
          t.kind = Token::Kind::kInt;
          auto [ptr, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), t.i);
          (void)ptr;
          if (ec != std::errc()) fail(line_.number, "integer " + t.text + " out of range");
        }
        p = e;
      } else if (c == '\'' || c == '"') {
        t.kind = Token::Kind::kString;
        size_t e = p + 1;
        for (;;) {
          if (e >= s.size()) fail(line_.number, "unterminated string in: " + s);
          const char d = s[e];
          if (d == c) break;
          if (d == '\\' && e + 1 < s.size()) {
            const char x = s[e + 1];
            e += 2;
            switch (x) {
              case 'n':
                t.text += '\n';
                break;
              case 'r':
                t.text += '\r';
                break;
              case 't':
                t.text += '\t';
                break;
              case 'x': {
                if (e + 2 > s.size()) fail(line_.number, "bad \\x escape in: " + s);
                t.text += static_cast<char>(std::stoi(s.substr(e, 2), nullptr, 16));
                e += 2;
                break;
              }
              default:
                t.text += x;  // \\ \' \"
            }
            continue;
          }
          t.text += d;
          ++e;
        }
        p = e + 1;
      } else {
        static const char* kPuncts[] = {"**", "//", "==", "!=", "<=", ">=", "(", ")", "[", "]", ",", ":", "=",
                                        ";",  "+",  "-",  "*",  "%",  "<",  ">", "~", "&", "|", "^", "/", "@", "{", "}"};
        for (const char* q : kPuncts) {
          if (s.compare(p, std::strlen(q), q) == 0) {
            t.kind = Token::Kind::kPunct;
            t.text = q;
            break;
          }
        }
        if (t.kind != Token::Kind::kPunct) {
          fail(line_.number, "unexpected character '" + std::string(1, c) + "' in: " + s);
        }
        p += t.text.size();
      }
      toks_.push_back(std::move(t));
    }
    toks_.push_back(Token{});
  }

  const Line& line_;
  std::vector<Token> toks_;
  size_t pos_ = 0;
};

// ---- literals ------------------------------------------------------------------------------------

/// A Python literal or a value name, before the schema says which ArgValue it becomes.
struct Lit {
  enum class Kind : uint8_t { kNone, kBool, kInt, kFloat, kString, kValue, kList, kDType, kLayout, kMemoryFormat, kDevice };
  Kind kind = Kind::kNone;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;
  Value* v = nullptr;
  std::vector<Lit> items;
};

int index_of(const char* const* names, size_t count, const std::string& text) {
  for (size_t k = 0; k < count; ++k) {
    if (text == names[k]) return static_cast<int>(k);
  }
  return -1;
}

class GraphParser {
 public:
  GraphParser(Graph& g, const shapes::SymbolLookup& symbols) : g_(g), symbols_(symbols) {}

  /// Parses lines[begin..] from an optional "class GraphModule" line, the def line, the body and
  /// the return line. Returns the index after the return line.
  size_t parse(const std::vector<Line>& lines, size_t begin) {
    size_t k = begin;
    if (k < lines.size() && lines[k].text.rfind("class ", 0) == 0) ++k;
    if (k >= lines.size()) fail(lines.empty() ? 1 : lines.back().number, "expected 'def forward(self, ...):'");
    parse_def(lines[k]);
    ++k;
    for (; k < lines.size(); ++k) {
      const Line& line = lines[k];
      if (line.text[0] == '#') {
        parse_comment(line);
        continue;
      }
      const bool is_return = line.text.rfind("return", 0) == 0 &&
                             (line.text.size() == 6 ||
                              (!std::isalnum(static_cast<unsigned char>(line.text[6])) && line.text[6] != '_'));
      if (is_return) {
        parse_return(line);
        return k + 1;
      }
      k = parse_statement(lines, k);
    }
    fail(lines.empty() ? 1 : lines.back().number, "the graph has no 'return' line");
  }

 private:
  // ---- def / return / comments ----

  void parse_def(const Line& line) {
    Lexer lx(line);
    if (lx.peek().kind != Token::Kind::kName || lx.peek().text != "def") lx.fail_here("expected 'def forward(self, ...):'");
    lx.next();
    lx.expect_name();
    lx.expect("(");
    bool first = true;
    while (!lx.accept(")")) {
      if (!first) lx.expect(",");
      if (lx.accept(")")) break;  // trailing comma
      first = false;
      const std::string name = lx.expect_name();
      if (name == "self") continue;
      if (!lx.accept(":")) fail(line.number, "placeholder '" + name + "' needs a type annotation (\"f32[...]\" or \"Sym(...)\")");
      if (lx.peek().kind != Token::Kind::kString) lx.fail_here("expected an annotation string");
      const std::string ann = lx.next().text;
      add_placeholder(line, name, ann);
    }
    lx.expect(":");
    if (!lx.at_end()) lx.fail_here("unexpected text after the def line");
  }

  void add_placeholder(const Line& line, const std::string& name, const std::string& ann) {
    const Typed t = parse_annotation(line, ann);
    check_fresh(line, name);
    Value* v = g_.add_placeholder(name, t.type, t.meta);
    if (t.sym) v->set_sym(*t.sym);
    if (t.cond) v->set_sym_bool(*t.cond);
    define(line, name, v);
  }

  void parse_return(const Line& line) {
    Lexer lx(line);
    lx.expect_name();  // return
    std::vector<Value*> outs;
    lx.expect("(");
    bool first = true;
    while (!lx.accept(")")) {
      if (!first) lx.expect(",");
      if (lx.accept(")")) break;
      first = false;
      outs.push_back(value(lx, lx.expect_name()));
    }
    if (!lx.at_end()) lx.fail_here("unexpected text after the return line");
    g_.set_outputs(std::move(outs));
  }

  void parse_comment(const Line& line) {
    static const std::regex kFile(R"(^#\s*File: (.+):(\d+) in (.+?), code: (.*)$)");
    std::smatch m;
    if (std::regex_match(line.text, m, kFile)) {
      meta_ = NodeMeta{};
      meta_.stack_trace = "File \"" + m[1].str() + "\", line " + m[2].str() + ", in " + m[3].str() + "\n    " + m[4].str();
      meta_.source_file = m[1].str();
      meta_.source_line = std::atoi(m[2].str().c_str());
    } else if (line.text.find("No stacktrace found") != std::string::npos) {
      meta_ = NodeMeta{};
    }
    // Other comments are ignored.
  }

  // ---- annotations ----

  struct Typed {
    ValueType type = ValueType::kTensor;
    std::optional<TensorMeta> meta;
    std::optional<SymExpr> sym;
    std::optional<shapes::SymBool> cond;
  };

  Typed parse_annotation(const Line& line, const std::string& ann) {
    Typed t;
    auto sym_error = [&](const UserError& e) -> Typed {
      fail(line.number, std::string("in annotation \"") + ann + "\": " + e.what());
    };
    if (ann.rfind("Sym(", 0) == 0 && ann.back() == ')') {
      const std::string inner = ann.substr(4, ann.size() - 5);
      try {
        bool is_bool = false;
        try {
          is_bool = shapes::parse_sym(inner).is_bool();
        } catch (const UserError&) {
          // reported with the input error code by parse_sym(inner, symbols_) below
        }
        if (is_bool) {
          t.type = ValueType::kSymBool;
          t.cond = shapes::parse_sym_bool(inner, symbols_);
        } else {
          t.type = ValueType::kSymInt;
          t.sym = shapes::parse_sym(inner, symbols_);
        }
      } catch (const UserError& e) {
        return sym_error(e);
      }
      return t;
    }
    const auto bracket = ann.find('[');
    if (bracket == std::string::npos || ann.back() != ']') {
      fail(line.number, "annotation \"" + ann + "\" is neither a tensor (\"f32[2, s0]\") nor \"Sym(...)\"");
    }
    const auto dtype = dtype_from_abbr(ann.substr(0, bracket));
    if (!dtype) fail(line.number, "unknown dtype '" + ann.substr(0, bracket) + "' in annotation \"" + ann + "\"");
    TensorMeta m;
    m.dtype = *dtype;
    // Split the dims at commas outside parentheses ("Mod(s0, 4)" has one inside).
    const std::string dims = ann.substr(bracket + 1, ann.size() - bracket - 2);
    int depth = 0;
    size_t start = 0;
    try {
      for (size_t k = 0; k <= dims.size(); ++k) {
        if (k == dims.size() || (dims[k] == ',' && depth == 0)) {
          const std::string d = trim(std::string_view(dims).substr(start, k - start));
          if (!d.empty() || k != dims.size() || !m.sizes.empty()) {
            if (d.empty()) fail(line.number, "empty dimension in annotation \"" + ann + "\"");
            m.sizes.push_back(shapes::parse_sym(d, symbols_));
          }
          start = k + 1;
        } else if (dims[k] == '(') {
          ++depth;
        } else if (dims[k] == ')') {
          --depth;
        }
      }
    } catch (const UserError& e) {
      if (e.diag_code() == "E_IR_PARSE") throw;
      return sym_error(e);
    }
    // Contiguous strides: the text does not carry strides.
    m.strides.assign(m.sizes.size(), SymExpr(1));
    for (size_t k = m.sizes.size(); k-- > 1;) m.strides[k - 1] = m.strides[k] * m.sizes[k];
    t.meta = std::move(m);
    return t;
  }

  // ---- statements ----

  struct Statement {
    int line = 0;
    std::string lhs;
    std::optional<std::string> ann;
  };

  /// `name[: "ann"] =`; leaves the lexer at the right-hand side.
  Statement parse_lhs(Lexer& lx) {
    Statement st;
    st.line = lx.line();
    st.lhs = lx.expect_name();
    if (lx.accept(":")) {
      if (lx.peek().kind != Token::Kind::kString) lx.fail_here("expected an annotation string");
      st.ann = lx.next().text;
    }
    lx.expect("=");
    return st;
  }

  /// Parses the statement at lines[k] (and the getitem lines that follow a multi-output call).
  /// Returns the index of the last line consumed.
  size_t parse_statement(const std::vector<Line>& lines, size_t k) {
    const Line& line = lines[k];
    Lexer lx(line);
    lx.cut_at_semicolon();
    const Statement st = parse_lhs(lx);

    // Python operators on SymInts / SymBools.
    if (lx.peek().kind != Token::Kind::kName || lx.at_punct("(", 1) == false) {
      if (lx.peek().kind == Token::Kind::kName && lx.at_punct("[", 1)) {
        fail(line.number, "'" + lx.peek().text + "[...]' must follow the call that produces '" + lx.peek().text + "'");
      }
      parse_operator(line, st, lx);
      return k;
    }
    const std::string callee = lx.next().text;
    std::string target = callee;
    bool aten = false;
    if (callee.rfind("torch.ops.", 0) == 0) {
      // torch.ops.<ns>.<name>.<overload>
      const std::string rest = callee.substr(10);
      const auto dot = rest.find('.');
      if (dot == std::string::npos || rest.find('.', dot + 1) == std::string::npos) {
        fail(line.number, "operator '" + callee + "' needs a namespace, a name and an overload");
      }
      target = rest.substr(0, dot) + "::" + rest.substr(dot + 1);
      aten = true;
    }
    const c10::FunctionSchema* schema = aten ? find_schema(line, target) : nullptr;
    std::vector<NamedArg> args = parse_call_args(lx, line, target, schema);
    if (!lx.at_end()) lx.fail_here("unexpected text after the call");

    // The getitem lines that follow: `out[: "ann"] = <lhs>[i]`.
    std::vector<Statement> items;
    size_t last = k;
    while (last + 1 < lines.size()) {
      const Line& nl = lines[last + 1];
      if (nl.text[0] == '#') break;
      Lexer ilx(nl);
      ilx.cut_at_semicolon();
      if (ilx.peek().kind != Token::Kind::kName) break;
      size_t a = 1;
      if (ilx.at_punct(":", a)) a += 2;
      if (!ilx.at_punct("=", a) || ilx.peek(a + 1).kind != Token::Kind::kName || ilx.peek(a + 1).text != st.lhs ||
          !ilx.at_punct("[", a + 2)) {
        break;
      }
      Statement item = parse_lhs(ilx);
      ilx.expect_name();
      ilx.expect("[");
      if (ilx.peek().kind != Token::Kind::kInt || ilx.peek().i != static_cast<int64_t>(items.size())) {
        ilx.fail_here("expected output index " + std::to_string(items.size()));
      }
      ilx.next();
      ilx.expect("]");
      if (!ilx.at_end()) ilx.fail_here("unexpected text after the getitem");
      items.push_back(std::move(item));
      ++last;
    }

    std::vector<ValueType> types;
    std::vector<Typed> typed;
    bool returns_list = false;
    bool multi = false;
    if (!items.empty()) {
      if (st.ann) fail(line.number, "a call with several outputs has no annotation; its outputs do");
      multi = true;
      for (const Statement& item : items) {
        if (!item.ann) fail(item.line, "output '" + item.lhs + "' needs a type annotation");
        typed.push_back(parse_annotation(lines[&item - &items[0] + k + 1], *item.ann));
        types.push_back(typed.back().type);
      }
      returns_list = schema && returns_tensor_list(*schema);
    } else if (st.ann) {
      typed.push_back(parse_annotation(line, *st.ann));
      types.push_back(typed.back().type);
    } else if (schema) {
      const auto& rets = schema->returns();
      if (rets.size() == 1 && returns_tensor_list(*schema)) {
        multi = true;
        returns_list = true;
      } else if (rets.size() > 1) {
        multi = true;  // a tuple none of whose elements is used
      } else if (rets.size() == 1) {
        const c10::TypeKind kind = rets[0].type()->kind();
        Typed t;
        switch (kind) {
          case c10::TypeKind::IntType:
            t.type = ValueType::kInt;
            break;
          case c10::TypeKind::FloatType:
            t.type = ValueType::kFloat;
            break;
          case c10::TypeKind::BoolType:
            t.type = ValueType::kBool;
            break;
          default:
            fail(line.number, "'" + st.lhs + "' (" + target + " returns " + rets[0].type()->str() +
                                  ") needs a type annotation");
        }
        typed.push_back(t);
        types.push_back(t.type);
      }
    } else {
      fail(line.number, "'" + st.lhs + "' needs a type annotation (\"Sym(...)\")");
    }

    check_fresh(line, st.lhs);
    std::vector<std::string> names;
    for (const Statement& item : items) {
      check_fresh(lines[&item - &items[0] + k + 1], item.lhs);
      names.push_back(item.lhs);
    }
    Node* node = multi ? g_.add_call(target, std::move(args), types, st.lhs, names)
                       : g_.add_call(target, std::move(args), types, st.lhs);
    node->set_returns_list(returns_list);
    node->meta() = meta_;
    if (node->name() != st.lhs) fail(line.number, "name '" + st.lhs + "' is already used");
    for (size_t i = 0; i < node->outputs().size(); ++i) {
      Value* v = node->outputs()[i];
      const Typed& t = typed[i];
      if (t.meta) v->mutable_meta() = *t.meta;
      if (t.sym) v->set_sym(*t.sym);
      if (t.cond) v->set_sym_bool(*t.cond);
      const std::string& want = multi ? items[i].lhs : st.lhs;
      const int at = multi ? items[i].line : line.number;
      if (v->name() != want) fail(at, "name '" + want + "' is already used");
      define({at, ""}, want, v);
    }
    if (multi || node->outputs().empty()) nodes_[st.lhs] = node;
    return last;
  }

  static bool returns_tensor_list(const c10::FunctionSchema& schema) {
    if (schema.returns().size() != 1) return false;
    const c10::TypePtr& t = schema.returns()[0].type();
    return t->kind() == c10::TypeKind::ListType &&
           t->castRaw<c10::ListType>()->getElementType()->kind() == c10::TypeKind::TensorType;
  }

  void parse_operator(const Line& line, const Statement& st, Lexer& lx) {
    static const std::map<std::string, std::string> kBinary = {
        {"+", "add"}, {"-", "sub"}, {"*", "mul"}, {"//", "floordiv"}, {"/", "truediv"}, {"%", "mod"},
        {"**", "pow"}, {"==", "eq"}, {"!=", "ne"}, {"<", "lt"}, {">", "gt"}, {"<=", "le"}, {">=", "ge"},
        {"&", "and_"}, {"|", "or_"}, {"^", "xor"}};
    std::vector<NamedArg> args;
    std::string op;
    const bool negative_literal = lx.at_punct("-") && (lx.peek(1).kind == Token::Kind::kInt ||
                                                       lx.peek(1).kind == Token::Kind::kFloat ||
                                                       (lx.peek(1).kind == Token::Kind::kName && lx.peek(1).text == "inf"));
    if ((lx.at_punct("-") || lx.at_punct("+") || lx.at_punct("~")) && !negative_literal) {
      const std::string p = lx.next().text;
      op = p == "-" ? "neg" : p == "+" ? "pos" : "invert";
      args.push_back({"a", literal_to_arg(line, parse_literal(lx), nullptr), false});
    } else {
      args.push_back({"a", literal_to_arg(line, parse_literal(lx), nullptr), false});
      const Token t = lx.peek();
      if (t.kind != Token::Kind::kPunct || !kBinary.count(t.text)) lx.fail_here("expected a call or an operator");
      lx.next();
      op = kBinary.at(t.text);
      args.push_back({"b", literal_to_arg(line, parse_literal(lx), nullptr), false});
    }
    if (!lx.at_end()) lx.fail_here("unexpected text after the operator expression");
    if (!st.ann) fail(line.number, "'" + st.lhs + "' needs a type annotation (\"Sym(...)\")");
    const Typed t = parse_annotation(line, *st.ann);
    check_fresh(line, st.lhs);
    Node* node = g_.add_call("_operator." + op, std::move(args), {t.type}, st.lhs);
    node->meta() = meta_;
    Value* v = node->outputs()[0];
    if (v->name() != st.lhs) fail(line.number, "name '" + st.lhs + "' is already used");
    if (t.meta) v->mutable_meta() = *t.meta;
    if (t.sym) v->set_sym(*t.sym);
    if (t.cond) v->set_sym_bool(*t.cond);
    define(line, st.lhs, v);
  }

  const c10::FunctionSchema* find_schema(const Line& line, const std::string& target) {
    const auto dot = target.rfind('.');
    std::string name = target.substr(0, dot), overload = target.substr(dot + 1);
    if (overload == "default") overload = "";
    auto op = c10::Dispatcher::singleton().findSchema({name, overload});
    if (op.has_value()) return &op->schema();
    if (target == "aten::sym_size.int") {
      // A JIT operator, not in the dispatcher.
      static const c10::FunctionSchema kSymSize = [] {
        std::vector<c10::Argument> args = {c10::Argument("self", c10::TensorType::get()),
                                           c10::Argument("dim", c10::IntType::get())};
        std::vector<c10::Argument> rets = {c10::Argument("", c10::IntType::get())};
        return c10::FunctionSchema("aten::sym_size", "int", std::move(args), std::move(rets));
      }();
      return &kSymSize;
    }
    fail(line.number, "unknown operator " + target_text(target) + " (no schema for " + target + ")");
  }

  std::vector<NamedArg> parse_call_args(Lexer& lx, const Line& line, const std::string& target,
                                        const c10::FunctionSchema* schema) {
    std::vector<NamedArg> args;
    lx.expect("(");
    size_t positional = 0;
    bool first = true;
    bool seen_kwarg = false;
    while (!lx.accept(")")) {
      if (!first) lx.expect(",");
      if (lx.accept(")")) break;
      first = false;
      if (lx.peek().kind == Token::Kind::kName && lx.at_punct("=", 1)) {
        const std::string name = lx.next().text;
        lx.next();
        seen_kwarg = true;
        const c10::Argument* a = nullptr;
        if (schema) {
          for (const c10::Argument& sa : schema->arguments()) {
            if (sa.name() == name) a = &sa;
          }
          if (!a) fail(line.number, target + " has no argument '" + name + "'");
        }
        for (const NamedArg& prev : args) {
          if (prev.name == name) fail(line.number, "argument '" + name + "' given twice");
        }
        args.push_back({name, literal_to_arg(line, parse_literal(lx), a ? &a->real_type() : nullptr), true});
        continue;
      }
      if (seen_kwarg) lx.fail_here("positional argument after a keyword argument");
      std::string name;
      const c10::Argument* a = nullptr;
      if (schema) {
        if (positional >= schema->arguments().size()) {
          fail(line.number, target + " takes " + std::to_string(schema->arguments().size()) + " arguments");
        }
        a = &schema->arguments()[positional];
        name = a->name();
      } else {
        name = positional < 26 ? std::string(1, static_cast<char>('a' + positional)) : "arg" + std::to_string(positional);
      }
      ++positional;
      args.push_back({name, literal_to_arg(line, parse_literal(lx), a ? &a->real_type() : nullptr), false});
    }
    return args;
  }

  Lit parse_literal(Lexer& lx) {
    Lit l;
    const Token t = lx.peek();
    if (t.kind == Token::Kind::kPunct && t.text == "-") {
      lx.next();
      const Token n = lx.next();
      if (n.kind == Token::Kind::kInt) {
        l.kind = Lit::Kind::kInt;
        l.i = -n.i;
      } else if (n.kind == Token::Kind::kFloat) {
        l.kind = Lit::Kind::kFloat;
        l.f = -n.f;
      } else if (n.kind == Token::Kind::kName && n.text == "inf") {
        l.kind = Lit::Kind::kFloat;
        l.f = -std::numeric_limits<double>::infinity();
      } else {
        fail(lx.line(), "expected a number after '-' in: " + lx.text());
      }
      return l;
    }
    if (t.kind == Token::Kind::kPunct && t.text == "[") {
      lx.next();
      l.kind = Lit::Kind::kList;
      bool first = true;
      while (!lx.accept("]")) {
        if (!first) lx.expect(",");
        if (lx.accept("]")) break;
        first = false;
        l.items.push_back(parse_literal(lx));
      }
      return l;
    }
    lx.next();
    switch (t.kind) {
      case Token::Kind::kInt:
        l.kind = Lit::Kind::kInt;
        l.i = t.i;
        return l;
      case Token::Kind::kFloat:
        l.kind = Lit::Kind::kFloat;
        l.f = t.f;
        return l;
      case Token::Kind::kString:
        l.kind = Lit::Kind::kString;
        l.s = t.text;
        return l;
      case Token::Kind::kName:
        break;
      default:
        fail(lx.line(), "expected an argument, got '" + t.text + "' in: " + lx.text());
    }
    const std::string& n = t.text;
    if (n == "None") return l;
    if (n == "True" || n == "False") {
      l.kind = Lit::Kind::kBool;
      l.b = n == "True";
      return l;
    }
    if (n == "inf" || n == "nan") {
      l.kind = Lit::Kind::kFloat;
      l.f = n == "inf" ? std::numeric_limits<double>::infinity() : std::numeric_limits<double>::quiet_NaN();
      return l;
    }
    if (n == "device" && lx.at_punct("(")) {
      lx.next();
      l.kind = Lit::Kind::kDevice;
      std::string type, index;
      while (!lx.accept(")")) {
        const std::string key = lx.expect_name();
        lx.expect("=");
        const Token v = lx.next();
        if (key == "type" && v.kind == Token::Kind::kString) {
          type = v.text;
        } else if (key == "index" && v.kind == Token::Kind::kInt) {
          index = std::to_string(v.i);
        } else {
          fail(lx.line(), "bad device(...) in: " + lx.text());
        }
        lx.accept(",");
      }
      if (type.empty()) fail(lx.line(), "device(...) without a type in: " + lx.text());
      l.s = index.empty() ? type : type + ":" + index;
      return l;
    }
    if (n.rfind("torch.", 0) == 0) {
      const std::string rest = n.substr(6);
      if (auto d = dtype_from_name(rest)) {
        l.kind = Lit::Kind::kDType;
        l.i = static_cast<int64_t>(*d);
        return l;
      }
      for (int k = 0; k < 8; ++k) {
        if (n == layout_text(k)) {
          l.kind = Lit::Kind::kLayout;
          l.i = k;
          return l;
        }
      }
      for (int k = 0; k < 4; ++k) {
        if (n == memory_format_text(k)) {
          l.kind = Lit::Kind::kMemoryFormat;
          l.i = k;
          return l;
        }
      }
      fail(lx.line(), "unknown constant '" + n + "' in: " + lx.text());
    }
    l.kind = Lit::Kind::kValue;
    l.v = value(lx, n);
    return l;
  }

  /// `type` is the schema's argument type (nullptr when unknown).
  ArgValue literal_to_arg(const Line& line, const Lit& l, const c10::TypePtr* type) {
    switch (l.kind) {
      case Lit::Kind::kNone:
        return NoneArg{};
      case Lit::Kind::kBool:
        return l.b;
      case Lit::Kind::kInt:
        return l.i;
      case Lit::Kind::kFloat:
        return l.f;
      case Lit::Kind::kString:
        return l.s;
      case Lit::Kind::kValue:
        return l.v;
      case Lit::Kind::kDType:
        return DTypeArg{static_cast<DType>(l.i)};
      case Lit::Kind::kLayout:
        return LayoutArg{static_cast<int>(l.i)};
      case Lit::Kind::kMemoryFormat:
        return MemoryFormatArg{static_cast<int>(l.i)};
      case Lit::Kind::kDevice:
        return DeviceArg{l.s};
      case Lit::Kind::kList:
        break;
    }
    if (type == nullptr) fail(line.number, "a list argument needs an operator schema");
    c10::TypePtr t = *type;
    if (auto opt = t->cast<c10::OptionalType>()) t = opt->getElementType();
    if (t->kind() != c10::TypeKind::ListType) fail(line.number, "a list given for a " + t->str() + " argument");
    c10::TypePtr elem = t->castRaw<c10::ListType>()->getElementType();
    auto bad = [&](const Lit& item) {
      (void)item;
      fail(line.number, "bad element in a " + t->str() + " argument: " + line.text);
    };
    switch (elem->kind()) {
      case c10::TypeKind::IntType:
      case c10::TypeKind::SymIntType: {
        std::vector<SymIntArg> out;
        for (const Lit& item : l.items) {
          if (item.kind == Lit::Kind::kInt) {
            out.emplace_back(item.i);
          } else if (item.kind == Lit::Kind::kValue) {
            out.emplace_back(item.v);
          } else {
            bad(item);
          }
        }
        return out;
      }
      case c10::TypeKind::TensorType: {
        std::vector<Value*> out;
        for (const Lit& item : l.items) {
          if (item.kind != Lit::Kind::kValue) bad(item);
          out.push_back(item.v);
        }
        return out;
      }
      case c10::TypeKind::OptionalType: {
        std::vector<std::optional<Value*>> out;
        for (const Lit& item : l.items) {
          if (item.kind == Lit::Kind::kNone) {
            out.emplace_back(std::nullopt);
          } else if (item.kind == Lit::Kind::kValue) {
            out.emplace_back(item.v);
          } else {
            bad(item);
          }
        }
        return out;
      }
      case c10::TypeKind::FloatType: {
        std::vector<double> out;
        for (const Lit& item : l.items) {
          if (item.kind == Lit::Kind::kFloat) {
            out.push_back(item.f);
          } else if (item.kind == Lit::Kind::kInt) {
            out.push_back(static_cast<double>(item.i));
          } else {
            bad(item);
          }
        }
        return out;
      }
      case c10::TypeKind::BoolType: {
        std::vector<bool> out;
        for (const Lit& item : l.items) {
          if (item.kind != Lit::Kind::kBool) bad(item);
          out.push_back(item.b);
        }
        return out;
      }
      default:
        fail(line.number, "list arguments of type " + t->str() + " are not supported");
    }
  }

  // ---- names ----

  Value* value(Lexer& lx, const std::string& name) {
    auto it = values_.find(name);
    if (it == values_.end()) {
      if (nodes_.count(name)) {
        fail(lx.line(), "'" + name + "' has several outputs or none; use its outputs in: " + lx.text());
      }
      fail(lx.line(), "unknown value '" + name + "' (not defined above) in: " + lx.text());
    }
    return it->second;
  }

  void check_fresh(const Line& line, const std::string& name) {
    if (values_.count(name) || nodes_.count(name)) fail(line.number, "'" + name + "' is defined twice");
  }

  void define(const Line& line, const std::string& name, Value* v) {
    if (!values_.emplace(name, v).second) fail(line.number, "'" + name + "' is defined twice");
  }

  Graph& g_;
  const shapes::SymbolLookup& symbols_;
  std::unordered_map<std::string, Value*> values_;
  std::unordered_map<std::string, Node*> nodes_;
  NodeMeta meta_;
};

// ---- program sections ----------------------------------------------------------------------------

void parse_input_spec(const Line& line, ExportedProgram& p) {
  static const std::regex kSpec(R"(^(\w+): (\w+)(?: target='([^']*)')?(?: persistent=(True|False))?$)");
  std::smatch m;
  if (!std::regex_match(line.text, m, kSpec)) fail(line.number, "bad input spec: " + line.text);
  InputSpec s;
  s.arg = m[1].str();
  const std::string kind = m[2].str();
  if (kind == "USER_INPUT") {
    s.kind = InputKind::kUserInput;
  } else if (kind == "PARAMETER") {
    s.kind = InputKind::kParameter;
  } else if (kind == "BUFFER") {
    s.kind = InputKind::kBuffer;
  } else if (kind == "CONSTANT_TENSOR") {
    s.kind = InputKind::kConstantTensor;
  } else {
    fail(line.number, "input kind " + kind + " is not supported");
  }
  if (s.kind != InputKind::kUserInput && !m[3].matched) fail(line.number, kind + " needs a target: " + line.text);
  if (s.kind == InputKind::kBuffer && !m[4].matched) fail(line.number, "BUFFER needs persistent=True/False: " + line.text);
  s.target = m[3].str();
  s.persistent = !m[4].matched || m[4].str() == "True";
  p.input_specs.push_back(std::move(s));
}

void parse_output_spec(const Line& line, ExportedProgram& p) {
  static const std::regex kSpec(R"(^(\w+): (\w+)(?: target='([^']*)')?$)");
  std::smatch m;
  if (!std::regex_match(line.text, m, kSpec)) fail(line.number, "bad output spec: " + line.text);
  OutputSpec s;
  s.arg = m[1].str();
  const std::string kind = m[2].str();
  if (kind == "USER_OUTPUT") {
    s.kind = OutputKind::kUserOutput;
  } else if (kind == "BUFFER_MUTATION") {
    s.kind = OutputKind::kBufferMutation;
  } else if (kind == "USER_INPUT_MUTATION") {
    s.kind = OutputKind::kUserInputMutation;
  } else {
    fail(line.number, "output kind " + kind + " is not supported");
  }
  if (s.kind != OutputKind::kUserOutput && !m[3].matched) fail(line.number, kind + " needs a target: " + line.text);
  s.target = m[3].str();
  p.output_specs.push_back(std::move(s));
}

void parse_ranges(const Line& line, ExportedProgram& p) {
  Line rest{line.number, line.text.substr(std::string("Range constraints:").size())};
  Lexer lx(rest);
  lx.expect("{");
  bool first = true;
  while (!lx.accept("}")) {
    if (!first) lx.expect(",");
    first = false;
    const std::string name = lx.expect_name();
    lx.expect(":");
    if (lx.expect_name() != "VR") fail(line.number, "expected VR[min, max] in: " + line.text);
    lx.expect("[");
    shapes::Range r;
    bool neg = lx.accept("-");
    if (neg && lx.peek().kind == Token::Kind::kName && lx.peek().text == "int_oo") {
      lx.next();
      r.min = shapes::Range::kNoMin;  // a value read from data, unbounded below
    } else {
      if (lx.peek().kind != Token::Kind::kInt) lx.fail_here("expected an integer lower bound");
      r.min = neg ? -lx.next().i : lx.next().i;
    }
    lx.expect(",");
    if (lx.peek().kind == Token::Kind::kName && lx.peek().text == "int_oo") {
      lx.next();
    } else {
      neg = lx.accept("-");
      if (lx.peek().kind != Token::Kind::kInt) lx.fail_here("expected an integer upper bound or int_oo");
      r.max = neg ? -lx.next().i : lx.next().i;
    }
    lx.expect("]");
    if (!p.range_constraints.emplace(name, r).second) fail(line.number, "symbol " + name + " has two ranges");
  }
  if (!lx.at_end()) lx.fail_here("unexpected text after the range constraints");
}

}  // namespace

std::unique_ptr<Graph> parse_graph(std::string_view text, const shapes::SymbolLookup& symbols) {
  auto g = std::make_unique<Graph>();
  const std::vector<Line> lines = split_lines(text);
  GraphParser parser(*g, symbols);
  const size_t end = parser.parse(lines, 0);
  if (end < lines.size()) fail(lines[end].number, "unexpected text after the graph: " + lines[end].text);
  return g;
}

std::unique_ptr<Graph> parse_graph(std::string_view text) {
  std::map<std::string, SymExpr> table;
  return parse_graph(text, shapes::fresh_symbols(table));
}

std::unique_ptr<ExportedProgram> parse_program(std::string_view text) {
  auto p = std::make_unique<ExportedProgram>();
  std::map<std::string, SymExpr> table;
  const shapes::SymbolLookup symbols = shapes::fresh_symbols(table);
  const std::vector<Line> lines = split_lines(text);
  if (lines.empty() || lines[0].text != "ExportedProgram:") fail(lines.empty() ? 1 : lines[0].number, "expected 'ExportedProgram:'");
  GraphParser parser(*p->graph, symbols);
  size_t k = parser.parse(lines, 1);
  auto expect_line = [&](const std::string& want) {
    if (k >= lines.size() || lines[k].text != want) {
      fail(k < lines.size() ? lines[k].number : lines.back().number, "expected '" + want + "'");
    }
    ++k;
  };
  expect_line("Graph signature:");
  expect_line("# inputs");
  while (k < lines.size() && lines[k].text != "# outputs") parse_input_spec(lines[k++], *p);
  expect_line("# outputs");
  while (k < lines.size() && lines[k].text.rfind("Range constraints:", 0) != 0) parse_output_spec(lines[k++], *p);
  if (k >= lines.size()) fail(lines.back().number, "expected 'Range constraints: {...}'");
  parse_ranges(lines[k++], *p);
  if (k < lines.size()) fail(lines[k].number, "unexpected text after the range constraints: " + lines[k].text);

  // The pytree specs are not printed: forward(*user_inputs) -> tuple of user outputs.
  p->args_spec.kind = PyTree::Kind::kTuple;
  for (const InputSpec& s : p->input_specs) {
    if (s.kind != InputKind::kUserInput) continue;
    PyTree leaf;
    leaf.leaf = s.arg;
    p->args_spec.children.push_back(std::move(leaf));
  }
  p->kwargs_spec.kind = PyTree::Kind::kDict;
  p->out_spec.kind = PyTree::Kind::kTuple;
  for (const OutputSpec& s : p->output_specs) {
    if (s.kind == OutputKind::kUserOutput) p->out_spec.children.push_back(PyTree{});
  }
  return p;
}

}  // namespace ptx::ir
