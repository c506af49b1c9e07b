// passes/decompose/pooling.cpp: max_pool2d -> max_pool2d_with_indices[0]; adaptive_avg_pool2d to
// a 1x1 output -> mean over the last two dims (ATen's own shortcut), else _adaptive_avg_pool2d.
#include <algorithm>

#include "passes/decompose/families.h"

namespace ptx::passes::decomp {
namespace {
ir::NamedArg named(const char* name, ir::ArgValue v) { return {name, std::move(v), false}; }
}  // namespace

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
  return std::vector<ir::Value*>{r.call1("aten::mean.dim",
                                         {named("self", x), named("dim", std::vector<ir::SymIntArg>{-1, -2}),
                                          named("keepdim", true)},
                                         r.out()->meta(), "mean")};
}

}  // namespace ptx::passes::decomp
