// ir/parser.cpp: the text of ir/printer.h back into a Graph / ExportedProgram. See ir/parser.h. This
// file holds the lines, the graph's def, return and comment lines, annotations and value names, the
// program's sections and the entry points; statements and literals are in ir/parser_*.cpp
// (ir/parser_impl.h).
#include "ir/parser.h"

#include <cctype>
#include <cstdlib>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "ir/parser_impl.h"
#include "ir/printer.h"
#include "shapes/error.h"

namespace ptx::ir {
namespace parser {

// ---- lines -----------------------------------------------------------------------------------------

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

// ---- the graph: def, return and comment lines ------------------------------------------------------

size_t GraphParser::parse(const std::vector<Line>& lines, size_t begin) {
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

void GraphParser::parse_def(const Line& line) {
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

void GraphParser::add_placeholder(const Line& line, const std::string& name, const std::string& ann) {
  const Typed t = parse_annotation(line, ann);
  check_fresh(line, name);
  Value* v = g_.add_placeholder(name, t.type, t.meta);
  if (t.sym) v->set_sym(*t.sym);
  if (t.cond) v->set_sym_bool(*t.cond);
  define(line, name, v);
}

void GraphParser::parse_return(const Line& line) {
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

void GraphParser::parse_comment(const Line& line) {
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

// ---- annotations -----------------------------------------------------------------------------------

GraphParser::Typed GraphParser::parse_annotation(const Line& line, const std::string& ann) {
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

// ---- names -----------------------------------------------------------------------------------------

Value* GraphParser::value(Lexer& lx, const std::string& name) {
  auto it = values_.find(name);
  if (it == values_.end()) {
    if (nodes_.count(name)) {
      fail(lx.line(), "'" + name + "' has several outputs or none; use its outputs in: " + lx.text());
    }
    fail(lx.line(), "unknown value '" + name + "' (not defined above) in: " + lx.text());
  }
  return it->second;
}

namespace {

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
}  // namespace parser

using parser::fail;
using parser::GraphParser;
using parser::Line;
using parser::parse_input_spec;
using parser::parse_output_spec;
using parser::parse_ranges;
using parser::split_lines;
using shapes::SymExpr;

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
