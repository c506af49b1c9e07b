// shapes/rules/all.h: every rule function, by family (one .cpp each), for table.cpp. Private to
// shapes/rules/. Each comment names the ATen ops the rule serves; see the .cpp for semantics.
#pragma once

#include "shapes/rules/common.h"

namespace ptx::shapes::rules {

// data_dependent.cpp: sizes read from data become unbacked symbols
Shapes nonzero(RuleContext& ctx, Args args);
Shapes where_condition(RuleContext& ctx, Args args);
Shapes masked_select(RuleContext& ctx, Args args);
Shapes nms(RuleContext& ctx, Args args);  // torchvision::nms
Shapes unique(RuleContext& ctx, Args args);             // _unique2, unique_consecutive
Shapes repeat_interleave(RuleContext& ctx, Args args);
/// The largest value of `e` the symbols' ranges allow (nullopt: unbounded).
std::optional<int64_t> upper_bound(RuleContext& ctx, SymExpr e);
/// A fresh unbacked count in [0, upper_bound(at_most)] with the sample's value `hint`.
SymExpr new_count(RuleContext& ctx, int64_t hint, SymExpr at_most, const std::string& what);
// broadcast.cpp
Shapes elementwise(RuleContext& ctx, Args args);   // add, mul, eq, where, masked_fill, relu, ...
Shapes same_as_self(RuleContext& ctx, Args args);  // contiguous, dropout, softmax, triu, roll, to, ...
Shapes copy(RuleContext& ctx, Args args);          // copy / copy_
Shapes two_like_self(RuleContext& ctx, Args args); // native_dropout
Shapes glu(RuleContext& ctx, Args args);
// matmul.cpp
Shapes matmul(RuleContext& ctx, Args args);
Shapes linear(RuleContext& ctx, Args args);
Shapes mm(RuleContext& ctx, Args args);
Shapes bmm(RuleContext& ctx, Args args);
Shapes addmm(RuleContext& ctx, Args args);
Shapes baddbmm(RuleContext& ctx, Args args);
Shapes mv(RuleContext& ctx, Args args);
Shapes dot(RuleContext& ctx, Args args);
// conv_pool.cpp
Shapes conv(RuleContext& ctx, Args args);            // conv1d/2d/3d
Shapes convolution(RuleContext& ctx, Args args);     // convolution, _convolution
Shapes conv_transpose(RuleContext& ctx, Args args);  // conv_transpose1d/2d/3d
Shapes max_pool(RuleContext& ctx, Args args);
Shapes max_pool_with_indices(RuleContext& ctx, Args args);
Shapes avg_pool(RuleContext& ctx, Args args);
Shapes adaptive_pool(RuleContext& ctx, Args args);
Shapes adaptive_max_pool(RuleContext& ctx, Args args);
// norms.cpp
Shapes batch_norm(RuleContext& ctx, Args args);
Shapes instance_norm(RuleContext& ctx, Args args);
Shapes layer_norm(RuleContext& ctx, Args args);
Shapes native_layer_norm(RuleContext& ctx, Args args);
Shapes group_norm(RuleContext& ctx, Args args);
// view_reshape.cpp
Shapes view(RuleContext& ctx, Args args);  // view, reshape, _unsafe_view
Shapes view_as(RuleContext& ctx, Args args);  // view_as, reshape_as, expand_as
Shapes flatten(RuleContext& ctx, Args args);
Shapes unflatten(RuleContext& ctx, Args args);
Shapes permute(RuleContext& ctx, Args args);
Shapes transpose(RuleContext& ctx, Args args);
Shapes t(RuleContext& ctx, Args args);
Shapes squeeze(RuleContext& ctx, Args args);
Shapes unsqueeze(RuleContext& ctx, Args args);
Shapes expand(RuleContext& ctx, Args args);
Shapes repeat(RuleContext& ctx, Args args);
Shapes movedim(RuleContext& ctx, Args args);
Shapes tile(RuleContext& ctx, Args args);
// cat_stack.cpp
Shapes cat(RuleContext& ctx, Args args);
Shapes stack(RuleContext& ctx, Args args);
Shapes meshgrid(RuleContext& ctx, Args args);
Shapes split(RuleContext& ctx, Args args);  // split.Tensor, split.sizes, split_with_sizes
Shapes chunk(RuleContext& ctx, Args args);
Shapes unbind(RuleContext& ctx, Args args);
// slicing.cpp
Shapes slice(RuleContext& ctx, Args args);
Shapes select(RuleContext& ctx, Args args);
Shapes narrow(RuleContext& ctx, Args args);
Shapes diff(RuleContext& ctx, Args args);
Shapes pad(RuleContext& ctx, Args args);  // pad, constant_pad_nd
// indexing.cpp
Shapes index_select(RuleContext& ctx, Args args);
Shapes embedding(RuleContext& ctx, Args args);
Shapes gather(RuleContext& ctx, Args args);
Shapes index(RuleContext& ctx, Args args);
Shapes index_put(RuleContext& ctx, Args args);
// reductions.cpp
Shapes reduction(RuleContext& ctx, Args args);  // sum, mean, amax, amin, prod, all, any, logsumexp
Shapes norm(RuleContext& ctx, Args args);
Shapes var_std(RuleContext& ctx, Args args);
Shapes max_min(RuleContext& ctx, Args args);
Shapes arg_reduction(RuleContext& ctx, Args args);
Shapes topk(RuleContext& ctx, Args args);
Shapes sort(RuleContext& ctx, Args args);  // sort, and argsort via same_as_self
// resample.cpp
Shapes upsample(RuleContext& ctx, Args args);
Shapes pixel_shuffle(RuleContext& ctx, Args args);  // pixel_shuffle, pixel_unshuffle
Shapes grid_sampler(RuleContext& ctx, Args args);  // grid_sampler, grid_sampler_2d, grid_sampler_3d
// factories.cpp
Shapes factory(RuleContext& ctx, Args args);      // zeros, ones, empty, full, rand, randn
Shapes new_factory(RuleContext& ctx, Args args);  // new_zeros, new_ones, new_empty, new_full
Shapes tensor_data(RuleContext& ctx, Args args);  // tensor, scalar_tensor
Shapes arange(RuleContext& ctx, Args args);
Shapes eye(RuleContext& ctx, Args args);
Shapes linspace(RuleContext& ctx, Args args);
// attention.cpp
Shapes sdpa(RuleContext& ctx, Args args);
RuleResult native_mha(RuleContext& ctx, Args args);
Shapes transformer_encoder_layer(RuleContext& ctx, Args args);
Shapes nested_from_mask(RuleContext& ctx, Args args);
Shapes to_padded_tensor(RuleContext& ctx, Args args);
// rnn.cpp
Shapes lstm(RuleContext& ctx, Args args);
Shapes gru(RuleContext& ctx, Args args);  // gru, rnn_tanh, rnn_relu

}  // namespace ptx::shapes::rules
