// passes/lower_script_overloads.h: TorchScript-only overloads become the ATen calls torch.export emits.
//
// TorchScript has overloads that exist only in its interpreter's registry: `x.to(device)` with an
// Optional device scripts to aten::to.prim_Device, `x.to(dtype)` with an int dtype to
// aten::to.prim_dtype, `x.to(other)`'s fallback to aten::to.prim_other. torch.export.load cannot run
// them (they are not in torch.ops.aten). torch.export 2.14 writes every such conversion, in its
// training IR, as aten::to.dtype_layout with the resolved dtype, layout and device:
//
//   to_3 = aten::to.prim_Device(x, None, 6, False, False)
//     ->  to_3 = aten::to.dtype_layout(x, dtype=torch.float32, layout=torch.strided, device=cpu,
//                                      non_blocking=False, copy=False)
//
// The resolved dtype and device are the node's output's (the trace ran the op on the sample), so the
// result is the same tensor; `copy` and `non_blocking` are kept.
//
// TorchScript also resolves `x * 0.5` to aten::mul.Scalar, an overload ATen keeps "for C++ only":
// Python has no binding for it, so torch.export writes aten.mul.Tensor(x, 0.5) with the number in the
// Tensor slot (a wrapped number, the same kernel and the same type promotion). add, sub, mul and div's
// Scalar overloads (and div.Scalar_mode) become their Tensor overloads, in subgraphs too. Comparisons
// (eq.Scalar, ...), rsub.Scalar and pow.Tensor_Scalar have Python bindings and stay.
#pragma once

#include "ir/graph.h"

namespace ptx::passes {

/// Rewrites each aten::to.prim_Device / prim_dtype / prim_other call and each C++-only Scalar
/// overload (see the file comment).
/// Returns true if the graph changed.
bool lower_script_overloads(ir::Graph& graph);

}  // namespace ptx::passes
