// tests/shapes/rules_view_reshape_test.cpp: view/reshape (-1 inference, element-count and
// divisibility guards), flatten, unflatten, permute, transpose, squeeze, unsqueeze, expand.
// Expected values derived by hand from ATen's infer_size and the ops' definitions.
#include <catch2/catch_test_macros.hpp>

#include "tests/shapes/rules_harness.h"

using namespace ptx::shapes;
using namespace ptx::shapes::test;

TEST_CASE("view [s0, 64] as [-1, 8, 8] infers s0 without a guard", "[shapes][rules][view]") {
  Harness h;
  SymExpr s0 = h.sym(3);
  CHECK(h.run("aten::view", {T({s0, 64}), L({-1, 8, 8})}).shapes == std::vector<SymShape>{{s0, 8, 8}});
  CHECK(h.guards().empty());
}

TEST_CASE("reshape needing divisibility records Eq(Mod(..), 0)", "[shapes][rules][view]") {
  Harness h;
  SymExpr s0 = h.sym(2), s1 = h.sym(6);
  RuleResult r = h.run("aten::reshape", {T({s0, s1}), L({-1, 4})});
  REQUIRE(r.error.empty());
  CHECK(r.shapes[0] == SymShape{floor_div(s0 * s1, 4), 4});
  CHECK(h.conds() == std::vector<SymBool>{sym_eq(python_mod(s0 * s1, 4), 0)});
  CHECK(h.guards() == std::vector<std::string>{"Eq(Mod(s0*s1, 4), 0)"});
}

TEST_CASE("view cancels dims common to both sides and constant factors", "[shapes][rules][view]") {
  Harness h;
  SymExpr s0 = h.sym(2), s1 = h.sym(4);
  // x.view(x.size(0), -1) on [s0, 3, s1, s1]
  CHECK(h.run("aten::view", {T({s0, 3, s1, s1}), L({s0, -1})}).shapes == std::vector<SymShape>{{s0, 3 * s1 * s1}});
  // splitting a constant dim, keeping symbolic ones
  CHECK(h.run("aten::view", {T({s0, s1, 4}), L({s0, s1, 2, 2})}).shapes == std::vector<SymShape>{{s0, s1, 2, 2}});
  // [s0, 12] as [3, -1]: 12*s0 / 3 = 4*s0
  CHECK(h.run("aten::reshape", {T({s0, 12}), L({3, -1})}).shapes == std::vector<SymShape>{{3, 4 * s0}});
  // shufflenet's channel shuffle: view(b, groups, c // groups, h, w) and back
  CHECK(h.run("aten::view", {T({s0, 8, s1, s1}), L({s0, 2, 4, s1, s1})}).shapes ==
        std::vector<SymShape>{{s0, 2, 4, s1, s1}});
  CHECK(h.run("aten::view", {T({s0, 4, 2, s1, s1}), L({s0, -1, s1, s1})}).shapes == std::vector<SymShape>{{s0, 8, s1, s1}});
  CHECK(h.guards().empty());
}

TEST_CASE("view with explicit sizes guards element-count equality", "[shapes][rules][view]") {
  Harness h;
  SymExpr s0 = h.sym(2), s1 = h.sym(3);
  CHECK(h.run("aten::view", {T({s0, 6}), L({s1, 4})}).shapes == std::vector<SymShape>{{s1, 4}});
  CHECK(h.conds() == std::vector<SymBool>{sym_eq(6 * s0, 4 * s1)});
  // [s0, 6] as [-1, 4]: 6*s0 / 4 -> 3*s0 / 2 after the common factor 2.
  Harness g;
  SymExpr t0 = g.sym(2);
  CHECK(g.run("aten::view", {T({t0, 6}), L({-1, 4})}).shapes == std::vector<SymShape>{{floor_div(3 * t0, 2), 4}});
  CHECK(g.conds() == std::vector<SymBool>{sym_eq(python_mod(3 * t0, 2), 0)});
}

TEST_CASE("view errors", "[shapes][rules][view]") {
  Harness h;
  SymExpr s0 = h.sym(3);
  CHECK(h.run("aten::view", {T({s0, 6}), L({-1, -1})}).error == "only one dimension can be inferred in shape [-1, -1]");
  CHECK(h.run("aten::view", {T({s0, 6}), L({-1, 4})}).error == "shape [-1, 4] is invalid for input of shape [s0, 6]");
  CHECK(h.run("aten::view", {T({2, 6}), L({5, 2})}).error.starts_with("shape [5, 2] is invalid for input of shape [2, 6]"));
  CHECK(h.run("aten::view", {T({2, 6}), L({-2, 6})}).error == "invalid shape dimension -2 in [-2, 6]");
}

TEST_CASE("flatten and unflatten", "[shapes][rules][view]") {
  Harness h;
  SymExpr s0 = h.sym(2), s1 = h.sym(3), s2 = h.sym(5);
  CHECK(h.run("aten::flatten", {T({s0, 4, s1, s2}), I(1), I(-1)}, "using_ints").shapes ==
        std::vector<SymShape>{{s0, 4 * s1 * s2}});
  CHECK(h.run("aten::flatten", {T({s0, 4, s1}), I(0), I(1)}, "using_ints").shapes == std::vector<SymShape>{{4 * s0, s1}});
  CHECK(h.run("aten::flatten", {T({}), I(0), I(-1)}, "using_ints").shapes == std::vector<SymShape>{{1}});
  CHECK(h.run("aten::unflatten", {T({s0, s1, 96}), I(-1), L({3, 32})}, "int").shapes ==
        std::vector<SymShape>{{s0, s1, 3, 32}});
  CHECK(h.run("aten::unflatten", {T({s0, 24}), I(1), L({-1, 4})}, "int").shapes == std::vector<SymShape>{{s0, 6, 4}});
  CHECK(h.guards().empty());
  CHECK(h.run("aten::flatten", {T({s0, 4}), I(1), I(0)}, "using_ints").error ==
        "flatten() has invalid args: start_dim cannot come after end_dim");
}

TEST_CASE("permute, transpose, t", "[shapes][rules][view]") {
  Harness h;
  SymExpr s0 = h.sym(2), s1 = h.sym(5);
  CHECK(h.run("aten::permute", {T({s0, s1, 3, 4}), L({0, 2, 3, 1})}).shapes == std::vector<SymShape>{{s0, 3, 4, s1}});
  CHECK(h.run("aten::permute", {T({s0, s1}), L({-1, 0})}).shapes == std::vector<SymShape>{{s1, s0}});
  CHECK(h.run("aten::transpose", {T({s0, s1, 3}), I(0), I(-1)}, "int").shapes == std::vector<SymShape>{{3, s1, s0}});
  CHECK(h.run("aten::t", {T({s0, s1})}).shapes == std::vector<SymShape>{{s1, s0}});
  CHECK(h.run("aten::permute", {T({s0, s1}), L({0, 0})}).error == "permute: repeated dim 0");
  CHECK(h.run("aten::permute", {T({s0, s1}), L({0, 2})}).error == "dimension 2 is out of range for a tensor of rank 2");
}

TEST_CASE("squeeze decides symbolic dims with a guard", "[shapes][rules][view]") {
  Harness h;
  SymExpr s0 = h.sym(2, Range{1, 64}), s1 = h.sym(1, Range{1, 64});
  CHECK(h.run("aten::squeeze", {T({s0, 1, 5}), I(1)}, "dim").shapes == std::vector<SymShape>{{s0, 5}});
  CHECK(h.guards().empty());
  CHECK(h.run("aten::squeeze", {T({s0, 3}), I(0)}, "dim").shapes == std::vector<SymShape>{{s0, 3}});
  CHECK(h.conds() == std::vector<SymBool>{sym_ne(s0, 1)});
  CHECK(h.run("aten::squeeze", {T({s1, 1, 3})}).shapes == std::vector<SymShape>{{3}});
  CHECK(h.conds() == std::vector<SymBool>{sym_ne(s0, 1), sym_eq(s1, 1)});
  CHECK(h.run("aten::unsqueeze", {T({s0, 3}), I(-1)}).shapes == std::vector<SymShape>{{s0, 3, 1}});
  CHECK(h.run("aten::unsqueeze", {T({s0, 3}), I(0)}).shapes == std::vector<SymShape>{{1, s0, 3}});
}

TEST_CASE("expand", "[shapes][rules][view]") {
  Harness h;
  SymExpr s0 = h.sym(3), s1 = h.sym(3);
  // ViT's class token: [1, 1, 768].expand(n, -1, -1)
  CHECK(h.run("aten::expand", {T({1, 1, 8}), L({s0, -1, -1}), B(false)}).shapes == std::vector<SymShape>{{s0, 1, 8}});
  CHECK(h.run("aten::expand", {T({s1, 1}), L({s0, s1, 4}), B(false)}).shapes == std::vector<SymShape>{{s0, s1, 4}});
  CHECK(h.guards().empty());
  CHECK(h.run("aten::expand", {T({s0, 1}), L({s1, 5}), B(false)}).shapes == std::vector<SymShape>{{s0, 5}});
  CHECK(h.conds() == std::vector<SymBool>{sym_eq(s0, s1)});
  CHECK(h.run("aten::expand", {T({3, 1}), L({4, 5}), B(false)}).error ==
        "expand: the expanded size 4 must match the existing size 3");
  CHECK(h.run("aten::expand", {T({3}), L({-1, 3}), B(false)}).error ==
        "expand: -1 is not allowed in a leading, non-existing dimension");
  CHECK(h.run("aten::expand_as", {T({1, s0}), T({s1, s0})}).shapes == std::vector<SymShape>{{s1, s0}});
}
