// tests/passes/eliminate_dead_code_test.cpp: passes::eliminate_dead_code on graphs written as text.
#include <catch2/catch_test_macros.hpp>

#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verify.h"
#include "passes/eliminate_dead_code.h"

using namespace ptx;

TEST_CASE("dce removes unused calls and keeps placeholders", "[passes][dce]") {
  auto g = ir::parse_graph(R"txt(
    def forward(self, x: "f32[s0, 4]", unused: "f32[3]"):
        view: "f32[4*s0]" = torch.ops.aten.view.default(x, [-1])
        relu: "f32[s0, 4]" = torch.ops.aten.relu.default(x)
        neg: "f32[4*s0]" = torch.ops.aten.neg.default(view)
        return (relu,)
  )txt");
  REQUIRE(passes::eliminate_dead_code(*g));
  CHECK_NOTHROW(ir::verify_graph(*g));
  CHECK(ir::to_string(*g) == R"txt(class GraphModule(torch.nn.Module):
    def forward(self, x: "f32[s0, 4]", unused: "f32[3]"):
        # No stacktrace found for following nodes
        relu: "f32[s0, 4]" = torch.ops.aten.relu.default(x);  x = None
        return (relu,)
)txt");
  CHECK(g->placeholders().size() == 2);
  CHECK_FALSE(passes::eliminate_dead_code(*g));  // nothing left to remove
}

TEST_CASE("dce keeps chains that reach an output, and asserts", "[passes][dce]") {
  auto g = ir::parse_graph(R"txt(
    def forward(self, x: "f32[s0]"):
        sym_size_int: "Sym(s0)" = torch.ops.aten.sym_size.int(x, 0)
        mod: "Sym(Mod(s0, 4))" = sym_size_int % 4
        eq: "Sym(Eq(Mod(s0, 4), 0))" = mod == 0
        _assert_scalar_default = torch.ops.aten._assert_scalar.default(eq, "Runtime assertion failed for expression Eq(Mod(s0, 4), 0) on node 'eq'")
        floordiv: "Sym((s0//4))" = sym_size_int // 4
        dead: "Sym(2*s0)" = sym_size_int * 2
        view: "f32[(s0//4), 4]" = torch.ops.aten.view.default(x, [floordiv, 4])
        split = torch.ops.aten.split.Tensor(view, 2)
        getitem: "f32[2, 4]" = split[0]
        getitem_1: "f32[(s0//4) - 2, 4]" = split[1]
        return (getitem_1,)
  )txt");
  REQUIRE(passes::eliminate_dead_code(*g));
  std::vector<std::string> names;
  for (const auto& n : g->nodes()) names.push_back(n->name());
  CHECK(names == std::vector<std::string>{"x", "sym_size_int", "mod", "eq", "_assert_scalar_default", "floordiv", "view",
                                          "split"});
  CHECK_NOTHROW(ir::verify_graph(*g));
}
