// passes/decompose/pooling.cpp: max_pool2d -> max_pool2d_with_indices[0]; adaptive_avg_pool2d to
// a 1x1 output -> mean over the last two dims (ATen's own shortcut; then, for a channels-last input,
// as_strided to ATen's [c, 1, c, c] strides, as torch writes it), else
// _adaptive_avg_pool2d.
#include <algorithm>

#include "passes/decompose/families.h"

namespace ptx::passes::decomp {
Outputs max_pool2d(Rewriter& r) {
  const ir::TensorMeta& out = r.out()->meta();
  std::vector<ir::NamedArg> args;
  for (const ir::NamedArg& a : r.node().inputs()) args.push_back(a);
  auto outs = r.call("aten::max_pool2d_with_indices.default", std::move(args),
                     {out, with_dtype(out, ir::DType::kInt64)}, "max_pool2d_with_indices");
  return std::vector<ir::Value*>{outs[0]};
}

Outputs adaptive_avg_pool2d(Rewriter& r) {
  ir::Value* x = r.tensor("self");
  const auto size = r.ints_or("output_size", {});
  const bool one = size.size() == 2 && std::all_of(size.begin(), size.end(), [](const ir::SymIntArg& e) {
                     const auto* c = std::get_if<int64_t>(&e);
                     return c != nullptr && *c == 1;
                   });
  if (!one) {
    return std::vector<ir::Value*>{r.call1("aten::_adaptive_avg_pool2d.default",
                                           {named("self", x), named("output_size", size)}, r.out()->meta(),
                                           "_adaptive_avg_pool2d")};
  }
  const ir::TensorMeta& out = r.out()->meta();
  // ATen: out = mean(...); a channels-last input (suggest_memory_format) restrides it to [c, 1, c, c].
  const ir::TensorMeta& in = x->meta();
  const bool channels_last = in.sizes.size() == 4 && in.strides.size() == 4 && in.strides[1] == shapes::SymExpr(1) &&
                             in.strides[3] == in.sizes[1] && in.strides[2] == in.sizes[1] * in.sizes[3] &&
                             !is_contiguous(in);
  ir::Value* mean = r.call1("aten::mean.dim",
                            {named("self", x), named("dim", std::vector<ir::SymIntArg>{-1, -2}), named("keepdim", true)},
                            out, "mean");
  if (!channels_last) return std::vector<ir::Value*>{mean};
  const shapes::SymExpr& c = in.sizes[1];
  return std::vector<ir::Value*>{r.call1("aten::as_strided.default",
                                         {named("self", mean), named("size", r.sizes_arg(out.sizes)),
                                          named("stride", r.sizes_arg({c, shapes::SymExpr(1), c, c}))},
                                         out, "as_strided")};
}

}  // namespace ptx::passes::decomp
