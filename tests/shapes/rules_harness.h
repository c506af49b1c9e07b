// tests/shapes/rules_harness.h: a ShapeEnv plus helpers to build RuleArgs and run shape rules by
// op name, for the rules_*_test.cpp files.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "shapes/rules.h"
#include "shapes/shape_env.h"
#include "shapes/sym.h"

namespace ptx::shapes::test {

inline RuleArg T(SymShape s, int dtype = 6 /* float */) {
  RuleArg a;
  a.kind = RuleArg::Kind::kTensor;
  a.shape = std::move(s);
  a.dtype = dtype;
  return a;
}
inline RuleArg I(SymExpr v) {
  RuleArg a;
  a.kind = RuleArg::Kind::kInt;
  a.i = v;
  return a;
}
inline RuleArg L(std::vector<SymExpr> v) {
  RuleArg a;
  a.kind = RuleArg::Kind::kIntList;
  a.ints = std::move(v);
  return a;
}
inline RuleArg F(double v) {
  RuleArg a;
  a.kind = RuleArg::Kind::kFloat;
  a.f = v;
  return a;
}
inline RuleArg B(bool v) {
  RuleArg a;
  a.kind = RuleArg::Kind::kBool;
  a.b = v;
  return a;
}
inline RuleArg N() { return RuleArg{}; }
inline RuleArg S(std::string v) {
  RuleArg a;
  a.kind = RuleArg::Kind::kString;
  a.s = std::move(v);
  return a;
}
inline RuleArg TL(std::vector<std::optional<SymShape>> v) {
  RuleArg a;
  a.kind = RuleArg::Kind::kTensorList;
  a.shapes = std::move(v);
  return a;
}

/// One export's ShapeEnv; symbols are s0, s1, ... in creation order.
struct Harness {
  ShapeEnv env;
  std::string op_name;

  SymExpr sym(int64_t hint, Range range = Range{2, std::nullopt}) {
    return env.create_symbol("", hint, range, DimHint::kDynamic, "x.size()[" + std::to_string(env.symbols().size()) + "]");
  }

  /// Runs the rule of `op` ("aten::conv2d"); REQUIREs that the op has a rule.
  /// `sample`: the sizes ATen computed on the sample, for rules of data-dependent sizes.
  RuleResult run(const std::string& op, std::vector<RuleArg> args, const std::string& overload = "default",
                 bool inplace = false, const std::vector<std::vector<int64_t>>& sample = {}) {
    op_name = op;
    const ShapeRule* rule = find_shape_rule(op);
    if (rule == nullptr) return RuleResult{{}, "no rule for " + op, {}};
    const Provenance why{op, "", "model.py:1", "", ""};
    RuleContext ctx{env, why, op, overload, inplace, sample};
    return rule->fn(ctx, args);
  }

  /// The recorded guards, as conditions (compare with sym_eq(...) etc.) or as text.
  std::vector<SymBool> conds() const {
    std::vector<SymBool> out;
    for (const Guard& g : env.guards()) out.push_back(g.cond);
    return out;
  }
  std::vector<std::string> guards() const {
    std::vector<std::string> out;
    for (const Guard& g : env.guards()) out.push_back(g.cond.str());
    return out;
  }
};

inline std::string str(const SymShape& s) { return to_string(s); }
inline std::vector<std::string> strs(const RuleResult& r) {
  std::vector<std::string> out;
  if (!r.error.empty()) return {"error: " + r.error};
  for (const SymShape& s : r.shapes) out.push_back(to_string(s));
  return out;
}

}  // namespace ptx::shapes::test
