// passes/decompose/matmul.cpp: matmul and scaled_dot_product_attention (core), as ATen's composite
// matmul and _scaled_dot_product_attention_math write them and torch's run_decompositions() shows:
//
//   matmul(a, b):
//     2-d @ 2-d                          mm
//     n-d @ 2-d, a's batch dims mergeable (torch's should_fold: stride[i] == stride[i+1] * size[i+1])
//                                        view(mm(view(a, [-1, K]), b), batch + [N, M])
//     otherwise (n >= 3 on one side, batch dims equal or absent on the other)
//                                        view(bmm(view(expand(a, batch + [N, K]), [B, N, K]),
//                                                 view(expand(b, batch + [K, M]), [B, K, M])), batch + [N, M])
//   An expanded operand that no view can make 3-d (a transposed key, a slice of a permuted tensor) is
//   copied first, as ATen's reshape does: view(clone(expand(..), contiguous), [B, N, K]).
//   Vectors and broadcast batches of size 1 stay a matmul.
//
//   scaled_dot_product_attention(q, k, v) without mask, dropout, causality or grouped heads:
//     s = sqrt(scale or 1 / sqrt(E));  attn = matmul(q * s, permute(k, last two swapped) * s)
//     p = _softmax(attn, -1);  rows of attn that are all -inf give 0 (torch's _safe_softmax:
//     eq, logical_not, any, logical_not, full_like, where);  out = matmul(p, v),
//     restrided to the op's own output strides (the CPU flash kernel's layout) by
//     permute(memory order) + clone + permute back, as torch writes it.
#include <cmath>
#include <limits>

#include "passes/decompose/families.h"

namespace ptx::passes::decomp {
namespace {

using shapes::SymExpr;
using shapes::SymShape;


SymExpr product(const SymShape& sizes, size_t begin, size_t end) {
  SymExpr p(1);
  for (size_t d = begin; d < end; ++d) p = p * sizes[d];
  return p;
}

bool should_fold(const ir::TensorMeta& a, const ir::TensorMeta& b) {
  const size_t ra = a.sizes.size();
  if (ra < 3 || b.sizes.size() != 2 || a.strides.size() != ra) return false;
  for (size_t i = 0; i + 2 < ra; ++i) {
    if (!(a.strides[i] == a.strides[i + 1] * a.sizes[i + 1])) return false;
  }
  return true;
}

/// The batch dims both operands expand to (a's or b's; equal when both have them), or nullopt.
std::optional<SymShape> batch_of(const ir::TensorMeta& a, const ir::TensorMeta& b) {
  const size_t ra = a.sizes.size(), rb = b.sizes.size();
  if (ra < 2 || rb < 2 || (ra < 3 && rb < 3)) return std::nullopt;
  const SymShape ba(a.sizes.begin(), a.sizes.end() - 2), bb(b.sizes.begin(), b.sizes.end() - 2);
  if (ba.empty()) return bb;
  if (bb.empty()) return ba;
  if (ba.size() != bb.size()) return std::nullopt;
  for (size_t i = 0; i < ba.size(); ++i) {
    if (!(ba[i] == bb[i])) return std::nullopt;
  }
  return ba;
}

/// x expanded to batch + its last two sizes: new leading dims have stride 0.
ir::TensorMeta expanded(const ir::TensorMeta& x, const SymShape& batch) {
  ir::TensorMeta m = x;
  const size_t lead = batch.size() + 2 - x.sizes.size();
  m.sizes = batch;
  m.sizes.push_back(x.sizes[x.sizes.size() - 2]);
  m.sizes.push_back(x.sizes.back());
  m.strides.assign(lead, SymExpr(0));
  m.strides.insert(m.strides.end(), x.strides.begin(), x.strides.end());
  return m;
}

SymShape three_d(const ir::TensorMeta& e, size_t batch_rank) {
  return {product(e.sizes, 0, batch_rank), e.sizes[batch_rank], e.sizes[batch_rank + 1]};
}

ir::Value* view(Rewriter& r, ir::Value* x, const SymShape& sizes, ir::TensorMeta meta) {
  meta.sizes = sizes;
  if (auto st = view_strides(x->meta(), sizes)) meta.strides = *st;
  return r.call1("aten::view.default", {named("self", x), named("size", r.sizes_arg(sizes))}, meta, "view");
}

ir::Value* mul_scalar(Rewriter& r, ir::Value* x, double s) {
  return r.call1("aten::mul.Scalar", {named("self", x), named("other", s)}, x->meta(), "mul");
}

/// Dims from outermost to innermost in x's memory (strides are products of sizes), or nullopt.
std::optional<std::vector<int64_t>> memory_order(const ir::TensorMeta& x) {
  const size_t n = x.sizes.size();
  if (x.strides.size() != n) return std::nullopt;
  std::vector<int64_t> inner_first;
  std::vector<bool> used(n, false);
  SymExpr running(1);
  for (size_t k = 0; k < n; ++k) {
    int64_t pick = -1;
    for (size_t d = n; d-- > 0;) {
      if (!used[d] && x.strides[d] == running) {
        pick = static_cast<int64_t>(d);
        break;
      }
    }
    if (pick < 0) return std::nullopt;
    used[static_cast<size_t>(pick)] = true;
    inner_first.push_back(pick);
    running = running * x.sizes[static_cast<size_t>(pick)];
  }
  return std::vector<int64_t>(inner_first.rbegin(), inner_first.rend());
}

}  // namespace

bool can_matmul(const ir::TensorMeta& a, const ir::TensorMeta& b) {
  const size_t ra = a.sizes.size(), rb = b.sizes.size();
  if (ra == 2 && rb == 2) return true;
  if (should_fold(a, b)) return view_strides(a, {product(a.sizes, 0, ra - 1), a.sizes.back()}).has_value();
  return batch_of(a, b).has_value();
}

ir::Value* emit_matmul(Rewriter& r, ir::Value* a, ir::Value* b, const ir::TensorMeta& out) {
  const ir::TensorMeta& am = a->meta();
  const ir::TensorMeta& bm = b->meta();
  const size_t ra = am.sizes.size();
  if (ra == 2 && bm.sizes.size() == 2) {
    return r.call1("aten::mm.default", {named("self", a), named("mat2", b)}, out, "mm");
  }
  if (should_fold(am, bm)) {
    const SymExpr rows = product(am.sizes, 0, ra - 1);
    ir::Value* flat = view(r, a, {rows, am.sizes.back()}, am);
    ir::Value* mm = r.call1("aten::mm.default", {named("self", flat), named("mat2", b)},
                            with_sizes(out, {rows, bm.sizes[1]}), "mm");
    return view(r, mm, out.sizes, out);
  }
  const SymShape batch = *batch_of(am, bm);
  auto to_3d = [&](ir::Value* x) {
    const ir::TensorMeta e = expanded(x->meta(), batch);
    ir::Value* ex = r.call1("aten::expand.default", {named("self", x), named("size", r.sizes_arg(e.sizes))}, e, "expand");
    const SymShape flat = three_d(e, batch.size());
    if (view_strides(e, flat)) return view(r, ex, flat, e);
    // ATen's reshape of a tensor no view can flatten: a contiguous copy, then the view.
    const ir::TensorMeta dense = with_sizes(e, e.sizes);  // contiguous strides
    ir::Value* copy = r.call1("aten::clone.default", {named("self", ex), kwarg("memory_format", ir::MemoryFormatArg{0})},
                              dense, "clone");
    return view(r, copy, flat, dense);
  };
  ir::Value* a3 = to_3d(a);
  ir::Value* b3 = to_3d(b);
  const SymShape mm_sizes = {a3->meta().sizes[0], a3->meta().sizes[1], b3->meta().sizes[2]};
  ir::Value* mm = r.call1("aten::bmm.default", {named("self", a3), named("mat2", b3)}, with_sizes(out, mm_sizes), "bmm");
  return view(r, mm, out.sizes, out);
}

Outputs matmul(Rewriter& r) {
  ir::Value* a = r.tensor("self");
  ir::Value* b = r.tensor("other");
  if (!can_matmul(a->meta(), b->meta())) return std::nullopt;
  return std::vector<ir::Value*>{emit_matmul(r, a, b, r.out()->meta())};
}

Outputs scaled_dot_product_attention(Rewriter& r) {
  ir::Value* q = r.tensor("query");
  ir::Value* k = r.tensor("key");
  ir::Value* v = r.tensor("value");
  if (r.tensor("attn_mask", true) != nullptr || r.float_or("dropout_p", 0.0) != 0.0 || r.bool_or("is_causal", false) ||
      r.bool_or("enable_gqa", false)) {
    return std::nullopt;
  }
  const ir::TensorMeta& qm = q->meta();
  const ir::TensorMeta& out = r.out()->meta();
  const size_t rank = qm.sizes.size();
  if (rank < 3 || k->meta().sizes.size() != rank || v->meta().sizes.size() != rank || !qm.sizes.back().is_const()) {
    return std::nullopt;
  }
  const ir::ArgValue scale_arg = r.arg_or("scale", ir::NoneArg{});
  const double scale = std::holds_alternative<ir::NoneArg>(scale_arg)
                           ? 1.0 / std::sqrt(static_cast<double>(qm.sizes.back().value()))
                           : r.float_or("scale", 1.0);
  const double s = std::sqrt(scale);
  std::vector<int64_t> swap(rank);
  for (size_t i = 0; i < rank; ++i) swap[i] = static_cast<int64_t>(i);
  std::swap(swap[rank - 1], swap[rank - 2]);
  const ir::TensorMeta kt_meta = permuted(k->meta(), swap);
  SymShape attn_sizes(qm.sizes.begin(), qm.sizes.end() - 1);
  attn_sizes.push_back(k->meta().sizes[rank - 2]);
  const ir::TensorMeta attn_meta = with_sizes(out, attn_sizes);
  // Check every rewrite applies before emitting anything.
  SymShape out_sizes = attn_sizes;
  out_sizes.back() = v->meta().sizes.back();
  const auto order = memory_order(out);
  if (!can_matmul(qm, kt_meta) || !can_matmul(attn_meta, v->meta()) || !order) return std::nullopt;

  ir::Value* qs = mul_scalar(r, q, s);
  ir::Value* kt = r.call1("aten::permute.default",
                          {named("self", k), named("dims", std::vector<ir::SymIntArg>(swap.begin(), swap.end()))}, kt_meta,
                          "permute");
  ir::Value* attn = emit_matmul(r, qs, mul_scalar(r, kt, s), attn_meta);
  ir::Value* soft = r.call1("aten::_softmax.default",
                            {named("self", attn), named("dim", int64_t{-1}), named("half_to_float", false)}, attn_meta,
                            "_softmax");
  const ir::TensorMeta mask_meta = with_dtype(attn_meta, ir::DType::kBool);
  SymShape row_sizes = attn_sizes;
  row_sizes.back() = SymExpr(1);
  const ir::TensorMeta row_meta = with_dtype(with_sizes(attn_meta, row_sizes), ir::DType::kBool);
  ir::Value* eq = r.call1("aten::eq.Scalar",
                          {named("self", attn), named("other", -std::numeric_limits<double>::infinity())}, mask_meta, "eq");
  ir::Value* live = r.call1("aten::logical_not.default", {named("self", eq)}, mask_meta, "logical_not");
  ir::Value* any = r.call1("aten::any.dim", {named("self", live), named("dim", int64_t{-1}), named("keepdim", true)},
                           row_meta, "any");
  ir::Value* dead = r.call1("aten::logical_not.default", {named("self", any)}, row_meta, "logical_not");
  ir::Value* zeros = r.call1("aten::full_like.default",
                             {named("self", soft), named("fill_value", int64_t{0}), kwarg("pin_memory", false),
                              kwarg("memory_format", ir::MemoryFormatArg{1})},
                             attn_meta, "full_like");
  ir::Value* p = r.call1("aten::where.self", {named("condition", dead), named("self", zeros), named("other", soft)},
                         attn_meta, "where");
  ir::Value* o = emit_matmul(r, p, v, with_sizes(out, out_sizes));
  if (is_contiguous(out)) return std::vector<ir::Value*>{o};
  // The op's own output has the CPU kernel's layout: copy into that memory order, view back.
  std::vector<int64_t> inverse(rank);
  for (size_t i = 0; i < rank; ++i) inverse[static_cast<size_t>((*order)[i])] = static_cast<int64_t>(i);
  const ir::TensorMeta moved = permuted(o->meta(), *order);
  ir::Value* perm = r.call1("aten::permute.default",
                            {named("self", o), named("dims", std::vector<ir::SymIntArg>(order->begin(), order->end()))},
                            moved, "permute");
  ir::Value* copy = r.call1("aten::clone.default", {named("self", perm), kwarg("memory_format", ir::MemoryFormatArg{0})},
                            with_sizes(moved, moved.sizes), "clone");
  return std::vector<ir::Value*>{r.call1(
      "aten::permute.default",
      {named("self", copy), named("dims", std::vector<ir::SymIntArg>(inverse.begin(), inverse.end()))}, out, "permute")};
}

}  // namespace ptx::passes::decomp
