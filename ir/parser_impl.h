// ir/parser_impl.h: the private header of ir/parser.h's parser.
//
// Lines are split into tokens by a Lexer; one GraphParser reads one graph, line by line. The work
// is split by job:
//   parser.cpp             lines, the graph's def / return / comment lines and annotations, value
//                          names, the program's sections (signature, range constraints), the entry
//                          points
//   parser_statements.cpp  statements: the left-hand side, calls and their arguments by schema
//   parser_literals.cpp    tokens (Lexer::tokenize) and literals (Python values, dtypes, devices)
//                          turned into call arguments
#pragma once

#include <ATen/core/function_schema.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ir/graph.h"
#include "ir/parser.h"
#include "ir/program.h"
#include "shapes/error.h"

namespace ptx::ir::parser {

using shapes::SymExpr;

// ---- lines and tokens ------------------------------------------------------------------------

struct Line {
  int number;        // 1-based, in the whole text
  std::string text;  // without surrounding whitespace
};

std::string trim(std::string_view s);
std::vector<Line> split_lines(std::string_view text);
[[noreturn]] void fail(int line, const std::string& what);

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
  void tokenize();

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

// ---- the graph parser ----------------------------------------------------------------------------

class GraphParser {
 public:
  GraphParser(Graph& g, const shapes::SymbolLookup& symbols) : g_(g), symbols_(symbols) {}

  /// Parses lines[begin..] from an optional "class GraphModule" line, the def line, the body and
  /// the return line. Returns the index after the return line.
  size_t parse(const std::vector<Line>& lines, size_t begin);

 private:
  // ---- def / return / comments ----

  void parse_def(const Line& line);

  void add_placeholder(const Line& line, const std::string& name, const std::string& ann);

  void parse_return(const Line& line);

  void parse_comment(const Line& line);

  // ---- annotations ----

  struct Typed {
    ValueType type = ValueType::kTensor;
    std::optional<TensorMeta> meta;
    std::optional<SymExpr> sym;
    std::optional<shapes::SymBool> cond;
  };

  Typed parse_annotation(const Line& line, const std::string& ann);

  // ---- statements ----

  struct Statement {
    int line = 0;
    std::string lhs;
    std::optional<std::string> ann;
  };

  /// `name[: "ann"] =`; leaves the lexer at the right-hand side.
  Statement parse_lhs(Lexer& lx);

  /// Parses the statement at lines[k] (and the getitem lines that follow a multi-output call).
  /// Returns the index of the last line consumed.
  size_t parse_statement(const std::vector<Line>& lines, size_t k);

  static bool returns_tensor_list(const c10::FunctionSchema& schema);

  void parse_operator(const Line& line, const Statement& st, Lexer& lx);

  const c10::FunctionSchema* find_schema(const Line& line, const std::string& target);

  std::vector<NamedArg> parse_call_args(Lexer& lx, const Line& line, const std::string& target,
                                        const c10::FunctionSchema* schema);

  Lit parse_literal(Lexer& lx);

  /// `type` is the schema's argument type (nullptr when unknown).
  ArgValue literal_to_arg(const Line& line, const Lit& l, const c10::TypePtr* type);

  // ---- names ----

  Value* value(Lexer& lx, const std::string& name);

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

}  // namespace ptx::ir::parser
