// tests/shapes/rules_conv_pool_test.cpp: convolution and pooling output sizes.
// By hand: conv out = (H + 2p - d*(k-1) - 1)//s + 1; transposed (H-1)*s - 2p + d*(k-1) + op + 1;
// pools the same with ceil_mode adding s-1 and dropping a window that starts in the right padding.
#include <catch2/catch_test_macros.hpp>

#include "tests/shapes/rules_harness.h"

using namespace ptx::shapes;
using namespace ptx::shapes::test;

namespace {
RuleArg ints(std::vector<SymExpr> v) { return L(std::move(v)); }
}  // namespace

TEST_CASE("conv2d stride 2 gives ((H - 1)//2) + 1 without guards", "[shapes][rules][conv]") {
  Harness h;
  SymExpr s0 = h.sym(2), s1 = h.sym(32), s2 = h.sym(17);
  // 3x3, stride 2, padding 1: (H + 2 - 2 - 1)//2 + 1.
  RuleResult r = h.run("aten::conv2d", {T({s0, 3, s1, s2}), T({8, 3, 3, 3}), T({8}), ints({2, 2}), ints({1, 1}),
                                        ints({1, 1}), I(1)});
  REQUIRE(r.error.empty());
  CHECK(r.shapes[0] == SymShape{s0, 8, floor_div(s1 - 1, 2) + 1, floor_div(s2 - 1, 2) + 1});
  CHECK(to_string(r.shapes[0]) == "[s0, 8, (((s1 - 1)//2)) + 1, (((s2 - 1)//2)) + 1]");
  // resnet's stem: 7x7, stride 2, padding 3 is the same formula.
  r = h.run("aten::conv2d", {T({s0, 3, s1, s2}), T({64, 3, 7, 7}), N(), ints({2, 2}), ints({3, 3}), ints({1, 1}), I(1)});
  CHECK(r.shapes[0] == SymShape{s0, 64, floor_div(s1 - 1, 2) + 1, floor_div(s2 - 1, 2) + 1});
  // Depthwise, dilation 2, padding 2: H + 4 - 4 - 1 + 1 = H.
  r = h.run("aten::conv2d", {T({s0, 8, s1, s2}), T({8, 1, 3, 3}), N(), ints({1, 1}), ints({2, 2}), ints({2, 2}), I(8)});
  CHECK(r.shapes[0] == SymShape{s0, 8, s1, s2});
  CHECK(h.guards().empty());
}

TEST_CASE("conv variants: unbatched, padding strings, _convolution, transposed", "[shapes][rules][conv]") {
  Harness h;
  SymExpr s0 = h.sym(1), s1 = h.sym(9), s2 = h.sym(10);
  CHECK(h.run("aten::conv2d", {T({3, s1, s2}), T({4, 3, 1, 1}), N(), ints({1}), ints({0}), ints({1}), I(1)}).shapes ==
        std::vector<SymShape>{{4, s1, s2}});
  CHECK(h.run("aten::conv2d", {T({s0, 3, s1, s2}), T({4, 3, 3, 5}), N(), ints({1, 1}), S("same"), ints({1, 2}), I(1)},
              "padding")
            .shapes == std::vector<SymShape>{{s0, 4, s1, s2}});
  CHECK(h.run("aten::conv2d", {T({s0, 3, s1, s2}), T({4, 3, 3, 5}), N(), ints({1, 1}), S("valid"), ints({1, 1}), I(1)},
              "padding")
            .shapes == std::vector<SymShape>{{s0, 4, s1 - 2, s2 - 4}});
  // ViT patch embedding as traced: _convolution 16x16 stride 16.
  RuleResult r = h.run("aten::_convolution", {T({s0, 3, s1, s2}), T({768, 3, 16, 16}), T({768}), ints({16, 16}),
                                              ints({0, 0}), ints({1, 1}), B(false), ints({0, 0}), I(1), B(false),
                                              B(false), B(true), B(true)});
  CHECK(r.shapes[0] == SymShape{s0, 768, floor_div(s1 - 16, 16) + 1, floor_div(s2 - 16, 16) + 1});
  // Transposed, stride 2, padding 1, output_padding 1: (H-1)*2 - 2 + 2 + 1 + 1 = 2H.
  r = h.run("aten::_convolution", {T({s0, 4, s1, s2}), T({4, 3, 3, 3}), N(), ints({2, 2}), ints({1, 1}), ints({1, 1}),
                                   B(true), ints({1, 1}), I(1), B(false), B(false), B(true), B(true)});
  CHECK(r.shapes[0] == SymShape{s0, 3, 2 * s1, 2 * s2});
  CHECK(h.guards().empty());
}

TEST_CASE("conv input channels: a symbolic channel dim is specialized, a wrong one fails", "[shapes][rules][conv]") {
  Harness h;
  SymExpr c = h.sym(3), s1 = h.sym(8);
  CHECK(h.run("aten::conv2d", {T({1, c, s1, s1}), T({4, 3, 1, 1}), N(), ints({1, 1}), ints({0, 0}), ints({1, 1}), I(1)})
            .error.empty());
  CHECK(h.conds() == std::vector<SymBool>{sym_eq(c, 3)});
  CHECK(h.run("aten::conv2d", {T({1, 4, s1, s1}), T({4, 3, 1, 1}), N(), ints({1, 1}), ints({0, 0}), ints({1, 1}), I(1)})
            .error.starts_with("convolution input [1, 4, s1, s1] does not match weight [4, 3, 1, 1]"));
}

TEST_CASE("max_pool2d: floor mode, and ceil_mode with and without a guard", "[shapes][rules][pool]") {
  Harness h;
  SymExpr s0 = h.sym(1), s1 = h.sym(32);
  // resnet: 3x3 stride 2 padding 1.
  RuleResult r = h.run("aten::max_pool2d", {T({s0, 4, s1, s1}), ints({3, 3}), ints({2, 2}), ints({1, 1}), ints({1, 1}), B(false)});
  CHECK(r.shapes[0] == SymShape{s0, 4, floor_div(s1 - 1, 2) + 1, floor_div(s1 - 1, 2) + 1});
  // squeezenet: 3x3 stride 2 no padding, ceil_mode: (H - 3 + 1)//2 + 1; the last window always
  // starts inside the input (p + s = 2 <= 3), so no guard.
  r = h.run("aten::max_pool2d", {T({s0, 4, s1, s1}), ints({3, 3}), ints({2, 2}), ints({0, 0}), ints({1, 1}), B(true)});
  CHECK(r.shapes[0] == SymShape{s0, 4, floor_div(s1 - 2, 2) + 1, floor_div(s1 - 2, 2) + 1});
  CHECK(h.guards().empty());
}

TEST_CASE("max_pool2d ceil_mode that can drop a window records the decision", "[shapes][rules][pool]") {
  // 2x2, stride 2, padding 1, ceil_mode: out = (H + 1)//2 + 1, minus 1 when 2*((H + 1)//2) >= H + 1,
  // i.e. when H is odd.
  for (int64_t hint : {4, 5}) {
    Harness h;
    SymExpr s1 = h.sym(hint);
    RuleResult r = h.run("aten::max_pool2d", {T({1, 2, s1, 4}), ints({2, 2}), ints({2, 2}), ints({1, 1}), ints({1, 1}), B(true)});
    REQUIRE(r.error.empty());
    const SymExpr base = floor_div(s1 + 1, 2) + 1;
    const SymBool drop = sym_ge((base - 1) * 2, s1 + 1);
    if (hint == 4) {
      CHECK(r.shapes[0][2] == base);
      CHECK(h.conds() == std::vector<SymBool>{drop.negated()});
    } else {
      CHECK(r.shapes[0][2] == base - 1);
      CHECK(h.conds() == std::vector<SymBool>{drop});
    }
    CHECK(r.shapes[0][3] == SymExpr(3));
  }
}

TEST_CASE("avg_pool2d, adaptive_avg_pool2d", "[shapes][rules][pool]") {
  Harness h;
  SymExpr s0 = h.sym(2), s1 = h.sym(14), s2 = h.sym(9);
  // densenet transition: 2x2 stride 2.
  CHECK(h.run("aten::avg_pool2d", {T({s0, 4, s1, s2}), ints({2, 2}), ints({2, 2}), ints({0, 0}), B(false), B(true), N()})
            .shapes == std::vector<SymShape>{{s0, 4, floor_div(s1, 2), floor_div(s2, 2)}});
  // Empty stride means stride = kernel.
  CHECK(h.run("aten::avg_pool2d", {T({s0, 4, s1, s2}), ints({3, 3}), ints({}), ints({0, 0}), B(false), B(true), N()})
            .shapes == std::vector<SymShape>{{s0, 4, floor_div(s1 - 3, 3) + 1, floor_div(s2 - 3, 3) + 1}});
  // Adaptive pooling never needs a guard.
  CHECK(h.run("aten::adaptive_avg_pool2d", {T({s0, 4, s1, s2}), ints({1, 1})}).shapes == std::vector<SymShape>{{s0, 4, 1, 1}});
  CHECK(h.run("aten::adaptive_avg_pool2d", {T({4, s1, s2}), ints({7})}).shapes == std::vector<SymShape>{{4, 7, 7}});
  CHECK(h.run("aten::max_pool2d", {T({4, s1}), ints({2, 2}), ints({}), ints({0}), ints({1}), B(false)}).error ==
        "expected 3-D or 4-D input to pooling, got [4, s1]");
}

TEST_CASE("pooling output below 1 is guarded against", "[shapes][rules][pool]") {
  Harness h;
  SymExpr s1 = h.sym(3, Range{1, 64});
  RuleResult r = h.run("aten::max_pool2d", {T({1, 1, s1, 8}), ints({3, 3}), ints({1, 1}), ints({0, 0}), ints({1, 1}), B(false)});
  CHECK(r.shapes[0] == SymShape{1, 1, s1 - 2, 6});
  CHECK(h.conds() == std::vector<SymBool>{sym_ge(s1 - 2, 1)});
  Harness small;
  SymExpr t = small.sym(2, Range{1, 64});
  CHECK(small.run("aten::max_pool2d", {T({1, 1, t, 8}), ints({3, 3}), ints({1, 1}), ints({0, 0}), ints({1, 1}), B(false)})
            .error.starts_with("pooling output size is too small"));
}

TEST_CASE("batch_norm, layer_norm, group_norm keep the input shape", "[shapes][rules][norm]") {
  Harness h;
  SymExpr s0 = h.sym(2), s1 = h.sym(5), e = h.sym(8);
  CHECK(h.run("aten::batch_norm", {T({s0, 4, s1, s1}), T({4}), T({4}), T({4}), T({4}), B(false), F(0.1), F(1e-5), B(true)})
            .shapes == std::vector<SymShape>{{s0, 4, s1, s1}});
  CHECK(h.run("aten::layer_norm", {T({s0, s1, 8}), L({8}), T({8}), T({8}), F(1e-5), B(true)}).shapes ==
        std::vector<SymShape>{{s0, s1, 8}});
  CHECK(h.run("aten::group_norm", {T({s0, 6, s1}), I(3), T({6}), T({6}), F(1e-5), B(true)}).shapes ==
        std::vector<SymShape>{{s0, 6, s1}});
  CHECK(h.run("aten::native_layer_norm", {T({s0, s1, 8}), L({s1, 8}), N(), N(), F(1e-5)}).shapes ==
        std::vector<SymShape>{{s0, s1, 8}, {s0, 1, 1}, {s0, 1, 1}});
  CHECK(h.guards().empty());
  // A symbolic feature dim must equal normalized_shape.
  CHECK(h.run("aten::layer_norm", {T({s0, e}), L({8}), N(), N(), F(1e-5), B(true)}).error.empty());
  CHECK(h.conds() == std::vector<SymBool>{sym_eq(e, 8)});
  CHECK(h.run("aten::batch_norm", {T({s0, 3}), T({4}), N(), N(), N(), B(false), F(0.1), F(1e-5), B(true)})
            .error.starts_with("normalization parameter [4] does not match input [s0, 3]"));
}
