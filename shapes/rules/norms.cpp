// shapes/rules/norms.cpp: batch_norm, layer_norm (and native_layer_norm), group_norm,
// instance_norm. The output has the input's shape.
#include <string>

#include "shapes/rules/all.h"
#include "shapes/rules/common.h"

namespace ptx::shapes::rules {

namespace {
/// The channel count that per-channel parameters (weight, bias, running stats) must match.
void require_channel_params(RuleContext& ctx, Args args, const SymShape& x, std::initializer_list<size_t> params) {
  if (rank(x) < 2) fail("normalization input must have at least 2 dims, got " + str(x));
  for (size_t i : params) {
    if (auto p = opt_tensor(args, i, "parameter")) {
      if (rank(*p) != 1) fail("normalization parameter must be 1-D, got " + str(*p));
      require_eq(ctx, (*p)[0], x[1], "batch_norm: parameters must match the channel count",
                 "normalization parameter " + str(*p) + " does not match input " + str(x));
    }
  }
}

/// layer_norm's normalized_shape must equal the input's trailing dims.
void require_normalized(RuleContext& ctx, const SymShape& x, const std::vector<SymExpr>& normalized) {
  if (normalized.size() > x.size()) fail("layer_norm normalized_shape is longer than the input " + str(x));
  const size_t off = x.size() - normalized.size();
  for (size_t i = 0; i < normalized.size(); ++i) {
    require_eq(ctx, x[off + i], normalized[i], "layer_norm: normalized_shape must match the input",
               "layer_norm input " + str(x) + " does not end with normalized_shape " + str(normalized));
  }
}
}  // namespace

// batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled)
Shapes batch_norm(RuleContext& ctx, Args args) {
  const SymShape& x = tensor(args, 0, "input");
  require_channel_params(ctx, args, x, {1, 2, 3, 4});
  return {x};
}

// instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps, cudnn)
Shapes instance_norm(RuleContext& ctx, Args args) {
  const SymShape& x = tensor(args, 0, "input");
  require_channel_params(ctx, args, x, {1, 2});
  return {x};
}

// layer_norm(input, normalized_shape, weight, bias, eps, cudnn_enable)
Shapes layer_norm(RuleContext& ctx, Args args) {
  const SymShape& x = tensor(args, 0, "input");
  require_normalized(ctx, x, int_list(args, 1, "normalized_shape"));
  return {x};
}

// native_layer_norm(input, normalized_shape, weight, bias, eps) -> (out, mean, rstd); mean and
// rstd keep the outer dims and have 1 for each normalized dim.
Shapes native_layer_norm(RuleContext& ctx, Args args) {
  const SymShape& x = tensor(args, 0, "input");
  const std::vector<SymExpr> normalized = int_list(args, 1, "normalized_shape");
  require_normalized(ctx, x, normalized);
  SymShape stats(x.begin(), x.end() - normalized.size());
  stats.resize(x.size(), SymExpr(1));
  return {x, stats, stats};
}

// group_norm(input, num_groups, weight, bias, eps, cudnn_enabled): channels divisible by groups.
Shapes group_norm(RuleContext& ctx, Args args) {
  const SymShape& x = tensor(args, 0, "input");
  if (rank(x) < 2) fail("group_norm input must have at least 2 dims, got " + str(x));
  const int64_t groups = const_int(ctx, args, 1, "num_groups");
  if (groups <= 0) fail("group_norm num_groups must be positive");
  require(ctx, sym_eq(python_mod(x[1], groups), 0), "group_norm: channels must be divisible by num_groups",
          "group_norm channels " + x[1].str() + " are not divisible by " + std::to_string(groups));
  require_channel_params(ctx, args, x, {2, 3});
  return {x};
}

}  // namespace ptx::shapes::rules
