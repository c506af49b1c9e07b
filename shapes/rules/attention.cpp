// shapes/rules/attention.cpp: scaled_dot_product_attention and the fused transformer kernels
// that nn.MultiheadAttention / nn.TransformerEncoderLayer call on their fast path
// (_native_multi_head_attention, _transformer_encoder_layer_fwd). Nested tensors are not modelled:
// _nested_tensor_from_mask fails (the frontend must take the padded path), and to_padded_tensor
// is shaped only when output_size is given.
#include <string>
#include <vector>

#include "shapes/rules/all.h"
#include "shapes/rules/common.h"

namespace ptx::shapes::rules {

// scaled_dot_product_attention(q [..., L, E], k [..., S, E], v [..., S, Ev], attn_mask, dropout_p,
// is_causal, scale, enable_gqa) -> [..., L, Ev]; batch dims broadcast as in the math path
// (q @ k^T, then @ v). With enable_gqa, q's head count (dim -3) is kept.
Shapes sdpa(RuleContext& ctx, Args args) {
  const SymShape& q = tensor(args, 0, "query");
  const SymShape& k = tensor(args, 1, "key");
  const SymShape& v = tensor(args, 2, "value");
  if (q.size() < 2 || k.size() < 2 || v.size() < 2) fail("scaled_dot_product_attention needs at least 2-D query, key and value");
  require_eq(ctx, q.back(), k.back(), "sdpa: query and key embedding dims must match",
             "query " + str(q) + " and key " + str(k) + " have different embedding dims");
  require_eq(ctx, k[k.size() - 2], v[v.size() - 2], "sdpa: key and value sequence lengths must match",
             "key " + str(k) + " and value " + str(v) + " have different sequence lengths");
  const bool gqa = bool_arg(args, 7, false, "enable_gqa");
  SymShape qb(q.begin(), q.end() - 2), kb(k.begin(), k.end() - 2), vb(v.begin(), v.end() - 2);
  SymShape batch;
  if (gqa && qb.size() >= 1 && kb.size() >= 1 && vb.size() >= 1) {
    // Heads: q's count must be a multiple of k's and v's; the rest broadcasts.
    const SymExpr hq = qb.back(), hk = kb.back(), hv = vb.back();
    require(ctx, sym_eq(python_mod(hq, hk), 0), "sdpa: query heads must be a multiple of key heads", "enable_gqa: bad head counts");
    require(ctx, sym_eq(python_mod(hq, hv), 0), "sdpa: query heads must be a multiple of value heads", "enable_gqa: bad head counts");
    qb.pop_back();
    kb.pop_back();
    vb.pop_back();
    const SymShape parts[] = {qb, kb, vb};
    batch = broadcast(ctx, parts);
    batch.push_back(hq);
  } else {
    const SymShape parts[] = {qb, kb, vb};
    batch = broadcast(ctx, parts);
  }
  if (auto mask = opt_tensor(args, 3, "attn_mask")) {
    SymShape scores = batch;
    scores.push_back(q[q.size() - 2]);
    scores.push_back(k[k.size() - 2]);
    require_broadcastable_to(ctx, *mask, scores);
  }
  SymShape out = batch;
  out.push_back(q[q.size() - 2]);
  out.push_back(v.back());
  return {out};
}

// _native_multi_head_attention(query [B, L, E], key, value, embed_dim, num_head, qkv_weight,
// qkv_bias, proj_weight, proj_bias, mask, need_weights=True, average_attn_weights=True, mask_type)
// -> (out [B, L, E], weights [B, L, S] averaged / [B, H, L, S], or undefined without need_weights).
RuleResult native_mha(RuleContext& ctx, Args args) {
  const SymShape& q = tensor(args, 0, "query");
  const SymShape& k = tensor(args, 1, "key");
  tensor(args, 2, "value");
  if (q.size() != 3 || k.size() != 3) fail("_native_multi_head_attention expects 3-D query and key");
  const SymExpr embed = int_arg(args, 3, "embed_dim");
  const SymExpr heads = int_arg(args, 4, "num_head");
  require_eq(ctx, q[2], embed, "multi_head_attention: query must have embed_dim features",
             "query " + str(q) + " does not have embed_dim " + embed.str() + " features");
  require(ctx, sym_eq(python_mod(embed, heads), 0), "multi_head_attention: embed_dim divisible by heads",
          "embed_dim must be divisible by num_heads");
  const bool need_weights = bool_arg(args, 10, true, "need_weights");
  const bool average = bool_arg(args, 11, true, "average_attn_weights");
  RuleResult r;
  r.shapes.push_back(q);
  if (!need_weights) {
    r.shapes.push_back({});
    r.undefined.push_back(1);
  } else if (average) {
    r.shapes.push_back({q[0], q[1], k[1]});
  } else {
    r.shapes.push_back({q[0], heads, q[1], k[1]});
  }
  return r;
}

// _transformer_encoder_layer_fwd(src [B, L, E], embed_dim, ...) -> src's shape.
Shapes transformer_encoder_layer(RuleContext& ctx, Args args) {
  const SymShape& src = tensor(args, 0, "src");
  if (src.size() != 3) fail("_transformer_encoder_layer_fwd expects a 3-D src, got " + str(src));
  require_eq(ctx, src[2], int_arg(args, 1, "embed_dim"), "transformer_encoder_layer: src must have embed_dim features",
             "src " + str(src) + " does not have embed_dim features");
  return {src};
}

Shapes nested_from_mask(RuleContext&, Args) {
  fail("nested tensors are not supported (take the padded path: the fast path of nn.TransformerEncoder "
       "with src_key_padding_mask builds one)");
}

// to_padded_tensor(self, padding, output_size): output_size when given.
Shapes to_padded_tensor(RuleContext&, Args args) {
  if (!has(args, 2)) fail("to_padded_tensor without output_size needs a nested tensor's sizes, which are not modelled");
  return {int_list(args, 2, "output_size")};
}

}  // namespace ptx::shapes::rules
