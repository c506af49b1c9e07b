// shapes/rules/matmul.cpp: matmul, linear, mm, bmm, addmm, baddbmm, mv, dot.
#include <string>

#include "shapes/rules/all.h"
#include "shapes/rules/common.h"

namespace ptx::shapes::rules {

namespace {

void require_contract(RuleContext& ctx, SymExpr a, SymExpr b, const SymShape& sa, const SymShape& sb) {
  require_eq(ctx, a, b, "matmul: contraction dims must match",
             "shapes " + str(sa) + " and " + str(sb) + " cannot be multiplied");
}

// ATen matmul (aten/src/ATen/native/LinearAlgebra.cpp, torch/_refs matmul):
//   1-D @ 1-D -> [];  2-D @ 1-D -> [n];  1-D @ 2-D -> [p];  2-D @ 2-D -> [n, p];
//   otherwise batch dims (all but the last two; a 1-D operand has none) broadcast, and the
//   result is batch + [n if a is not 1-D] + [p if b is not 1-D].
SymShape matmul_shape(RuleContext& ctx, const SymShape& a, const SymShape& b) {
  const int64_t ra = rank(a), rb = rank(b);
  if (ra == 0 || rb == 0) fail("both arguments to matmul need to be at least 1D");
  const SymExpr ka = a[ra - 1];
  const SymExpr kb = rb == 1 ? b[0] : b[rb - 2];
  require_contract(ctx, ka, kb, a, b);
  const SymShape batch_a(a.begin(), a.end() - std::min<int64_t>(ra, 2));
  const SymShape batch_b(b.begin(), b.end() - std::min<int64_t>(rb, 2));
  SymShape out;
  if (ra >= 3 && rb <= 2) {
    out = batch_a;  // folded into a matrix product: no broadcasting with b
  } else if (rb >= 3 && ra <= 2) {
    out = batch_b;
  } else if (ra >= 3 && rb >= 3) {
    out = broadcast(ctx, batch_a, batch_b);
  }
  if (ra >= 2) out.push_back(a[ra - 2]);
  if (rb >= 2) out.push_back(b[rb - 1]);
  return out;
}

}  // namespace

Shapes matmul(RuleContext& ctx, Args args) {
  return {matmul_shape(ctx, tensor(args, 0, "self"), tensor(args, 1, "other"))};
}

// linear(input, weight, bias?) = matmul(input, weight.t()) + bias.
Shapes linear(RuleContext& ctx, Args args) {
  const SymShape& x = tensor(args, 0, "input");
  const SymShape& w = tensor(args, 1, "weight");
  if (rank(w) != 1 && rank(w) != 2) fail("linear weight must be 1-D or 2-D, got " + str(w));
  SymShape wt = w;
  if (rank(w) == 2) std::swap(wt[0], wt[1]);
  SymShape out = matmul_shape(ctx, x, wt);
  if (auto bias = opt_tensor(args, 2, "bias")) {
    // addmm (2-D input) broadcasts bias to the output; matmul + add broadcasts both ways.
    if (rank(x) == 2 && rank(w) == 2) {
      require_broadcastable_to(ctx, *bias, out);
    } else {
      out = broadcast(ctx, out, *bias);
    }
  }
  return {out};
}

Shapes mm(RuleContext& ctx, Args args) {
  const SymShape& a = tensor(args, 0, "self");
  const SymShape& b = tensor(args, 1, "mat2");
  if (rank(a) != 2 || rank(b) != 2) fail("mm needs 2-D operands, got " + str(a) + " and " + str(b));
  require_contract(ctx, a[1], b[0], a, b);
  return {{a[0], b[1]}};
}

Shapes bmm(RuleContext& ctx, Args args) {
  const SymShape& a = tensor(args, 0, "self");
  const SymShape& b = tensor(args, 1, "mat2");
  if (rank(a) != 3 || rank(b) != 3) fail("bmm needs 3-D operands, got " + str(a) + " and " + str(b));
  require_eq(ctx, a[0], b[0], "bmm: batch sizes must match", "bmm batch sizes differ");
  require_contract(ctx, a[2], b[1], a, b);
  return {{a[0], a[1], b[2]}};
}

// addmm(self, mat1, mat2, beta, alpha): mm(mat1, mat2), self broadcast to it.
Shapes addmm(RuleContext& ctx, Args args) {
  const SymShape out = mm(ctx, args.subspan(1))[0];
  require_broadcastable_to(ctx, tensor(args, 0, "self"), out);
  return {out};
}

Shapes baddbmm(RuleContext& ctx, Args args) {
  const SymShape out = bmm(ctx, args.subspan(1))[0];
  require_broadcastable_to(ctx, tensor(args, 0, "self"), out);
  return {out};
}

Shapes mv(RuleContext& ctx, Args args) {
  const SymShape& a = tensor(args, 0, "self");
  const SymShape& v = tensor(args, 1, "vec");
  if (rank(a) != 2 || rank(v) != 1) fail("mv needs a 2-D and a 1-D operand");
  require_contract(ctx, a[1], v[0], a, v);
  return {{a[0]}};
}

Shapes dot(RuleContext& ctx, Args args) {
  const SymShape& a = tensor(args, 0, "self");
  const SymShape& b = tensor(args, 1, "tensor");
  if (rank(a) != 1 || rank(b) != 1) fail("dot needs 1-D operands");
  require_contract(ctx, a[0], b[0], a, b);
  return {SymShape{}};
}

}  // namespace ptx::shapes::rules
