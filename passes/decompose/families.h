// passes/decompose/families.h (private): the decompositions, one function per op, by family file.
// Each returns the values replacing the node's outputs, or nullopt to leave the node as it is.
#pragma once

#include "passes/decompose/rewriter.h"

namespace ptx::passes::decomp {

// activations.cpp
Outputs dropout(Rewriter& r);
Outputs hardsigmoid(Rewriter& r);
Outputs hardswish(Rewriter& r);
Outputs silu(Rewriter& r);
Outputs softmax(Rewriter& r);
// conv_linear.cpp
Outputs conv_nd(Rewriter& r);
Outputs convolution_private(Rewriter& r);
Outputs linear(Rewriter& r);
// fills.cpp
Outputs fill_tensor(Rewriter& r);
Outputs masked_fill_scalar(Rewriter& r);
Outputs new_zeros(Rewriter& r);
Outputs pad(Rewriter& r);
Outputs roll(Rewriter& r);
// matmul.cpp
/// Whether emit_matmul can rewrite matmul(a, b) (see matmul.cpp).
bool can_matmul(const ir::TensorMeta& a, const ir::TensorMeta& b);
/// matmul(a, b) rewritten to mm / bmm with views (can_matmul must hold); `out` is the result's meta.
ir::Value* emit_matmul(Rewriter& r, ir::Value* a, ir::Value* b, const ir::TensorMeta& out);
Outputs matmul(Rewriter& r);
Outputs scaled_dot_product_attention(Rewriter& r);
// norms.cpp
Outputs batch_norm(Rewriter& r);
Outputs layer_norm(Rewriter& r);
// pooling.cpp
Outputs adaptive_avg_pool2d(Rewriter& r);
Outputs max_pool2d(Rewriter& r);
// views.cpp
Outputs chunk(Rewriter& r);
Outputs contiguous(Rewriter& r);
Outputs lift_fresh_copy(Rewriter& r);
Outputs flatten(Rewriter& r);
Outputs full_slice(Rewriter& r);
Outputs reshape(Rewriter& r);
Outputs split_tensor(Rewriter& r);
Outputs squeeze_dim(Rewriter& r);
Outputs transpose(Rewriter& r);
Outputs unflatten(Rewriter& r);
Outputs unsafe_view(Rewriter& r);

}  // namespace ptx::passes::decomp
