// shapes/rules/broadcast.cpp: elementwise ops (unary and n-ary with broadcasting), their in-place
// variants, and ops whose output is shaped like self.
#include <vector>

#include "shapes/rules/all.h"
#include "shapes/rules/common.h"

namespace ptx::shapes::rules {

// Every tensor argument takes part in broadcasting (add.Tensor, mul, eq, pow, masked_fill, where,
// clamp.Tensor, ...); scalars do not. An in-place variant keeps self's shape, and the other
// operands must broadcast to it.
Shapes elementwise(RuleContext& ctx, Args args) {
  std::vector<SymShape> shapes;
  for (const RuleArg& a : args) {
    if (a.kind == RuleArg::Kind::kTensor) shapes.push_back(a.shape);
  }
  if (shapes.empty()) fail("no tensor operand");
  if (ctx.op == "aten::where" && args.size() == 1) return where_condition(ctx, args);
  if (is_inplace(ctx)) {
    if (args.empty() || args[0].kind != RuleArg::Kind::kTensor) fail("in-place op without a tensor self");
    for (size_t i = 1; i < shapes.size(); ++i) require_broadcastable_to(ctx, shapes[i], shapes[0]);
    return {shapes[0]};
  }
  return {broadcast(ctx, shapes)};
}

// Output shaped like argument 0, whatever the other arguments are (contiguous, dropout, softmax,
// triu, roll, to.other, type_as, ...).
Shapes same_as_self(RuleContext&, Args args) { return {tensor(args, 0, "self")}; }

// copy(self, src) / copy_: self's shape; src must broadcast to it.
Shapes copy(RuleContext& ctx, Args args) {
  const SymShape& self = tensor(args, 0, "self");
  if (auto src = opt_tensor(args, 1, "src")) require_broadcastable_to(ctx, *src, self);
  return {self};
}

// native_dropout(input, p, train) -> (output, mask), both input's shape.
Shapes two_like_self(RuleContext&, Args args) {
  const SymShape& x = tensor(args, 0, "input");
  return {x, x};
}

// glu(self, dim=-1): the dim is halved (it must be even).
Shapes glu(RuleContext& ctx, Args args) {
  SymShape x = tensor(args, 0, "self");
  if (x.empty()) fail("glu does not support scalars because halving size must be even");
  const int64_t dim = wrap_dim(has(args, 1) ? const_int(ctx, args, 1, "dim") : -1, rank(x));
  require(ctx, sym_eq(python_mod(x[dim], 2), 0), "glu: the dim must be even",
          "halving dimension must be even, but dimension " + std::to_string(dim) + " is size " + x[dim].str());
  x[dim] = floor_div(x[dim], 2);
  return {x};
}

}  // namespace ptx::shapes::rules
