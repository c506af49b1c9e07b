// tests/ir/verify_test.cpp: each invariant of ir/verify.h, broken on purpose.
//
// Two checks cannot be reached through Graph's API and so have no test here: a placeholder after a
// call (add_placeholder always inserts before the first call) and duplicate names (every name
// comes from Graph::unique_name). A tensor value without meta cannot be built either
// (add_placeholder requires one, add_call gives one).
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include "ir/verify.h"
#include "programs.h"
#include "shapes/error.h"

using namespace ptx::ir;
using namespace ptx::ir::testing;
namespace shapes = ptx::shapes;
using Catch::Matchers::ContainsSubstring;

namespace {
using MakeProgram = std::function<std::unique_ptr<ExportedProgram>()>;

void check_broken(const ExportedProgram& p, const std::string& message) {
  try {
    verify(p);
    FAIL("verify accepted a broken program");
  } catch (const ptx::InternalError& e) {
    CHECK_THAT(e.what(), ContainsSubstring(message));
  }
}

/// x -> relu -> neg, output neg.
std::unique_ptr<ExportedProgram> chain() {
  auto p = std::make_unique<ExportedProgram>();
  Value* x = user_input(*p, "x", meta(DType::kFloat32, {s77(), 4}));
  Value* relu = tensor_call(*p->graph, "aten::relu.default", {arg("self", x)}, meta(DType::kFloat32, {s77(), 4}), "relu");
  Value* neg = tensor_call(*p->graph, "aten::neg.default", {arg("self", relu)}, meta(DType::kFloat32, {s77(), 4}), "neg");
  user_outputs(*p, {neg});
  p->range_constraints["s77"] = {2, std::nullopt};
  return p;
}
}  // namespace

TEST_CASE("well-formed programs verify", "[ir][verify]") {
  auto [name, make] = GENERATE(table<const char*, MakeProgram>({
      {"mlp", mlp_program},
      {"linear_view", linear_view_program},
      {"divisible", divisible_program},
      {"mixed", mixed_program},
      {"tuple", tuple_program},
      {"chain", chain},
  }));
  INFO(name);
  const auto p = make();
  CHECK_NOTHROW(verify(*p));
}

TEST_CASE("a value used before its definition", "[ir][verify]") {
  auto p = chain();
  Node* neg = p->graph->outputs()[0]->producer();
  p->graph->move_to_front({neg});
  check_broken(*p, "node 'neg' (aten::neg.default) reads 'relu' before it is defined (Note [Topological order])");
}

TEST_CASE("a value of another graph", "[ir][verify]") {
  auto p = chain();
  Graph other;
  Value* stranger = other.add_placeholder("stranger", ValueType::kTensor, meta(DType::kFloat32, {4}));
  Node* relu = p->graph->nodes()[1].get();
  REQUIRE(relu->name() == "relu");
  relu->mutable_inputs()[0].value = stranger;
  check_broken(*p, "node 'relu' (aten::relu.default) reads 'stranger', which no node of this graph produces");
}

TEST_CASE("a value of a removed node, read by a node or returned", "[ir][verify]") {
  auto p = chain();
  p->graph->remove_nodes_if([](const Node& n) { return n.name() == "relu"; });
  check_broken(*p, "node 'neg' (aten::neg.default) reads 'relu', which no node of this graph produces");

  auto q = chain();
  q->graph->remove_nodes_if([](const Node& n) { return n.name() == "neg"; });
  check_broken(*q, "graph output 'neg' is not produced by any node of this graph");
}

TEST_CASE("input specs must be one per placeholder, in order", "[ir][verify]") {
  auto p = mlp_program();
  p->input_specs.pop_back();
  check_broken(*p, "4 input specs for 5 placeholders");
  auto q = mlp_program();
  std::swap(q->input_specs[0], q->input_specs[1]);
  check_broken(*q, "input spec 0 names 'p_fc1_bias' but placeholder 0 is 'p_fc1_weight'");
  auto r = mlp_program();
  r->input_specs[0].target.clear();
  check_broken(*r, "input spec of placeholder 'p_fc1_weight' has no target");
}

TEST_CASE("output specs must be one per output, in order", "[ir][verify]") {
  auto p = mixed_program();
  p->output_specs.push_back({OutputKind::kUserOutput, "mul", ""});
  check_broken(*p, "7 output specs for 6 graph outputs");
  auto q = mixed_program();
  q->output_specs[1].arg = "getitem";
  check_broken(*q, "output spec 1 names 'getitem' but graph output 1 is 'getitem_1'");
}

TEST_CASE("SymInt and SymBool values need their symbolic value", "[ir][verify]") {
  auto p = chain();
  Value* x = p->graph->placeholders()[0];
  p->graph->add_call("aten::sym_size.int", {arg("self", x), arg("dim", I(0))}, {ValueType::kSymInt}, "sym_size_int");
  check_broken(*p, "SymInt value 'sym_size_int' has no sym");

  auto q = chain();
  Value* size = sym_call(*q->graph, "aten::sym_size.int", {arg("self", q->graph->placeholders()[0]), arg("dim", I(0))},
                         s77(), "sym_size_int");
  q->graph->add_call("_operator.eq", {arg("a", size), arg("b", I(4))}, {ValueType::kSymBool}, "eq");
  check_broken(*q, "SymBool value 'eq' has no condition");
}

TEST_CASE("every symbol needs a range constraint, and names are unique", "[ir][verify]") {
  auto p = chain();
  p->range_constraints.clear();
  check_broken(*p, "tensor value 'x' uses symbol s77, which has no range constraint");

  auto q = chain();
  const SymExpr s5 = SymExpr::new_symbol("s5");
  sym_call(*q->graph, "_operator.add", {arg("a", I(1)), arg("b", I(2))}, s5 + 1, "add");
  check_broken(*q, "SymInt value 'add' uses symbol s5, which has no range constraint");

  auto r = chain();
  const SymExpr impostor = SymExpr::new_symbol("s77");  // same name, another symbol
  r->graph->placeholders()[0]->mutable_meta().sizes[1] = impostor;
  check_broken(*r, "two different symbols are named 's77' (in value 'x')");

  auto t = chain();
  bool_call(*t->graph, "_operator.eq", {arg("a", I(1)), arg("b", I(1))}, shapes::sym_eq(s5, 3), "eq");
  t->range_constraints["s5"] = {0, std::nullopt};
  CHECK_NOTHROW(verify(*t));
  t->range_constraints.erase("s5");
  check_broken(*t, "SymBool value 'eq' uses symbol s5");
}

TEST_CASE("verify_graph alone ignores specs", "[ir][verify]") {
  auto p = chain();
  p->input_specs.clear();
  p->range_constraints.clear();
  CHECK_NOTHROW(verify_graph(*p->graph));
  CHECK_THROWS_AS(verify(*p), ptx::InternalError);
}

TEST_CASE("while_loop's predicate subgraph returns one value, its body the carried ones", "[ir][verify]") {
  // while_loop(cond_fn, body_fn, (x,), ()): cond_fn returns one predicate whatever the node's
  // outputs are (a check that wanted as many as the outputs refused every loop).
  auto make = [](size_t predicates) {
    auto p = std::make_unique<ExportedProgram>();
    Value* x = user_input(*p, "x", meta(DType::kFloat32, {4}));
    auto cond = std::make_shared<Graph>();
    Value* cx = cond->add_placeholder("x", ValueType::kTensor, meta(DType::kFloat32, {4}));
    std::vector<Value*> preds;
    for (size_t i = 0; i < predicates; ++i) {
      preds.push_back(tensor_call(*cond, "aten::any.default", {arg("self", cx)}, meta(DType::kBool, {}), "any"));
    }
    cond->set_outputs(preds);
    auto body = std::make_shared<Graph>();
    Value* bx = body->add_placeholder("x", ValueType::kTensor, meta(DType::kFloat32, {4}));
    Value* bx1 = tensor_call(*body, "aten::neg.default", {arg("self", bx)}, meta(DType::kFloat32, {4}), "neg");
    Value* bx2 = tensor_call(*body, "aten::relu.default", {arg("self", bx)}, meta(DType::kFloat32, {4}), "relu");
    body->set_outputs({bx1, bx2});
    Node* w = p->graph->add_call("higher_order::while_loop",
                                 {{"", GraphArg{"while_loop_cond_graph_0", cond}, false},
                                  {"", GraphArg{"while_loop_body_graph_0", body}, false},
                                  {"", std::vector<Value*>{x, x}, false},
                                  {"", std::vector<Value*>{}, false}},
                                 {ValueType::kTensor, ValueType::kTensor}, "while_loop");
    w->outputs()[0]->mutable_meta() = meta(DType::kFloat32, {4});
    w->outputs()[1]->mutable_meta() = meta(DType::kFloat32, {4});
    user_outputs(*p, {w->outputs()[0], w->outputs()[1]});
    return p;
  };
  CHECK_NOTHROW(verify(*make(1)));
  check_broken(*make(2), "subgraph 'while_loop_cond_graph_0' returns 2 values for the loop's predicate");
}
