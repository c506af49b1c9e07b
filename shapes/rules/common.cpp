// shapes/rules/common.cpp: argument access, guards, broadcasting and infer_size for the rules.
#include "shapes/rules/common.h"

#include <algorithm>
#include <numeric>
#include <sstream>
#include <utility>

namespace ptx::shapes::rules {

void fail(std::string message) { throw RuleFailure{std::move(message)}; }

namespace {

const char* kind_name(RuleArg::Kind k) {
  switch (k) {
    case RuleArg::Kind::kNone: return "None";
    case RuleArg::Kind::kTensor: return "Tensor";
    case RuleArg::Kind::kInt: return "int";
    case RuleArg::Kind::kIntList: return "int[]";
    case RuleArg::Kind::kFloat: return "float";
    case RuleArg::Kind::kBool: return "bool";
    case RuleArg::Kind::kTensorList: return "Tensor[]";
    case RuleArg::Kind::kString: return "str";
    case RuleArg::Kind::kOther: return "other";
  }
  return "?";
}

const RuleArg& at(Args args, size_t i, const char* what) {
  if (i >= args.size()) {
    fail(std::string("argument ") + std::to_string(i) + " (" + what + ") is missing");
  }
  return args[i];
}

[[noreturn]] void wrong_kind(size_t i, const char* what, const char* want, const RuleArg& a) {
  fail(std::string("argument ") + std::to_string(i) + " (" + what + ") must be " + want + ", got " +
       kind_name(a.kind));
}

Provenance with_reason(const RuleContext& ctx, const char* reason) {
  Provenance p = ctx.why;
  if (p.reason.empty()) {
    p.reason = reason;
  } else {
    p.reason += std::string("; ") + reason;
  }
  return p;
}

}  // namespace

bool has(Args args, size_t i) { return i < args.size() && !args[i].is_none(); }

const SymShape& tensor(Args args, size_t i, const char* what) {
  const RuleArg& a = at(args, i, what);
  if (a.kind != RuleArg::Kind::kTensor) wrong_kind(i, what, "a tensor", a);
  return a.shape;
}

std::optional<SymShape> opt_tensor(Args args, size_t i, const char* what) {
  if (!has(args, i)) return std::nullopt;
  return tensor(args, i, what);
}

SymExpr int_arg(Args args, size_t i, const char* what) {
  const RuleArg& a = at(args, i, what);
  if (a.kind == RuleArg::Kind::kInt) return a.i;
  if (a.kind == RuleArg::Kind::kBool) return SymExpr(a.b ? 1 : 0);
  wrong_kind(i, what, "an int", a);
}

std::optional<SymExpr> opt_int(Args args, size_t i, const char* what) {
  if (!has(args, i)) return std::nullopt;
  return int_arg(args, i, what);
}

int64_t const_int(RuleContext& ctx, Args args, size_t i, const char* what) {
  return specialize(ctx, int_arg(args, i, what), what);
}

std::optional<int64_t> opt_const_int(RuleContext& ctx, Args args, size_t i, const char* what) {
  if (!has(args, i)) return std::nullopt;
  return const_int(ctx, args, i, what);
}

std::vector<SymExpr> int_list(Args args, size_t i, const char* what) {
  const RuleArg& a = at(args, i, what);
  if (a.kind == RuleArg::Kind::kIntList) return a.ints;
  if (a.kind == RuleArg::Kind::kInt) return {a.i};
  wrong_kind(i, what, "an int list", a);
}

std::vector<int64_t> const_int_list(RuleContext& ctx, Args args, size_t i, const char* what) {
  std::vector<int64_t> out;
  for (const SymExpr& e : int_list(args, i, what)) out.push_back(specialize(ctx, e, what));
  return out;
}

std::optional<std::vector<SymExpr>> opt_int_list(Args args, size_t i, const char* what) {
  if (!has(args, i)) return std::nullopt;
  return int_list(args, i, what);
}

bool bool_arg(Args args, size_t i, bool default_value, const char* what) {
  if (!has(args, i)) return default_value;
  const RuleArg& a = args[i];
  if (a.kind == RuleArg::Kind::kBool) return a.b;
  if (a.kind == RuleArg::Kind::kInt && a.i.is_const()) return a.i.value() != 0;
  wrong_kind(i, what, "a bool", a);
}

double float_arg(Args args, size_t i, double default_value, const char* what) {
  if (!has(args, i)) return default_value;
  const RuleArg& a = args[i];
  if (a.kind == RuleArg::Kind::kFloat) return a.f;
  if (a.kind == RuleArg::Kind::kInt && a.i.is_const()) return static_cast<double>(a.i.value());
  wrong_kind(i, what, "a float", a);
}

const std::vector<std::optional<SymShape>>& tensor_list(Args args, size_t i, const char* what) {
  const RuleArg& a = at(args, i, what);
  if (a.kind != RuleArg::Kind::kTensorList) wrong_kind(i, what, "a tensor list", a);
  return a.shapes;
}

int64_t rank(const SymShape& s) { return static_cast<int64_t>(s.size()); }

int64_t wrap_dim(int64_t d, int64_t rank, bool wrap_scalar) {
  if (rank == 0 && wrap_scalar) rank = 1;
  if (rank == 0 || d < -rank || d >= rank) {
    fail("dimension " + std::to_string(d) + " is out of range for a tensor of rank " +
         std::to_string(rank));
  }
  return d < 0 ? d + rank : d;
}

bool decide(RuleContext& ctx, const SymBool& cond, const char* reason) {
  if (auto c = cond.as_const()) return *c;
  return ctx.env.guard_bool(cond, with_reason(ctx, reason));
}

void require(RuleContext& ctx, const SymBool& cond, const char* reason, const std::string& message) {
  if (!decide(ctx, cond, reason)) fail(message);
}

void require_eq(RuleContext& ctx, SymExpr a, SymExpr b, const char* reason, const std::string& message) {
  if (a == b) return;
  require(ctx, sym_eq(a, b), reason, message + " (" + a.str() + " vs " + b.str() + ")");
}

int64_t specialize(RuleContext& ctx, SymExpr e, const char* reason) {
  if (e.is_const()) return e.value();
  return ctx.env.guard_int(e, with_reason(ctx, reason));
}

bool known(RuleContext& ctx, const SymBool& cond) {
  if (auto c = cond.as_const()) return *c;
  return ctx.env.statically_true(cond);
}

SymExpr smin(RuleContext& ctx, SymExpr a, SymExpr b) {
  if (known(ctx, sym_le(a, b))) return a;
  if (known(ctx, sym_le(b, a))) return b;
  return sym_min(a, b);
}

SymExpr smax(RuleContext& ctx, SymExpr a, SymExpr b) {
  if (known(ctx, sym_ge(a, b))) return a;
  if (known(ctx, sym_ge(b, a))) return b;
  return sym_max(a, b);
}

SymExpr numel(const SymShape& s) {
  SymExpr n = 1;
  for (const SymExpr& d : s) n = n * d;
  return n;
}

std::string str(const SymShape& s) { return to_string(s); }

// Note [Broadcasting]
// ~~~~~~~~~~~~~~~~~~~
// Dims are aligned from the right. For a pair (x from the shapes so far, y from the next shape):
//   equal expressions, or y == 1 (constant), give x; x == 1 (constant) gives y;
//   otherwise, like torch's _broadcast_shapes, ask "y == 1?", then "x == 1?" (each a guard unless
//   the ranges decide it), and else require Eq(x, y) (a guard) and keep x, or the constant when
//   one side is constant. Two distinct constants (neither 1) fail.
SymShape broadcast(RuleContext& ctx, const SymShape& a, const SymShape& b) {
  const size_t n = std::max(a.size(), b.size());
  SymShape out(n);
  for (size_t k = 0; k < n; ++k) {
    const bool in_a = k < a.size(), in_b = k < b.size();
    if (!in_b) {
      out[n - 1 - k] = a[a.size() - 1 - k];
      continue;
    }
    if (!in_a) {
      out[n - 1 - k] = b[b.size() - 1 - k];
      continue;
    }
    const SymExpr x = a[a.size() - 1 - k], y = b[b.size() - 1 - k];
    SymExpr r;
    if (x == y || y == SymExpr(1)) {
      r = x;
    } else if (x == SymExpr(1)) {
      r = y;
    } else if (x.is_const() && y.is_const()) {
      fail("shapes " + str(a) + " and " + str(b) + " do not broadcast");
    } else if (decide(ctx, sym_eq(y, 1), "broadcast: is the dim 1")) {
      r = x;
    } else if (decide(ctx, sym_eq(x, 1), "broadcast: is the dim 1")) {
      r = y;
    } else {
      require(ctx, sym_eq(x, y), "broadcast: dims must match",
              "shapes " + str(a) + " and " + str(b) + " do not broadcast");
      r = y.is_const() ? y : x;
    }
    out[n - 1 - k] = r;
  }
  return out;
}

SymShape broadcast(RuleContext& ctx, std::span<const SymShape> shapes) {
  if (shapes.empty()) return {};
  SymShape out = shapes[0];
  for (size_t i = 1; i < shapes.size(); ++i) out = broadcast(ctx, out, shapes[i]);
  return out;
}

void require_broadcastable_to(RuleContext& ctx, const SymShape& from, const SymShape& to) {
  const std::string message = "shape " + str(from) + " does not broadcast to " + str(to);
  if (from.size() > to.size()) {
    // ATen allows extra leading dims only if they are 1 (expand rejects them; in-place ops too).
    fail(message);
  }
  for (size_t k = 0; k < from.size(); ++k) {
    const SymExpr y = from[from.size() - 1 - k], x = to[to.size() - 1 - k];
    if (x == y || y == SymExpr(1)) continue;
    if (x.is_const() && y.is_const()) fail(message);
    if (decide(ctx, sym_eq(y, 1), "broadcast: is the dim 1")) continue;
    require(ctx, sym_eq(x, y), "broadcast: dims must match", message);
  }
}

namespace {
/// Splits a list of factors into a constant coefficient and the non-constant factors.
std::pair<int64_t, std::vector<SymExpr>> split_const(const std::vector<SymExpr>& factors) {
  int64_t c = 1;
  std::vector<SymExpr> rest;
  for (const SymExpr& f : factors) {
    if (f.is_const()) {
      c *= f.value();
    } else {
      rest.push_back(f);
    }
  }
  return {c, rest};
}

SymExpr product(int64_t c, const std::vector<SymExpr>& fs) {
  SymExpr p = c;
  for (const SymExpr& f : fs) p = p * f;
  return p;
}

/// Removes factors present (structurally) in both lists, one for one.
void cancel_common(std::vector<SymExpr>& a, std::vector<SymExpr>& b) {
  for (auto it = a.begin(); it != a.end();) {
    auto jt = std::find(b.begin(), b.end(), *it);
    if (jt != b.end()) {
      b.erase(jt);
      it = a.erase(it);
    } else {
      ++it;
    }
  }
}
}  // namespace

SymShape infer_size(RuleContext& ctx, const std::vector<SymExpr>& sizes, const SymShape& in_dims) {
  std::optional<size_t> infer;
  std::vector<SymExpr> known_sizes;
  for (size_t i = 0; i < sizes.size(); ++i) {
    const SymExpr& d = sizes[i];
    if (d == SymExpr(-1)) {
      if (infer) fail("only one dimension can be inferred in shape " + str(sizes));
      infer = i;
      continue;
    }
    if (d.is_const() && d.value() < 0) fail("invalid shape dimension " + d.str() + " in " + str(sizes));
    if (!d.is_const()) {
      require(ctx, sym_ge(d, 0), "view: sizes must be non-negative",
              "shape dimension " + d.str() + " is negative");
    }
    known_sizes.push_back(d);
  }
  // Cancel dims that appear on both sides (x.view(x.size(0), -1)), then constants by gcd.
  std::vector<SymExpr> num = in_dims, den = known_sizes;
  const SymExpr full_newsize = numel(known_sizes);
  cancel_common(num, den);
  auto [cn, sn] = split_const(num);
  auto [cd, sd] = split_const(den);
  const std::string bad = "shape " + str(sizes) + " is invalid for input of shape " + str(in_dims);
  SymShape out = sizes;
  if (!infer) {
    if (cn == 0 && cd == 0) return out;  // both sides have a constant 0 dim
    const SymExpr n = product(cn, sn), d = product(cd, sd);
    if (n != d) require(ctx, sym_eq(n, d), "view: element counts must match", bad);
    return out;
  }
  // torch: newsize != 0, numel % newsize == 0, inferred = numel // newsize.
  require(ctx, sym_ne(full_newsize, 0), "view: cannot infer a dim of a 0-element shape", bad);
  if (cd != 0) {
    const int64_t g = std::gcd(cn, cd);
    if (g > 1) {
      cn /= g;
      cd /= g;
    }
  }
  const SymExpr n = product(cn, sn), d = product(cd, sd);
  if (d != SymExpr(1)) {
    require(ctx, sym_eq(python_mod(n, d), 0), "view: element count must be divisible", bad);
  }
  out[*infer] = d == SymExpr(1) ? n : floor_div(n, d);
  return out;
}

bool is_inplace(const RuleContext& ctx) {
  if (ctx.inplace) return true;
  const std::string_view op = ctx.op;
  return op.size() > 2 && op.back() == '_' && op[op.size() - 2] != '_';
}

}  // namespace ptx::shapes::rules
