// shapes/rules/data_dependent.cpp: ops whose output sizes depend on tensor values: nonzero,
// masked_select, unique, repeat_interleave with tensor repeats, torchvision::nms. Each size becomes a fresh unbacked
// symbol (Note [Unbacked symbols] in shapes/unbacked.cpp) with the range torch gives it (nonzero's
// count in [0, numel]) and the sample's value, read from ctx.sample_sizes, as its hint.
#include <string>

#include "shapes/interval.h"
#include "shapes/rules/all.h"
#include "shapes/rules/common.h"

namespace ptx::shapes::rules {

namespace {

/// The sample's size of output `out`, dim `dim` (the op ran on the sample before the rule).
int64_t sample_size(RuleContext& ctx, size_t out, size_t dim) {
  if (out >= ctx.sample_sizes.size() || dim >= ctx.sample_sizes[out].size()) {
    fail(std::string(ctx.op) + ": the output size depends on the data; the rule needs the sample's sizes");
  }
  return ctx.sample_sizes[out][dim];
}

}  // namespace

std::optional<int64_t> upper_bound(RuleContext& ctx, SymExpr e) {
  const Interval b = bounds_of(e, [&](SymExpr s) {
    const Range r = ctx.env.range_of(s);
    return Interval{r.min == Range::kNoMin ? std::nullopt : std::optional<int64_t>(r.min), r.max};
  });
  return b.hi;
}

SymExpr new_count(RuleContext& ctx, int64_t hint, SymExpr at_most, const std::string& what) {
  return ctx.env.create_unbacked(hint, Range{0, upper_bound(ctx, at_most)}, ctx.why, what);
}

// nonzero(self) -> [u, rank(self)], u in [0, numel(self)].
Shapes nonzero(RuleContext& ctx, Args args) {
  const SymShape& x = tensor(args, 0, "self");
  const SymExpr u = new_count(ctx, sample_size(ctx, 0, 0), numel(x), "the row count of nonzero");
  return {{u, SymExpr(rank(x))}};
}

// where(condition) -> one [u] per dim of condition (its nonzero's columns, as torch records
// aten.where.default), u in [0, numel(condition)].
Shapes where_condition(RuleContext& ctx, Args args) {
  const SymShape& x = tensor(args, 0, "condition");
  if (x.empty()) fail("where(condition) of a 0-dim condition is not supported");
  const SymExpr u = new_count(ctx, sample_size(ctx, 0, 0), numel(x), "the element count of where(condition)");
  return Shapes(x.size(), SymShape{u});
}

// masked_select(self, mask) -> [u], u in [0, numel(broadcast(self, mask))].
Shapes masked_select(RuleContext& ctx, Args args) {
  const SymShape b = broadcast(ctx, tensor(args, 0, "self"), tensor(args, 1, "mask"));
  return {{new_count(ctx, sample_size(ctx, 0, 0), numel(b), "the length of masked_select")}};
}

// _unique2(self, sorted, return_inverse, return_counts) -> (values [u], inverse: self's shape or
// [0], counts: [u] or [0]); unique_consecutive(self, return_inverse, return_counts, dim=None) the
// same. u in [0, numel(self)].
Shapes unique(RuleContext& ctx, Args args) {
  const SymShape& x = tensor(args, 0, "self");
  const bool consecutive = ctx.op == "aten::unique_consecutive";
  if (consecutive && has(args, 3)) fail("unique_consecutive with a dim is not supported");
  const bool inverse = bool_arg(args, consecutive ? 1 : 2, false, "return_inverse");
  const bool counts = bool_arg(args, consecutive ? 2 : 3, false, "return_counts");
  const SymExpr u = new_count(ctx, sample_size(ctx, 0, 0), numel(x), "the number of unique values");
  return {{u}, inverse ? x : SymShape{0}, counts ? SymShape{u} : SymShape{0}};
}

// repeat_interleave.Tensor(repeats, output_size=None) -> [u], u >= 0 (the sum of repeats);
// repeat_interleave.self_Tensor(self, repeats, dim=None, output_size=None): dim's size (or the
// flattened self's) becomes u. With a scalar repeat (self_int) the size is n * repeats.
Shapes repeat_interleave(RuleContext& ctx, Args args) {
  if (ctx.overload == "Tensor") {
    const SymShape& r = tensor(args, 0, "repeats");
    if (r.size() != 1) fail("repeat_interleave: repeats must be 1-D");
    if (has(args, 1)) return {{int_arg(args, 1, "output_size")}};
    return {{ctx.env.create_unbacked(sample_size(ctx, 0, 0), Range{0, std::nullopt}, ctx.why,
                                     "the sum of repeat_interleave's repeats")}};
  }
  SymShape x = tensor(args, 0, "self");
  const std::optional<int64_t> dim = opt_const_int(ctx, args, 2, "dim");
  const size_t d = dim ? static_cast<size_t>(wrap_dim(*dim, rank(x))) : 0;
  if (!dim) x = {numel(x)};
  if (x.empty()) x = {1};
  if (ctx.overload == "self_int") {
    x[d] = x[d] * int_arg(args, 1, "repeats");
    return {x};
  }
  if (has(args, 3)) {
    x[d] = int_arg(args, 3, "output_size");
    return {x};
  }
  const SymShape& r = tensor(args, 1, "repeats");
  if (r.size() > 1) fail("repeat_interleave: repeats must be 0-D or 1-D");
  x[d] = ctx.env.create_unbacked(sample_size(ctx, 0, d), Range{0, std::nullopt}, ctx.why,
                                 "the sum of repeat_interleave's repeats");
  return {x};
}

// torchvision::nms(dets [N, 4], scores [N], iou_threshold) -> keep [u] (int64), u in [0, N], as
// torchvision's fake kernel says (torchvision/_meta_registrations.py: dets 2-D with 4 columns, scores
// 1-D of dets' length, a new unbacked size for the output).
Shapes nms(RuleContext& ctx, Args args) {
  const SymShape& dets = tensor(args, 0, "dets");
  const SymShape& scores = tensor(args, 1, "scores");
  if (dets.size() != 2) fail("nms: boxes should be a 2d tensor, got " + std::to_string(dets.size()) + "D");
  require_eq(ctx, dets[1], SymExpr(4), "nms: boxes should have 4 elements in dimension 1",
             "nms: boxes should have 4 elements in dimension 1");
  if (scores.size() != 1) fail("nms: scores should be a 1d tensor, got " + std::to_string(scores.size()) + "D");
  require_eq(ctx, dets[0], scores[0], "nms: boxes and scores should have the same number of elements",
             "nms: boxes and scores should have the same number of elements in dimension 0");
  return {{new_count(ctx, sample_size(ctx, 0, 0), dets[0], "the number of boxes nms keeps")}};
}

}  // namespace ptx::shapes::rules
