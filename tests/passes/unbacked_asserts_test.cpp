// tests/passes/unbacked_asserts_test.cpp: runtime assertions on values read from data (unbacked
// symbols) go right after the node that reads them, as torch.export 2.14 places them (asked live):
//   nonzero: "i64[u0, 2]" = torch.ops.aten.nonzero.default(gt)
//   sym_size_int: "Sym(u0)" = torch.ops.aten.sym_size.int(nonzero, 0)
//   ge: "Sym(u0 >= 0)" = sym_size_int >= 0
//   _assert_scalar_default = torch.ops.aten._assert_scalar.default(ge, "Runtime assertion failed for expression u0 >= 0 on node 'ge'")
//   le: "Sym(u0 <= 20)" = sym_size_int <= 20
//   _assert_scalar_default_1 = ...(le, "Runtime assertion failed for expression u0 <= 20 on node 'le'")
// and the interpreter enforces them.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <ATen/ATen.h>

#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verify.h"
#include "lib/interpreter.h"
#include "passes/pipeline.h"
#include "shapes/error.h"

using namespace ptx;
using Catch::Matchers::ContainsSubstring;

namespace {
const char* kNonzero = R"txt(ExportedProgram:
    class GraphModule(torch.nn.Module):
        def forward(self, x: "f32[5, 4]"):
            # File: model.py:8 in forward, code: return torch.nonzero(x > 0) + 1
            gt: "b8[5, 4]" = torch.ops.aten.gt.Scalar(x, 0);  x = None
            nonzero: "i64[u0, 2]" = torch.ops.aten.nonzero.default(gt);  gt = None
            add: "i64[u0, 2]" = torch.ops.aten.add.Scalar(nonzero, 1);  nonzero = None
            return (add,)
Graph signature:
    # inputs
    x: USER_INPUT

    # outputs
    add: USER_OUTPUT

Range constraints: {u0: VR[0, 20]}
)txt";
}  // namespace

TEST_CASE("the range of nonzero's count is asserted right after nonzero", "[passes][runtime_asserts][unbacked]") {
  auto p = ir::parse_program(kNonzero);
  const shapes::SymExpr u0 = p->graph->nodes()[2]->outputs()[0]->meta().sizes[0];
  REQUIRE(u0.str() == "u0");
  passes::PipelineOptions opts;
  opts.runtime_asserts = {{shapes::sym_ge(u0, 0), {}}, {shapes::sym_le(u0, 20), {}}};
  passes::run_pipeline(*p, opts);
  ir::verify(*p);
  std::vector<std::string> order;
  for (const auto& n : p->graph->nodes()) order.push_back(n->name());
  const std::vector<std::string> want{"x",  "gt", "nonzero", "sym_size_int", "ge", "_assert_scalar_default",
                                      "le", "_assert_scalar_default_1", "add"};
  REQUIRE(order == want);
  const std::string text = ir::to_string(*p);
  CHECK_THAT(text, ContainsSubstring("\"Runtime assertion failed for expression u0 <= 20 on node 'le'\""));
  // The assertions run (and hold) on any input: 0 to 20 positive elements.
  for (float fill : {1.0f, -1.0f}) {
    const auto out = run_program(*p, {at::full({5, 4}, fill)});
    REQUIRE(out[0].size(0) == (fill > 0 ? 20 : 0));
  }
}

TEST_CASE("a draft decision on an item() nothing else reads keeps the item", "[passes][runtime_asserts][unbacked]") {
  auto p = ir::parse_program(R"txt(ExportedProgram:
    class GraphModule(torch.nn.Module):
        def forward(self, x: "f32[3]", n: "i64[]"):
            # File: model.py:4 in forward, code: k = int(n.item())
            item: "Sym(u0)" = torch.ops.aten.item.default(n);  n = None
            # File: model.py:6 in forward, code: return x + 1
            add: "f32[3]" = torch.ops.aten.add.Scalar(x, 1);  x = None
            return (add,)
Graph signature:
    # inputs
    x: USER_INPUT
    n: USER_INPUT

    # outputs
    add: USER_OUTPUT

Range constraints: {u0: VR[-int_oo, int_oo]}
)txt");
  shapes::SymExpr u0;
  for (const auto& n : p->graph->nodes()) {
    if (n->name() == "item") u0 = n->outputs()[0]->sym();
  }
  REQUIRE(u0.str() == "u0");
  passes::PipelineOptions opts;
  shapes::Guard g{shapes::sym_ge(u0, 4), {}, "k > 3 on the sample"};
  opts.runtime_asserts = {g};
  passes::run_pipeline(*p, opts);
  std::vector<std::string> order;
  for (const auto& n : p->graph->nodes()) order.push_back(n->name());
  const std::vector<std::string> want{"x", "n", "item", "ge", "_assert_scalar_default", "add"};
  REQUIRE(order == want);
  CHECK_THAT(ir::to_string(*p), ContainsSubstring("on node 'ge': k > 3 on the sample"));
  REQUIRE(run_program(*p, {at::zeros({3}), at::scalar_tensor(5, at::kLong)})[0].equal(at::ones({3})));
  try {
    run_program(*p, {at::zeros({3}), at::scalar_tensor(2, at::kLong)});
    FAIL("the draft decision was not checked");
  } catch (const UserError& e) {
    CHECK_THAT(e.what(), ContainsSubstring("u0 >= 4"));
  }
}

TEST_CASE("an assertion that reads a size computed later goes after it", "[passes][runtime_asserts][unbacked]") {
  // The trace may read u0 off a later tensor (a torch.cond's output, then `out[:n]`): the materializer
  // reuses that sym_size node, so the assertions on u0 cannot go right after nonzero.
  auto p = ir::parse_program(R"txt(ExportedProgram:
    class GraphModule(torch.nn.Module):
        def forward(self, x: "f32[5, 4]"):
            gt: "b8[5, 4]" = torch.ops.aten.gt.Scalar(x, 0);  x = None
            nonzero: "i64[u0, 2]" = torch.ops.aten.nonzero.default(gt);  gt = None
            add: "i64[u0, 2]" = torch.ops.aten.add.Scalar(nonzero, 1);  nonzero = None
            sym_size_int: "Sym(u0)" = torch.ops.aten.sym_size.int(add, 0)
            slice_1: "i64[u0, 2]" = torch.ops.aten.slice.Tensor(add, 0, 0, sym_size_int);  add = sym_size_int = None
            return (slice_1,)
Graph signature:
    # inputs
    x: USER_INPUT

    # outputs
    slice_1: USER_OUTPUT

Range constraints: {u0: VR[0, 20]}
)txt");
  const shapes::SymExpr u0 = p->graph->nodes()[2]->outputs()[0]->meta().sizes[0];
  REQUIRE(u0.str() == "u0");
  passes::PipelineOptions opts;
  opts.runtime_asserts = {{shapes::sym_ge(u0, 0), {}}, {shapes::sym_le(u0, 20), {}}};
  passes::run_pipeline(*p, opts);
  ir::verify(*p);  // was: node 'ge' reads 'sym_size_int' before it is defined
  std::vector<std::string> order;
  for (const auto& n : p->graph->nodes()) order.push_back(n->name());
  const std::vector<std::string> want{"x",  "gt", "nonzero", "add", "sym_size_int", "ge", "_assert_scalar_default",
                                      "le", "_assert_scalar_default_1", "slice_1"};
  REQUIRE(order == want);
  for (float fill : {1.0f, -1.0f}) CHECK(run_program(*p, {at::full({5, 4}, fill)})[0].size(0) == (fill > 0 ? 20 : 0));
}
