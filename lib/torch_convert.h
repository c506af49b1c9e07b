// lib/torch_convert.h: conversions between ptexport's types and LibTorch's.
#pragma once

#include <ATen/core/Tensor.h>
#include <ATen/core/ivalue.h>

#include <string>
#include <vector>

#include "ir/graph.h"
#include "shapes/sym.h"

namespace ptx {

inline c10::ScalarType to_scalar_type(ir::DType t) { return static_cast<c10::ScalarType>(t); }
inline ir::DType to_dtype(c10::ScalarType t) { return static_cast<ir::DType>(t); }

/// Concrete sizes of `shape` under `values`; InternalError if a symbol has no value.
std::vector<int64_t> evaluate_shape(const shapes::SymShape& shape, const shapes::Assignment& values);

/// Symbolic strides for a tensor whose symbolic sizes are `sizes` and whose sample is `sample`:
/// dense strides in the sample's memory order (contiguous, channels-last, a transpose ...).
/// A non-dense sample (a slice of a larger tensor, an expanded one) gets its own strides as
/// constants: never dense strides it does not have (a view's symbolic strides come from its input's:
/// lib/frontend/aliasing.cpp, Tracer::view_output_strides).
shapes::SymShape symbolic_strides(const shapes::SymShape& sizes, const at::Tensor& sample);

/// A tensor meta from a sample tensor and its symbolic sizes. A meta sample is the frontend's
/// stand-in for a CPU tensor (lib/frontend/tracer.h, Note [Meta trace]): its device is cpu.
ir::TensorMeta make_meta(const at::Tensor& sample, const shapes::SymShape& sizes);

/// "f32[s0, 64]"-style text of a meta, as ptexport prints tensors.
std::string meta_str(const ir::TensorMeta& meta);

/// Appends the tensors in `v` (a tensor, or lists, tuples and dicts of them, nested) to `out`, depth
/// first: the order of a program's flattened user inputs and outputs. Other leaves are skipped;
/// with `ints_as_tensors`, an int becomes a 0-dim int64 tensor (a model's int outputs, which the
/// program returns too, are compared so). Inputs are flattened without: the program's tensor
/// placeholders are the tensors alone, whatever ints come before them.
void flatten_tensors(const c10::IValue& v, std::vector<at::Tensor>& out, bool ints_as_tensors = false);

}  // namespace ptx
