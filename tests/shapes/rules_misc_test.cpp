// tests/shapes/rules_misc_test.cpp: reductions, factories, attention, RNNs. Expected values
// derived by hand from the ops' ATen definitions.
#include <catch2/catch_test_macros.hpp>

#include "tests/shapes/rules_harness.h"

using namespace ptx::shapes;
using namespace ptx::shapes::test;

TEST_CASE("reductions", "[shapes][rules][reduction]") {
  Harness h;
  SymExpr s0 = h.sym(2), s1 = h.sym(3), s2 = h.sym(5);
  CHECK(h.run("aten::mean", {T({s0, 4, s1, s2}), L({2, 3}), B(false), N()}, "dim").shapes == std::vector<SymShape>{{s0, 4}});
  CHECK(h.run("aten::mean", {T({s0, 4, s1}), L({-1}), B(true), N()}, "dim").shapes == std::vector<SymShape>{{s0, 4, 1}});
  CHECK(h.run("aten::mean", {T({s0, 4}), I(6)}, "default").shapes == std::vector<SymShape>{{}});  // (self, dtype)
  CHECK(h.run("aten::sum", {T({s0, 4, s1}), L({}), B(false), N()}, "dim_IntList").shapes == std::vector<SymShape>{{}});
  CHECK(h.run("aten::sum", {T({s0, 4, s1}), N(), B(true), N()}, "dim_IntList").shapes == std::vector<SymShape>{{1, 1, 1}});
  CHECK(h.run("aten::all", {T({s0, 4}, 11)}).shapes == std::vector<SymShape>{{}});
  CHECK(h.run("aten::all", {T({s0, 4}, 11), I(1), B(false)}, "dim").shapes == std::vector<SymShape>{{s0}});
  CHECK(h.run("aten::amax", {T({s0, 4, s1}), L({0, 2}), B(true)}).shapes == std::vector<SymShape>{{1, 4, 1}});
  CHECK(h.run("aten::max", {T({s0, 4}), I(1), B(false)}, "dim").shapes == std::vector<SymShape>{{s0}, {s0}});
  CHECK(h.run("aten::max", {T({s0, 1}), T({4})}, "other").shapes == std::vector<SymShape>{{s0, 4}});
  CHECK(h.run("aten::argmax", {T({s0, 4}), N(), B(true)}).shapes == std::vector<SymShape>{{1, 1}});
  CHECK(h.run("aten::var", {T({s0, 4}), L({1}), N(), B(true)}, "correction").shapes == std::vector<SymShape>{{s0, 1}});
  CHECK(h.guards().empty());
  CHECK(h.run("aten::sum", {T({s0, 4}), L({1, -1}), B(false), N()}, "dim_IntList").error ==
        "dim -1 appears multiple times in the list of dims");
}

TEST_CASE("factories", "[shapes][rules][factory]") {
  Harness h;
  SymExpr s0 = h.sym(3), s1 = h.sym(8);
  CHECK(h.run("aten::zeros", {L({1, s0, 16}), N(), N(), N(), N()}).shapes == std::vector<SymShape>{{1, s0, 16}});
  CHECK(h.run("aten::full", {L({s0, s1}), F(-1.0), N(), N(), N(), N()}).shapes == std::vector<SymShape>{{s0, s1}});
  CHECK(h.run("aten::new_zeros", {T({2, 3}), L({s0, s1}), N(), N(), N(), N()}).shapes == std::vector<SymShape>{{s0, s1}});
  CHECK(h.run("aten::tensor", {I(3), N(), N(), B(false)}, "int").shapes == std::vector<SymShape>{{}});
  CHECK(h.run("aten::arange", {I(s0), N(), N(), N(), N()}).shapes == std::vector<SymShape>{{s0}});
  CHECK(h.run("aten::arange", {I(1), I(s1), I(3), N(), N(), N(), N()}, "start_step").shapes ==
        std::vector<SymShape>{{ceil_div(s1 - 1, 3)}});
  CHECK(h.run("aten::arange", {F(0.0), F(1.0), F(0.25), N(), N(), N(), N()}, "start_step").shapes ==
        std::vector<SymShape>{{4}});
  // linspace(-4, 4, 9) (RAFT's neighbourhood offsets): 9 points
  CHECK(h.run("aten::linspace", {F(-4.0), F(4.0), I(9), N(), N(), N(), N()}).shapes == std::vector<SymShape>{{9}});
  CHECK(h.run("aten::linspace", {F(0.0), F(1.0), I(s0), N(), N(), N(), N()}).shapes == std::vector<SymShape>{{s0}});
  CHECK(h.guards().empty());
}

TEST_CASE("meshgrid and grid_sampler", "[shapes][rules][factory]") {
  Harness h;
  SymExpr b = h.sym(2), s1 = h.sym(3), s2 = h.sym(8), c = h.sym(2);
  // meshgrid: every output [len(a), len(b)] ("ij", the default), [len(b), len(a)] for "xy"; a 0-d input counts 1
  CHECK(h.run("aten::meshgrid", {TL({SymShape{s1}, SymShape{s2}}), S("ij")}, "indexing").shapes ==
        std::vector<SymShape>{{s1, s2}, {s1, s2}});
  CHECK(h.run("aten::meshgrid", {TL({SymShape{s1}, SymShape{s2}, SymShape{}}), S("xy")}, "indexing").shapes ==
        std::vector<SymShape>{{s2, s1, 1}, {s2, s1, 1}, {s2, s1, 1}});
  CHECK(h.run("aten::meshgrid", {TL({SymShape{s1}, SymShape{4}})}).shapes == std::vector<SymShape>{{s1, 4}, {s1, 4}});
  CHECK(h.run("aten::meshgrid", {TL({SymShape{s1, 2}})}).error ==
        "torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: [s1, 2]");
  // grid_sampler: [N, C, H, W] at grid [N, Ho, Wo, 2] gives [N, C, Ho, Wo]; 5-D with a grid ending in 3
  CHECK(h.run("aten::grid_sampler", {T({b, 4, s1, s2}), T({b, 9, 9, 2}), I(0), I(0), B(true)}).shapes ==
        std::vector<SymShape>{{b, 4, 9, 9}});
  CHECK(h.run("aten::grid_sampler", {T({b, 4, 3, s1, s2}), T({b, 2, s1, 5, 3}), I(0), I(0), B(true)}).shapes ==
        std::vector<SymShape>{{b, 4, 2, s1, 5}});
  CHECK(h.guards().empty());
  // batch sizes of input and grid must agree
  CHECK(h.run("aten::grid_sampler", {T({b, 4, s1, s2}), T({c, 9, 9, 2}), I(0), I(0), B(true)}).shapes ==
        std::vector<SymShape>{{b, 4, 9, 9}});
  CHECK(h.conds() == std::vector<SymBool>{sym_eq(b, c)});
  CHECK(h.run("aten::grid_sampler", {T({b, 4, s1, s2}), T({b, 9, 9, 3}), I(0), I(0), B(true)}).error ==
        "grid_sampler(): expected grid to have size 2 in last dimension, but got grid with sizes [s0, 9, 9, 3]");
}

TEST_CASE("scaled_dot_product_attention", "[shapes][rules][attention]") {
  Harness h;
  SymExpr b = h.sym(2), l = h.sym(5), s = h.sym(3);
  CHECK(h.run("aten::scaled_dot_product_attention",
              {T({b, 4, l, 8}), T({b, 4, s, 8}), T({b, 4, s, 6}), N(), F(0.0), B(false), N(), B(false)})
            .shapes == std::vector<SymShape>{{b, 4, l, 6}});
  CHECK(h.run("aten::scaled_dot_product_attention",
              {T({b, 4, l, 8}), T({b, 4, l, 8}), T({b, 4, l, 8}), T({l, l}, 11), F(0.0), B(false), N(), B(false)})
            .shapes == std::vector<SymShape>{{b, 4, l, 8}});
  CHECK(h.guards().empty());
  CHECK(h.run("aten::scaled_dot_product_attention",
              {T({b, 4, l, 8}), T({b, 4, s, 7}), T({b, 4, s, 6}), N(), F(0.0), B(false), N(), B(false)})
            .error.starts_with("query [s0, 4, s1, 8] and key [s0, 4, s2, 7] have different embedding dims"));
}

TEST_CASE("fused transformer kernels", "[shapes][rules][attention]") {
  Harness h;
  SymExpr b = h.sym(2), l = h.sym(5);
  auto mha = [&](bool need_weights, bool average) {
    return h.run("aten::_native_multi_head_attention",
                 {T({b, l, 16}), T({b, l, 16}), T({b, l, 16}), I(16), I(4), T({48, 16}), T({48}), T({16, 16}), T({16}),
                  N(), B(need_weights), B(average), N()});
  };
  CHECK(mha(true, true).shapes == std::vector<SymShape>{{b, l, 16}, {b, l, l}});
  CHECK(mha(true, false).shapes == std::vector<SymShape>{{b, l, 16}, {b, 4, l, l}});
  RuleResult r = mha(false, true);
  CHECK(r.shapes == std::vector<SymShape>{{b, l, 16}, {}});
  CHECK(r.undefined == std::vector<size_t>{1});
  CHECK(h.run("aten::_transformer_encoder_layer_fwd",
              {T({b, l, 16}), I(16), I(4), T({48, 16}), T({48}), T({16, 16}), T({16}), B(false), B(false), F(1e-5),
               T({16}), T({16}), T({16}), T({16}), T({32, 16}), T({32}), T({16, 32}), T({16}), N(), N()})
            .shapes == std::vector<SymShape>{{b, l, 16}});
  CHECK(h.guards().empty());
  CHECK(h.run("aten::_nested_tensor_from_mask", {T({b, l, 16}), T({b, l}, 11), B(true)}).error.starts_with(
      "nested tensors are not supported"));
  CHECK(h.run("aten::to_padded_tensor", {T({b, l, 16}), F(0.0), L({b, l, 16})}).shapes == std::vector<SymShape>{{b, l, 16}});
}

TEST_CASE("lstm and gru", "[shapes][rules][rnn]") {
  Harness h;
  SymExpr n = h.sym(2), t = h.sym(5);
  // batch_first, bidirectional, one layer, hidden 8
  const std::vector<std::optional<SymShape>> params{SymShape{32, 8}, SymShape{32, 8}, SymShape{32}, SymShape{32},
                                                    SymShape{32, 8}, SymShape{32, 8}, SymShape{32}, SymShape{32}};
  CHECK(h.run("aten::lstm", {T({n, t, 8}), TL({SymShape{2, n, 8}, SymShape{2, n, 8}}), TL(params), B(true), I(1),
                             F(0.0), B(false), B(true), B(true)},
              "input")
            .shapes == std::vector<SymShape>{{n, t, 16}, {2, n, 8}, {2, n, 8}});
  // sequence first, one direction
  CHECK(h.run("aten::gru", {T({t, n, 8}), T({1, n, 16}), TL({SymShape{48, 8}, SymShape{48, 16}, SymShape{48}, SymShape{48}}),
                            B(true), I(1), F(0.0), B(false), B(false), B(false)},
              "input")
            .shapes == std::vector<SymShape>{{t, n, 16}, {1, n, 16}});
  // packed: data [sum(batch_sizes), 8]
  CHECK(h.run("aten::gru", {T({t, 8}), T({3}, 4), T({1, n, 16}), TL({SymShape{48, 8}, SymShape{48, 16}}), B(false),
                            I(1), F(0.0), B(false), B(false)},
              "data")
            .shapes == std::vector<SymShape>{{t, 16}, {1, n, 16}});
  CHECK(h.guards().empty());
  CHECK(h.run("aten::lstm", {T({n, t, 8}), TL({SymShape{1, n, 8}, SymShape{1, n, 8}}), TL(params), B(true), I(1),
                             F(0.0), B(false), B(true), B(true)},
              "input")
            .error.starts_with("rnn hidden state [1, s0, 8] does not match num_layers * num_directions = 2"));
}
