// shapes/rules/resample.cpp: upsampling (nearest, bilinear, bicubic, ...) by output size or scale,
// pixel_shuffle / pixel_unshuffle, grid_sampler.
//
// A scale factor multiplies a symbolic size exactly only when it is a dyadic rational p / 2^k
// (2.0, 0.5, 1.5, ...): ATen computes floor(size * scale) in double, which then equals
// (size * p) // 2^k for every size below 2^52. Other scales are rejected by name.
#include <cmath>
#include <string>
#include <vector>

#include "shapes/rules/all.h"
#include "shapes/rules/common.h"

namespace ptx::shapes::rules {

namespace {
/// upsample_nearest1d / upsample_linear1d: 1; *3d: 3; else 2.
size_t spatial_of(const RuleContext& ctx) {
  const std::string_view op = ctx.op;
  if (op.find("1d") != std::string_view::npos) return 1;
  if (op.find("3d") != std::string_view::npos) return 3;
  return 2;
}

/// floor(size * scale) for a dyadic scale.
SymExpr scaled(SymExpr size, double scale) {
  if (!(scale > 0) || !std::isfinite(scale)) fail("upsample: scale factors must be positive");
  for (int k = 0; k <= 20; ++k) {
    const double p = std::ldexp(scale, k);
    if (p == std::floor(p) && p < 1e15) return floor_div(size * static_cast<int64_t>(p), int64_t{1} << k);
  }
  fail("upsample: scale factor " + std::to_string(scale) + " is not a dyadic rational (p / 2^k); give output_size instead");
}
}  // namespace

namespace {
Shapes upsample_sizes(RuleContext& ctx, Args args);
}  // namespace

// upsample_*.vec(input, output_size?, [align_corners,] scale_factors?) and the older overloads
// (input, output_size, [align_corners,] scales...): batch dims + output_size, or scaled sizes.
// ATen requires every input and output spatial size to be > 0 (guarded).
Shapes upsample(RuleContext& ctx, Args args) {
  Shapes out = upsample_sizes(ctx, args);
  const SymShape& x = tensor(args, 0, "input");
  const size_t n = spatial_of(ctx);
  for (size_t i = 0; i < n; ++i) {
    const SymExpr in = x[x.size() - n + i], o = out[0][out[0].size() - n + i];
    require(ctx, sym_ge(in, 1), "upsample: input sizes must be > 0", "upsample: input and output sizes should be greater than 0");
    require(ctx, sym_ge(o, 1), "upsample: output sizes must be > 0", "upsample: input and output sizes should be greater than 0");
  }
  return out;
}

namespace {
Shapes upsample_sizes(RuleContext& ctx, Args args) {
  const SymShape& x = tensor(args, 0, "input");
  const size_t n = spatial_of(ctx);
  if (x.size() < n + 1) fail("upsample: input " + str(x) + " has too few dims");
  SymShape out(x.begin(), x.end() - n);
  if (has(args, 1)) {
    const std::vector<SymExpr> size = int_list(args, 1, "output_size");
    if (size.size() != n) fail("upsample: output_size must have " + std::to_string(n) + " values");
    out.insert(out.end(), size.begin(), size.end());
    return {out};
  }
  // scale_factors: the last argument of the .vec overloads, a float[] (RuleArg::floats).
  const RuleArg& sf = args.back();
  if (sf.kind == RuleArg::Kind::kIntList) {
    std::vector<SymExpr> f = sf.ints;
    if (f.size() == 1 && n > 1) f.assign(n, f[0]);
    if (f.size() != n) fail("upsample: scale_factors must have " + std::to_string(n) + " values");
    for (size_t i = 0; i < n; ++i) out.push_back(x[x.size() - n + i] * specialize(ctx, f[i], "upsample scale"));
    return {out};
  }
  if (sf.kind == RuleArg::Kind::kFloat) {
    for (size_t i = 0; i < n; ++i) out.push_back(scaled(x[x.size() - n + i], sf.f));
    return {out};
  }
  if (sf.kind == RuleArg::Kind::kOther && !sf.floats.empty()) {
    std::vector<double> f = sf.floats;
    if (f.size() == 1 && n > 1) f.assign(n, f[0]);
    if (f.size() != n) fail("upsample: scale_factors must have " + std::to_string(n) + " values");
    for (size_t i = 0; i < n; ++i) out.push_back(scaled(x[x.size() - n + i], f[i]));
    return {out};
  }
  fail("upsample needs output_size or scale_factors");
}
}  // namespace

// pixel_shuffle(self, r): [..., C, H, W] -> [..., C / r^2, H*r, W*r]; pixel_unshuffle the inverse.
Shapes pixel_shuffle(RuleContext& ctx, Args args) {
  const SymShape& x = tensor(args, 0, "self");
  if (x.size() < 3) fail("pixel_shuffle expects at least 3 dims, got " + str(x));
  const int64_t r = const_int(ctx, args, 1, "factor");
  if (r <= 0) fail("pixel_shuffle factor must be positive");
  SymShape out = x;
  const size_t c = x.size() - 3, h = x.size() - 2, w = x.size() - 1;
  if (ctx.op == "aten::pixel_unshuffle") {
    require(ctx, sym_eq(python_mod(x[h], r), 0), "pixel_unshuffle: height divisible by the factor", "pixel_unshuffle: height not divisible");
    require(ctx, sym_eq(python_mod(x[w], r), 0), "pixel_unshuffle: width divisible by the factor", "pixel_unshuffle: width not divisible");
    out[c] = x[c] * (r * r);
    out[h] = floor_div(x[h], r);
    out[w] = floor_div(x[w], r);
    return {out};
  }
  require(ctx, sym_eq(python_mod(x[c], r * r), 0), "pixel_shuffle: channels divisible by factor^2",
          "pixel_shuffle: channels not divisible by the square of the factor");
  out[c] = floor_div(x[c], r * r);
  out[h] = x[h] * r;
  out[w] = x[w] * r;
  return {out};
}

// grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners) (and _2d / _3d):
// input [N, C, H, W] sampled at grid [N, Ho, Wo, 2] gives [N, C, Ho, Wo]; 5-D input with grid
// [N, Do, Ho, Wo, 3] gives [N, C, Do, Ho, Wo]. The batch sizes must agree.
Shapes grid_sampler(RuleContext& ctx, Args args) {
  const SymShape& x = tensor(args, 0, "input");
  const SymShape& g = tensor(args, 1, "grid");
  if (x.size() != 4 && x.size() != 5) fail("grid_sampler(): expected 4D or 5D input, but got input with sizes " + str(x));
  if (g.size() != x.size()) {
    fail("grid_sampler(): expected grid to have the same number of dimensions as input, but got " + str(g));
  }
  const int64_t spatial = static_cast<int64_t>(x.size()) - 2;
  if (g.back().as_const() != spatial) {
    fail("grid_sampler(): expected grid to have size " + std::to_string(spatial) + " in last dimension, but got grid with sizes " + str(g));
  }
  require_eq(ctx, x[0], g[0], "grid_sampler: input and grid batch sizes must match",
             "grid_sampler(): expected grid and input to have same batch size, but got input with sizes " + str(x) +
                 " and grid with sizes " + str(g));
  SymShape out{x[0], x[1]};
  out.insert(out.end(), g.begin() + 1, g.end() - 1);
  return {out};
}

}  // namespace ptx::shapes::rules
