// shapes/rules/cat_stack.cpp: cat, stack, chunk, split (by size or sizes), split_with_sizes,
// unbind. Ops with a Tensor[] output return one shape per element; when the element count depends
// on a symbolic size (chunk/split of a symbolic dim, unbind), it is specialized with a guard, as
// torch does (guard_int).
#include <string>
#include <vector>

#include "shapes/rules/all.h"
#include "shapes/rules/common.h"

namespace ptx::shapes::rules {

namespace {
std::vector<SymShape> tensors_of(Args args, size_t i) {
  std::vector<SymShape> out;
  for (const auto& s : tensor_list(args, i, "tensors")) {
    if (!s) fail("tensor list element is None");
    out.push_back(*s);
  }
  return out;
}

/// ATen legacy cat: a 1-D tensor of size 0 is skipped whatever its rank.
bool legacy_empty(const SymShape& s) { return s.size() == 1 && s[0] == SymExpr(0); }
}  // namespace

// cat(tensors, dim): non-cat dims must match (guard Eq when symbolic), cat dim is the sum.
Shapes cat(RuleContext& ctx, Args args) {
  const std::vector<SymShape> ts = tensors_of(args, 0);
  if (ts.empty()) fail("torch.cat(): expected a non-empty list of Tensors");
  const int64_t dim_arg = has(args, 1) ? const_int(ctx, args, 1, "dim") : 0;
  const SymShape* first = nullptr;
  for (const SymShape& t : ts) {
    if (!legacy_empty(t)) {
      first = &t;
      break;
    }
  }
  if (first == nullptr) return {ts[0]};
  if (first->empty()) fail("zero-dimensional tensor cannot be concatenated");
  const int64_t dim = wrap_dim(dim_arg, rank(*first));
  SymShape out = *first;
  SymExpr total = 0;
  for (const SymShape& t : ts) {
    if (legacy_empty(t)) continue;
    if (t.size() != first->size()) {
      fail("tensors must have the same number of dimensions: got " + str(*first) + " and " + str(t));
    }
    for (size_t i = 0; i < t.size(); ++i) {
      if (static_cast<int64_t>(i) == dim) continue;
      require_eq(ctx, out[i], t[i], "cat: sizes must match except in the cat dim",
                 "cat: sizes of " + str(*first) + " and " + str(t) + " must match except in dimension " + std::to_string(dim));
    }
    total = total + t[dim];
  }
  out[dim] = total;
  return {out};
}

// stack(tensors, dim): all shapes equal; a new dim of the list's length.
Shapes stack(RuleContext& ctx, Args args) {
  const std::vector<SymShape> ts = tensors_of(args, 0);
  if (ts.empty()) fail("stack expects a non-empty TensorList");
  const int64_t dim = wrap_dim(has(args, 1) ? const_int(ctx, args, 1, "dim") : 0, rank(ts[0]) + 1, false);
  for (const SymShape& t : ts) {
    if (t.size() != ts[0].size()) fail("stack expects each tensor to be equal size, got " + str(ts[0]) + " and " + str(t));
    for (size_t i = 0; i < t.size(); ++i) {
      require_eq(ctx, ts[0][i], t[i], "stack: shapes must be equal", "stack expects each tensor to be equal size");
    }
  }
  SymShape out = ts[0];
  out.insert(out.begin() + dim, SymExpr(static_cast<int64_t>(ts.size())));
  return {out};
}

// meshgrid(tensors) / meshgrid.indexing(tensors, indexing): each input 0-d or 1-d; every output has
// the sizes of the inputs in order ("ij", the default), the first two swapped for "xy".
Shapes meshgrid(RuleContext&, Args args) {
  const std::vector<SymShape> ts = tensors_of(args, 0);
  if (ts.empty()) fail("torch.meshgrid: Expected at least one tensor");
  std::string indexing = "ij";
  if (has(args, 1) && args[1].kind == RuleArg::Kind::kString) indexing = args[1].s;
  if (indexing != "ij" && indexing != "xy") {
    fail("torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: " + indexing);
  }
  SymShape grid;
  for (const SymShape& t : ts) {
    if (t.size() > 1) fail("torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: " + str(t));
    grid.push_back(t.empty() ? SymExpr(1) : t[0]);
  }
  if (indexing == "xy" && grid.size() >= 2) std::swap(grid[0], grid[1]);
  return Shapes(ts.size(), grid);
}

namespace {
/// ATen split(self, split_size, dim): max(ceil(n / split_size), 1) pieces, the last one smaller.
Shapes split_by_size(RuleContext& ctx, const SymShape& x, int64_t dim, SymExpr split_size) {
  const SymExpr n = x[dim];
  require(ctx, sym_ge(split_size, 0), "split: split_size must be non-negative", "split expects split_size be non-negative");
  int64_t pieces = 1;
  if (decide(ctx, sym_ne(split_size, 0), "split: is split_size 0")) {
    pieces = std::max<int64_t>(specialize(ctx, ceil_div(n, split_size), "split: number of pieces"), 1);
  } else {
    require(ctx, sym_eq(n, 0), "split: split_size 0 needs an empty dim", "split_size can only be 0 if dimension size is 0");
  }
  Shapes out;
  for (int64_t i = 0; i < pieces; ++i) {
    SymShape s = x;
    s[dim] = i + 1 < pieces ? split_size : n - split_size * (pieces - 1);
    out.push_back(s);
  }
  return out;
}

Shapes split_by_sizes(RuleContext& ctx, const SymShape& x, int64_t dim, const std::vector<SymExpr>& sizes) {
  SymExpr total = 0;
  Shapes out;
  for (const SymExpr& s : sizes) {
    require(ctx, sym_ge(s, 0), "split_with_sizes: sizes must be non-negative", "split_with_sizes expects non-negative sizes");
    total = total + s;
    SymShape piece = x;
    piece[dim] = s;
    out.push_back(piece);
  }
  require_eq(ctx, total, x[dim], "split_with_sizes: sizes must sum to the dim",
             "split_with_sizes expects split_sizes to sum exactly to " + x[dim].str());
  return out;
}
}  // namespace

// split.Tensor(self, split_size, dim) / split.sizes(self, split_size[], dim) / split_with_sizes.
Shapes split(RuleContext& ctx, Args args) {
  const SymShape& x = tensor(args, 0, "self");
  if (x.empty()) fail("split expects at least a 1-dimensional tensor");
  const int64_t dim = wrap_dim(has(args, 2) ? const_int(ctx, args, 2, "dim") : 0, rank(x));
  if (has(args, 1) && args[1].kind == RuleArg::Kind::kIntList) return split_by_sizes(ctx, x, dim, args[1].ints);
  return split_by_size(ctx, x, dim, int_arg(args, 1, "split_size"));
}

// chunk(self, chunks, dim): split(ceil(n / chunks)); when n == 0, `chunks` empty pieces.
Shapes chunk(RuleContext& ctx, Args args) {
  const SymShape& x = tensor(args, 0, "self");
  if (x.empty()) fail("chunk expects at least a 1-dimensional tensor");
  const int64_t chunks = const_int(ctx, args, 1, "chunks");
  if (chunks <= 0) fail("chunk expects `chunks` to be greater than 0, got: " + std::to_string(chunks));
  const int64_t dim = wrap_dim(has(args, 2) ? const_int(ctx, args, 2, "dim") : 0, rank(x));
  const SymExpr n = x[dim];
  if (decide(ctx, sym_eq(n, 0), "chunk: is the dim empty")) {
    SymShape piece = x;
    piece[dim] = 0;
    return Shapes(chunks, piece);
  }
  return split_by_size(ctx, x, dim, ceil_div(n, chunks));
}

// unbind(self, dim): one piece per index of dim (specialized when symbolic).
Shapes unbind(RuleContext& ctx, Args args) {
  const SymShape& x = tensor(args, 0, "self");
  if (x.empty()) fail("unbind: dimension specified as 0 but tensor has no dimensions");
  const int64_t dim = wrap_dim(has(args, 1) ? const_int(ctx, args, 1, "dim") : 0, rank(x));
  const int64_t n = specialize(ctx, x[dim], "unbind: number of pieces");
  SymShape piece = x;
  piece.erase(piece.begin() + dim);
  return Shapes(n, piece);
}

}  // namespace ptx::shapes::rules
