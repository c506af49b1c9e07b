// shapes/rules/indexing.cpp: index_select, embedding, gather, advanced indexing (index.Tensor,
// index_put).
#include <string>

#include "shapes/rules/all.h"
#include "shapes/rules/common.h"

namespace ptx::shapes::rules {

// index_select(self, dim, index): index is 0-D or 1-D; dim becomes numel(index).
Shapes index_select(RuleContext& ctx, Args args) {
  SymShape x = tensor(args, 0, "self");
  if (has(args, 1) && args[1].kind != RuleArg::Kind::kInt) fail("index_select with a named dim is not supported");
  const SymShape& index = tensor(args, 2, "index");
  if (index.size() > 1) fail("index_select(): index is supposed to be a vector, got " + str(index));
  const int64_t dim = wrap_dim(const_int(ctx, args, 1, "dim"), rank(x));
  if (x.empty()) return {x};
  x[dim] = numel(index);
  return {x};
}

// embedding(weight, indices, padding_idx, scale_grad_by_freq, sparse): indices.shape + [dim].
Shapes embedding(RuleContext&, Args args) {
  const SymShape& w = tensor(args, 0, "weight");
  if (w.size() != 2) fail("embedding weight must be 2-D, got " + str(w));
  SymShape out = tensor(args, 1, "indices");
  out.push_back(w[1]);
  return {out};
}

// gather(self, dim, index, sparse_grad): index's shape.
Shapes gather(RuleContext& ctx, Args args) {
  const SymShape& x = tensor(args, 0, "self");
  const SymShape& index = tensor(args, 2, "index");
  wrap_dim(const_int(ctx, args, 1, "dim"), rank(x));
  if (!index.empty() && index.size() != x.size() && !x.empty()) {
    fail("gather: index " + str(index) + " and input " + str(x) + " must have the same number of dimensions");
  }
  return {index};
}

namespace {

// c10::ScalarType values of the mask dtypes (Byte, Bool).
constexpr int kByte = 0;
constexpr int kBool = 11;

/// x[mask] (index.Tensor with one boolean mask and no other index tensor): the mask's dims
/// (which must match self's from `at`) become one dim holding the number of true elements, a fresh
/// unbacked symbol in [0, numel(mask)] read from the sample (shapes/rules/data_dependent.cpp).
SymShape mask_index(RuleContext& ctx, const SymShape& self, const RuleArg& list, size_t at) {
  const auto& idx = list.shapes;
  for (size_t j = 0; j < idx.size(); ++j) {
    if (j != at && idx[j]) fail("indexing with a boolean mask together with other index tensors is not supported");
  }
  const SymShape& mask = *idx[at];
  if (at + mask.size() > self.size()) fail("too many indices for tensor of dimension " + std::to_string(rank(self)));
  for (size_t d = 0; d < mask.size(); ++d) {
    require_eq(ctx, mask[d], self[at + d], "index: the mask's dims must match the indexed dims",
               "the shape of the mask " + str(mask) + " does not match the shape of the indexed tensor " + str(self));
  }
  if (ctx.sample_sizes.empty() || at >= ctx.sample_sizes.front().size()) fail("index with a mask: the rule needs the sample's sizes");
  SymShape out(self.begin(), self.begin() + static_cast<std::ptrdiff_t>(at));
  out.push_back(new_count(ctx, ctx.sample_sizes.front()[at], numel(mask), "the number of true elements of a mask index"));
  out.insert(out.end(), self.begin() + static_cast<std::ptrdiff_t>(at + mask.size()), self.end());
  return out;
}

struct AdvancedIndex {
  SymShape shape;  // the result's shape
};

// ATen advanced indexing (TensorIterator-based index, "advanced indexing" in the NumPy sense):
// `indices` has at most rank(self) entries, None entries keep their dim; the index tensors
// broadcast together to B. If the indexed dims are adjacent, B replaces them in place; otherwise
// B comes first, followed by the kept dims in order. Boolean masks (their nonzero positions) give
// data-dependent sizes: not supported.
SymShape advanced_index(RuleContext& ctx, const SymShape& self, const RuleArg& list) {
  const auto& idx = list.shapes;
  if (static_cast<int64_t>(idx.size()) > rank(self)) {
    fail("too many indices for tensor of dimension " + std::to_string(rank(self)) + " (got " +
         std::to_string(idx.size()) + ")");
  }
  std::vector<SymShape> tensors;
  int64_t first = -1, last = -1;
  bool adjacent = true;
  for (size_t i = 0; i < idx.size(); ++i) {
    if (!idx[i]) continue;
    if (i < list.dtypes.size() && (list.dtypes[i] == kBool || list.dtypes[i] == kByte)) {
      return mask_index(ctx, self, list, i);
    }
    if (last >= 0 && static_cast<int64_t>(i) != last + 1) adjacent = false;
    if (first < 0) first = static_cast<int64_t>(i);
    last = static_cast<int64_t>(i);
    tensors.push_back(*idx[i]);
  }
  if (tensors.empty()) return self;  // x[None, None]-like: every dim kept
  const SymShape b = broadcast(ctx, tensors);
  SymShape out;
  if (adjacent) {
    out.insert(out.end(), self.begin(), self.begin() + first);
    out.insert(out.end(), b.begin(), b.end());
    out.insert(out.end(), self.begin() + last + 1, self.end());
  } else {
    out = b;
    for (size_t d = 0; d < self.size(); ++d) {
      if (d >= idx.size() || !idx[d]) out.push_back(self[d]);
    }
  }
  return out;
}

}  // namespace

// index.Tensor(self, Tensor?[] indices): advanced indexing (advanced_index above).
Shapes index(RuleContext& ctx, Args args) {
  const SymShape& self = tensor(args, 0, "self");
  tensor_list(args, 1, "indices");
  return {advanced_index(ctx, self, args[1])};
}

// index_put(self, indices, values, accumulate): self's shape; values must broadcast to the shape
// of self[indices].
Shapes index_put(RuleContext& ctx, Args args) {
  const SymShape& self = tensor(args, 0, "self");
  tensor_list(args, 1, "indices");
  for (size_t i = 0; i < args[1].shapes.size() && i < args[1].dtypes.size(); ++i) {
    if (!args[1].shapes[i] || (args[1].dtypes[i] != kBool && args[1].dtypes[i] != kByte)) continue;
    // x[mask] = v: the number of selected elements is data; a single value broadcasts to any.
    for (const SymExpr& d : tensor(args, 2, "values")) {
      if (d != SymExpr(1)) fail("index_put with a boolean mask: values must be a single element (got " + str(tensor(args, 2, "values")) + ")");
    }
    return {self};
  }
  const SymShape target = advanced_index(ctx, self, args[1]);
  require_broadcastable_to(ctx, tensor(args, 2, "values"), target);
  return {self};
}

}  // namespace ptx::shapes::rules
