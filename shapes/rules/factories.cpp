// shapes/rules/factories.cpp: tensors made from sizes or values: zeros/ones/empty/full/rand/randn,
// new_* (size argument), *_like (self's shape), tensor/scalar_tensor, arange, linspace, eye.
#include <cmath>
#include <string>
#include <vector>

#include "shapes/rules/all.h"
#include "shapes/rules/common.h"

namespace ptx::shapes::rules {

namespace {
SymShape sizes(RuleContext& ctx, Args args, size_t i) {
  if (has(args, i) && args[i].kind == RuleArg::Kind::kTensorList) fail("size must be an int list");
  SymShape out = int_list(args, i, "size");
  for (const SymExpr& d : out) {
    require(ctx, sym_ge(d, 0), "factory: sizes must be non-negative", "negative dimension " + d.str());
  }
  return out;
}
}  // namespace

// zeros/ones/empty/full/rand/randn(size, ...): the size list.
Shapes factory(RuleContext& ctx, Args args) { return {sizes(ctx, args, 0)}; }

// new_zeros/new_ones/new_empty/new_full(self, size, ...).
Shapes new_factory(RuleContext& ctx, Args args) {
  tensor(args, 0, "self");
  return {sizes(ctx, args, 1)};
}

// tensor(data, ...) / scalar_tensor(s, ...): [] for a number, [n] for a flat list.
Shapes tensor_data(RuleContext&, Args args) {
  if (args.empty()) fail("tensor(): missing data");
  switch (args[0].kind) {
    case RuleArg::Kind::kInt:
    case RuleArg::Kind::kFloat:
    case RuleArg::Kind::kBool:
      return {SymShape{}};
    case RuleArg::Kind::kIntList:
      return {SymShape{SymExpr(static_cast<int64_t>(args[0].ints.size()))}};
    default:
      fail("tensor(): only a number or a flat int list is supported");
  }
}

// arange(end) / arange.start(start, end) / arange.start_step(start, end, step): with ints,
// ceil((end - start) / step) elements (end >= start guarded for step > 0); with floats, all
// constant, the same in double arithmetic.
Shapes arange(RuleContext& ctx, Args args) {
  // Leading numeric arguments: 1 (end), 2 (start, end) or 3 (start, end, step).
  size_t count = 0;
  bool floats = false;
  while (count < 3 && count < args.size() &&
         (args[count].kind == RuleArg::Kind::kInt || args[count].kind == RuleArg::Kind::kFloat)) {
    floats = floats || args[count].kind == RuleArg::Kind::kFloat;
    ++count;
  }
  // arange(end, dtype, layout, device, pin_memory): a dtype arrives as an int; the overload says.
  if (ctx.overload == "default" || ctx.overload.empty()) count = std::min<size_t>(count, 1);
  if (ctx.overload == "start") count = std::min<size_t>(count, 2);
  if (count == 0) fail("arange: missing end");
  if (floats) {
    const double start = count >= 2 ? float_arg(args, 0, 0, "start") : 0.0;
    const double end = float_arg(args, count >= 2 ? 1 : 0, 0, "end");
    const double step = count == 3 ? float_arg(args, 2, 1, "step") : 1.0;
    for (size_t i = 0; i < count; ++i) {
      if (args[i].kind == RuleArg::Kind::kInt && !args[i].i.is_const()) {
        fail("arange with symbolic and float arguments is not supported");
      }
    }
    if (step == 0) fail("arange: step must be nonzero");
    const double n = std::ceil((end - start) / step);
    if (n < 0) fail("arange: upper bound and larger bound inconsistent with step sign");
    return {{SymExpr(static_cast<int64_t>(n))}};
  }
  const SymExpr start = count >= 2 ? int_arg(args, 0, "start") : SymExpr(0);
  const SymExpr end = int_arg(args, count >= 2 ? 1 : 0, "end");
  const int64_t step = count == 3 ? const_int(ctx, args, 2, "step") : 1;
  if (step == 0) fail("arange: step must be nonzero");
  if (step > 0) {
    require(ctx, sym_ge(end, start), "arange: end must not be below start",
            "arange: upper bound and larger bound inconsistent with step sign");
    return {{ceil_div(end - start, step)}};
  }
  require(ctx, sym_le(end, start), "arange: end must not be above start",
          "arange: upper bound and larger bound inconsistent with step sign");
  return {{ceil_div(start - end, -step)}};
}

// linspace(start, end, steps, ...): steps elements (ATen: steps must be non-negative).
Shapes linspace(RuleContext& ctx, Args args) {
  const SymExpr steps = int_arg(args, 2, "steps");
  require(ctx, sym_ge(steps, 0), "linspace: steps must be non-negative", "number of steps must be non-negative");
  return {{steps}};
}

// eye(n) / eye.m(n, m).
Shapes eye(RuleContext& ctx, Args args) {
  const SymExpr n = int_arg(args, 0, "n");
  SymExpr m = n;
  if (ctx.overload == "m" || (args.size() > 1 && args[1].kind == RuleArg::Kind::kInt && ctx.overload != "default")) {
    m = int_arg(args, 1, "m");
  }
  require(ctx, sym_ge(n, 0), "eye: n must be non-negative", "eye: n must be non-negative");
  require(ctx, sym_ge(m, 0), "eye: m must be non-negative", "eye: m must be non-negative");
  return {{n, m}};
}

}  // namespace ptx::shapes::rules
