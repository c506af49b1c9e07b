// tests/ir/printer_test.cpp: ir::to_string against the text torch.export 2.14 prints for the
// equivalent python modules (tests/ir/programs.h says which python).
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include <cmath>
#include <functional>
#include <limits>

#include "ir/printer.h"
#include "programs.h"

using namespace ptx::ir;
namespace shapes = ptx::shapes;
using namespace ptx::ir::testing;

namespace {
using MakeProgram = std::function<std::unique_ptr<ExportedProgram>()>;

/// The graph part of a print(ep) text, un-indented: what print_readable gives.
std::string graph_part(const std::string& ep_text) {
  const auto begin = ep_text.find("    class GraphModule");
  const auto end = ep_text.find("\nGraph signature:");
  std::string block = ep_text.substr(begin, end - begin);
  std::string out;
  size_t pos = 0;
  while (pos < block.size()) {
    auto nl = block.find('\n', pos);
    std::string line = block.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    if (line.rfind("    ", 0) == 0) line = line.substr(4);
    out += line;
    if (nl == std::string::npos) break;
    out += "\n";
    pos = nl + 1;
  }
  return out;
}
}  // namespace

TEST_CASE("to_string(program) matches torch's print(ep)", "[ir][printer]") {
  auto [name, make, text] = GENERATE(table<const char*, MakeProgram, const char*>({
      {"mlp", mlp_program, kMlpText},
      {"linear_view", linear_view_program, kLinearViewText},
      {"divisible (runtime asserts)", divisible_program, kDivisibleText},
      {"mixed (buffers, split, kwargs)", mixed_program, kMixedText},
      {"tuple (unused outputs, -inf)", tuple_program, kTupleText},
  }));
  INFO(name);
  const auto p = make();
  CHECK(to_string(*p) == text);
}

TEST_CASE("to_string(graph) is torch's print_readable text", "[ir][printer]") {
  const auto p = tuple_program();
  const std::string g = to_string(*p->graph);
  CHECK(g == graph_part(kTupleText));
  // torch: repr(ep.graph_module.print_readable(print_output=False)) starts and ends like this.
  CHECK(g.rfind("class GraphModule(torch.nn.Module):\n    def forward(self, x: \"f32[s77, 4]\"):\n        # No stacktrace", 0) == 0);
  CHECK(g.ends_with("        return (view, floordiv, full, sym_min, eq)\n"));
  CHECK(g.find("\n\n        # File:") != std::string::npos);  // blank separator lines stay empty
}

TEST_CASE("an empty graph and a graph without calls", "[ir][printer]") {
  // torch: export of `def forward(self, x): return x` on randn(8, 4) prints exactly this.
  ExportedProgram p;
  Value* x = user_input(p, "x", meta(DType::kFloat32, {8, 4}));
  user_outputs(p, {x});
  CHECK(to_string(p) == R"txt(ExportedProgram:
    class GraphModule(torch.nn.Module):
        def forward(self, x: "f32[8, 4]"):
            return (x,)
    
Graph signature:
    # inputs
    x: USER_INPUT
    
    # outputs
    x: USER_OUTPUT
    
Range constraints: {}
)txt");
  Graph empty;
  CHECK(to_string(empty) == "class GraphModule(torch.nn.Module):\n    def forward(self):\n        return ()\n");
}

TEST_CASE("python reprs of argument values", "[ir][printer]") {
  // Expected strings are python's repr() of the same values (torch 2.14's python 3).
  CHECK(python_float_repr(0.5) == "0.5");
  CHECK(python_float_repr(1e-05) == "1e-05");
  CHECK(python_float_repr(0.0001) == "0.0001");
  CHECK(python_float_repr(1.0) == "1.0");
  CHECK(python_float_repr(0.1) == "0.1");
  CHECK(python_float_repr(1e16) == "1e+16");
  CHECK(python_float_repr(123456789.0) == "123456789.0");
  CHECK(python_float_repr(1.5e300) == "1.5e+300");
  CHECK(python_float_repr(-0.0) == "-0.0");
  CHECK(python_float_repr(std::ldexp(1.0, 60)) == "1.152921504606847e+18");
  CHECK(python_float_repr(std::numeric_limits<double>::infinity()) == "inf");
  CHECK(python_float_repr(-std::numeric_limits<double>::infinity()) == "-inf");
  CHECK(python_float_repr(std::nan("")) == "nan");
  CHECK(python_float_repr(-2.5) == "-2.5");
  CHECK(python_float_repr(1234.5678) == "1234.5678");
  CHECK(python_str_repr("tanh") == "'tanh'");
  CHECK(python_str_repr("it's") == "\"it's\"");
  CHECK(python_str_repr("a\"b") == "'a\"b'");
  CHECK(python_str_repr("x\ny\\") == "'x\\ny\\\\'");
  CHECK(python_str_repr("both ' \"") == "'both \\' \"'");

  Graph g;
  Value* a = g.add_placeholder("a", ValueType::kTensor, meta(DType::kFloat32, {2}));
  CHECK(arg_text(std::vector<std::optional<Value*>>{a, std::nullopt}) == "[a, None]");
  CHECK(arg_text(std::vector<Value*>{a, a}) == "[a, a]");
  CHECK(arg_text(std::vector<double>{1.0, 0.25}) == "[1.0, 0.25]");
  CHECK(arg_text(std::vector<bool>{true, false}) == "[True, False]");
  CHECK(arg_text(std::vector<SymIntArg>{}) == "[]");
  CHECK(arg_text(DTypeArg{DType::kBFloat16}) == "torch.bfloat16");
  CHECK(arg_text(DTypeArg{DType::kBool}) == "torch.bool");
  CHECK(arg_text(LayoutArg{0}) == "torch.strided");
  CHECK(arg_text(MemoryFormatArg{2}) == "torch.channels_last");
  CHECK(arg_text(MemoryFormatArg{0}) == "torch.contiguous_format");
  CHECK(arg_text(DeviceArg{"cuda:1"}) == "device(type='cuda', index=1)");
  CHECK(arg_text(NoneArg{}) == "None");
  CHECK(arg_text(int64_t{-3}) == "-3");
}

TEST_CASE("annotations and targets", "[ir][printer]") {
  CHECK(dtype_abbr(DType::kFloat32) == "f32");
  CHECK(dtype_abbr(DType::kBool) == "b8");
  CHECK(dtype_abbr(DType::kBFloat16) == "bf16");
  CHECK(dtype_abbr(DType::kComplex128) == "c128");
  CHECK(dtype_from_abbr("i64") == DType::kInt64);
  CHECK(!dtype_from_abbr("f33").has_value());
  CHECK(tensor_annotation(meta(DType::kInt64, {})) == "i64[]");
  CHECK(tensor_annotation(meta(DType::kFloat16, {shapes::floor_div(s77(), 4), 4})) == "f16[(s77//4), 4]");
  CHECK(target_text("aten::add.Tensor") == "torch.ops.aten.add.Tensor");
  CHECK(target_text("prims::convert_element_type.default") == "torch.ops.prims.convert_element_type.default");
  CHECK(target_text("torch.sym_min") == "torch.sym_min");
}

TEST_CASE("stack trace summaries use the innermost frame, as torch.fx does", "[ir][printer]") {
  CHECK(stack_trace_summary("") == "");
  CHECK(stack_trace_summary("File \"m.py\", line 3, in forward\n    y = x + 1") == "File: m.py:3 in forward, code: y = x + 1");
  CHECK(stack_trace_summary("File \"m.py\", line 3, in forward\n    y = self.fc(x)\nFile \"linear.py\", line 134, in forward\n"
                            "    return F.linear(input, self.weight, self.bias)\n") ==
        "File: linear.py:134 in forward, code: return F.linear(input, self.weight, self.bias)");
  CHECK(stack_trace_summary("no frames here") == "");
}

TEST_CASE("range constraints are listed in natural symbol order", "[ir][printer]") {
  ExportedProgram p;
  const SymExpr s2 = SymExpr::new_symbol("s2"), s10 = SymExpr::new_symbol("s10");
  Value* x = user_input(p, "x", meta(DType::kFloat32, {s2, s10}));
  user_outputs(p, {x});
  p.range_constraints["s10"] = {1, 64};
  p.range_constraints["s2"] = {0, std::nullopt};
  const std::string text = to_string(p);
  CHECK(text.ends_with("Range constraints: {s2: VR[0, int_oo], s10: VR[1, 64]}\n"));
}

TEST_CASE("mutation outputs print their targets", "[ir][printer]") {
  // torch prints BUFFER_MUTATION / USER_INPUT_MUTATION specs as `name: KIND target='...'`.
  ExportedProgram p;
  Graph& g = *p.graph;
  Value* buf = param(p, InputKind::kBuffer, "b_count", "count", meta(DType::kInt64, {}));
  Value* x = user_input(p, "x", meta(DType::kFloat32, {3}));
  Value* add = tensor_call(g, "aten::add.Tensor", {arg("self", buf), arg("other", I(1))}, meta(DType::kInt64, {}), "add");
  Value* relu = tensor_call(g, "aten::relu.default", {arg("self", x)}, meta(DType::kFloat32, {3}), "relu");
  g.set_outputs({add, relu, relu});
  p.output_specs = {{OutputKind::kBufferMutation, "add", "count"},
                    {OutputKind::kUserInputMutation, "relu", "x"},
                    {OutputKind::kUserOutput, "relu", ""}};
  const std::string text = to_string(p);
  CHECK(text.find("    add: BUFFER_MUTATION target='count'\n    relu: USER_INPUT_MUTATION target='x'\n    relu: USER_OUTPUT\n") !=
        std::string::npos);
  CHECK(text.find("b_count: BUFFER target='count' persistent=True") != std::string::npos);
  CHECK(text.find("            return (add, relu, relu)\n") != std::string::npos);
}
