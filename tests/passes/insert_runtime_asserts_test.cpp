// tests/passes/insert_runtime_asserts_test.cpp: guards become torch-style runtime assertions, and
// lib/interpreter.h's run_program enforces them.
//
// What torch 2.14 emits for the same modules (export(..., prefer_deferred_runtime_asserts_over_guards=True),
// Dim.DYNAMIC; see tests/ir/programs.h for the first):
//   x.view(-1, 4):            mod = sym_size_int % 4; eq = mod == 0;
//                             _assert_scalar_default = torch.ops.aten._assert_scalar.default(eq,
//                                 "Runtime assertion failed for expression Eq(Mod(s77, 4), 0) on node 'eq'")
//   if x.shape[0] > y.shape[0]: return x[:y.shape[0]] + y
//                             lt: "Sym(s17 < s77)" = sym_size_int_3 < sym_size_int_2;
//                             ..._assert_scalar.default(lt, "Runtime assertion failed for expression s17 < s77 on node 'lt'")
//   Ne((s77//4), 1):          eq_1 = floordiv == 1; sym_not = torch.sym_not(eq_1); assert on 'sym_not'
// Our relations are canonical (shapes/sym.h: s1 < s0 is s0 >= s1 + 1), so the relation node is
// the canonical one's (ge), with the same naming and message scheme.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <ATen/ATen.h>

#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verify.h"
#include "lib/interpreter.h"
#include "passes/insert_runtime_asserts.h"
#include "shapes/error.h"

using namespace ptx;
using Catch::Matchers::ContainsSubstring;
using shapes::SymExpr;

namespace {
/// A guard made by aten::view at `file`:`line` (no location when `file` is empty).
shapes::Guard guard(shapes::SymBool cond, const std::string& file = "", int line = 0, const std::string& code = "") {
  shapes::Guard g{cond, {}};
  g.origin.op = "aten::view";
  if (!file.empty()) {
    g.origin.source = file + ":" + std::to_string(line);
    g.origin.code = code;
    g.origin.stack = {{file, line, "forward", code}};
  }
  return g;
}

// The interpreter checks the artifact's runtime assertions on the input sizes before running
// (lib/interpreter.cpp), naming the condition and its _assert_scalar node.
void check_violation(const ir::ExportedProgram& p, const std::vector<at::Tensor>& inputs, const std::string& message) {
  try {
    run_program(p, inputs);
    FAIL("the assertion did not fire");
  } catch (const UserError& e) {
    REQUIRE(e.code() == ExitCode::kInput);
    CHECK_THAT(e.what(), ContainsSubstring(message));
  }
}
}  // namespace

TEST_CASE("a divisibility guard: x.view(-1, 4) on a dynamic dim", "[passes][runtime_asserts]") {
  auto p = ir::parse_program(R"txt(ExportedProgram:
    class GraphModule(torch.nn.Module):
        def forward(self, x: "f32[s0]"):
            # File: model.py:21 in forward, code: return x.view(-1, 4)
            view: "f32[(s0//4), 4]" = torch.ops.aten.view.default(x, [-1, 4]);  x = None
            return (view,)
Graph signature:
    # inputs
    x: USER_INPUT
    # outputs
    view: USER_OUTPUT
Range constraints: {s0: VR[2, int_oo]}
)txt");
  const SymExpr s0 = p->graph->placeholders()[0]->meta().sizes[0];
  const auto divisible = shapes::sym_eq(shapes::python_mod(s0, 4), 0);
  REQUIRE(passes::insert_runtime_asserts(*p->graph, {guard(divisible, "model.py", 21, "return x.view(-1, 4)"),
                                                     guard(divisible), guard(shapes::SymBool(true))}));
  CHECK_NOTHROW(ir::verify(*p));
  REQUIRE(ir::to_string(*p->graph) == R"txt(class GraphModule(torch.nn.Module):
    def forward(self, x: "f32[s0]"):
        # No stacktrace found for following nodes
        sym_size_int: "Sym(s0)" = torch.ops.aten.sym_size.int(x, 0)
        mod: "Sym(Mod(s0, 4))" = sym_size_int % 4;  sym_size_int = None

        # File: model.py:21 in forward, code: return x.view(-1, 4)
        eq: "Sym(Eq(Mod(s0, 4), 0))" = mod == 0;  mod = None
        _assert_scalar_default = torch.ops.aten._assert_scalar.default(eq, "Runtime assertion failed for expression Eq(Mod(s0, 4), 0) on node 'eq'");  eq = _assert_scalar_default = None
        view: "f32[(s0//4), 4]" = torch.ops.aten.view.default(x, [-1, 4]);  x = None
        return (view,)
)txt");

  // Satisfied: the program runs and computes x.view(-1, 4).
  const at::Tensor x = at::arange(12, at::kFloat);
  const auto out = run_program(*p, {x});
  REQUIRE(out.size() == 1);
  REQUIRE(at::equal(out[0], x.view({-1, 4})));
  // Violated: the assert stops it before view, with torch's message.
  check_violation(*p, {at::arange(10, at::kFloat)},
                  "runtime assertion Eq(Mod(s0, 4), 0) (node _assert_scalar");
  CHECK_FALSE(passes::insert_runtime_asserts(*p->graph, {}));
}

TEST_CASE("a relation between two symbols reuses the graph's sym_size nodes", "[passes][runtime_asserts]") {
  auto p = ir::parse_program(R"txt(ExportedProgram:
    class GraphModule(torch.nn.Module):
        def forward(self, x: "f32[s0]", y: "f32[s1]"):
            # File: model.py:14 in forward, code: return x[: y.shape[0]] + y
            sym_size_int_1: "Sym(s1)" = torch.ops.aten.sym_size.int(y, 0)
            slice_1: "f32[s1]" = torch.ops.aten.slice.Tensor(x, 0, None, sym_size_int_1)
            add: "f32[s1]" = torch.ops.aten.add.Tensor(slice_1, y)
            return (add,)
Graph signature:
    # inputs
    x: USER_INPUT
    y: USER_INPUT
    # outputs
    add: USER_OUTPUT
Range constraints: {s0: VR[2, int_oo], s1: VR[2, int_oo]}
)txt");
  const SymExpr s0 = p->graph->placeholders()[0]->meta().sizes[0];
  const SymExpr s1 = p->graph->placeholders()[1]->meta().sizes[0];
  const auto longer = shapes::sym_lt(s1, s0);
  REQUIRE(longer.str() == "s0 >= s1 + 1");
  REQUIRE(passes::insert_runtime_asserts(*p->graph, {guard(longer, "model.py", 13, "if x.shape[0] > y.shape[0]:")}));
  CHECK_NOTHROW(ir::verify(*p));
  REQUIRE(ir::to_string(*p->graph) == R"txt(class GraphModule(torch.nn.Module):
    def forward(self, x: "f32[s0]", y: "f32[s1]"):
        # File: model.py:14 in forward, code: return x[: y.shape[0]] + y
        sym_size_int_1: "Sym(s1)" = torch.ops.aten.sym_size.int(y, 0)

        # No stacktrace found for following nodes
        sym_size_int: "Sym(s0)" = torch.ops.aten.sym_size.int(x, 0)
        add_1: "Sym(s1 + 1)" = sym_size_int_1 + 1

        # File: model.py:13 in forward, code: if x.shape[0] > y.shape[0]:
        ge: "Sym(s0 >= s1 + 1)" = sym_size_int >= add_1;  sym_size_int = add_1 = None
        _assert_scalar_default = torch.ops.aten._assert_scalar.default(ge, "Runtime assertion failed for expression s0 >= s1 + 1 on node 'ge'");  ge = _assert_scalar_default = None

        # File: model.py:14 in forward, code: return x[: y.shape[0]] + y
        slice_1: "f32[s1]" = torch.ops.aten.slice.Tensor(x, 0, None, sym_size_int_1);  x = sym_size_int_1 = None
        add: "f32[s1]" = torch.ops.aten.add.Tensor(slice_1, y);  slice_1 = y = None
        return (add,)
)txt");

  const at::Tensor x = at::arange(8, at::kFloat), y = at::ones({3});
  const auto out = run_program(*p, {x, y});
  REQUIRE(out.size() == 1);
  REQUIRE(at::equal(out[0], x.slice(0, 0, 3) + y));
  check_violation(*p, {at::arange(3, at::kFloat), at::ones({3})},
                  "runtime assertion s0 >= s1 + 1 (node _assert_scalar");
  check_violation(*p, {at::arange(2, at::kFloat), at::ones({5})}, "runtime assertion s0 >= s1 + 1 (node _assert_scalar");
}

TEST_CASE("Ne is eq then torch.sym_not; derived dims are undone", "[passes][runtime_asserts]") {
  auto p = ir::parse_program(R"txt(ExportedProgram:
    class GraphModule(torch.nn.Module):
        def forward(self, x: "f32[2*s0 + 1, 3]"):
            relu: "f32[2*s0 + 1, 3]" = torch.ops.aten.relu.default(x)
            return (relu,)
Graph signature:
    # inputs
    x: USER_INPUT
    # outputs
    relu: USER_OUTPUT
Range constraints: {s0: VR[0, 100]}
)txt");
  const SymExpr s0 = shapes::free_symbols(p->graph->placeholders()[0]->meta().sizes[0])[0];
  REQUIRE(passes::insert_runtime_asserts(*p->graph, {guard(shapes::sym_ne(shapes::floor_div(s0, 4), 1)),
                                                     guard(shapes::sym_le(s0, 50))}));
  CHECK_NOTHROW(ir::verify(*p));
  REQUIRE(ir::to_string(*p->graph) == R"txt(class GraphModule(torch.nn.Module):
    def forward(self, x: "f32[2*s0 + 1, 3]"):
        # No stacktrace found for following nodes
        sym_size_int: "Sym(2*s0 + 1)" = torch.ops.aten.sym_size.int(x, 0)
        sub: "Sym(2*s0)" = sym_size_int - 1;  sym_size_int = None
        floordiv: "Sym(s0)" = sub // 2;  sub = None
        floordiv_1: "Sym((s0//4))" = floordiv // 4
        eq: "Sym(Eq((s0//4), 1))" = floordiv_1 == 1;  floordiv_1 = None
        sym_not: "Sym(Ne((s0//4), 1))" = torch.sym_not(eq);  eq = None
        _assert_scalar_default = torch.ops.aten._assert_scalar.default(sym_not, "Runtime assertion failed for expression Ne((s0//4), 1) on node 'sym_not'");  sym_not = _assert_scalar_default = None
        le: "Sym(s0 <= 50)" = floordiv <= 50;  floordiv = None
        _assert_scalar_default_1 = torch.ops.aten._assert_scalar.default(le, "Runtime assertion failed for expression s0 <= 50 on node 'le'");  le = _assert_scalar_default_1 = None
        relu: "f32[2*s0 + 1, 3]" = torch.ops.aten.relu.default(x);  x = None
        return (relu,)
)txt");
  const at::Tensor ok = at::randn({2 * 3 + 1, 3});
  REQUIRE(at::equal(run_program(*p, {ok})[0], ok.relu()));
  // s0 = 5: (5//4) == 1 violates Ne((s0//4), 1).
  check_violation(*p, {at::randn({11, 3})}, "runtime assertion Ne((s0//4), 1) (node _assert_scalar");
  // s0 = 60 is in the range [0, 100] but violates s0 <= 50.
  check_violation(*p, {at::randn({121, 3})}, "runtime assertion s0 <= 50 (node _assert_scalar");
}

TEST_CASE("a guard that is always false is an internal error", "[passes][runtime_asserts]") {
  ir::Graph g;
  CHECK_THROWS_AS(passes::insert_runtime_asserts(g, {guard(shapes::SymBool(false))}), InternalError);
}
