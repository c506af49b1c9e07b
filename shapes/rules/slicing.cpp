// shapes/rules/slicing.cpp: slice (with ATen's clamping), select, narrow, pad / constant_pad_nd.
//
// Note [Slice clamping]
// ~~~~~~~~~~~~~~~~~~~~~
// ATen slice (TensorShape.cpp) on a dim of size n with start a, end b, step s > 0:
//   a += n if a < 0;  b += n if b < 0;
//   a = 0 if a < 0, n if a >= n;  b = a if b < a, n if b >= n;  len = (b - a + s - 1) // s
// The signs of a and b are known for constants; for a symbolic start/end they are decided from the
// ranges or with a guard. The clamps are written as Min/Max (folded when the ranges decide them),
// so x[:, 1:], x[-7:] and friends need no guard: with n in [0, inf), x[1:] has Max(n - 1, 0)
// elements... and exactly n - 1 once the range says n >= 1.
#include <algorithm>
#include <string>
#include <vector>

#include "shapes/rules/all.h"
#include "shapes/rules/common.h"

namespace ptx::shapes::rules {

namespace {
constexpr int64_t kEndSentinel = int64_t{1} << 62;  // INT64_MAX and such: "to the end"

/// A pad amount that cannot be negative: a constant >= 0, Mod(_, c > 0), or proven by the ranges.
bool surely_non_negative(RuleContext& ctx, SymExpr v) {
  if (auto c = v.as_const()) return *c >= 0;
  if (v.kind() == SymKind::Mod) {
    auto d = v.operands()[1].as_const();
    if (d && *d > 0) return true;
  }
  return known(ctx, sym_ge(v, 0));
}

bool is_negative(RuleContext& ctx, SymExpr v) {
  if (auto c = v.as_const()) return *c < 0;
  return decide(ctx, sym_lt(v, 0), "slice: is the index negative");
}

/// Whether the sign of a bound read from data (an unbacked symbol) is unknown: the slice's length
/// is then a fresh unbacked symbol, as torch makes it (x[:k] with k = n.item(): u1 in [0, n]).
bool unknown_sign(RuleContext& ctx, const std::optional<SymExpr>& v) {
  return v && ctx.env.has_unbacked(*v) && !known(ctx, sym_ge(*v, 0)) && !known(ctx, sym_lt(*v, 0));
}

/// ATen's slice length on the sample (Note [Slice clamping]).
int64_t sample_slice_length(int64_t n, std::optional<int64_t> a, std::optional<int64_t> b, int64_t step) {
  int64_t s = a.value_or(0), e = b.value_or(n);
  if (s < 0) s += n;
  if (e < 0) e += n;
  s = std::clamp<int64_t>(s, 0, n);
  e = std::clamp<int64_t>(e, s, n);
  return (e - s + step - 1) / step;
}
}  // namespace

// slice.Tensor(self, dim=0, start=None, end=None, step=1)
Shapes slice(RuleContext& ctx, Args args) {
  SymShape x = tensor(args, 0, "self");
  if (x.empty()) fail("slice() cannot be applied to a 0-dim tensor");
  const int64_t dim = wrap_dim(has(args, 1) ? const_int(ctx, args, 1, "dim") : 0, rank(x));
  const int64_t step = has(args, 4) ? const_int(ctx, args, 4, "step") : 1;
  if (step <= 0) fail("slice step must be positive");
  const SymExpr n = x[dim];
  const std::optional<SymExpr> start = opt_int(args, 2, "start"), end = opt_int(args, 3, "end");
  if (unknown_sign(ctx, start) || unknown_sign(ctx, end)) {
    auto hint = [&](const std::optional<SymExpr>& v) -> std::optional<int64_t> {
      if (!v) return std::nullopt;
      return ctx.env.hint_of(*v);
    };
    const int64_t len = sample_slice_length(ctx.env.hint_of(n), hint(start), hint(end), step);
    x[dim] = new_count(ctx, len, n, "the length of a slice with a bound read from data");
    return {x};
  }
  // start
  SymExpr a = 0;
  if (auto s = opt_int(args, 2, "start")) {
    if (s->is_const() && s->value() >= kEndSentinel) {
      a = n;
    } else if (is_negative(ctx, *s)) {
      a = smax(ctx, *s + n, 0);  // a + n < n always
    } else {
      a = smin(ctx, *s, n);
    }
  }
  // end
  SymExpr b = n;
  if (auto e = opt_int(args, 3, "end"); e && !(e->is_const() && e->value() >= kEndSentinel)) {
    if (is_negative(ctx, *e)) {
      b = smax(ctx, *e + n, a);  // e + n < n always
    } else {
      b = smax(ctx, smin(ctx, *e, n), a);
    }
  }
  const SymExpr len = b - a;
  x[dim] = step == 1 ? len : floor_div(len + (step - 1), step);
  return {x};
}

// select.int(self, dim, index): index in [-n, n) (guarded when symbolic); the dim is removed.
Shapes select(RuleContext& ctx, Args args) {
  SymShape x = tensor(args, 0, "self");
  if (x.empty()) fail("select() cannot be applied to a 0-dim tensor");
  const int64_t dim = wrap_dim(const_int(ctx, args, 1, "dim"), rank(x));
  const SymExpr index = int_arg(args, 2, "index");
  const SymExpr n = x[dim];
  const std::string bad = "select(): index " + index.str() + " out of range for tensor of size " + n.str() + " at dimension " + std::to_string(dim);
  if (is_negative(ctx, index)) {
    require(ctx, sym_ge(index + n, 0), "select: index must be in range", bad);
  } else {
    require(ctx, sym_lt(index, n), "select: index must be in range", bad);
  }
  x.erase(x.begin() + dim);
  return {x};
}

// narrow(self, dim, start, length): start may be negative (wraps); start + length <= n.
Shapes narrow(RuleContext& ctx, Args args) {
  SymShape x = tensor(args, 0, "self");
  if (x.empty()) fail("narrow() cannot be applied to a 0-dim tensor");
  const int64_t dim = wrap_dim(const_int(ctx, args, 1, "dim"), rank(x));
  if (has(args, 2) && args[2].kind == RuleArg::Kind::kTensor) fail("narrow with a tensor start is not supported");
  SymExpr start = int_arg(args, 2, "start");
  const SymExpr length = int_arg(args, 3, "length");
  const SymExpr n = x[dim];
  if (is_negative(ctx, start)) start = start + n;
  require(ctx, sym_ge(length, 0), "narrow: length must be non-negative", "narrow(): length must be non-negative");
  require(ctx, sym_ge(start, 0), "narrow: start must be in range", "narrow(): start out of range");
  require(ctx, sym_le(start + length, n), "narrow: start + length must not exceed the dim",
          "narrow(): start (" + start.str() + ") + length (" + length.str() + ") exceeds dimension size (" + n.str() + ")");
  x[dim] = length;
  return {x};
}

// diff(self, n=1, dim=-1, prepend=None, append=None): prepend and append are joined to self along
// dim (the other dims must match), then n differences shorten it by n; ATen requires n >= 0 and
// gives an empty dim when n exceeds the joined length, which the guard keeps out of the graph.
Shapes diff(RuleContext& ctx, Args args) {
  SymShape x = tensor(args, 0, "self");
  if (x.empty()) fail("diff expects input to be at least one-dimensional");
  const int64_t n = opt_const_int(ctx, args, 1, "n").value_or(1);
  if (n < 0) fail("order must be non-negative but got " + std::to_string(n));
  const int64_t dim = wrap_dim(opt_const_int(ctx, args, 2, "dim").value_or(-1), rank(x));
  SymExpr len = x[static_cast<size_t>(dim)];
  for (size_t i : {size_t{3}, size_t{4}}) {
    const std::optional<SymShape> extra = opt_tensor(args, i, i == 3 ? "prepend" : "append");
    if (!extra) continue;
    if (extra->size() != x.size()) fail("diff expects prepend or append to be the same dimension as input");
    for (size_t d = 0; d < x.size(); ++d) {
      if (static_cast<int64_t>(d) == dim) continue;
      require(ctx, sym_eq((*extra)[d], x[d]), "diff: prepend/append must match the input outside dim",
              "diff: sizes of prepend or append must match the input outside dim");
    }
    len = len + (*extra)[static_cast<size_t>(dim)];
  }
  require(ctx, sym_ge(len, n), "diff: the order must not exceed the length along dim",
          "diff: order exceeds the length along dim");
  x[static_cast<size_t>(dim)] = len - n;
  return {x};
}

// pad(self, pad, mode="constant", value=None) and constant_pad_nd(self, pad, value): pad holds
// (left, right) pairs from the last dim backwards; each padded size is n + left + right, and for
// constant mode must be >= 0 (negative pads crop). reflect needs pad < n, circular pad <= n.
Shapes pad(RuleContext& ctx, Args args) {
  SymShape x = tensor(args, 0, "self");
  const std::vector<SymExpr> p = int_list(args, 1, "pad");
  std::string mode = "constant";
  if (ctx.op == "aten::pad" && has(args, 2)) {
    if (args[2].kind != RuleArg::Kind::kString) fail("pad mode must be a string");
    mode = args[2].s;
  }
  if (p.size() % 2 != 0) fail("padding length must be divisible by 2");
  if (p.size() / 2 > x.size()) fail("padding length too large for input " + str(x));
  if (mode != "constant" && mode != "reflect" && mode != "replicate" && mode != "circular") {
    fail("unsupported padding mode '" + mode + "'");
  }
  for (size_t i = 0; i < p.size() / 2; ++i) {
    const size_t d = x.size() - 1 - i;
    const SymExpr l = p[2 * i], r = p[2 * i + 1];
    const SymExpr n = x[d];
    if (mode == "reflect") {
      require(ctx, sym_lt(l, n), "pad: reflect padding must be smaller than the dim", "reflect padding must be < input size");
      require(ctx, sym_lt(r, n), "pad: reflect padding must be smaller than the dim", "reflect padding must be < input size");
    } else if (mode == "circular") {
      require(ctx, sym_le(l, n), "pad: circular padding must not exceed the dim", "circular padding must be <= input size");
      require(ctx, sym_le(r, n), "pad: circular padding must not exceed the dim", "circular padding must be <= input size");
    }
    const SymExpr out = n + l + r;
    // A tensor's size is never negative, so non-negative pads need no check.
    if (!(surely_non_negative(ctx, l) && surely_non_negative(ctx, r))) require(ctx, sym_ge(out, 0), "pad: padded size must be non-negative",
            "the padded size of dimension " + std::to_string(d) + " is negative: " + out.str());
    x[d] = out;
  }
  return {x};
}

}  // namespace ptx::shapes::rules
