// passes/decompose/rewriter.h (private to passes/decompose): what a decomposition sees and uses.
//
// A Rewriter is made for one node. The decomposition reads the node's arguments by schema name,
// emits the replacement calls (appended; the pass moves them to where the node is) and returns the values that take
// the place of the node's outputs, one per output, or nullopt when it does not apply to these
// arguments (the node stays). Metas of new values are derived by the helpers below from metas the
// node already has, never from a sample: an intermediate value's sizes are known symbolically.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "ir/sym_materialize.h"

namespace ptx::passes::decomp {

using Outputs = std::optional<std::vector<ir::Value*>>;

/// An argument by schema name, positional (`named`) or keyword-only as torch prints it (`kwarg`).
inline ir::NamedArg named(const char* name, ir::ArgValue v) { return {name, std::move(v), false}; }
inline ir::NamedArg kwarg(const char* name, ir::ArgValue v) { return {name, std::move(v), true}; }

class Rewriter {
 public:
  Rewriter(ir::Graph& graph, const ir::Node& node, const std::vector<ir::Value*>& user_inputs);

  const ir::Node& node() const { return node_; }
  /// The node's output i (its meta is what the replacement must produce).
  ir::Value* out(size_t i = 0) const { return node_.outputs().at(i); }

  // ---- arguments, by schema name --------------------------------------------------------------
  const ir::ArgValue* find(const std::string& name) const;
  /// A tensor argument (InternalError if missing); nullptr for None or absent when `optional`.
  ir::Value* tensor(const std::string& name, bool optional = false) const;
  int64_t int_or(const std::string& name, int64_t fallback) const;
  double float_or(const std::string& name, double fallback) const;
  bool bool_or(const std::string& name, bool fallback) const;
  /// An int[] argument as written (constants and SymInt values); `fallback` if absent.
  std::vector<ir::SymIntArg> ints_or(const std::string& name, std::vector<ir::SymIntArg> fallback) const;
  /// The argument as written, or `fallback` if absent.
  ir::ArgValue arg_or(const std::string& name, ir::ArgValue fallback) const;

  // ---- emitting --------------------------------------------------------------------------------
  /// A call before the node, one output per meta (a tensor each); returns its outputs.
  /// `returns_list`: the op returns Tensor[] and the outputs are its elements (split).
  std::vector<ir::Value*> call(const std::string& target, std::vector<ir::NamedArg> args,
                               const std::vector<ir::TensorMeta>& metas, const std::string& hint,
                               bool returns_list = false);
  /// As call, with one output.
  ir::Value* call1(const std::string& target, std::vector<ir::NamedArg> args, const ir::TensorMeta& meta,
                   const std::string& hint);
  /// A symbolic size as an int[] element: a constant, or sym_size/_operator nodes computing it.
  ir::SymIntArg size_arg(shapes::SymExpr e);
  std::vector<ir::SymIntArg> sizes_arg(const shapes::SymShape& sizes);
  /// The same size as a scalar argument (a Scalar or SymInt parameter: split_size, add's other).
  ir::ArgValue scalar_arg(shapes::SymExpr e);

 private:
  ir::Graph& graph_;
  const ir::Node& node_;
  ir::SymMaterializer sym_;
};

// ---- metas -------------------------------------------------------------------------------------
shapes::SymShape contiguous_strides(const shapes::SymShape& sizes);
/// `like` with other sizes (and contiguous strides for them).
ir::TensorMeta with_sizes(const ir::TensorMeta& like, const shapes::SymShape& sizes);
/// `like` with another dtype.
ir::TensorMeta with_dtype(const ir::TensorMeta& like, ir::DType dtype);
/// The meta of permute(x, perm): sizes and strides permuted.
ir::TensorMeta permuted(const ir::TensorMeta& x, const std::vector<int64_t>& perm);
/// Whether strides are the contiguous strides of the sizes (dims of size 1 may have any stride).
bool is_contiguous(const ir::TensorMeta& m);
/// The strides of view(x, sizes) when the view exists (ATen's computeStride, with symbolic sizes
/// compared structurally: an unknown answer is "no view"), else nullopt.
std::optional<shapes::SymShape> view_strides(const ir::TensorMeta& x, const shapes::SymShape& sizes);
/// A dim argument in [0, rank).
int64_t wrap_dim(int64_t dim, size_t rank);

}  // namespace ptx::passes::decomp
