// passes/decompose/fills.cpp: fills and pads, as torch's default table writes them (asked live of
// torch 2.14's run_decompositions(); torch/_decomp/decompositions.py and torch/_refs):
//   pad(x, pad, "constant", value)   -> constant_pad_nd(x, pad, value)
//   new_zeros(x, size, ...)          -> full(size, 0, dtype, layout=strided, device, pin_memory=False)
//   masked_fill.Scalar(x, mask, v)   -> where(mask, scalar_tensor(v, dtype, layout, device), x)
// torch keeps all three at the inference level (run_decompositions({})).
#include "passes/decompose/families.h"

namespace ptx::passes::decomp {

// pad in constant mode; reflect, replicate and circular pads are other decompositions (the node stays).
Outputs pad(Rewriter& r) {
  const ir::ArgValue mode = r.arg_or("mode", std::string("constant"));
  const auto* m = std::get_if<std::string>(&mode);
  if (m == nullptr || *m != "constant") return std::nullopt;
  std::vector<ir::NamedArg> args{named("self", r.tensor("self")), named("pad", r.ints_or("pad", {}))};
  const ir::ArgValue value = r.arg_or("value", ir::NoneArg{});
  if (!std::holds_alternative<ir::NoneArg>(value)) args.push_back(named("value", value));
  return std::vector<ir::Value*>{r.call1("aten::constant_pad_nd.default", std::move(args), r.out()->meta(), "constant_pad_nd")};
}

Outputs new_zeros(Rewriter& r) {
  const ir::TensorMeta& m = r.out()->meta();
  return std::vector<ir::Value*>{r.call1(
      "aten::full.default",
      {named("size", r.ints_or("size", {})), named("fill_value", int64_t{0}), kwarg("dtype", ir::DTypeArg{m.dtype}),
       kwarg("layout", ir::LayoutArg{0}), kwarg("device", ir::DeviceArg{m.device}), kwarg("pin_memory", false)},
      m, "full")};
}

Outputs masked_fill_scalar(Rewriter& r) {
  ir::Value* x = r.tensor("self");
  const ir::TensorMeta& m = r.out()->meta();
  ir::Value* value = r.call1("aten::scalar_tensor.default",
                             {named("s", r.arg_or("value", int64_t{0})), kwarg("dtype", ir::DTypeArg{x->meta().dtype}),
                              kwarg("layout", ir::LayoutArg{0}), kwarg("device", ir::DeviceArg{x->meta().device})},
                             with_sizes(x->meta(), {}), "scalar_tensor");
  return std::vector<ir::Value*>{
      r.call1("aten::where.self", {named("condition", r.tensor("mask")), named("self", value), named("other", x)}, m, "where")};
}

}  // namespace ptx::passes::decomp
