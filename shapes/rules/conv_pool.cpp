// shapes/rules/conv_pool.cpp: convolutions (conv1d/2d/3d, convolution, _convolution,
// conv_transpose*), pooling (max/avg, with ceil_mode) and adaptive pooling.
//
// Output sizes (ATen ConvUtils.h, torch/_meta_registrations.py):
//   conv:            (H + 2p - d*(k-1) - 1) // s + 1
//   conv transposed: (H - 1)*s - 2p + d*(k-1) + output_padding + 1
//   pool:            (H + 2p - d*(k-1) - 1 + (ceil_mode ? s-1 : 0)) // s + 1, minus 1 when
//                    ceil_mode and the last window would start in the right padding:
//                    (out - 1)*s >= H + p (a guard, unless p + s <= d*(k-1) + 1, when it never happens)
#include <string>
#include <vector>

#include "shapes/rules/all.h"
#include "shapes/rules/common.h"

namespace ptx::shapes::rules {

namespace {

/// An int[] parameter with one value per spatial dim; a single value is repeated
/// (ATen expand_param_if_needed). An empty list gives `empty_default` (pool stride = kernel).
std::vector<int64_t> spatial_param(RuleContext& ctx, Args args, size_t i, size_t n, const char* what,
                                   const std::vector<int64_t>& if_missing) {
  if (!has(args, i)) return if_missing;
  std::vector<int64_t> v = const_int_list(ctx, args, i, what);
  if (v.empty()) return if_missing;
  if (v.size() == 1 && n > 1) v.assign(n, v[0]);
  if (v.size() != n) {
    fail(std::string(what) + " must have " + std::to_string(n) + " values, got " + std::to_string(v.size()));
  }
  return v;
}

struct ConvParams {
  std::vector<int64_t> stride, padding, dilation, output_padding;
  bool transposed = false;
  bool same = false;  // padding="same"
  int64_t groups = 1;
};

SymShape conv_shape(RuleContext& ctx, const SymShape& input, const SymShape& weight, const ConvParams& p) {
  const int64_t n = rank(weight) - 2;
  if (n < 1) fail("convolution weight must have at least 3 dims, got " + str(weight));
  const bool batched = rank(input) == n + 2;
  if (!batched && rank(input) != n + 1) {
    fail("expected " + std::to_string(n + 1) + "-D (unbatched) or " + std::to_string(n + 2) +
         "-D (batched) input to convolution, got " + str(input));
  }
  const SymExpr in_c = input[batched ? 1 : 0];
  const SymExpr want_c = p.transposed ? weight[0] : weight[1] * p.groups;
  require_eq(ctx, in_c, want_c, "convolution: input channels must match the weight",
             "convolution input " + str(input) + " does not match weight " + str(weight) + " with groups=" +
                 std::to_string(p.groups));
  SymShape out;
  if (batched) out.push_back(input[0]);
  out.push_back(p.transposed ? weight[1] * p.groups : weight[0]);
  const size_t off = batched ? 2 : 1;
  for (int64_t i = 0; i < n; ++i) {
    const SymExpr h = input[off + i];
    const SymExpr k = weight[2 + i];
    if (p.same) {
      out.push_back(h);
    } else if (p.transposed) {
      out.push_back((h - 1) * p.stride[i] - 2 * p.padding[i] + p.dilation[i] * (k - 1) + p.output_padding[i] + 1);
    } else {
      out.push_back(floor_div(h + 2 * p.padding[i] - p.dilation[i] * (k - 1) - 1, p.stride[i]) + 1);
    }
  }
  return out;
}

/// conv-style parameters at args[i_stride], args[i_padding], args[i_dilation].
ConvParams read_conv(RuleContext& ctx, Args args, size_t n, size_t i_stride, size_t i_padding, size_t i_dilation) {
  ConvParams p;
  p.stride = spatial_param(ctx, args, i_stride, n, "stride", std::vector<int64_t>(n, 1));
  if (has(args, i_padding) && args[i_padding].kind == RuleArg::Kind::kString) {
    const std::string& mode = args[i_padding].s;
    if (mode == "same") {
      p.same = true;
      for (int64_t s : p.stride) {
        if (s != 1) fail("padding='same' is not supported for strided convolutions");
      }
    } else if (mode != "valid") {
      fail("invalid padding string '" + mode + "'");
    }
    p.padding.assign(n, 0);
  } else {
    p.padding = spatial_param(ctx, args, i_padding, n, "padding", std::vector<int64_t>(n, 0));
  }
  p.dilation = spatial_param(ctx, args, i_dilation, n, "dilation", std::vector<int64_t>(n, 1));
  p.output_padding.assign(n, 0);
  return p;
}

size_t spatial_dims(const SymShape& weight) {
  if (rank(weight) < 3) fail("convolution weight must have at least 3 dims, got " + str(weight));
  return weight.size() - 2;
}

}  // namespace

// conv1d/2d/3d(input, weight, bias, stride, padding (int[] or str), dilation, groups)
Shapes conv(RuleContext& ctx, Args args) {
  const SymShape& input = tensor(args, 0, "input");
  const SymShape& weight = tensor(args, 1, "weight");
  const size_t n = spatial_dims(weight);
  ConvParams p = read_conv(ctx, args, n, 3, 4, 5);
  p.groups = has(args, 6) ? const_int(ctx, args, 6, "groups") : 1;
  return {conv_shape(ctx, input, weight, p)};
}

// convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups)
// and _convolution(same, benchmark, deterministic, cudnn_enabled, allow_tf32).
Shapes convolution(RuleContext& ctx, Args args) {
  const SymShape& input = tensor(args, 0, "input");
  const SymShape& weight = tensor(args, 1, "weight");
  const size_t n = spatial_dims(weight);
  ConvParams p = read_conv(ctx, args, n, 3, 4, 5);
  p.transposed = bool_arg(args, 6, false, "transposed");
  p.output_padding = spatial_param(ctx, args, 7, n, "output_padding", std::vector<int64_t>(n, 0));
  p.groups = has(args, 8) ? const_int(ctx, args, 8, "groups") : 1;
  return {conv_shape(ctx, input, weight, p)};
}

// conv_transpose1d/2d/3d(input, weight, bias, stride, padding, output_padding, groups, dilation)
Shapes conv_transpose(RuleContext& ctx, Args args) {
  const SymShape& input = tensor(args, 0, "input");
  const SymShape& weight = tensor(args, 1, "weight");
  const size_t n = spatial_dims(weight);
  ConvParams p = read_conv(ctx, args, n, 3, 4, 7);
  p.transposed = true;
  p.output_padding = spatial_param(ctx, args, 5, n, "output_padding", std::vector<int64_t>(n, 0));
  p.groups = has(args, 6) ? const_int(ctx, args, 6, "groups") : 1;
  return {conv_shape(ctx, input, weight, p)};
}

namespace {

size_t pool_dims(const RuleContext& ctx) {
  const std::string_view op = ctx.op;
  if (op.find("1d") != std::string_view::npos) return 1;
  if (op.find("3d") != std::string_view::npos) return 3;
  return 2;
}

SymExpr pool_out(RuleContext& ctx, SymExpr h, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil_mode) {
  if (s <= 0) fail("pooling stride must be positive");
  if (k <= 0) fail("pooling kernel size must be positive");
  if (p < 0) fail("pooling pad must be non-negative");
  if (p > (d * (k - 1) + 1) / 2) fail("pooling pad should be at most half of effective kernel size");
  const int64_t eff = d * (k - 1) + 1;
  SymExpr out = floor_div(h + 2 * p - eff + (ceil_mode ? s - 1 : 0), s) + 1;
  if (ceil_mode && p + s > eff) {
    if (decide(ctx, sym_ge((out - 1) * s, h + p), "pooling ceil_mode: last window starts in the padding")) {
      out = out - 1;
    }
  }
  require(ctx, sym_ge(out, 1), "pooling: output size must be at least 1",
          "pooling output size is too small for input size " + h.str());
  return out;
}

/// (self, kernel_size, stride, padding, dilation, ceil_mode) for max pools; avg pools pass
/// dilation_index = -1 (dilation 1) and ceil_mode at index 4.
SymShape pool_shape(RuleContext& ctx, Args args, int dilation_index, size_t ceil_index) {
  const SymShape& x = tensor(args, 0, "self");
  const size_t n = pool_dims(ctx);
  if (x.size() != n + 1 && x.size() != n + 2) {
    fail("expected " + std::to_string(n + 1) + "-D or " + std::to_string(n + 2) + "-D input to pooling, got " + str(x));
  }
  const std::vector<int64_t> k = spatial_param(ctx, args, 1, n, "kernel_size", {});
  if (k.size() != n) fail("pooling kernel_size is missing");
  const std::vector<int64_t> s = spatial_param(ctx, args, 2, n, "stride", k);
  const std::vector<int64_t> p = spatial_param(ctx, args, 3, n, "padding", std::vector<int64_t>(n, 0));
  const std::vector<int64_t> d = dilation_index < 0
                                     ? std::vector<int64_t>(n, 1)
                                     : spatial_param(ctx, args, dilation_index, n, "dilation", std::vector<int64_t>(n, 1));
  const bool ceil_mode = bool_arg(args, ceil_index, false, "ceil_mode");
  SymShape out(x.begin(), x.end() - n);
  for (size_t i = 0; i < n; ++i) out.push_back(pool_out(ctx, x[x.size() - n + i], k[i], s[i], p[i], d[i], ceil_mode));
  return out;
}

}  // namespace

// max_pool{1,2,3}d(self, kernel_size, stride=[], padding=0, dilation=1, ceil_mode=False)
Shapes max_pool(RuleContext& ctx, Args args) { return {pool_shape(ctx, args, 4, 5)}; }

// max_pool{1,2,3}d_with_indices: (values, indices) of the same shape.
Shapes max_pool_with_indices(RuleContext& ctx, Args args) {
  SymShape out = pool_shape(ctx, args, 4, 5);
  return {out, out};
}

// avg_pool{1,2,3}d(self, kernel_size, stride=[], padding=0, ceil_mode=False, count_include_pad, divisor)
Shapes avg_pool(RuleContext& ctx, Args args) { return {pool_shape(ctx, args, -1, 4)}; }

namespace {
SymShape adaptive_shape(RuleContext& ctx, Args args) {
  const SymShape& x = tensor(args, 0, "self");
  const size_t n = pool_dims(ctx);
  if (x.size() != n + 1 && x.size() != n + 2) {
    fail("expected " + std::to_string(n + 1) + "-D or " + std::to_string(n + 2) + "-D input to adaptive pooling, got " + str(x));
  }
  std::vector<SymExpr> size = int_list(args, 1, "output_size");
  if (size.size() == 1 && n > 1) size.assign(n, size[0]);
  if (size.size() != n) fail("adaptive pooling output_size must have " + std::to_string(n) + " values");
  SymShape out(x.begin(), x.end() - n);
  for (const SymExpr& s : size) {
    require(ctx, sym_ge(s, 0), "adaptive pooling: output size must be non-negative", "negative output_size");
    out.push_back(s);
  }
  return out;
}
}  // namespace

// adaptive_avg_pool{1,2,3}d(self, output_size): batch dims + output_size (no guard).
Shapes adaptive_pool(RuleContext& ctx, Args args) { return {adaptive_shape(ctx, args)}; }

// adaptive_max_pool{1,2,3}d: (values, indices).
Shapes adaptive_max_pool(RuleContext& ctx, Args args) {
  SymShape out = adaptive_shape(ctx, args);
  return {out, out};
}

}  // namespace ptx::shapes::rules
