// tests/shapes/rules_matmul_test.cpp: linear, matmul (all rank combinations), mm, bmm, addmm.
// Expected shapes derived by hand from ATen's matmul (LinearAlgebra.cpp) and linear.
#include <catch2/catch_test_macros.hpp>

#include "tests/shapes/rules_harness.h"

using namespace ptx::shapes;
using namespace ptx::shapes::test;

TEST_CASE("linear keeps leading dims and replaces the feature dim", "[shapes][rules][matmul]") {
  Harness h;
  SymExpr s0 = h.sym(4), s1 = h.sym(7);
  CHECK(h.run("aten::linear", {T({s0, 16}), T({32, 16}), T({32})}).shapes == std::vector<SymShape>{{s0, 32}});
  CHECK(h.run("aten::linear", {T({s0, s1, 16}), T({32, 16}), N()}).shapes == std::vector<SymShape>{{s0, s1, 32}});
  CHECK(h.run("aten::linear", {T({s0, 16}), T({16}), N()}).shapes == std::vector<SymShape>{{s0}});
  CHECK(h.guards().empty());
}

TEST_CASE("linear on a symbolic feature dim specializes it", "[shapes][rules][matmul]") {
  Harness h;
  SymExpr s0 = h.sym(4), s1 = h.sym(16);
  CHECK(h.run("aten::linear", {T({s0, s1}), T({8, 16}), N()}).shapes == std::vector<SymShape>{{s0, 8}});
  CHECK(h.conds() == std::vector<SymBool>{sym_eq(s1, 16)});
  Harness bad;
  SymExpr b0 = bad.sym(15);
  CHECK(bad.run("aten::linear", {T({2, b0}), T({8, 16}), N()}).error ==
        "shapes [2, s0] and [16, 8] cannot be multiplied (s0 vs 16)");
}

TEST_CASE("matmul by rank", "[shapes][rules][matmul]") {
  Harness h;
  SymExpr b = h.sym(3), n = h.sym(5), k = h.sym(4), p = h.sym(6);
  auto mm = [&](SymShape x, SymShape y) { return h.run("aten::matmul", {T(x), T(y)}).shapes; };
  CHECK(mm({k}, {k}) == std::vector<SymShape>{{}});            // dot
  CHECK(mm({n, k}, {k}) == std::vector<SymShape>{{n}});        // mv
  CHECK(mm({k}, {k, p}) == std::vector<SymShape>{{p}});        // vector @ matrix
  CHECK(mm({n, k}, {k, p}) == std::vector<SymShape>{{n, p}});  // mm
  CHECK(mm({b, n, k}, {k, p}) == std::vector<SymShape>{{b, n, p}});   // folded
  CHECK(mm({b, n, k}, {k}) == std::vector<SymShape>{{b, n}});
  CHECK(mm({k}, {b, k, p}) == std::vector<SymShape>{{b, p}});
  CHECK(mm({n, k}, {b, k, p}) == std::vector<SymShape>{{b, n, p}});
  CHECK(mm({b, 1, n, k}, {3, k, p}) == std::vector<SymShape>{{b, 3, n, p}});  // batch broadcast
  CHECK(h.guards().empty());
  CHECK(h.run("aten::matmul", {T({}), T({k})}).error == "both arguments to matmul need to be at least 1D");
}

TEST_CASE("matmul batch dims broadcast with guards", "[shapes][rules][matmul]") {
  Harness h;
  SymExpr s0 = h.sym(4), s1 = h.sym(4);
  CHECK(h.run("aten::matmul", {T({s0, 5, 7}), T({s1, 7, 2})}).shapes == std::vector<SymShape>{{s0, 5, 2}});
  CHECK(h.conds() == std::vector<SymBool>{sym_eq(s0, s1)});
}

TEST_CASE("mm, bmm, addmm", "[shapes][rules][matmul]") {
  Harness h;
  SymExpr s0 = h.sym(3), s1 = h.sym(2), s2 = h.sym(2);
  CHECK(h.run("aten::mm", {T({s0, 4}), T({4, s1})}).shapes == std::vector<SymShape>{{s0, s1}});
  CHECK(h.run("aten::addmm", {T({s1}), T({s0, 4}), T({4, s1}), I(1), I(1)}).shapes == std::vector<SymShape>{{s0, s1}});
  CHECK(h.guards().empty());
  CHECK(h.run("aten::bmm", {T({s1, 3, 4}), T({s2, 4, 5})}).shapes == std::vector<SymShape>{{s1, 3, 5}});
  CHECK(h.conds() == std::vector<SymBool>{sym_eq(s1, s2)});  // bmm does not broadcast
  CHECK(h.run("aten::mm", {T({3}), T({3, 4})}).error.starts_with("mm needs 2-D operands"));
}
