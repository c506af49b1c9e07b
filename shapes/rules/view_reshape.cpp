// shapes/rules/view_reshape.cpp: view, reshape, flatten, unflatten, permute, transpose, t,
// squeeze, unsqueeze, expand, expand_as, view_as, reshape_as, repeat, movedim.
//
// view/reshape infer a -1 with floor division after guarding divisibility, and guard element-count
// equality otherwise (see infer_size in common.cpp). Strides are not modelled: a view that ATen
// would reject for non-contiguous input is not detected here (the frontend runs the op).
#include <algorithm>
#include <string>
#include <vector>

#include "shapes/rules/all.h"
#include "shapes/rules/common.h"

namespace ptx::shapes::rules {

// view(self, size) / reshape(self, shape) / _unsafe_view.
Shapes view(RuleContext& ctx, Args args) {
  const SymShape& x = tensor(args, 0, "self");
  if (has(args, 1) && args[1].kind == RuleArg::Kind::kOther) fail("view(dtype) is not supported");
  return {infer_size(ctx, int_list(args, 1, "size"), x)};
}

// view_as / reshape_as / expand_as (self, other): other's shape (expand_as: self must broadcast).
Shapes view_as(RuleContext& ctx, Args args) {
  const SymShape& x = tensor(args, 0, "self");
  const SymShape& other = tensor(args, 1, "other");
  if (ctx.op == "aten::expand_as") {
    require_broadcastable_to(ctx, x, other);
    return {other};
  }
  return {infer_size(ctx, other, x)};
}

// flatten(self, start_dim=0, end_dim=-1): the product of dims start..end (no guard).
Shapes flatten(RuleContext& ctx, Args args) {
  const SymShape& x = tensor(args, 0, "self");
  if (has(args, 1) && args[1].kind != RuleArg::Kind::kInt) fail("flatten with named dims is not supported");
  if (x.empty()) return {{SymExpr(1)}};
  const int64_t start = wrap_dim(has(args, 1) ? const_int(ctx, args, 1, "start_dim") : 0, rank(x));
  const int64_t end = wrap_dim(has(args, 2) ? const_int(ctx, args, 2, "end_dim") : -1, rank(x));
  if (start > end) fail("flatten() has invalid args: start_dim cannot come after end_dim");
  SymShape out(x.begin(), x.begin() + start);
  SymExpr p = 1;
  for (int64_t i = start; i <= end; ++i) p = p * x[i];
  out.push_back(p);
  out.insert(out.end(), x.begin() + end + 1, x.end());
  return {out};
}

// unflatten(self, dim, sizes): sizes may hold one -1 (divisibility guard as for view).
Shapes unflatten(RuleContext& ctx, Args args) {
  const SymShape& x = tensor(args, 0, "self");
  const int64_t dim = wrap_dim(const_int(ctx, args, 1, "dim"), rank(x));
  const std::vector<SymExpr> sizes = int_list(args, 2, "sizes");
  if (sizes.empty()) fail("unflatten: sizes must be non-empty");
  const SymShape mid = infer_size(ctx, sizes, {x[dim]});
  SymShape out(x.begin(), x.begin() + dim);
  out.insert(out.end(), mid.begin(), mid.end());
  out.insert(out.end(), x.begin() + dim + 1, x.end());
  return {out};
}

Shapes permute(RuleContext& ctx, Args args) {
  const SymShape& x = tensor(args, 0, "self");
  const std::vector<int64_t> dims = const_int_list(ctx, args, 1, "dims");
  if (dims.size() != x.size()) fail("permute: number of dims " + std::to_string(dims.size()) + " does not match rank of " + str(x));
  SymShape out;
  std::vector<bool> seen(x.size(), false);
  for (int64_t d : dims) {
    const int64_t w = wrap_dim(d, rank(x), false);
    if (seen[w]) fail("permute: repeated dim " + std::to_string(d));
    seen[w] = true;
    out.push_back(x[w]);
  }
  return {out};
}

// transpose(self, dim0, dim1); swapaxes/swapdims alike.
Shapes transpose(RuleContext& ctx, Args args) {
  SymShape x = tensor(args, 0, "self");
  if (x.empty()) return {x};
  const int64_t a = wrap_dim(const_int(ctx, args, 1, "dim0"), rank(x));
  const int64_t b = wrap_dim(const_int(ctx, args, 2, "dim1"), rank(x));
  std::swap(x[a], x[b]);
  return {x};
}

// t(self): rank <= 2.
Shapes t(RuleContext&, Args args) {
  SymShape x = tensor(args, 0, "self");
  if (x.size() > 2) fail("t() expects a tensor with <= 2 dimensions, got " + str(x));
  if (x.size() == 2) std::swap(x[0], x[1]);
  return {x};
}

// squeeze(self) / squeeze.dim(self, dim) / squeeze.dims(self, dims): a dim is removed when it is
// 1; a symbolic dim is decided with a guard Eq(d, 1) / Ne(d, 1).
Shapes squeeze(RuleContext& ctx, Args args) {
  const SymShape& x = tensor(args, 0, "self");
  std::vector<bool> candidate(x.size(), !has(args, 1));
  if (has(args, 1)) {
    for (int64_t d : const_int_list(ctx, args, 1, "dim")) {
      if (x.empty()) {
        wrap_dim(d, 0);
        continue;
      }
      candidate[wrap_dim(d, rank(x))] = true;
    }
  }
  SymShape out;
  for (size_t i = 0; i < x.size(); ++i) {
    if (candidate[i] && decide(ctx, sym_eq(x[i], 1), "squeeze: is the dim 1")) continue;
    out.push_back(x[i]);
  }
  return {out};
}

Shapes unsqueeze(RuleContext& ctx, Args args) {
  SymShape x = tensor(args, 0, "self");
  const int64_t d = wrap_dim(const_int(ctx, args, 1, "dim"), rank(x) + 1, false);
  x.insert(x.begin() + d, SymExpr(1));
  return {x};
}

// expand(self, size, implicit): size may add leading dims; -1 keeps a dim; a dim of 1 takes the
// requested size; any other dim must equal the request (guard Eq when symbolic).
Shapes expand(RuleContext& ctx, Args args) {
  const SymShape& x = tensor(args, 0, "self");
  const std::vector<SymExpr> size = int_list(args, 1, "size");
  if (size.size() < x.size()) {
    fail("expand: the number of sizes provided (" + std::to_string(size.size()) +
         ") must be greater or equal to the number of dimensions in the tensor (" + std::to_string(x.size()) + ")");
  }
  const size_t off = size.size() - x.size();
  SymShape out(size.size());
  for (size_t i = 0; i < size.size(); ++i) {
    const SymExpr want = size[i];
    if (i < off) {
      if (want == SymExpr(-1)) fail("expand: -1 is not allowed in a leading, non-existing dimension");
      require(ctx, sym_ge(want, 0), "expand: sizes must be non-negative", "expand: negative size " + want.str());
      out[i] = want;
      continue;
    }
    const SymExpr have = x[i - off];
    if (want == SymExpr(-1) || want == have) {
      out[i] = have;
    } else if (have == SymExpr(1)) {
      require(ctx, sym_ge(want, 0), "expand: sizes must be non-negative", "expand: negative size " + want.str());
      out[i] = want;
    } else if (have.is_const() && want.is_const()) {
      fail("expand: the expanded size " + want.str() + " must match the existing size " + have.str());
    } else if (decide(ctx, sym_eq(have, want), "expand: sizes must match")) {
      out[i] = want.is_const() ? want : have;
    } else if (decide(ctx, sym_eq(have, 1), "expand: is the dim 1")) {
      out[i] = want;
    } else {
      fail("expand: the expanded size " + want.str() + " must match the existing size " + have.str());
    }
  }
  return {out};
}

// repeat(self, repeats): self padded with leading 1s, times repeats.
Shapes repeat(RuleContext& ctx, Args args) {
  const SymShape& x = tensor(args, 0, "self");
  const std::vector<SymExpr> reps = int_list(args, 1, "repeats");
  if (reps.size() < x.size()) fail("repeat: number of repeat dims can not be smaller than number of tensor dims");
  const size_t off = reps.size() - x.size();
  SymShape out;
  for (size_t i = 0; i < reps.size(); ++i) {
    require(ctx, sym_ge(reps[i], 0), "repeat: repeats must be non-negative", "repeat: negative count");
    out.push_back(i < off ? reps[i] : x[i - off] * reps[i]);
  }
  return {out};
}

// movedim(self, source, destination) with int or int[] arguments.
Shapes movedim(RuleContext& ctx, Args args) {
  const SymShape& x = tensor(args, 0, "self");
  const std::vector<int64_t> src = const_int_list(ctx, args, 1, "source");
  const std::vector<int64_t> dst = const_int_list(ctx, args, 2, "destination");
  if (src.size() != dst.size()) fail("movedim: source and destination must have the same length");
  const int64_t r = rank(x);
  std::vector<int64_t> order(r, -1);
  std::vector<bool> used(r, false);
  for (size_t i = 0; i < src.size(); ++i) {
    const int64_t s = wrap_dim(src[i], r), d = wrap_dim(dst[i], r);
    if (order[d] != -1 || used[s]) fail("movedim: repeated dim");
    order[d] = s;
    used[s] = true;
  }
  int64_t next = 0;
  for (int64_t d = 0; d < r; ++d) {
    if (order[d] != -1) continue;
    while (used[next]) ++next;
    order[d] = next;
    used[next] = true;
  }
  SymShape out;
  for (int64_t d = 0; d < r; ++d) out.push_back(x[order[d]]);
  return {out};
}

// tile(self, dims): repeat with dims padded with leading 1s to self's rank.
Shapes tile(RuleContext& ctx, Args args) {
  const SymShape& x = tensor(args, 0, "self");
  std::vector<SymExpr> reps = int_list(args, 1, "dims");
  while (reps.size() < x.size()) reps.insert(reps.begin(), SymExpr(1));
  RuleArg r;
  r.kind = RuleArg::Kind::kIntList;
  r.ints = reps;
  const RuleArg a[] = {args[0], r};
  return repeat(ctx, a);
}

}  // namespace ptx::shapes::rules
