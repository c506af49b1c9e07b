// tests/passes/decompose_test.cpp: every decomposition of passes/decompose against the op itself,
// on lib/interpreter.h with real ATen numerics: a one-op program runs as traced, is rewritten to the
// level, is checked by ir::verify, and must give the same values (and the ops torch's
// run_decompositions gives for that op, asked live of torch 2.14: docs/commands/export.md).
// ATen first: c10's logging header defines a CHECK macro of its own, Catch2's must win.
#include <ATen/ATen.h>

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <map>
#include <regex>

#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verify.h"
#include "lib/interpreter.h"
#include "passes/decompose/decompose.h"
#include "passes/pipeline.h"
#include "shapes/error.h"

using namespace ptx;
using passes::IrLevel;

namespace {

struct Case {
  std::string name;
  std::string forward;                  // the body of `def forward(...)`: signature line, calls, return
  std::vector<std::vector<int64_t>> in; // input sizes (symbols at a value inside their range)
  IrLevel level;
  std::map<std::string, int> want;      // the op histogram after the rewrite (sym_size/_operator.* not counted)
  std::vector<std::string> transposed = {};  // values whose meta is a transpose of dims 0 and 1 (strides)
  std::vector<std::string> channels_last = {};  // 4-d values whose strides are NHWC's
};

/// A one-graph program text: every placeholder a user input, every returned value a user output.
std::string program_text(const std::string& forward) {
  std::string inputs, outputs;
  const std::string def = forward.substr(0, forward.find('\n'));
  const std::regex param(R"re((\w+): ")re");
  for (auto it = std::sregex_iterator(def.begin(), def.end(), param); it != std::sregex_iterator(); ++it) {
    inputs += "    " + (*it)[1].str() + ": USER_INPUT\n";
  }
  const std::string ret = forward.substr(forward.rfind("return (") + 8);
  const std::string names = ret.substr(0, ret.find(')'));
  const std::regex word(R"re(\w+)re");
  for (auto it = std::sregex_iterator(names.begin(), names.end(), word); it != std::sregex_iterator(); ++it) {
    outputs += "    " + it->str() + ": USER_OUTPUT\n";
  }
  return "ExportedProgram:\n    class GraphModule(torch.nn.Module):\n" + forward + "Graph signature:\n    # inputs\n" +
         inputs + "    # outputs\n" + outputs + "Range constraints: {s0: VR[1, 16]}\n";
}

std::unique_ptr<ir::ExportedProgram> parse(const Case& c) {
  auto p = ir::parse_program(program_text(c.forward));
  // The parser gives contiguous strides; a transpose's output has its input's strides swapped.
  for (const auto& n : p->graph->nodes()) {
    for (ir::Value* v : n->outputs()) {
      if (v->type() != ir::ValueType::kTensor) continue;  // sym_size's SymInt
      auto& m = v->mutable_meta();
      if (std::find(c.channels_last.begin(), c.channels_last.end(), v->name()) != c.channels_last.end()) {
        m.strides = {m.sizes[1] * m.sizes[2] * m.sizes[3], shapes::SymExpr(1), m.sizes[1] * m.sizes[3], m.sizes[1]};
      }
      if (std::find(c.transposed.begin(), c.transposed.end(), v->name()) == c.transposed.end()) continue;
      std::swap(m.strides[0], m.strides[1]);
    }
  }
  return p;
}

std::map<std::string, int> histogram(const ir::Graph& g) {
  std::map<std::string, int> h;
  for (const auto& n : g.nodes()) {
    // Sym arithmetic and the pipeline's runtime asserts (the lower bound of a dim whose minimum is 1
    // or 2) are not what a decomposition makes.
    if (n->kind() != ir::NodeKind::kCall || n->target() == "aten::sym_size.int" || n->target().rfind("_operator.", 0) == 0 ||
        n->target() == "aten::_assert_scalar.default")
      continue;
    ++h[n->target()];
  }
  return h;
}

std::vector<at::Tensor> run(const ir::ExportedProgram& p, const std::vector<at::Tensor>& in) {
  std::vector<at::Tensor> copies;
  for (const at::Tensor& t : in) copies.push_back(t.clone());
  return run_program(p, copies);
}

void check_case(const Case& c) {
  INFO(c.name);
  at::manual_seed(7);
  std::vector<at::Tensor> in;
  for (const auto& s : c.in) in.push_back(at::randn(s));
  // batch_norm's running variance must be positive
  for (at::Tensor& t : in) {
    if (t.dim() == 1) t = t.abs() + 0.5;
  }
  auto before = parse(c);
  const auto want = run(*before, in);
  auto after = parse(c);
  passes::PipelineOptions po;
  po.decompose.level = c.level;
  passes::run_pipeline(*after, po);
  REQUIRE_NOTHROW(ir::verify(*after));
  INFO(ir::to_string(*after->graph));
  REQUIRE(histogram(*after->graph) == c.want);
  const auto got = run(*after, in);
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    REQUIRE(got[i].sizes() == want[i].sizes());
    REQUIRE(at::allclose(got[i], want[i], 1e-5, 1e-6));
  }
}

const char* kConv = R"(        def forward(self, x: "f32[s0, 3, 9, 9]", w: "f32[4, 3, 3, 3]", b: "f32[4]"):
            conv2d: "f32[s0, 4, 5, 5]" = torch.ops.aten.conv2d.default(x, w, b, [2, 2], [1, 1])
            return (conv2d,)
)";

}  // namespace

TEST_CASE("the decomposition table is sorted, without duplicates", "[passes][decompose]") {
  const auto all = passes::decomposable_targets(IrLevel::kCore);
  for (size_t i = 1; i < all.size(); ++i) CHECK(all[i - 1] < all[i]);
  const auto inference = passes::decomposable_targets(IrLevel::kInference);
  REQUIRE(inference.size() < all.size());
  REQUIRE(passes::decomposable_targets(IrLevel::kTraining).empty());
}

TEST_CASE("each decomposition equals the op on the interpreter", "[passes][decompose]") {
  const std::vector<Case> cases = {
      {"conv2d stays at inference", kConv, {{2, 3, 9, 9}, {4, 3, 3, 3}, {4}}, IrLevel::kInference,
       {{"aten::conv2d.default", 1}}},
      {"conv2d -> convolution", kConv, {{2, 3, 9, 9}, {4, 3, 3, 3}, {4}}, IrLevel::kCore,
       {{"aten::convolution.default", 1}}},
      {"traced _convolution -> convolution",
       R"(        def forward(self, x: "f32[s0, 4, 6, 6]", w: "f32[4, 2, 3, 3]"):
            _convolution: "f32[s0, 4, 4, 4]" = torch.ops.aten._convolution.default(x, w, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 2, False, False, True, True)
            return (_convolution,)
)",
       {{3, 4, 6, 6}, {4, 2, 3, 3}}, IrLevel::kCore, {{"aten::convolution.default", 1}}},
      {"linear 2-d -> permute + addmm",
       R"(        def forward(self, x: "f32[s0, 8]", w: "f32[5, 8]", b: "f32[5]"):
            linear: "f32[s0, 5]" = torch.ops.aten.linear.default(x, w, b)
            return (linear,)
)",
       {{3, 8}, {5, 8}, {5}}, IrLevel::kCore, {{"aten::addmm.default", 1}, {"aten::permute.default", 1}}},
      {"linear without bias -> permute + mm",
       R"(        def forward(self, x: "f32[s0, 8]", w: "f32[5, 8]"):
            linear: "f32[s0, 5]" = torch.ops.aten.linear.default(x, w)
            return (linear,)
)",
       {{3, 8}, {5, 8}}, IrLevel::kCore, {{"aten::mm.default", 1}, {"aten::permute.default", 1}}},
      {"linear 3-d -> view + addmm + view (symbolic rows)",
       R"(        def forward(self, x: "f32[s0, 7, 8]", w: "f32[5, 8]", b: "f32[5]"):
            linear: "f32[s0, 7, 5]" = torch.ops.aten.linear.default(x, w, b)
            return (linear,)
)",
       {{3, 7, 8}, {5, 8}, {5}}, IrLevel::kCore,
       {{"aten::addmm.default", 1}, {"aten::permute.default", 1}, {"aten::view.default", 2}}},
      {"matmul 2-d -> mm",
       R"(        def forward(self, x: "f32[s0, 8]", w: "f32[8, 5]"):
            matmul: "f32[s0, 5]" = torch.ops.aten.matmul.default(x, w)
            return (matmul,)
)",
       {{3, 8}, {8, 5}}, IrLevel::kCore, {{"aten::mm.default", 1}}},
      {"matmul 3-d @ 2-d -> view + mm + view (torch's fold)",
       R"(        def forward(self, x: "f32[s0, 7, 8]", w: "f32[8, 5]"):
            matmul: "f32[s0, 7, 5]" = torch.ops.aten.matmul.default(x, w)
            return (matmul,)
)",
       {{3, 7, 8}, {8, 5}}, IrLevel::kCore, {{"aten::mm.default", 1}, {"aten::view.default", 2}}},
      {"matmul 4-d @ 4-d -> expand + view + bmm + view",
       R"(        def forward(self, a: "f32[s0, 4, 5, 8]", b: "f32[s0, 4, 8, 6]"):
            matmul: "f32[s0, 4, 5, 6]" = torch.ops.aten.matmul.default(a, b)
            return (matmul,)
)",
       {{2, 4, 5, 8}, {2, 4, 8, 6}}, IrLevel::kCore,
       {{"aten::bmm.default", 1}, {"aten::expand.default", 2}, {"aten::view.default", 3}}},
      {"matmul of a transposed 3-d @ 2-d does not fold -> expand + view + bmm + view",
       R"(        def forward(self, x: "f32[7, s0, 8]", w: "f32[8, 5]"):
            transpose: "f32[s0, 7, 8]" = torch.ops.aten.transpose.int(x, 0, 1)
            matmul: "f32[s0, 7, 5]" = torch.ops.aten.matmul.default(transpose, w)
            return (matmul,)
)",
       {{7, 3, 8}, {8, 5}}, IrLevel::kCore,
       {{"aten::permute.default", 1}, {"aten::bmm.default", 1}, {"aten::expand.default", 2}, {"aten::view.default", 3}},
       {"transpose"}},
      {"matmul of an operand whose batch dims no view merges -> expand + clone (ATen's reshape copies) + view + bmm",
       R"(        def forward(self, q: "f32[s0, 4, 5, 6]", x: "f32[4, s0, 6, 8]"):
            transpose: "f32[s0, 4, 6, 8]" = torch.ops.aten.transpose.int(x, 0, 1)
            matmul: "f32[s0, 4, 5, 8]" = torch.ops.aten.matmul.default(q, transpose)
            return (matmul,)
)",
       {{2, 4, 5, 6}, {4, 2, 6, 8}}, IrLevel::kCore,
       {{"aten::permute.default", 1}, {"aten::expand.default", 2}, {"aten::clone.default", 1}, {"aten::view.default", 3},
        {"aten::bmm.default", 1}},
       {"transpose"}},
      {"linear of a transposed 3-d input -> permute + matmul's bmm + add",
       R"(        def forward(self, x: "f32[7, s0, 8]", w: "f32[5, 8]", b: "f32[5]"):
            transpose: "f32[s0, 7, 8]" = torch.ops.aten.transpose.int(x, 0, 1)
            linear: "f32[s0, 7, 5]" = torch.ops.aten.linear.default(transpose, w, b)
            return (linear,)
)",
       {{7, 3, 8}, {5, 8}, {5}}, IrLevel::kCore,
       {{"aten::permute.default", 2}, {"aten::bmm.default", 1}, {"aten::expand.default", 2}, {"aten::view.default", 3},
        {"aten::add.Tensor", 1}},
       {"transpose"}},
      {"scaled_dot_product_attention -> scaled matmuls and torch's safe softmax",
       R"(        def forward(self, q: "f32[s0, 2, 5, 8]", k: "f32[s0, 2, 6, 8]", v: "f32[s0, 2, 6, 4]"):
            scaled_dot_product_attention: "f32[s0, 2, 5, 4]" = torch.ops.aten.scaled_dot_product_attention.default(q, k, v)
            return (scaled_dot_product_attention,)
)",
       {{3, 2, 5, 8}, {3, 2, 6, 8}, {3, 2, 6, 4}}, IrLevel::kCore,
       {{"aten::mul.Scalar", 2}, {"aten::permute.default", 1}, {"aten::expand.default", 4}, {"aten::view.default", 6},
        {"aten::bmm.default", 2}, {"aten::_softmax.default", 1}, {"aten::eq.Scalar", 1},
        {"aten::logical_not.default", 2}, {"aten::any.dim", 1}, {"aten::full_like.default", 1},
        {"aten::where.self", 1}}},
      {"a slice that keeps everything -> nothing (inference); a narrowing one stays",
       R"(        def forward(self, x: "f32[s0, 6]"):
            slice_1: "f32[s0, 6]" = torch.ops.aten.slice.Tensor(x, 0, 0, 9223372036854775807)
            slice_2: "f32[s0, 4]" = torch.ops.aten.slice.Tensor(slice_1, 1, 1, 5)
            return (slice_2,)
)",
       {{3, 6}}, IrLevel::kInference, {{"aten::slice.Tensor", 1}}},
      {"matmul at inference stays (torch preserves it)",
       R"(        def forward(self, x: "f32[s0, 7, 8]", w: "f32[8, 5]"):
            matmul: "f32[s0, 7, 5]" = torch.ops.aten.matmul.default(x, w)
            return (matmul,)
)",
       {{3, 7, 8}, {8, 5}}, IrLevel::kInference, {{"aten::matmul.default", 1}}},
      {"batch_norm (eval) -> _native_batch_norm_legit_no_training",
       R"(        def forward(self, x: "f32[s0, 4, 5, 5]", w: "f32[4]", b: "f32[4]", m: "f32[4]", v: "f32[4]"):
            batch_norm: "f32[s0, 4, 5, 5]" = torch.ops.aten.batch_norm.default(x, w, b, m, v, False, 0.1, 1e-05, False)
            return (batch_norm,)
)",
       {{2, 4, 5, 5}, {4}, {4}, {4}, {4}}, IrLevel::kInference,
       {{"aten::_native_batch_norm_legit_no_training.default", 1}}},
      {"layer_norm -> native_layer_norm",
       R"(        def forward(self, x: "f32[s0, 6, 8]", w: "f32[8]", b: "f32[8]"):
            layer_norm: "f32[s0, 6, 8]" = torch.ops.aten.layer_norm.default(x, [8], w, b, 1e-06)
            return (layer_norm,)
)",
       {{2, 6, 8}, {8}, {8}}, IrLevel::kCore, {{"aten::native_layer_norm.default", 1}}},
      {"hardswish -> add, clamp, clamp, mul, div",
       R"(        def forward(self, x: "f32[s0, 9]"):
            hardswish: "f32[s0, 9]" = torch.ops.aten.hardswish.default(x)
            return (hardswish,)
)",
       {{4, 9}}, IrLevel::kCore,
       {{"aten::add.Tensor", 1}, {"aten::clamp.default", 2}, {"aten::mul.Tensor", 1}, {"aten::div.Tensor", 1}}},
      {"hardsigmoid -> add, clamp, clamp, div",
       R"(        def forward(self, x: "f32[s0, 9]"):
            hardsigmoid: "f32[s0, 9]" = torch.ops.aten.hardsigmoid.default(x)
            return (hardsigmoid,)
)",
       {{4, 9}}, IrLevel::kCore, {{"aten::add.Tensor", 1}, {"aten::clamp.default", 2}, {"aten::div.Tensor", 1}}},
      {"silu -> sigmoid + mul",
       R"(        def forward(self, x: "f32[s0, 9]"):
            silu: "f32[s0, 9]" = torch.ops.aten.silu.default(x)
            return (silu,)
)",
       {{4, 9}}, IrLevel::kCore, {{"aten::sigmoid.default", 1}, {"aten::mul.Tensor", 1}}},
      {"softmax -> _softmax",
       R"(        def forward(self, x: "f32[s0, 9]"):
            softmax: "f32[s0, 9]" = torch.ops.aten.softmax.int(x, -1)
            return (softmax,)
)",
       {{4, 9}}, IrLevel::kCore, {{"aten::_softmax.default", 1}}},
      {"max_pool2d (ceil mode) -> max_pool2d_with_indices",
       R"(        def forward(self, x: "f32[s0, 2, 9, 9]"):
            max_pool2d: "f32[s0, 2, 5, 5]" = torch.ops.aten.max_pool2d.default(x, [2, 2], [2, 2], [0, 0], [1, 1], True)
            return (max_pool2d,)
)",
       {{2, 2, 9, 9}}, IrLevel::kCore, {{"aten::max_pool2d_with_indices.default", 1}}},
      {"adaptive_avg_pool2d to 1x1 -> mean",
       R"(        def forward(self, x: "f32[s0, 3, 7, 5]"):
            adaptive_avg_pool2d: "f32[s0, 3, 1, 1]" = torch.ops.aten.adaptive_avg_pool2d.default(x, [1, 1])
            return (adaptive_avg_pool2d,)
)",
       {{2, 3, 7, 5}}, IrLevel::kCore, {{"aten::mean.dim", 1}}},
      {"adaptive_avg_pool2d to 1x1 of a channels-last input -> mean + as_strided (ATen's restride)",
       R"(        def forward(self, y: "f32[s0, 7, 5, 3]"):
            permute: "f32[s0, 3, 7, 5]" = torch.ops.aten.permute.default(y, [0, 3, 1, 2])
            adaptive_avg_pool2d: "f32[s0, 3, 1, 1]" = torch.ops.aten.adaptive_avg_pool2d.default(permute, [1, 1])
            return (adaptive_avg_pool2d,)
)",
       {{2, 7, 5, 3}}, IrLevel::kCore,
       {{"aten::permute.default", 1}, {"aten::mean.dim", 1}, {"aten::as_strided.default", 1}}, {}, {"permute"}},
      {"adaptive_avg_pool2d to 2x3 -> _adaptive_avg_pool2d",
       R"(        def forward(self, x: "f32[s0, 3, 7, 5]"):
            adaptive_avg_pool2d: "f32[s0, 3, 2, 3]" = torch.ops.aten.adaptive_avg_pool2d.default(x, [2, 3])
            return (adaptive_avg_pool2d,)
)",
       {{2, 3, 7, 5}}, IrLevel::kCore, {{"aten::_adaptive_avg_pool2d.default", 1}}},
      {"flatten -> view with a symbolic size",
       R"(        def forward(self, x: "f32[s0, 3, 2, 2]"):
            flatten: "f32[s0, 12]" = torch.ops.aten.flatten.using_ints(x, 1)
            return (flatten,)
)",
       {{5, 3, 2, 2}}, IrLevel::kInference, {{"aten::view.default", 1}}},
      {"reshape of a transposed tensor -> clone + _unsafe_view",
       R"(        def forward(self, x: "f32[s0, 6]"):
            transpose: "f32[6, s0]" = torch.ops.aten.transpose.int(x, 0, 1)
            reshape: "f32[6*s0]" = torch.ops.aten.reshape.default(transpose, [-1])
            return (reshape,)
)",
       {{5, 6}}, IrLevel::kInference,
       {{"aten::transpose.int", 1}, {"aten::clone.default", 1}, {"aten::_unsafe_view.default", 1}}, {"transpose"}},
      {"reshape of a transposed tensor at core: permute, clone, view",
       R"(        def forward(self, x: "f32[s0, 6]"):
            transpose: "f32[6, s0]" = torch.ops.aten.transpose.int(x, 0, 1)
            reshape: "f32[6*s0]" = torch.ops.aten.reshape.default(transpose, [-1])
            return (reshape,)
)",
       {{5, 6}}, IrLevel::kCore,
       {{"aten::permute.default", 1}, {"aten::clone.default", 1}, {"aten::view.default", 1}}, {"transpose"}},
      {"contiguous of a transposed tensor -> clone; of a contiguous one -> nothing",
       R"(        def forward(self, x: "f32[s0, 6]"):
            transpose: "f32[6, s0]" = torch.ops.aten.transpose.int(x, 0, 1)
            contiguous: "f32[6, s0]" = torch.ops.aten.contiguous.default(transpose)
            contiguous_1: "f32[6, s0]" = torch.ops.aten.contiguous.default(contiguous)
            return (contiguous_1,)
)",
       {{5, 6}}, IrLevel::kInference, {{"aten::transpose.int", 1}, {"aten::clone.default", 1}}, {"transpose"}},
      {"chunk -> split.Tensor (inference)",
       R"(        def forward(self, x: "f32[s0, 6]"):
            chunk = torch.ops.aten.chunk.default(x, 2, 1)
            getitem: "f32[s0, 3]" = chunk[0]
            getitem_1: "f32[s0, 3]" = chunk[1]
            return (getitem_1, getitem)
)",
       {{5, 6}}, IrLevel::kInference, {{"aten::split.Tensor", 1}}},
      {"chunk -> split.Tensor -> split_with_sizes (core), on a symbolic dim",
       R"(        def forward(self, x: "f32[s0, 6]"):
            chunk = torch.ops.aten.chunk.default(x, 3, 0)
            getitem: "f32[((s0 + 2)//3), 6]" = chunk[0]
            getitem_1: "f32[((s0 + 2)//3), 6]" = chunk[1]
            getitem_2: "f32[s0 - 2*((s0 + 2)//3), 6]" = chunk[2]
            return (getitem_2, getitem_1, getitem)
)",
       {{8, 6}}, IrLevel::kCore, {{"aten::split_with_sizes.default", 1}}},
      {"transpose -> permute, squeeze.dim -> squeeze.dims, unflatten -> view",
       R"(        def forward(self, x: "f32[s0, 1, 6]"):
            squeeze: "f32[s0, 6]" = torch.ops.aten.squeeze.dim(x, 1)
            unflatten: "f32[s0, 2, 3]" = torch.ops.aten.unflatten.int(squeeze, 1, [2, 3])
            transpose: "f32[2, s0, 3]" = torch.ops.aten.transpose.int(unflatten, 0, 1)
            return (transpose,)
)",
       {{4, 1, 6}}, IrLevel::kCore,
       {{"aten::squeeze.dims", 1}, {"aten::view.default", 1}, {"aten::permute.default", 1}}},
      {"dropout in eval mode -> nothing",
       R"(        def forward(self, x: "f32[s0, 6]"):
            relu: "f32[s0, 6]" = torch.ops.aten.relu.default(x)
            dropout: "f32[s0, 6]" = torch.ops.aten.dropout.default(relu, 0.5, False)
            return (dropout,)
)",
       {{4, 6}}, IrLevel::kInference, {{"aten::relu.default", 1}}},
  };
  for (const Case& c : cases) check_case(c);
}

TEST_CASE("fills, pads and roll decompose as torch's default table writes them", "[passes][decompose]") {
  // Histograms asked live of torch 2.14 (run_decompositions() of F.pad, new_zeros, masked_fill, roll):
  // constant_pad_nd; full; scalar_tensor + where; arange + add + fmod + index_select per dim. At the inference level the ops stay, as in torch.
  const std::vector<Case> cases = {
      {"fill.Tensor -> copy (core), as torch's decomposition of fill.Tensor",
       R"(        def forward(self, x: "f32[s0, 5]", v: "f32[]"):
            fill: "f32[s0, 5]" = torch.ops.aten.fill.Tensor(x, v)
            return (fill,)
)",
       {{3, 5}, {}}, IrLevel::kCore, {{"aten::copy.default", 1}}},
      {"fill.Tensor stays at inference",
       R"(        def forward(self, x: "f32[s0, 5]", v: "f32[]"):
            fill: "f32[s0, 5]" = torch.ops.aten.fill.Tensor(x, v)
            return (fill,)
)",
       {{3, 5}, {}}, IrLevel::kInference, {{"aten::fill.Tensor", 1}}},
      {"lift_fresh_copy -> clone (inference): torch.tensor(3.0) in forward, functionalized",
       R"(        def forward(self, x: "f32[s0, 5]", c: "f32[]"):
            lift_fresh_copy: "f32[]" = torch.ops.aten.lift_fresh_copy.default(c)
            add: "f32[s0, 5]" = torch.ops.aten.add.Tensor(x, lift_fresh_copy)
            return (add,)
)",
       {{3, 5}, {}}, IrLevel::kInference, {{"aten::clone.default", 1}, {"aten::add.Tensor", 1}}},
      {"pad constant -> constant_pad_nd",
       R"(        def forward(self, x: "f32[s0, 5, 6]"):
            pad: "f32[s0, 7, 7]" = torch.ops.aten.pad.default(x, [0, 1, 0, 2], 'constant', 1.5)
            return (pad,)
)",
       {{3, 5, 6}}, IrLevel::kCore, {{"aten::constant_pad_nd.default", 1}}},
      {"pad without a value -> constant_pad_nd (zeros)",
       R"(        def forward(self, x: "f32[s0, 5, 6]"):
            pad: "f32[s0, 5, 9]" = torch.ops.aten.pad.default(x, [1, 2])
            return (pad,)
)",
       {{3, 5, 6}}, IrLevel::kCore, {{"aten::constant_pad_nd.default", 1}}},
      {"pad reflect stays",
       R"(        def forward(self, x: "f32[s0, 5, 6]"):
            pad: "f32[s0, 5, 8]" = torch.ops.aten.pad.default(x, [1, 1], 'reflect')
            return (pad,)
)",
       {{3, 5, 6}}, IrLevel::kCore, {{"aten::pad.default", 1}}},
      {"pad stays at inference",
       R"(        def forward(self, x: "f32[s0, 5, 6]"):
            pad: "f32[s0, 5, 9]" = torch.ops.aten.pad.default(x, [1, 2])
            return (pad,)
)",
       {{3, 5, 6}}, IrLevel::kInference, {{"aten::pad.default", 1}}},
      {"new_zeros of a symbolic size -> full",
       R"py(        def forward(self, x: "f32[s0, 5]"):
            sym_size_int: "Sym(s0)" = torch.ops.aten.sym_size.int(x, 0)
            new_zeros: "f32[2, s0]" = torch.ops.aten.new_zeros.default(x, [2, sym_size_int])
            add: "f32[2, s0]" = torch.ops.aten.add.Tensor(new_zeros, 1)
            return (add,)
)py",
       {{3, 5}}, IrLevel::kCore, {{"aten::full.default", 1}, {"aten::add.Tensor", 1}}},
      {"masked_fill.Scalar -> scalar_tensor + where",
       R"(        def forward(self, x: "f32[s0, 5]"):
            gt: "b8[s0, 5]" = torch.ops.aten.gt.Scalar(x, 0)
            masked_fill: "f32[s0, 5]" = torch.ops.aten.masked_fill.Scalar(x, gt, -100.0)
            return (masked_fill,)
)",
       {{3, 5}}, IrLevel::kCore, {{"aten::gt.Scalar", 1}, {"aten::scalar_tensor.default", 1}, {"aten::where.self", 1}}},
      {"masked_fill.Scalar with a broadcast mask",
       R"(        def forward(self, x: "f32[s0, 5]", y: "f32[5]"):
            gt: "b8[5]" = torch.ops.aten.gt.Scalar(y, 1.0)
            masked_fill: "f32[s0, 5]" = torch.ops.aten.masked_fill.Scalar(x, gt, 2)
            return (masked_fill,)
)",
       {{3, 5}, {5}}, IrLevel::kCore, {{"aten::gt.Scalar", 1}, {"aten::scalar_tensor.default", 1}, {"aten::where.self", 1}}},
      {"roll over two dims, a symbolic one first -> arange + add + fmod + index_select each",
       R"(        def forward(self, x: "f32[2, s0, 6]"):
            roll: "f32[2, s0, 6]" = torch.ops.aten.roll.default(x, [1, -2], [1, 2])
            return (roll,)
)",
       {{2, 5, 6}}, IrLevel::kCore,
       {{"aten::arange.start_step", 2}, {"aten::add.Tensor", 2}, {"aten::fmod.Scalar", 2}, {"aten::index_select.default", 2}}},
      {"roll by more than the size, negative dim",
       R"(        def forward(self, x: "f32[s0, 4]"):
            roll: "f32[s0, 4]" = torch.ops.aten.roll.default(x, [9], [-1])
            return (roll,)
)",
       {{3, 4}}, IrLevel::kCore,
       {{"aten::arange.start_step", 1}, {"aten::add.Tensor", 1}, {"aten::fmod.Scalar", 1}, {"aten::index_select.default", 1}}},
      {"roll without dims stays",
       R"(        def forward(self, x: "f32[s0, 4]"):
            roll: "f32[s0, 4]" = torch.ops.aten.roll.default(x, [3])
            return (roll,)
)",
       {{3, 4}}, IrLevel::kCore, {{"aten::roll.default", 1}}},
  };
  for (const Case& c : cases) check_case(c);
}

TEST_CASE("decompose: --keep leaves an op undecomposed; an unknown op is a usage error", "[passes][decompose]") {
  Case c{"keep", kConv, {}, IrLevel::kCore, {}};
  for (const std::string keep : {"aten::conv2d", "aten.conv2d.default", "aten::conv2d.default"}) {
    auto p = parse(c);
    passes::DecomposeOptions o{IrLevel::kCore, {keep}};
    CHECK_FALSE(passes::decompose(*p, o));
    const std::map<std::string, int> want = {{"aten::conv2d.default", 1}};
    REQUIRE(histogram(*p->graph) == want);
  }
  auto p = parse(c);
  try {
    passes::decompose(*p, {IrLevel::kCore, {"aten::conv9d"}});
    FAIL("no error");
  } catch (const UserError& e) {
    REQUIRE(e.code() == ExitCode::kUsage);
    CHECK_THAT(e.what(), Catch::Matchers::ContainsSubstring("aten::conv9d"));
  }
}

TEST_CASE("non_core_targets names the calls outside the core ATen opset", "[passes][decompose]") {
  Case c{"core", kConv, {}, IrLevel::kCore, {}};
  auto p = parse(c);
  REQUIRE(passes::non_core_targets(*p->graph) == std::vector<std::string>{"aten::conv2d.default"});
  passes::decompose(*p, {IrLevel::kCore, {}});
  REQUIRE(passes::non_core_targets(*p->graph).empty());
}
