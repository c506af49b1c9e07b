// passes/decompose/fills.cpp: fills and pads, as torch's default table writes them (asked live of
// torch 2.14's run_decompositions(); torch/_decomp/decompositions.py and torch/_refs):
//   pad(x, pad, "constant", value)   -> constant_pad_nd(x, pad, value)
//   new_zeros(x, size, ...)          -> full(size, 0, dtype, layout=strided, device, pin_memory=False)
//   masked_fill.Scalar(x, mask, v)   -> where(mask, scalar_tensor(v, dtype, layout, device), x)
//   fill.Tensor(x, v)                -> copy(x, v)  (v is 0-dim; what x[i] = 3 becomes, lib/frontend)
//   roll(x, shifts, dims)            -> per (shift, dim), in order: i = arange(0, n) (int64);
//                                       index_select(x, dim, fmod(i + (n - shift) % n, n))
// torch keeps all five at the inference level (run_decompositions({})).
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

// fill.Tensor(self, value) -> copy(self, value) (core; value is 0-dim and broadcasts), as torch's
// decomposition of fill.Tensor writes it.
Outputs fill_tensor(Rewriter& r) {
  ir::Value* value = r.tensor("value");
  if (!value->meta().sizes.empty()) return std::nullopt;
  return std::vector<ir::Value*>{r.call1("aten::copy.default",
                                         {named("self", r.tensor("self")), named("src", value), named("non_blocking", false)},
                                         r.out()->meta(), "copy")};
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

// torch/_refs/__init__.py roll: one index_select per rolled dim, the first dim rolled first. A
// roll without dims (of the flattened tensor) stays.
Outputs roll(Rewriter& r) {
  ir::Value* x = r.tensor("self");
  const std::vector<ir::SymIntArg> shifts = r.ints_or("shifts", {});
  const std::vector<ir::SymIntArg> dims = r.ints_or("dims", {});
  if (dims.empty() || shifts.size() != dims.size()) return std::nullopt;
  const ir::TensorMeta& m = x->meta();
  // index_select makes contiguous tensors; roll keeps a strided input's layout (the node stays).
  if (!is_contiguous(m)) return std::nullopt;
  const size_t rank = m.sizes.size();
  ir::Value* cur = x;
  for (size_t k = 0; k < dims.size(); ++k) {
    const auto* d = std::get_if<int64_t>(&dims[k]);
    const auto* s = std::get_if<int64_t>(&shifts[k]);
    if (d == nullptr || s == nullptr) return std::nullopt;  // a symbolic shift: not written here
    const int64_t dim = wrap_dim(*d, rank);
    const shapes::SymExpr n = m.sizes[dim];
    const shapes::SymExpr start = shapes::python_mod(n - shapes::SymExpr(*s), n);
    ir::TensorMeta idx_meta = with_dtype(with_sizes(m, {n}), ir::DType::kInt64);
    idx_meta.requires_grad = false;
    ir::Value* arange = r.call1("aten::arange.start_step",
                                {named("start", int64_t{0}), named("end", r.scalar_arg(n)), kwarg("layout", ir::LayoutArg{0}),
                                 kwarg("device", ir::DeviceArg{m.device}), kwarg("pin_memory", false)},
                                idx_meta, "arange");
    ir::Value* add =
        r.call1("aten::add.Tensor", {named("self", arange), named("other", r.scalar_arg(start))}, idx_meta, "add");
    ir::Value* index =
        r.call1("aten::fmod.Scalar", {named("self", add), named("other", r.scalar_arg(n))}, idx_meta, "fmod");
    cur = r.call1("aten::index_select.default", {named("self", cur), named("dim", dim), named("index", index)},
                  k + 1 == dims.size() ? r.out()->meta() : with_sizes(m, m.sizes), "index_select");
  }
  return std::vector<ir::Value*>{cur};
}

}  // namespace ptx::passes::decomp
