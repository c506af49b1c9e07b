// tests/ir/sym_materialize_test.cpp: symbolic integers as sym_size / _operator nodes.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include "ir/printer.h"
#include "ir/sym_materialize.h"
#include "ir/verify.h"
#include "programs.h"
#include "shapes/error.h"

using namespace ptx::ir;
using namespace ptx::ir::testing;
namespace shapes = ptx::shapes;
using Catch::Matchers::ContainsSubstring;

TEST_CASE("symbols come from input dims, expressions from Python operators", "[ir][sym_materialize]") {
  const SymExpr s0 = SymExpr::new_symbol("s0"), s1 = SymExpr::new_symbol("s1");
  Graph g;
  // y's first dim is 2*s1 + 1: s1 = (size - 1) // 2.
  Value* x = g.add_placeholder("x", ValueType::kTensor, meta(DType::kFloat32, {s0, 4}));
  Value* y = g.add_placeholder("y", ValueType::kTensor, meta(DType::kFloat32, {2 * s1 + 1}));
  SymMaterializer m(g);
  m.add_sources_from(x);
  m.add_sources_from(y);
  CHECK(m.has_source(s0));
  CHECK(m.has_source(s1));

  Value* v = m.materialize(shapes::python_mod(s0 + s1, 4));
  Value* w = m.materialize(shapes::sym_max(s0, s1));
  CHECK(m.materialize(s0) == m.materialize(s0));  // cached
  CHECK(m.materialize(shapes::python_mod(s0 + s1, 4)) == v);
  g.set_outputs({v, w});
  CHECK_NOTHROW(verify_graph(g));
  CHECK(m.created().size() == 7);
  CHECK(to_string(g) == R"txt(class GraphModule(torch.nn.Module):
    def forward(self, x: "f32[s0, 4]", y: "f32[2*s1 + 1]"):
        # No stacktrace found for following nodes
        sym_size_int: "Sym(s0)" = torch.ops.aten.sym_size.int(x, 0);  x = None
        sym_size_int_1: "Sym(2*s1 + 1)" = torch.ops.aten.sym_size.int(y, 0);  y = None
        sub: "Sym(2*s1)" = sym_size_int_1 - 1;  sym_size_int_1 = None
        floordiv: "Sym(s1)" = sub // 2;  sub = None
        add: "Sym(s0 + s1)" = sym_size_int + floordiv
        mod: "Sym(Mod(s0 + s1, 4))" = add % 4;  add = None
        sym_max: "Sym(Max(s0, s1))" = torch.sym_max(sym_size_int, floordiv);  sym_size_int = floordiv = None
        return (mod, sym_max)
)txt");
}

TEST_CASE("existing values are reused", "[ir][sym_materialize]") {
  const SymExpr s0 = SymExpr::new_symbol("s0");
  Graph g;
  Value* x = g.add_placeholder("x", ValueType::kTensor, meta(DType::kFloat32, {s0}));
  Value* size = sym_call(g, "aten::sym_size.int", {arg("self", x), arg("dim", I(0))}, s0, "sym_size_int");
  SymMaterializer m(g);
  m.add_existing(size);
  CHECK(m.materialize(s0) == size);
  Value* twice = m.materialize(2 * s0);
  CHECK(twice->producer()->target() == "_operator.mul");
  CHECK(std::get<Value*>(twice->producer()->inputs()[0].value) == size);
  CHECK(m.created().size() == 1);
}

TEST_CASE("a symbol without a source is an internal error", "[ir][sym_materialize]") {
  Graph g;
  SymMaterializer m(g);
  const SymExpr s9 = SymExpr::new_symbol("s9");
  CHECK_THROWS_WITH(m.materialize(s9 + 1), ContainsSubstring("no input dimension gives symbol s9"));
  CHECK_THROWS_AS(m.materialize(SymExpr(3)), ptx::InternalError);
}
