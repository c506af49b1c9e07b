// passes/decompose/conv_linear.cpp: conv1d/2d/3d and the traced _convolution -> convolution;
// linear -> permute + addmm (or mm), through a 2-d view for a contiguous input of higher rank;
// matmul -> mm or bmm with views.
#include "passes/decompose/families.h"

namespace ptx::passes::decomp {
namespace {
ir::NamedArg named(const char* name, ir::ArgValue v) { return {name, std::move(v), false}; }

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
// (ATen's linear and torch's core decomposition); any other input stays a linear.
Outputs linear(Rewriter& r) {
  ir::Value* input = r.tensor("input");
  ir::Value* weight = r.tensor("weight");
  ir::Value* bias = r.tensor("bias", true);
  const ir::TensorMeta& in = input->meta();
  const ir::TensorMeta& out = r.out()->meta();
  const size_t rank = in.sizes.size();
  if (rank < 2 || weight->meta().sizes.size() != 2 || (rank > 2 && (!is_contiguous(in) || bias == nullptr))) {
    return std::nullopt;
  }
  ir::Value* wt = r.call1("aten::permute.default", {named("self", weight), named("dims", std::vector<ir::SymIntArg>{1, 0})},
                          permuted(weight->meta(), {1, 0}), "permute");
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

// matmul(self, other), as ATen's matmul and torch's core decomposition write it:
//   2-d @ 2-d:                         mm
//   contiguous n-d @ 2-d (n >= 3):     view(mm(view(self, [-1, K]), other), batch + [N, M])
//   n-d @ n-d, same batch sizes (n >= 3), both contiguous:
//       view(bmm(view(expand(self), [B, N, K]), view(expand(other), [B, K, M])), batch + [N, M])
// (expand to the same sizes is kept, as torch keeps it). Vectors, broadcast batches and
// non-contiguous operands stay a matmul (docs/commands/export.md).
Outputs matmul(Rewriter& r) {
  ir::Value* a = r.tensor("self");
  ir::Value* b = r.tensor("other");
  const ir::TensorMeta& am = a->meta();
  const ir::TensorMeta& bm = b->meta();
  const ir::TensorMeta& out = r.out()->meta();
  const size_t ra = am.sizes.size(), rb = bm.sizes.size();
  auto view = [&](ir::Value* v, const shapes::SymShape& sizes, const ir::TensorMeta& like) {
    return r.call1("aten::view.default", {named("self", v), named("size", r.sizes_arg(sizes))}, with_sizes(like, sizes),
                   "view");
  };
  if (ra == 2 && rb == 2) {
    return std::vector<ir::Value*>{r.call1("aten::mm.default", {named("self", a), named("mat2", b)}, out, "mm")};
  }
  if (ra >= 3 && rb == 2) {
    if (!is_contiguous(am)) return std::nullopt;
    shapes::SymExpr rows = am.sizes[0];
    for (size_t d = 1; d + 1 < ra; ++d) rows = rows * am.sizes[d];
    ir::Value* flat = view(a, {rows, am.sizes.back()}, am);
    ir::Value* mm = r.call1("aten::mm.default", {named("self", flat), named("mat2", b)},
                            with_sizes(out, {rows, bm.sizes[1]}), "mm");
    return std::vector<ir::Value*>{view(mm, out.sizes, out)};
  }
  if (ra >= 3 && ra == rb) {
    if (!is_contiguous(am) || !is_contiguous(bm)) return std::nullopt;
    shapes::SymExpr batch = am.sizes[0];
    for (size_t d = 0; d + 2 < ra; ++d) {
      if (!(am.sizes[d] == bm.sizes[d])) return std::nullopt;  // a broadcast batch: expand would copy
      if (d > 0) batch = batch * am.sizes[d];
    }
    auto expand = [&](ir::Value* v) {
      return r.call1("aten::expand.default", {named("self", v), named("size", r.sizes_arg(v->meta().sizes))},
                     v->meta(), "expand");
    };
    ir::Value* a3 = view(expand(a), {batch, am.sizes[ra - 2], am.sizes[ra - 1]}, am);
    ir::Value* b3 = view(expand(b), {batch, bm.sizes[rb - 2], bm.sizes[rb - 1]}, bm);
    ir::Value* mm = r.call1("aten::bmm.default", {named("self", a3), named("mat2", b3)},
                            with_sizes(out, {batch, am.sizes[ra - 2], bm.sizes[rb - 1]}), "bmm");
    return std::vector<ir::Value*>{view(mm, out.sizes, out)};
  }
  return std::nullopt;
}

}  // namespace ptx::passes::decomp
