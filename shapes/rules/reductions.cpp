// shapes/rules/reductions.cpp: sum, mean, amax, amin, prod, all, any, max/min (reduction and
// binary forms), argmax, argmin, var, std, logsumexp, norm. No guards: reduced dims become 1
// (keepdim) or disappear.
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "shapes/rules/all.h"
#include "shapes/rules/common.h"

namespace ptx::shapes::rules {

namespace {
/// `dims` empty or None means every dim (ATen's reduction convention for dim lists).
SymShape reduce(const SymShape& x, const std::optional<std::vector<int64_t>>& dims, bool keepdim) {
  std::vector<bool> reduced(x.size(), !dims || dims->empty());
  if (dims) {
    std::vector<bool> seen(std::max<size_t>(x.size(), 1), false);
    for (int64_t d : *dims) {
      const int64_t w = wrap_dim(d, rank(x));
      if (seen[w]) fail("dim " + std::to_string(d) + " appears multiple times in the list of dims");
      seen[w] = true;
      if (!x.empty()) reduced[w] = true;
    }
  }
  SymShape out;
  for (size_t i = 0; i < x.size(); ++i) {
    if (!reduced[i]) {
      out.push_back(x[i]);
    } else if (keepdim) {
      out.push_back(1);
    }
  }
  return out;
}

std::optional<std::vector<int64_t>> dims_at(RuleContext& ctx, Args args, size_t i) {
  if (!has(args, i)) return std::nullopt;
  if (args[i].kind != RuleArg::Kind::kInt && args[i].kind != RuleArg::Kind::kIntList) {
    fail("reduction over named dims is not supported");
  }
  return const_int_list(ctx, args, i, "dim");
}

/// The overload has a dim argument at index 1 (an int, int[] or None). sum/mean/prod/all/any
/// "default" overloads are (self) or (self, dtype): a dtype arrives as an int, so the overload
/// name decides for them.
bool has_dim_arg(const RuleContext& ctx, Args args) {
  static constexpr std::string_view kAllOnly[] = {"aten::sum", "aten::mean", "aten::prod", "aten::all",
                                                  "aten::any", "aten::nansum"};
  if (ctx.overload == "default" || ctx.overload.empty()) {
    for (std::string_view op : kAllOnly) {
      if (ctx.op == op || (ctx.op.size() == op.size() + 1 && ctx.op.starts_with(op))) return false;
    }
  }
  return args.size() > 1 && (args[1].kind == RuleArg::Kind::kInt || args[1].kind == RuleArg::Kind::kIntList ||
                             (args[1].kind == RuleArg::Kind::kNone && args.size() > 2));
}
}  // namespace

// sum/mean/amax/amin/prod/all/any/logsumexp/norm-like: (self) reduces all to [];
// (self, dim, keepdim, ...) reduces dim. prod.dim_int and all.dim/any.dim take one int.
Shapes reduction(RuleContext& ctx, Args args) {
  const SymShape& x = tensor(args, 0, "self");
  if (!has_dim_arg(ctx, args)) return {SymShape{}};
  return {reduce(x, dims_at(ctx, args, 1), bool_arg(args, 2, false, "keepdim"))};
}

// norm.ScalarOpt_dim(self, p, dim, keepdim, ...) / linalg_vector_norm(self, ord, dim, keepdim,
// dtype): dims at index 2. norm.Scalar(self, p) and norm.ScalarOpt_dtype(self, p, dtype) reduce all.
Shapes norm(RuleContext& ctx, Args args) {
  const SymShape& x = tensor(args, 0, "self");
  if (args.size() < 3 || ctx.overload == "ScalarOpt_dtype" || ctx.overload == "Scalar") return {SymShape{}};
  return {reduce(x, dims_at(ctx, args, 2), bool_arg(args, 3, false, "keepdim"))};
}

// var/std: var(self, unbiased) -> []; var.dim(self, dim, unbiased, keepdim);
// var.correction(self, dim, correction, keepdim). keepdim is the last bool argument.
Shapes var_std(RuleContext& ctx, Args args) {
  const SymShape& x = tensor(args, 0, "self");
  if (args.size() < 2 || args[1].kind == RuleArg::Kind::kBool) return {SymShape{}};
  const bool keepdim = bool_arg(args, 3, false, "keepdim");
  return {reduce(x, dims_at(ctx, args, 1), keepdim)};
}

// max/min: (self) -> []; (self, other) -> broadcast; (self, dim, keepdim) -> (values, indices).
Shapes max_min(RuleContext& ctx, Args args) {
  if (args.size() > 1 && args[1].kind == RuleArg::Kind::kTensor) return elementwise(ctx, args);
  const SymShape& x = tensor(args, 0, "self");
  if (args.size() < 2) return {SymShape{}};
  const SymShape out = reduce(x, std::vector<int64_t>{const_int(ctx, args, 1, "dim")}, bool_arg(args, 2, false, "keepdim"));
  return {out, out};
}

// argmax/argmin(self, dim=None, keepdim=False): None flattens (keepdim then gives all 1s).
Shapes arg_reduction(RuleContext& ctx, Args args) {
  const SymShape& x = tensor(args, 0, "self");
  const bool keepdim = bool_arg(args, 2, false, "keepdim");
  if (!has(args, 1)) return {keepdim ? SymShape(x.size(), SymExpr(1)) : SymShape{}};
  return {reduce(x, std::vector<int64_t>{const_int(ctx, args, 1, "dim")}, keepdim)};
}

// topk(self, k, dim=-1, largest, sorted) -> (values, indices) with dim of size k (k <= n guarded).
Shapes topk(RuleContext& ctx, Args args) {
  SymShape x = tensor(args, 0, "self");
  const SymExpr k = int_arg(args, 1, "k");
  const int64_t dim = wrap_dim(has(args, 2) ? const_int(ctx, args, 2, "dim") : -1, rank(x));
  require(ctx, sym_ge(k, 0), "topk: k must be non-negative", "topk: k must be non-negative");
  if (x.empty()) {
    require(ctx, sym_le(k, 1), "topk: k must not exceed the dim", "selected index k out of range");
    return {x, x};
  }
  require(ctx, sym_le(k, x[dim]), "topk: k must not exceed the dim", "selected index k out of range");
  x[dim] = k;
  return {x, x};
}

// sort(self, dim, descending) / sort.stable(self, stable, dim, descending) -> (values, indices).
Shapes sort(RuleContext&, Args args) {
  const SymShape& x = tensor(args, 0, "self");
  return {x, x};
}

}  // namespace ptx::shapes::rules
