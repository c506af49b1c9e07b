// ir/parser_statements.cpp: the statement lines of a graph's text: `name[: "ann"] = ...`, calls of
// ATen operators and other targets with their arguments matched to the schema, getitem lines of
// multi-output calls. See ir/parser_impl.h.
#include <ATen/core/dispatch/Dispatcher.h>

#include <cctype>
#include <optional>
#include <string>
#include <vector>

#include "ir/parser_impl.h"
#include "ir/printer.h"
#include "shapes/error.h"

namespace ptx::ir::parser {

GraphParser::Statement GraphParser::parse_lhs(Lexer& lx) {
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

size_t GraphParser::parse_statement(const std::vector<Line>& lines, size_t k) {
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

bool GraphParser::returns_tensor_list(const c10::FunctionSchema& schema) {
  if (schema.returns().size() != 1) return false;
  const c10::TypePtr& t = schema.returns()[0].type();
  return t->kind() == c10::TypeKind::ListType &&
         t->castRaw<c10::ListType>()->getElementType()->kind() == c10::TypeKind::TensorType;
}

void GraphParser::parse_operator(const Line& line, const Statement& st, Lexer& lx) {
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

const c10::FunctionSchema* GraphParser::find_schema(const Line& line, const std::string& target) {
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

std::vector<NamedArg> GraphParser::parse_call_args(Lexer& lx, const Line& line, const std::string& target,
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

}  // namespace ptx::ir::parser
