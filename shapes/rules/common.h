// shapes/rules/common.h: private helpers of the shape rules (argument access, dims, guards,
// broadcasting, element counts). Not for use outside shapes/rules/.
//
// Rules are written as `Shapes rule(RuleContext&, Args)` and report unsupported arguments by
// calling fail(...) (which throws RuleFailure); wrap<rule> turns that into RuleResult::error, so
// the table only holds functions that never throw for bad arguments.
//
// Note [Guards in rules]
// ~~~~~~~~~~~~~~~~~~~~~~
// A rule asks a question about symbolic sizes only through decide() / require() (or
// ShapeEnv::guard_int through specialize()), which record the guard with ctx.why and a reason.
// Min/Max are preferred over a guard where ATen clamps (slicing); helpers smin/smax fold them when
// the symbols' ranges decide the comparison (ShapeEnv::statically_true), which records nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "shapes/rules.h"

namespace ptx::shapes::rules {

using Args = std::span<const RuleArg>;
using Shapes = std::vector<SymShape>;

/// Thrown by fail(); caught by wrap<>.
struct RuleFailure {
  std::string message;
};
[[noreturn]] void fail(std::string message);

/// Adapts a throwing rule to the table's ShapeRuleFn.
template <Shapes (*F)(RuleContext&, Args)>
RuleResult wrap(RuleContext& ctx, Args args) {
  try {
    return RuleResult{F(ctx, args), {}, {}};
  } catch (const RuleFailure& f) {
    return RuleResult{{}, f.message, {}};
  }
}

/// A rule that also reports outputs ATen returns as undefined tensors (None).
template <RuleResult (*F)(RuleContext&, Args)>
RuleResult wrap_result(RuleContext& ctx, Args args) {
  try {
    return F(ctx, args);
  } catch (const RuleFailure& f) {
    return RuleResult{{}, f.message, {}};
  }
}

// ---- arguments ----------------------------------------------------------------------------
/// True when args[i] exists and is not None.
bool has(Args args, size_t i);
const SymShape& tensor(Args args, size_t i, const char* what);
/// nullopt for a missing or None argument.
std::optional<SymShape> opt_tensor(Args args, size_t i, const char* what);
/// An int argument (maybe symbolic). A kFloat holding an integral value is not accepted.
SymExpr int_arg(Args args, size_t i, const char* what);
std::optional<SymExpr> opt_int(Args args, size_t i, const char* what);
/// An int that must be a constant (dims, kernel sizes, flags): a symbolic value is specialized
/// with a guard (ShapeEnv::guard_int), as torch does when it needs a Python int.
int64_t const_int(RuleContext& ctx, Args args, size_t i, const char* what);
std::optional<int64_t> opt_const_int(RuleContext& ctx, Args args, size_t i, const char* what);
/// An int[] argument; a single kInt is accepted as a one-element list.
std::vector<SymExpr> int_list(Args args, size_t i, const char* what);
std::vector<int64_t> const_int_list(RuleContext& ctx, Args args, size_t i, const char* what);
/// int[]? : nullopt for None or missing.
std::optional<std::vector<SymExpr>> opt_int_list(Args args, size_t i, const char* what);
bool bool_arg(Args args, size_t i, bool default_value, const char* what);
double float_arg(Args args, size_t i, double default_value, const char* what);
const std::vector<std::optional<SymShape>>& tensor_list(Args args, size_t i, const char* what);

// ---- dims ---------------------------------------------------------------------------------
/// ATen maybe_wrap_dim: d in [-rank, rank) (a 0-d tensor counts as rank 1 when wrap_scalar).
int64_t wrap_dim(int64_t d, int64_t rank, bool wrap_scalar = true);
int64_t rank(const SymShape& s);

// ---- guards (Note [Guards in rules]) -----------------------------------------------------
/// The value of `cond` on the sample; records a guard unless the ranges decide it.
bool decide(RuleContext& ctx, const SymBool& cond, const char* reason);
/// Like decide(), but `cond` must hold: fails (with `message`) when it does not on the sample.
void require(RuleContext& ctx, const SymBool& cond, const char* reason, const std::string& message);
/// `a` and `b` must be equal: no guard when structurally equal, else Eq(a, b) is guarded.
void require_eq(RuleContext& ctx, SymExpr a, SymExpr b, const char* reason, const std::string& message);
/// The constant value of `e`, specializing (guard Eq(e, value)) when symbolic.
int64_t specialize(RuleContext& ctx, SymExpr e, const char* reason);
/// True when the ranges prove `cond` (no guard, no hint).
bool known(RuleContext& ctx, const SymBool& cond);
/// Min/Max folded when the ranges decide the comparison.
SymExpr smin(RuleContext& ctx, SymExpr a, SymExpr b);
SymExpr smax(RuleContext& ctx, SymExpr a, SymExpr b);

// ---- shapes -------------------------------------------------------------------------------
SymExpr numel(const SymShape& s);
/// ATen broadcasting of several shapes (Note [Broadcasting] in broadcast.cpp).
SymShape broadcast(RuleContext& ctx, std::span<const SymShape> shapes);
SymShape broadcast(RuleContext& ctx, const SymShape& a, const SymShape& b);
/// `from` must broadcast to exactly `to` (in-place ops, copy_, expand_as-like checks).
void require_broadcastable_to(RuleContext& ctx, const SymShape& from, const SymShape& to);
/// ATen infer_size for view/reshape/unflatten: `sizes` may hold one -1; `in_dims` are the dims
/// whose product is the element count. Guards element-count equality / divisibility
/// (after cancelling dims common to both sides).
SymShape infer_size(RuleContext& ctx, const std::vector<SymExpr>& sizes, const SymShape& in_dims);
/// True for an in-place variant: ctx.inplace, or an in-place name ("aten::add_", not "aten::__and__").
bool is_inplace(const RuleContext& ctx);

std::string str(const SymShape& s);

}  // namespace ptx::shapes::rules
