// tests/shapes/rules_cat_slice_test.cpp: cat, stack, chunk, split, unbind, slice (clamping with
// Min/Max), select, narrow, pad, index_select. Expected values derived by hand from ATen.
#include <catch2/catch_test_macros.hpp>

#include <cstdint>

#include "tests/shapes/rules_harness.h"

using namespace ptx::shapes;
using namespace ptx::shapes::test;

TEST_CASE("cat sums the cat dim and guards the others", "[shapes][rules][cat]") {
  Harness h;
  SymExpr s0 = h.sym(2), s1 = h.sym(2), s2 = h.sym(4);
  CHECK(h.run("aten::cat", {TL({SymShape{s0, 3}, SymShape{s0, 5}}), I(1)}).shapes == std::vector<SymShape>{{s0, 8}});
  CHECK(h.run("aten::cat", {TL({SymShape{s0, 3}, SymShape{s1, 3}}), I(0)}).shapes == std::vector<SymShape>{{s0 + s1, 3}});
  // legacy: a 1-D empty tensor is skipped
  CHECK(h.run("aten::cat", {TL({SymShape{s0, 3, s2}, SymShape{s0, 3, s2}, SymShape{0}}), I(-1)}).shapes ==
        std::vector<SymShape>{{s0, 3, 2 * s2}});
  CHECK(h.guards().empty());
  CHECK(h.run("aten::cat", {TL({SymShape{s0, 2}, SymShape{s1, 2}}), I(1)}).shapes == std::vector<SymShape>{{s0, 4}});
  CHECK(h.conds() == std::vector<SymBool>{sym_eq(s0, s1)});
  CHECK(h.run("aten::cat", {TL({SymShape{2, 3}, SymShape{4, 3}}), I(1)}).error.starts_with("cat: sizes of [2, 3] and [4, 3]"));
  CHECK(h.run("aten::stack", {TL({SymShape{s0, 3}, SymShape{s0, 3}}), I(1)}).shapes == std::vector<SymShape>{{s0, 2, 3}});
}

TEST_CASE("chunk and split", "[shapes][rules][cat]") {
  Harness h;
  SymExpr s0 = h.sym(2), s1 = h.sym(3);
  // shufflenet: x.chunk(2, dim=1); attention: in_proj output chunk(3, -1)
  CHECK(h.run("aten::chunk", {T({s0, 6, s1}), I(2), I(1)}).shapes == std::vector<SymShape>{{s0, 3, s1}, {s0, 3, s1}});
  CHECK(h.run("aten::chunk", {T({s0, 96}), I(3), I(-1)}).shapes ==
        std::vector<SymShape>{{s0, 32}, {s0, 32}, {s0, 32}});
  CHECK(h.run("aten::chunk", {T({s0, 7}), I(3), I(1)}).shapes == std::vector<SymShape>{{s0, 3}, {s0, 3}, {s0, 1}});
  CHECK(h.run("aten::split", {T({s0, 96}), L({32, 64}), I(-1)}, "sizes").shapes ==
        std::vector<SymShape>{{s0, 32}, {s0, 64}});
  CHECK(h.run("aten::split", {T({s0, 10}), I(4), I(1)}, "Tensor").shapes ==
        std::vector<SymShape>{{s0, 4}, {s0, 4}, {s0, 2}});
  CHECK(h.run("aten::unbind", {T({3, s0}), I(0)}, "int").shapes == std::vector<SymShape>{{s0}, {s0}, {s0}});
  CHECK(h.guards().empty());
  CHECK(h.run("aten::split", {T({s0, 96}), L({32, 32}), I(1)}, "sizes").error.starts_with("split_with_sizes expects"));
}

TEST_CASE("chunk of a symbolic dim specializes the number of pieces", "[shapes][rules][cat]") {
  Harness h;
  SymExpr s0 = h.sym(5);
  RuleResult r = h.run("aten::chunk", {T({s0, 4}), I(3), I(0)});
  REQUIRE(r.error.empty());
  const SymExpr size = ceil_div(s0, 3);
  CHECK(r.shapes == std::vector<SymShape>{{size, 4}, {size, 4}, {s0 - 2 * size, 4}});
  const auto conds = h.conds();
  CHECK(std::find(conds.begin(), conds.end(), sym_eq(ceil_div(s0, size), 3)) != conds.end());
}

TEST_CASE("slice clamps with Min/Max and needs no guard", "[shapes][rules][slice]") {
  Harness h;
  SymExpr n = h.sym(12, Range{0, std::nullopt});
  auto slice = [&](RuleArg start, RuleArg end, int64_t step) {
    RuleResult r = h.run("aten::slice", {T({n, 3}), I(0), start, end, I(step)}, "Tensor");
    REQUIRE(r.error.empty());
    return r.shapes[0][0];
  };
  const int64_t kMax = INT64_MAX;
  CHECK(slice(N(), N(), 1) == n);
  CHECK(slice(I(0), I(kMax), 1) == n);                              // traced x[0:]
  CHECK(slice(I(1), N(), 1) == n - sym_min(1, n));                  // x[1:]
  CHECK(slice(I(-7), N(), 1) == n - sym_max(n - 7, 0));             // x[-7:]
  CHECK(slice(I(0), I(-7), 1) == sym_max(n - 7, 0));                // x[:-7]
  CHECK(slice(N(), I(4), 1) == sym_min(4, n));                      // x[:4]
  CHECK(slice(I(0), N(), 2) == floor_div(n + 1, 2));                // x[::2]
  CHECK(slice(I(1), N(), 2) == floor_div(n - sym_min(1, n) + 1, 2));  // x[1::2]
  CHECK(h.guards().empty());
}

TEST_CASE("slice folds clamps the ranges decide", "[shapes][rules][slice]") {
  Harness h;
  SymExpr n = h.sym(12, Range{8, 64}), m = h.sym(3, Range{1, 8});
  auto len = [&](SymShape x, int64_t dim, RuleArg start, RuleArg end) {
    return h.run("aten::slice", {T(x), I(dim), start, end, I(1)}, "Tensor").shapes.at(0).at(dim);
  };
  CHECK(len({n}, 0, I(1), N()) == n - 1);
  CHECK(len({n}, 0, I(-7), N()) == SymExpr(7));
  CHECK(len({n}, 0, I(0), I(-7)) == n - 7);
  CHECK(len({n}, 0, I(2), I(5)) == SymExpr(3));
  CHECK(len({2, n}, 1, I(0), I(m)) == m);  // x[:, :m] with m <= 8 <= n
  CHECK(h.guards().empty());
  CHECK(h.run("aten::slice", {T({n}), I(0), N(), N(), I(0)}, "Tensor").error == "slice step must be positive");
}

TEST_CASE("select checks the index, narrow its window", "[shapes][rules][slice]") {
  Harness h;
  SymExpr s0 = h.sym(4, Range{1, 64}), s1 = h.sym(3, Range{1, 64});
  CHECK(h.run("aten::select", {T({s0, s1, 3}), I(1), I(0)}, "int").shapes == std::vector<SymShape>{{s0, 3}});
  CHECK(h.run("aten::select", {T({s0, s1}), I(0), I(-1)}, "int").shapes == std::vector<SymShape>{{s1}});
  CHECK(h.guards().empty());  // 0 < s1 and -1 + s0 >= 0 hold for sizes >= 1
  CHECK(h.run("aten::select", {T({s0, 4}), I(0), I(2)}, "int").shapes == std::vector<SymShape>{{4}});
  CHECK(h.conds() == std::vector<SymBool>{sym_lt(2, s0)});
  CHECK(h.run("aten::narrow", {T({s0, 8}), I(1), I(2), I(3)}).shapes == std::vector<SymShape>{{s0, 3}});
  // diff: n differences along dim after joining prepend/append (GPT-2's position ids: [s0, s1] with a
  // [s0, 1] prepend gives s1 differences)
  CHECK(h.run("aten::diff", {T({s0, s1}), I(1), I(-1), T({s0, 1}), N()}).shapes == std::vector<SymShape>{{s0, s1}});
  CHECK(h.run("aten::diff", {T({s0, 8}), I(2), I(1), N(), N()}).shapes == std::vector<SymShape>{{s0, 6}});
  CHECK(h.run("aten::select", {T({s0, 4}), I(1), I(4)}, "int").error ==
        "select(): index 4 out of range for tensor of size 4 at dimension 1");
}

TEST_CASE("pad: symbolic pads of swin's window partition need no guard", "[shapes][rules][slice]") {
  Harness h;
  SymExpr b = h.sym(1), hh = h.sym(8), w = h.sym(13);
  const SymExpr pad_r = python_mod(7 - python_mod(w, 7), 7), pad_b = python_mod(7 - python_mod(hh, 7), 7);
  CHECK(h.run("aten::pad", {T({b, hh, w, 8}), L({0, 0, 0, pad_r, 0, pad_b}), S("constant"), N()}).shapes ==
        std::vector<SymShape>{{b, hh + pad_b, w + pad_r, 8}});
  CHECK(h.guards().empty());
  // negative padding crops; the padded size must stay >= 0 (known for w >= 2, a guard for z >= 0)
  CHECK(h.run("aten::pad", {T({b, w, 5}), L({1, 2, -1, 0}), S("constant"), F(0.0)}).shapes ==
        std::vector<SymShape>{{b, w - 1, 8}});
  CHECK(h.guards().empty());
  SymExpr z = h.sym(13, Range{0, 64});
  CHECK(h.run("aten::pad", {T({b, z, 5}), L({1, 2, -1, 0}), S("constant"), F(0.0)}).shapes ==
        std::vector<SymShape>{{b, z - 1, 8}});
  CHECK(h.conds() == std::vector<SymBool>{sym_ge(z - 1, 0)});
  CHECK(h.run("aten::pad", {T({b, 2, 2}), L({2, 2}), S("reflect"), N()}).error == "reflect padding must be < input size");
  CHECK(h.run("aten::constant_pad_nd", {T({b, w}), L({1, 1, 2, 0}), F(0.0)}).shapes ==
        std::vector<SymShape>{{b + 2, w + 2}});
}

TEST_CASE("index_select takes the index's length", "[shapes][rules][index]") {
  Harness h;
  SymExpr s0 = h.sym(4), s1 = h.sym(2);
  CHECK(h.run("aten::index_select", {T({s0, 5}), I(0), T({3}, 4)}).shapes == std::vector<SymShape>{{3, 5}});
  CHECK(h.run("aten::index_select", {T({4, s0}), I(1), T({s1}, 4)}).shapes == std::vector<SymShape>{{4, s1}});
  CHECK(h.run("aten::embedding", {T({100, 16}), T({s0, s1}, 4), I(-1), B(false), B(false)}).shapes ==
        std::vector<SymShape>{{s0, s1, 16}});
  CHECK(h.guards().empty());
}

TEST_CASE("index.Tensor broadcasts the index shapes and places them by adjacency", "[shapes][rules][index]") {
  Harness h;
  SymExpr b = h.sym(2), n = h.sym(4);
  // x[:, i, j] with i: [n, 1], j: [1, 3] -> the indexed dims (1, 2) become broadcast([n,1],[1,3]).
  CHECK(h.run("aten::index", {T({b, 5, 6}), TL({std::nullopt, SymShape{n, 1}, SymShape{1, 3}})}, "Tensor").shapes ==
        std::vector<SymShape>{{b, n, 3}});
  // x[i, :, j]: not adjacent, the broadcast index shape comes first, then the kept dims.
  CHECK(h.run("aten::index", {T({b, 5, 6}), TL({SymShape{n}, std::nullopt, SymShape{n}})}, "Tensor").shapes ==
        std::vector<SymShape>{{n, 5}});
  // trailing dims are kept; x[i] on [7, b] with i: [n, n] -> [n, n, b]
  CHECK(h.run("aten::index", {T({7, b}), TL({SymShape{n, n}})}, "Tensor").shapes ==
        std::vector<SymShape>{{n, n, b}});
  CHECK(h.guards().empty());
}

TEST_CASE("index.Tensor guards symbolic index broadcasting; a mask needs the sample", "[shapes][rules][index]") {
  Harness h;
  SymExpr n = h.sym(3, Range{1, 8}), m = h.sym(3, Range{1, 8});
  // [n] and [m] broadcast: on the sample n == m, so the guard Eq(n, m) is recorded (as torch does).
  const RuleResult r = h.run("aten::index", {T({10, 5}), TL({SymShape{n}, SymShape{m}})}, "Tensor");
  REQUIRE(r.error.empty());
  REQUIRE(r.shapes.size() == 1);
  CHECK(r.shapes[0].size() == 1);
  CHECK_FALSE(h.guards().empty());
  // more indices than dims
  CHECK(h.run("aten::index", {T({10}), TL({SymShape{2}, SymShape{2}})}, "Tensor").error.starts_with("too many indices"));
  // a boolean mask: the size depends on the data, read from the sample (tests/shapes/unbacked_test.cpp)
  RuleArg mask = TL({SymShape{10}});
  mask.dtypes = {11};
  CHECK(h.run("aten::index", {T({10, 5}), mask}, "Tensor").error.find("the sample's sizes") != std::string::npos);
  RuleArg two = TL({SymShape{10}, SymShape{2}});
  two.dtypes = {11, 4};
  CHECK(h.run("aten::index", {T({10, 5}), two}, "Tensor", false, {{2}}).error.find("other index tensors") != std::string::npos);
  // index_put: values must broadcast to x[indices]; the output is self's shape
  Harness h2;
  SymExpr b = h2.sym(2), k = h2.sym(3);
  CHECK(h2.run("aten::index_put", {T({b, 5}), TL({std::nullopt, SymShape{k}}), T({b, 1}), B(false)}).shapes ==
        std::vector<SymShape>{{b, 5}});
  CHECK(h2.run("aten::index_put", {T({b, 5}), TL({std::nullopt, SymShape{k}}), T({4}), B(false)}).error != "");
}
