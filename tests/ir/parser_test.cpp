// tests/ir/parser_test.cpp: ir::parse_program / parse_graph, and print(parse(text)) == text.
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <cmath>
#include <map>

#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verify.h"
#include "programs.h"
#include "shapes/error.h"

using namespace ptx::ir;
using namespace ptx::ir::testing;
namespace shapes = ptx::shapes;
using Catch::Matchers::ContainsSubstring;

namespace {
using MakeProgram = std::function<std::unique_ptr<ExportedProgram>()>;

const NamedArg& input(const Node& n, const std::string& name) {
  for (const NamedArg& a : n.inputs()) {
    if (a.name == name) return a;
  }
  FAIL("node " << n.name() << " has no argument " << name);
  throw;
}

const Node& node(const Graph& g, const std::string& name) {
  for (const auto& n : g.nodes()) {
    if (n->name() == name) return *n;
  }
  FAIL("no node " << name);
  throw;
}

void check_parse_error(const std::string& text, const std::string& message) {
  INFO(text);
  try {
    parse_graph(text);
    FAIL("no error");
  } catch (const ptx::UserError& e) {
    CHECK(e.code() == ptx::ExitCode::kInput);
    CHECK(e.diag_code() == "E_IR_PARSE");
    CHECK_THAT(e.what(), ContainsSubstring(message));
  }
}
}  // namespace

TEST_CASE("torch's print(ep) texts parse and print back unchanged", "[ir][parser]") {
  auto [name, text] = GENERATE(table<const char*, const char*>({
      {"mlp", kMlpText},
      {"linear_view", kLinearViewText},
      {"divisible", kDivisibleText},
      {"mixed", kMixedText},
      {"tuple", kTupleText},
  }));
  INFO(name);
  const auto p = parse_program(text);
  CHECK(to_string(*p) == text);
  CHECK_NOTHROW(verify(*p));
}

TEST_CASE("programs built in C++ round trip through text", "[ir][parser]") {
  auto [name, make] = GENERATE(table<const char*, MakeProgram>({
      {"mlp", mlp_program},
      {"linear_view", linear_view_program},
      {"divisible", divisible_program},
      {"mixed", mixed_program},
      {"tuple", tuple_program},
  }));
  INFO(name);
  const auto built = make();
  const std::string text = to_string(*built);
  const auto parsed = parse_program(text);
  CHECK(to_string(*parsed) == text);
  // The structure, not only the text: same nodes, targets, argument names and kinds.
  const auto& a = built->graph->nodes();
  const auto& b = parsed->graph->nodes();
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    INFO(a[i]->name());
    CHECK(a[i]->name() == b[i]->name());
    CHECK(a[i]->kind() == b[i]->kind());
    CHECK(a[i]->target() == b[i]->target());
    CHECK(a[i]->returns_list() == b[i]->returns_list());
    CHECK(a[i]->outputs().size() == b[i]->outputs().size());
    REQUIRE(a[i]->inputs().size() == b[i]->inputs().size());
    for (size_t k = 0; k < a[i]->inputs().size(); ++k) {
      CHECK(a[i]->inputs()[k].name == b[i]->inputs()[k].name);
      CHECK(a[i]->inputs()[k].kwarg_only == b[i]->inputs()[k].kwarg_only);
      CHECK(arg_text(a[i]->inputs()[k].value) == arg_text(b[i]->inputs()[k].value));
      CHECK(a[i]->inputs()[k].value.index() == b[i]->inputs()[k].value.index());
    }
    for (size_t k = 0; k < a[i]->outputs().size(); ++k) {
      CHECK(a[i]->outputs()[k]->name() == b[i]->outputs()[k]->name());
      CHECK(a[i]->outputs()[k]->type() == b[i]->outputs()[k]->type());
    }
  }
  CHECK(parsed->range_constraints.size() == built->range_constraints.size());
}

TEST_CASE("parsed programs carry metas, symbols, specs and stack traces", "[ir][parser]") {
  const auto p = parse_program(kMixedText);
  const Graph& g = *p->graph;
  REQUIRE(g.placeholders().size() == 8);
  const Value* x = g.placeholders()[7];
  CHECK(x->name() == "x");
  REQUIRE(x->meta().sizes.size() == 2);
  const SymExpr s = x->meta().sizes[0];
  CHECK(s.is_symbol());
  CHECK(s.str() == "s77");
  CHECK(x->meta().strides == SymShape{4, 1});
  CHECK(p->range_constraints.at("s77").min == 2);
  CHECK(p->range_constraints.at("s77").max == 1024);
  CHECK(g.placeholders()[5]->meta().dtype == DType::kInt64);
  CHECK(g.placeholders()[5]->meta().sizes.empty());

  REQUIRE(p->input_specs.size() == 8);
  CHECK(p->input_specs[2].kind == InputKind::kBuffer);
  CHECK(p->input_specs[2].target == "c");
  CHECK_FALSE(p->input_specs[2].persistent);
  CHECK(p->input_specs[6].kind == InputKind::kConstantTensor);
  CHECK(p->input_specs[6].target == "lifted_tensor_0");
  REQUIRE(p->output_specs.size() == 6);
  CHECK(p->output_specs[1].arg == "getitem_1");
  CHECK(p->args_spec.kind == PyTree::Kind::kTuple);
  REQUIRE(p->args_spec.children.size() == 1);
  CHECK(p->args_spec.children[0].leaf == "x");
  CHECK(p->out_spec.children.size() == 6);

  // Argument names come from the schemas; `dtype = ...` is a keyword argument.
  const Node& zeros = node(g, "zeros");
  CHECK(zeros.target() == "aten::zeros.default");
  CHECK(input(zeros, "dtype").kwarg_only);
  CHECK(std::get<DTypeArg>(input(zeros, "dtype").value).v == DType::kFloat16);
  CHECK(std::get<DeviceArg>(input(zeros, "device").value).v == "cpu");
  const auto& size = std::get<std::vector<SymIntArg>>(input(zeros, "size").value);
  REQUIRE(size.size() == 2);
  CHECK(std::get<Value*>(size[0])->name() == "sym_size_int_1");
  CHECK(std::get<int64_t>(size[1]) == 4);
  const Node& bn = node(g, "batch_norm");
  CHECK(std::get<double>(input(bn, "eps").value) == 1e-05);
  CHECK_FALSE(input(bn, "eps").kwarg_only);
  CHECK(std::get<std::string>(input(node(g, "gelu"), "approximate").value) == "tanh");
  const Node& split = node(g, "split");
  CHECK(split.returns_list());
  CHECK(split.outputs().size() == 2);
  CHECK(split.outputs()[1]->name() == "getitem_1");
  const Node& meta_check = node(g, "_assert_tensor_metadata_default");
  CHECK(meta_check.outputs().empty());
  CHECK(std::get<LayoutArg>(input(meta_check, "layout").value).v == 0);
  const Node& add_2 = node(g, "add_2");
  CHECK(add_2.target() == "_operator.add");
  CHECK(add_2.outputs()[0]->sym() == s + 1);
  CHECK(node(g, "add").meta().stack_trace ==
        "File \"/tmp/irgold/model.py\", line 35, in forward\n    return w, b, z, s, x + t + self.c, x.size(0) + 1");
  CHECK(node(g, "add").meta().source_line == 35);
  CHECK(node(g, "sym_size_int_1").meta().stack_trace.empty());
}

TEST_CASE("SymBool annotations and the assert form", "[ir][parser]") {
  const auto p = parse_program(kDivisibleText);
  const Graph& g = *p->graph;
  const Node& eq = node(g, "eq");
  CHECK(eq.target() == "_operator.eq");
  REQUIRE(eq.outputs()[0]->type() == ValueType::kSymBool);
  REQUIRE(eq.outputs()[0]->sym_bool());
  CHECK(eq.outputs()[0]->sym_bool()->str() == "Eq(Mod(s77, 4), 0)");
  const Node& a = node(g, "_assert_scalar_default_2");
  CHECK(a.target() == "aten::_assert_scalar.default");
  CHECK(a.outputs().empty());
  CHECK(input(a, "self").name == "self");
  CHECK(std::get<std::string>(input(a, "assert_msg").value) ==
        "Runtime assertion failed for expression Ne((s77//4), 1) on node 'sym_not'");
  const Node& mul = node(g, "mul");
  CHECK(std::get<int64_t>(input(mul, "a").value) == 2);
  CHECK(node(g, "sym_not").target() == "torch.sym_not");
}

TEST_CASE("hand-written graph parses with the right values", "[ir][parser]") {
  std::map<std::string, SymExpr> table;
  const auto g = parse_graph(R"txt(
    def forward(self, x: "f32[s0, 3, 8, 8]", i: "i64[2]", y: "f32[s0, 3, 8, 8]"):
        cat: "f32[2*s0, 3, 8, 8]" = torch.ops.aten.cat.default([x, y])
        index: "f32[2, 3, 8, 8]" = torch.ops.aten.index.Tensor(x, [i, None])
        up: "f32[s0, 3, 16, 16]" = torch.ops.aten.upsample_nearest2d.vec(x, None, [2.0, 2.0])
        empty: "f32[2, 3]" = torch.ops.aten.empty.memory_format([2, 3], dtype = torch.float32, layout = torch.strided, device = device(type='cuda', index=1), memory_format = torch.channels_last)
        sym_size_int: "Sym(s0)" = torch.ops.aten.sym_size.int(x, 0)
        neg: "Sym(-s0)" = -sym_size_int
        m: "Sym(-s0)" = -1 * sym_size_int
        full: "f32[2]" = torch.ops.aten.full.default([2], -1.5e-07)
        add: "f32[2]" = torch.ops.aten.add.Tensor(full, full, alpha = 2)
        msg = torch.ops.aten._assert_scalar.default(True, "it's \"quoted\"\n")
        return (cat, index, up, empty, neg, m, add)
  )txt", shapes::fresh_symbols(table));
  REQUIRE(table.count("s0"));
  const SymExpr s0 = table.at("s0");
  CHECK(std::get<std::vector<Value*>>(input(node(*g, "cat"), "tensors").value).size() == 2);
  const auto& idx = std::get<std::vector<std::optional<Value*>>>(input(node(*g, "index"), "indices").value);
  REQUIRE(idx.size() == 2);
  CHECK((*idx[0])->name() == "i");
  CHECK(!idx[1].has_value());
  const Node& up = node(*g, "up");
  CHECK(std::holds_alternative<NoneArg>(input(up, "output_size").value));
  CHECK(std::get<std::vector<double>>(input(up, "scale_factors").value) == std::vector<double>{2.0, 2.0});
  const Node& empty = node(*g, "empty");
  CHECK(std::get<DeviceArg>(input(empty, "device").value).v == "cuda:1");
  CHECK(std::get<MemoryFormatArg>(input(empty, "memory_format").value).v == 2);
  CHECK(std::get<LayoutArg>(input(empty, "layout").value).v == 0);
  const Node& neg = node(*g, "neg");
  CHECK(neg.target() == "_operator.neg");
  CHECK(neg.inputs().size() == 1);
  CHECK(neg.outputs()[0]->sym() == -s0);
  const Node& m = node(*g, "m");
  CHECK(m.target() == "_operator.mul");
  CHECK(std::get<int64_t>(input(m, "a").value) == -1);
  CHECK(std::get<double>(input(node(*g, "full"), "fill_value").value) == -1.5e-07);
  CHECK(std::get<int64_t>(input(node(*g, "add"), "alpha").value) == 2);
  CHECK(input(node(*g, "add"), "alpha").kwarg_only);
  CHECK(std::get<std::string>(input(node(*g, "msg"), "assert_msg").value) == "it's \"quoted\"\n");
  CHECK(node(*g, "cat").outputs()[0]->meta().sizes[0] == 2 * s0);

  // And the printer gives back the same lines (modulo frees and comments).
  const std::string text = to_string(*g);
  CHECK_THAT(text, ContainsSubstring("empty: \"f32[2, 3]\" = torch.ops.aten.empty.memory_format([2, 3], dtype = torch.float32, "
                                     "layout = torch.strided, device = device(type='cuda', index=1), memory_format = "
                                     "torch.channels_last)"));
  CHECK_THAT(text, ContainsSubstring("m: \"Sym(-s0)\" = -1 * sym_size_int"));
  CHECK_THAT(text, ContainsSubstring("neg: \"Sym(-s0)\" = -sym_size_int"));
  CHECK_THAT(text, ContainsSubstring("torch.ops.aten._assert_scalar.default(True, 'it\\'s \"quoted\"\\n')"));
  CHECK(to_string(*parse_graph(text)) == text);
}

TEST_CASE("parse_graph can use the caller's symbols", "[ir][parser]") {
  const SymExpr mine = SymExpr::new_symbol("batch");
  const auto g = parse_graph("def forward(self, x: \"f32[batch, 4]\"):\n    return (x,)\n",
                             [&](const std::string& name) {
                               if (name == "batch") return mine;
                               PTX_USER_FAIL(ptx::ExitCode::kInput, "E_TEST") << "unknown symbol " << name;
                             });
  CHECK(g->placeholders()[0]->meta().sizes[0] == mine);
}

TEST_CASE("parse errors name the line", "[ir][parser][errors]") {
  check_parse_error("def forward(self, x: \"f32[2]\"):\n    y: \"f32[2]\" = torch.ops.aten.relu.default(z)\n    return (y,)",
                    "ir text line 2: unknown value 'z' (not defined above)");
  check_parse_error("def forward(self, x: \"f32[2]\"):\n    y: \"f32[2]\" = torch.ops.aten.nosuchop.default(x)\n    return (y,)",
                    "ir text line 2: unknown operator torch.ops.aten.nosuchop.default");
  check_parse_error("def forward(self, x: \"f32[2]\"):\n    y = torch.ops.aten.relu.default(x)\n    return (y,)",
                    "'y' (aten::relu.default returns Tensor) needs a type annotation");
  check_parse_error("def forward(self, x: \"f32[2]\"):\n    x: \"f32[2]\" = torch.ops.aten.relu.default(x)\n    return (x,)",
                    "'x' is defined twice");
  check_parse_error("def forward(self, x: \"q32[2]\"):\n    return (x,)", "unknown dtype 'q32'");
  check_parse_error("def forward(self, x: \"f32[s0 +]\"):\n    return (x,)",
                    "ir text line 1: in annotation \"f32[s0 +]\": symbolic expression 's0 +': unexpected end at column 5");
  check_parse_error("def forward(self, x):\n    return (x,)", "placeholder 'x' needs a type annotation");
  check_parse_error("def forward(self, x: \"f32[2]\"):\n    y: \"f32[2]\" = torch.ops.aten.relu.default(x)\n",
                    "the graph has no 'return' line");
  check_parse_error("def forward(self, x: \"f32[2]\"):\n    y: \"f32[2]\" = torch.ops.aten.relu.default(x, nope = 1)\n    return (y,)",
                    "aten::relu.default has no argument 'nope'");
  check_parse_error("def forward(self, x: \"f32[2]\"):\n    y: \"f32[2]\" = torch.ops.aten.relu.default(x, x)\n    return (y,)",
                    "aten::relu.default takes 1 arguments");
  check_parse_error("def forward(self, x: \"f32[2]\"):\n    y: \"Sym(s0)\" = x @ x\n    return (y,)",
                    "expected a call or an operator");
  check_parse_error("def forward(self, x: \"f32[2]\"):\n    y: \"f32[2]\" = x[0]\n    return (y,)",
                    "'x[...]' must follow the call that produces 'x'");
  check_parse_error("def forward(self, x: \"f32[2]\"):\n    y = torch.ops.aten.split.Tensor(x, 1)\n"
                    "    a: \"f32[1]\" = y[1]\n    return (a,)",
                    "expected output index 0");
  check_parse_error("def forward(self, x: \"f32[2]\"):\n    y: \"f32[2]\" = torch.ops.aten.relu.default('unterminated)\n    return (y,)",
                    "unterminated string");
  check_parse_error("def forward(self, x: \"f32[2]\"):\n    return (x,)\n    z = 1", "unexpected text after the graph");
}

TEST_CASE("program section errors", "[ir][parser][errors]") {
  std::string text = kLinearViewText;
  const auto bad_kind = std::string(text).replace(text.find("x: USER_INPUT"), 13, "x: TOKEN");
  CHECK_THROWS_WITH(parse_program(bad_kind), ContainsSubstring("input kind TOKEN is not supported"));
  const auto bad_range = std::string(text).replace(text.find("VR[2, int_oo]"), 13, "VR[2, oo]");
  CHECK_THROWS_WITH(parse_program(bad_range), ContainsSubstring("expected an integer upper bound or int_oo"));
  CHECK_THROWS_WITH(parse_program("class GraphModule(torch.nn.Module):"), ContainsSubstring("expected 'ExportedProgram:'"));
  const auto no_buffer_flag = std::string(kMixedText).replace(std::string(kMixedText).find(" persistent=False"), 17, "");
  CHECK_THROWS_WITH(parse_program(no_buffer_flag), ContainsSubstring("BUFFER needs persistent=True/False"));
}
