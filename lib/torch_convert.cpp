// lib/torch_convert.cpp
#include "lib/torch_convert.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <numeric>

#include "shapes/error.h"

namespace ptx {

std::vector<int64_t> evaluate_shape(const shapes::SymShape& shape, const shapes::Assignment& values) {
  std::vector<int64_t> out;
  out.reserve(shape.size());
  for (const shapes::SymExpr& e : shape) {
    const auto v = shapes::evaluate(e, values);
    PTX_INTERNAL_CHECK(v.has_value()) << "cannot evaluate size " << e.str();
    out.push_back(*v);
  }
  return out;
}

shapes::SymShape symbolic_strides(const shapes::SymShape& sizes, const at::Tensor& sample) {
  const size_t n = sizes.size();
  shapes::SymShape strides(n, shapes::SymExpr(1));
  if (n == 0) return strides;
  // Memory order: outermost (largest stride) first; ties keep the logical order.
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  const auto s = sample.strides();
  const auto sz = sample.sizes();
  // A strict weak order: by stride, descending; ties (and size-1 dims, whose stride says nothing)
  // keep the logical order. Size-1 dims sort as if their stride were that of the next dim.
  std::vector<int64_t> key(n);
  for (size_t i = n; i-- > 0;) {
    key[i] = (sz[i] == 1 && i + 1 < n) ? key[i + 1] : s[i];
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return key[a] > key[b]; });
  if (sample.is_contiguous()) std::iota(order.begin(), order.end(), 0);
  shapes::SymExpr running(1);
  int64_t dense = 1;
  bool is_dense = true;  // the sample's strides are the dense ones of its order (size-1 dims aside)
  for (size_t k = n; k-- > 0;) {
    strides[order[k]] = running;
    running = running * sizes[order[k]];
    if (sz[order[k]] > 1 && s[order[k]] != dense) is_dense = false;
    dense *= sz[order[k]];
  }
  if (!is_dense && sample.numel() > 0) {
    // Not dense (a slice of a larger tensor, an expanded one) and not a view whose strides follow
    // from its input's (Tracer::view_output_strides): the sample's own strides, so that nothing
    // takes it for contiguous.
    for (size_t d = 0; d < n; ++d) strides[d] = shapes::SymExpr(s[d]);
  }
  return strides;
}

ir::TensorMeta make_meta(const at::Tensor& sample, const shapes::SymShape& sizes) {
  ir::TensorMeta m;
  m.dtype = to_dtype(sample.scalar_type());
  m.sizes = sizes;
  m.strides = symbolic_strides(sizes, sample);
  m.storage_offset = shapes::SymExpr(0);
  // A meta tensor is the frontend's stand-in for a CPU tensor (lib/frontend/tracer.h, Note [Meta trace]).
  m.device = sample.is_meta() ? "cpu" : sample.device().str();
  m.requires_grad = sample.requires_grad();
  return m;
}

std::string meta_str(const ir::TensorMeta& meta) {
  static const char* kShort[] = {"u8", "i8", "i16", "i32", "i64", "f16", "f32", "f64", "c32", "c64", "c128", "b8"};
  const int t = static_cast<int>(meta.dtype);
  std::string out = (t >= 0 && t < 12) ? kShort[t] : ir::dtype_name(meta.dtype);
  return out + shapes::to_string(meta.sizes);
}

void flatten_tensors(const c10::IValue& v, std::vector<at::Tensor>& out, bool ints_as_tensors) {
  if (v.isTensor()) {
    out.push_back(v.toTensor());
  } else if (v.isTensorList()) {
    for (const at::Tensor& t : v.toTensorVector()) out.push_back(t);
  } else if (v.isList()) {
    for (const c10::IValue& e : v.toListRef()) flatten_tensors(e, out, ints_as_tensors);
  } else if (v.isTuple()) {
    for (const c10::IValue& e : v.toTupleRef().elements()) flatten_tensors(e, out, ints_as_tensors);
  } else if (v.isGenericDict()) {
    for (const auto& kv : v.toGenericDict()) flatten_tensors(kv.value(), out, ints_as_tensors);
  } else if (v.isInt() && ints_as_tensors) {
    out.push_back(at::scalar_tensor(v.toInt(), at::kLong));
  }
}

}  // namespace ptx
