// tests/shapes/rules_broadcast_test.cpp: elementwise rules (broadcasting, in-place, same-as-self).
// Expected shapes and guards derived by hand from ATen's broadcasting (torch/_refs _broadcast_shapes).
#include <catch2/catch_test_macros.hpp>

#include "tests/shapes/rules_harness.h"

using namespace ptx::shapes;
using namespace ptx::shapes::test;

TEST_CASE("broadcast [s0, 1] with [1, s1] gives [s0, s1] without a guard", "[shapes][rules][broadcast]") {
  Harness h;
  SymExpr s0 = h.sym(4), s1 = h.sym(5);
  RuleResult r = h.run("aten::add", {T({s0, 1}), T({1, s1}), I(1)}, "Tensor");
  REQUIRE(r.error.empty());
  REQUIRE(r.shapes.size() == 1);
  REQUIRE(r.shapes[0] == SymShape{s0, s1});
  REQUIRE(h.guards().empty());
}

TEST_CASE("broadcast [s0] with [s1] guards Eq(s0, s1)", "[shapes][rules][broadcast]") {
  Harness h;
  SymExpr s0 = h.sym(4), s1 = h.sym(4);
  RuleResult r = h.run("aten::mul", {T({s0}), T({s1})}, "Tensor");
  REQUIRE(r.error.empty());
  REQUIRE(r.shapes[0] == SymShape{s0});
  // s0, s1 in [2, inf): "is it 1?" is decided by the ranges, equality is a guard.
  REQUIRE(h.guards() == std::vector<std::string>{"Eq(s0, s1)"});
}

TEST_CASE("broadcast of a dim that may be 1 records the 1-tests", "[shapes][rules][broadcast]") {
  Harness h;
  SymExpr s0 = h.sym(4, Range{1, 64}), s1 = h.sym(1, Range{1, 64});
  RuleResult r = h.run("aten::sub", {T({s0, 3}), T({s1, 3})}, "Tensor");
  REQUIRE(r.error.empty());
  REQUIRE(r.shapes[0] == SymShape{s0, 3});
  REQUIRE(h.guards() == std::vector<std::string>{"Eq(s1, 1)"});
}

TEST_CASE("broadcast of a symbolic dim with a constant specializes it", "[shapes][rules][broadcast]") {
  Harness h;
  SymExpr s0 = h.sym(8, Range{1, 64});
  RuleResult r = h.run("aten::add", {T({s0, 2}), T({8, 1})}, "Tensor");
  REQUIRE(r.error.empty());
  REQUIRE(r.shapes[0] == SymShape{8, 2});
  REQUIRE(h.guards() == std::vector<std::string>{"Ne(s0, 1)", "Eq(s0, 8)"});
}

TEST_CASE("broadcast: ranks align from the right, scalars and 0-d tensors", "[shapes][rules][broadcast]") {
  Harness h;
  SymExpr s0 = h.sym(3);
  REQUIRE(strs(h.run("aten::add", {T({2, s0, 4}), T({4}), F(1.0)}, "Tensor")) == std::vector<std::string>{"[2, s0, 4]"});
  REQUIRE(strs(h.run("aten::mul", {T({s0, 4}), F(0.5)}, "Scalar")) == std::vector<std::string>{"[s0, 4]"});
  REQUIRE(strs(h.run("aten::div", {T({}), T({s0})}, "Tensor")) == std::vector<std::string>{"[s0]"});
  REQUIRE(strs(h.run("aten::where", {T({s0, 1}, 11), T({1, 5}), T({})}, "self")) == std::vector<std::string>{"[s0, 5]"});
  REQUIRE(strs(h.run("aten::masked_fill", {T({3, 1}), T({1, 4}, 11), F(0.0)}, "Scalar")) == std::vector<std::string>{"[3, 4]"});
  REQUIRE(h.guards().empty());
}

TEST_CASE("broadcast errors name both shapes", "[shapes][rules][broadcast]") {
  Harness h;
  RuleResult r = h.run("aten::add", {T({3}), T({4})}, "Tensor");
  REQUIRE(r.error == "shapes [3] and [4] do not broadcast");
  // where(condition): data-dependent sizes, which need the sample's (tests/shapes/unbacked_test.cpp)
  REQUIRE(h.run("aten::where", {T({3}, 11)}, "default").error.find("depends on the data") != std::string::npos);
  REQUIRE(h.run("aten::relu", {F(1.0)}).error == "no tensor operand");
}

TEST_CASE("in-place ops keep self's shape and check the other operand", "[shapes][rules][broadcast]") {
  Harness h;
  SymExpr s0 = h.sym(1, Range{1, 8}), s1 = h.sym(6);
  // add_(self [1], other [s0]): the functional broadcast would give [s0]; in place it must be [1],
  // and s0 must be 1 (guarded).
  RuleResult r = h.run("aten::add", {T({1}), T({s0}), I(1)}, "Tensor", /*inplace=*/true);
  REQUIRE(r.error.empty());
  REQUIRE(r.shapes[0] == SymShape{1});
  REQUIRE(h.guards() == std::vector<std::string>{"Eq(s0, 1)"});
  REQUIRE(strs(h.run("aten::mul_", {T({s1, 4}), T({4})}, "Tensor")) == std::vector<std::string>{"[s1, 4]"});
  REQUIRE(h.run("aten::add", {T({4}), T({2, 4})}, "Tensor", true).error == "shape [2, 4] does not broadcast to [4]");
  REQUIRE(strs(h.run("aten::relu", {T({s1, 2})}, "default", true)) == std::vector<std::string>{"[s1, 2]"});
}

TEST_CASE("same-as-self ops ignore their other tensor arguments", "[shapes][rules][broadcast]") {
  Harness h;
  SymExpr s0 = h.sym(3), s1 = h.sym(7);
  REQUIRE(strs(h.run("aten::to", {T({s0, 2}), T({s1}), B(false), B(false), N()}, "other")) ==
        std::vector<std::string>{"[s0, 2]"});
  REQUIRE(strs(h.run("aten::softmax", {T({s0, s1}), I(-1), N()}, "int")) == std::vector<std::string>{"[s0, s1]"});
  REQUIRE(strs(h.run("aten::dropout", {T({s0}), F(0.1), B(false)})) == std::vector<std::string>{"[s0]"});
  REQUIRE(strs(h.run("aten::zeros_like", {T({s0, 4}), N(), N(), N(), N(), N()})) == std::vector<std::string>{"[s0, 4]"});
  // copy_(self, src): src broadcasts to self.
  REQUIRE(strs(h.run("aten::copy_", {T({s0, 4}), T({1, 4}), B(false)})) == std::vector<std::string>{"[s0, 4]"});
  REQUIRE(h.guards().empty());
}
