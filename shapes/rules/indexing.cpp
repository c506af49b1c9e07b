// shapes/rules/indexing.cpp: index_select, embedding, gather.
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

}  // namespace ptx::shapes::rules
