// passes/decompose/views.cpp: reshapes, transposes, squeeze, contiguous, chunk and split.
//
// A reshape (reshape, flatten) is a view when ATen's computeStride finds one for the input's strides
// (view_strides: contiguous inputs, and strided ones whose merged dims are adjacent in memory); of
// any other tensor it is clone(memory_format=contiguous) + _unsafe_view, as ATen's reshape does.
// A view that symbolic sizes cannot prove copies, which is always right (the op counts can then
// differ from torch's; the values cannot).
#include "passes/decompose/families.h"

namespace ptx::passes::decomp {
namespace {

Outputs reshape_to(Rewriter& r, ir::Value* x) {
  const ir::TensorMeta& out = r.out()->meta();
  if (is_contiguous(x->meta()) || view_strides(x->meta(), out.sizes)) {  // ATen's reshape: a view when one exists
    return std::vector<ir::Value*>{
        r.call1("aten::view.default", {named("self", x), named("size", r.sizes_arg(out.sizes))}, out, "view")};
  }
  ir::Value* copy = r.call1("aten::clone.default", {named("self", x), {"memory_format", ir::MemoryFormatArg{0}, true}},
                            with_sizes(x->meta(), x->meta().sizes), "clone");
  return std::vector<ir::Value*>{
      r.call1("aten::_unsafe_view.default", {named("self", copy), named("size", r.sizes_arg(out.sizes))}, out, "_unsafe_view")};
}
}  // namespace

Outputs reshape(Rewriter& r) { return reshape_to(r, r.tensor("self")); }

// flatten.using_ints(self, start_dim, end_dim): a reshape; flattening one dim (or a 0-d tensor)
// returns self.
Outputs flatten(Rewriter& r) {
  ir::Value* x = r.tensor("self");
  const size_t rank = x->meta().sizes.size();
  if (rank == 0 || wrap_dim(r.int_or("start_dim", 0), rank) == wrap_dim(r.int_or("end_dim", -1), rank)) {
    return std::vector<ir::Value*>{x};
  }
  return reshape_to(r, x);
}

// unflatten.int(self, dim, sizes): splitting one dim is always a view.
Outputs unflatten(Rewriter& r) {
  const ir::TensorMeta& out = r.out()->meta();
  return std::vector<ir::Value*>{
      r.call1("aten::view.default", {named("self", r.tensor("self")), named("size", r.sizes_arg(out.sizes))}, out, "view")};
}

// _unsafe_view(self, size) -> view(self, size) (core).
Outputs unsafe_view(Rewriter& r) {
  const ir::TensorMeta& out = r.out()->meta();
  return std::vector<ir::Value*>{
      r.call1("aten::view.default", {named("self", r.tensor("self")), named("size", r.sizes_arg(out.sizes))}, out, "view")};
}

// contiguous(self, memory_format=contiguous_format): self when its strides are contiguous, else
// clone(self, memory_format=contiguous_format). Other memory formats stay.
Outputs contiguous(Rewriter& r) {
  const ir::ArgValue fmt = r.arg_or("memory_format", ir::MemoryFormatArg{0});
  const auto* f = std::get_if<ir::MemoryFormatArg>(&fmt);
  if (!std::holds_alternative<ir::NoneArg>(fmt) && (f == nullptr || f->v != 0)) return std::nullopt;
  ir::Value* x = r.tensor("self");
  if (is_contiguous(x->meta())) return std::vector<ir::Value*>{x};
  return std::vector<ir::Value*>{r.call1("aten::clone.default",
                                         {named("self", x), {"memory_format", ir::MemoryFormatArg{0}, true}},
                                         r.out()->meta(), "clone")};
}

// lift_fresh_copy(self) -> clone(self) (inference): a tensor made in forward from a number, read
// through a copy of the lifted constant, as torch's functionalization writes it.
Outputs lift_fresh_copy(Rewriter& r) {
  ir::Value* x = r.tensor("self");
  return std::vector<ir::Value*>{r.call1("aten::clone.default", {named("self", x)}, r.out()->meta(), "clone")};
}

// slice.Tensor(self, dim, start, end, step=1) that keeps every element -> self (inference).
// TorchScript writes `x[:, 0]` as slice(x, 0, 0, INT64_MAX) + select; torch.export's trace of the
// same python has the select only.
Outputs full_slice(Rewriter& r) {
  ir::Value* x = r.tensor("self");
  const ir::TensorMeta& in = x->meta();
  const ir::TensorMeta& out = r.out()->meta();
  if (r.int_or("step", 1) != 1 || in.sizes.size() != out.sizes.size()) return std::nullopt;
  for (size_t d = 0; d < in.sizes.size(); ++d) {
    if (!(in.sizes[d] == out.sizes[d])) return std::nullopt;
  }
  return std::vector<ir::Value*>{x};
}

// transpose.int(self, dim0, dim1) -> permute(self, dims) (core).
Outputs transpose(Rewriter& r) {
  ir::Value* x = r.tensor("self");
  const size_t rank = x->meta().sizes.size();
  std::vector<int64_t> perm(rank);
  for (size_t i = 0; i < rank; ++i) perm[i] = static_cast<int64_t>(i);
  if (rank > 0) {
    std::swap(perm.at(static_cast<size_t>(wrap_dim(r.int_or("dim0", 0), rank))),
              perm.at(static_cast<size_t>(wrap_dim(r.int_or("dim1", 0), rank))));
  }
  std::vector<ir::SymIntArg> dims(perm.begin(), perm.end());
  return std::vector<ir::Value*>{
      r.call1("aten::permute.default", {named("self", x), named("dims", dims)}, permuted(x->meta(), perm), "permute")};
}

// squeeze.dim(self, dim) -> squeeze.dims(self, [dim]) (core).
Outputs squeeze_dim(Rewriter& r) {
  return std::vector<ir::Value*>{r.call1("aten::squeeze.dims",
                                         {named("self", r.tensor("self")),
                                          named("dim", std::vector<ir::SymIntArg>{r.int_or("dim", 0)})},
                                         r.out()->meta(), "squeeze")};
}

// chunk(self, chunks, dim) -> split.Tensor(self, ceil(size / chunks), dim) (inference).
Outputs chunk(Rewriter& r) {
  ir::Value* x = r.tensor("self");
  const size_t rank = x->meta().sizes.size();
  const int64_t chunks = r.int_or("chunks", 1);
  if (rank == 0 || chunks < 1) return std::nullopt;
  const int64_t dim = wrap_dim(r.int_or("dim", 0), rank);
  const shapes::SymExpr size = x->meta().sizes.at(static_cast<size_t>(dim));
  const shapes::SymExpr split = shapes::ceil_div(size, shapes::SymExpr(chunks));
  std::vector<ir::TensorMeta> metas;
  for (const ir::Value* o : r.node().outputs()) metas.push_back(o->meta());
  return r.call("aten::split.Tensor", {named("self", x), named("split_size", r.scalar_arg(split)), named("dim", dim)}, metas,
                "split", true);
}

// split.Tensor(self, split_size, dim) -> split_with_sizes(self, [each output's size], dim) (core).
Outputs split_tensor(Rewriter& r) {
  ir::Value* x = r.tensor("self");
  const size_t rank = x->meta().sizes.size();
  if (rank == 0 || !r.node().returns_list()) return std::nullopt;
  const int64_t dim = wrap_dim(r.int_or("dim", 0), rank);
  std::vector<ir::TensorMeta> metas;
  shapes::SymShape sizes;
  for (const ir::Value* o : r.node().outputs()) {
    metas.push_back(o->meta());
    sizes.push_back(o->meta().sizes.at(static_cast<size_t>(dim)));
  }
  return r.call("aten::split_with_sizes.default",
                {named("self", x), named("split_sizes", r.sizes_arg(sizes)), named("dim", dim)}, metas,
                "split_with_sizes", true);
}

}  // namespace ptx::passes::decomp
