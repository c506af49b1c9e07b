// shapes/rules.h: symbolic shape rules, one pure function per ATen op family.
//
// A rule receives the op's arguments as the rule sees them (tensor shapes, symbolic ints, lists,
// scalars) and returns the symbolic shapes of the op's tensor outputs, in schema order (a
// Tensor[] output contributes one shape per element). Where the op needs a fact about sizes that
// is not decidable (two broadcast dims that may differ, a view's element count), the rule asks
// `ctx.env.guard_bool(..., ctx.why)` or `ctx.env.guard_int`, which decides on the sample and
// records a guard with the op and source line. A rule never evaluates hints to skip a guard.
//
// Rules are listed in one sorted table (shapes/rules/table.cpp) keyed by the op's name without
// overload ("aten::add"); the overload is in ctx.overload. In-place variants ("aten::relu_")
// are looked up by the frontend under their functional name.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "shapes/shape_env.h"
#include "shapes/sym.h"

namespace ptx::shapes {

/// One argument of an op as a shape rule sees it.
struct RuleArg {
  enum class Kind : uint8_t { kNone, kTensor, kInt, kIntList, kFloat, kBool, kTensorList, kString, kOther };
  Kind kind = Kind::kNone;
  SymShape shape;                 // kTensor
  SymExpr i;                      // kInt (maybe symbolic)
  std::vector<SymExpr> ints;      // kIntList
  double f = 0;                   // kFloat
  bool b = false;                 // kBool
  std::vector<std::optional<SymShape>> shapes;  // kTensorList (nullopt: a None inside Tensor?[])
  std::string s;                  // kString
  std::vector<double> floats;     // kOther holding a float[] (upsample scale_factors), else empty
  int dtype = -1;                 // kTensor: c10::ScalarType as int (for rules that care), else -1
  std::vector<int> dtypes;        // kTensorList: each element's dtype (-1 for None); may be empty

  bool is_none() const { return kind == Kind::kNone; }
};

struct RuleContext {
  ShapeEnv& env;
  const Provenance& why;
  std::string_view op;        // "aten::conv2d"
  std::string_view overload;  // "default", "Tensor", "int", ...
  /// The node is the in-place variant (aten::add_ looked up as aten::add): the output has self's
  /// shape and the other operands must broadcast to it.
  bool inplace = false;
  /// The sizes ATen computed for each tensor output on the sample (schema order), when the caller
  /// ran the op: rules for sizes that depend on data (nonzero, masked_select) read the sample's
  /// value of the unbacked symbol they create there (shapes/rules/data_dependent.cpp).
  std::span<const std::vector<int64_t>> sample_sizes = {};
};

/// Output shapes, or an error message (returned, not thrown, so the frontend can list every failure).
struct RuleResult {
  std::vector<SymShape> shapes;
  std::string error;  // non-empty: the op cannot be shaped with these arguments
  /// Indices (into `shapes`) of outputs that ATen returns as undefined tensors (None), e.g. the
  /// weights of _native_multi_head_attention with need_weights=False; their shape is empty.
  std::vector<size_t> undefined;
};

using ShapeRuleFn = RuleResult (*)(RuleContext& ctx, std::span<const RuleArg> args);

struct ShapeRule {
  const char* op;  // "aten::add"
  ShapeRuleFn fn;
};

/// The rule for `op` (name without overload), or nullptr. Binary search over the sorted table.
/// An in-place name ("aten::relu_") not in the table finds its functional rule ("aten::relu");
/// the caller sets ctx.inplace (or passes the in-place name as ctx.op) so that the rule returns
/// self's shape and checks that the other operands broadcast to it.
const ShapeRule* find_shape_rule(std::string_view op);
/// The whole table, sorted by op (for tests and listings of the ops).
std::span<const ShapeRule> shape_rules();

}  // namespace ptx::shapes
