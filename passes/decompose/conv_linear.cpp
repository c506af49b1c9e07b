// passes/decompose/conv_linear.cpp: conv1d/2d/3d and the traced _convolution -> convolution;
// linear -> permute + addmm (or mm), through a 2-d view for a contiguous input of higher rank, else
// permute + matmul's rewrite (passes/decompose/matmul.cpp) + add.
#include "passes/decompose/families.h"

namespace ptx::passes::decomp {
namespace {

Outputs make_convolution(Rewriter& r, bool transposed, std::vector<ir::SymIntArg> output_padding) {
  ir::Value* input = r.tensor("input");
  ir::Value* weight = r.tensor("weight");
  ir::Value* bias = r.tensor("bias", true);
  const size_t spatial = input->meta().sizes.size() - 2;
  const std::vector<ir::SymIntArg> ones(spatial, int64_t{1}), zeros(spatial, int64_t{0});
  auto expand = [&](std::vector<ir::SymIntArg> v, const std::vector<ir::SymIntArg>& fill) {
    if (v.size() == 1 && spatial > 1) v.assign(spatial, v[0]);  // conv2d(..., stride=[2]) means [2, 2]
    return v.empty() ? fill : v;
  };
  if (output_padding.empty()) output_padding = zeros;
  std::vector<ir::NamedArg> args = {
      named("input", input),
      named("weight", weight),
      named("bias", bias ? ir::ArgValue(bias) : ir::ArgValue(ir::NoneArg{})),
      named("stride", expand(r.ints_or("stride", ones), ones)),
      named("padding", expand(r.ints_or("padding", zeros), zeros)),
      named("dilation", expand(r.ints_or("dilation", ones), ones)),
      named("transposed", transposed),
      named("output_padding", expand(output_padding, zeros)),
      named("groups", r.int_or("groups", 1)),
  };
  return std::vector<ir::Value*>{r.call1("aten::convolution.default", std::move(args), r.out()->meta(), "convolution")};
}
}  // namespace

// conv{1,2,3}d(input, weight, bias, stride, padding, dilation, groups) with int padding (the
// "same"/"valid" string overload stays): convolution(..., transposed=False, output_padding=0).
Outputs conv_nd(Rewriter& r) {
  if (r.find("padding") && std::holds_alternative<std::string>(*r.find("padding"))) return std::nullopt;
  return make_convolution(r, false, {});
}

// _convolution (what torch.jit.trace records) carries transposed and output_padding itself; its
// backend flags (benchmark, deterministic, cudnn_enabled, allow_tf32) do not change the values.
Outputs convolution_private(Rewriter& r) {
  return make_convolution(r, r.bool_or("transposed", false), r.ints_or("output_padding", {}));
}

// linear(input, weight, bias):
//   2-d input:              addmm(bias, input, permute(weight, [1, 0]))    (mm without bias)
//   contiguous n-d input:   view(addmm(bias, view(input, [-1, K]), permute(weight)), out sizes)
//   any other:              matmul(input, permute(weight)) [+ bias], matmul rewritten as matmul.cpp does
// (ATen's linear and torch's core decomposition); an input matmul.cpp cannot rewrite stays a linear.
Outputs linear(Rewriter& r) {
  ir::Value* input = r.tensor("input");
  ir::Value* weight = r.tensor("weight");
  ir::Value* bias = r.tensor("bias", true);
  const ir::TensorMeta& in = input->meta();
  const ir::TensorMeta& out = r.out()->meta();
  const size_t rank = in.sizes.size();
  if (rank < 2 || weight->meta().sizes.size() != 2) return std::nullopt;
  const bool fold = rank == 2 || (is_contiguous(in) && bias != nullptr);
  if (!fold && !can_matmul(in, permuted(weight->meta(), {1, 0}))) return std::nullopt;
  ir::Value* wt = r.call1("aten::permute.default", {named("self", weight), named("dims", std::vector<ir::SymIntArg>{1, 0})},
                          permuted(weight->meta(), {1, 0}), "permute");
  if (!fold) {  // ATen's linear: matmul(input, weight.t()), then add the bias
    ir::Value* mm = emit_matmul(r, input, wt, bias ? with_sizes(out, out.sizes) : out);
    if (bias == nullptr) return std::vector<ir::Value*>{mm};
    return std::vector<ir::Value*>{
        r.call1("aten::add.Tensor", {named("self", mm), named("other", bias)}, out, "add")};
  }
  ir::Value* mat = input;
  shapes::SymExpr rows = in.sizes[0];
  if (rank > 2) {
    for (size_t d = 1; d + 1 < rank; ++d) rows = rows * in.sizes[d];
    const shapes::SymShape flat = {rows, in.sizes.back()};
    mat = r.call1("aten::view.default", {named("self", input), named("size", r.sizes_arg(flat))}, with_sizes(in, flat),
                  "view");
  }
  const shapes::SymShape mm_sizes = {rows, out.sizes.back()};
  const ir::TensorMeta mm_meta = rank > 2 ? with_sizes(out, mm_sizes) : out;
  ir::Value* mm = bias ? r.call1("aten::addmm.default", {named("self", bias), named("mat1", mat), named("mat2", wt)},
                                 mm_meta, "addmm")
                       : r.call1("aten::mm.default", {named("self", mat), named("mat2", wt)}, mm_meta, "mm");
  if (rank == 2) return std::vector<ir::Value*>{mm};
  return std::vector<ir::Value*>{
      r.call1("aten::view.default", {named("self", mm), named("size", r.sizes_arg(out.sizes))}, out, "view")};
}

}  // namespace ptx::passes::decomp
