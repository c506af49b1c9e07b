// tests/serialize/fixtures.h: hand-built exported programs for the serialize tests and for
// write_fixture_main.cpp (tests/e2e/test_serialize_conformance.py), modelled node for node on what
// torch.export.export 2.14 produces for the equivalent Python modules (print(ep) of each is quoted
// above its builder). They stand in for the frontend until it exports real models.
#pragma once

#include <ATen/ATen.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ir/program.h"
#include "serialize/pt2_writer.h"

namespace ptx::test {

using ir::NamedArg;
using ir::Value;
using ir::ValueType;

inline ir::TensorMeta meta(std::vector<shapes::SymExpr> sizes, bool requires_grad = false,
                           ir::DType dtype = ir::DType::kFloat32) {
  ir::TensorMeta m;
  m.dtype = dtype;
  m.sizes = std::move(sizes);
  // contiguous strides
  m.strides.assign(m.sizes.size(), shapes::SymExpr(1));
  for (size_t i = m.sizes.size(); i-- > 1;) m.strides[i - 1] = m.strides[i] * m.sizes[i];
  m.requires_grad = requires_grad;
  return m;
}

inline ir::PyTree leaf(const std::string& name) {
  ir::PyTree t;
  t.leaf = name;
  return t;
}
inline ir::PyTree tuple(std::vector<ir::PyTree> children) {
  ir::PyTree t;
  t.kind = ir::PyTree::Kind::kTuple;
  t.children = std::move(children);
  return t;
}
inline ir::PyTree dict(std::vector<std::string> keys, std::vector<ir::PyTree> children) {
  ir::PyTree t;
  t.kind = ir::PyTree::Kind::kDict;
  t.keys = std::move(keys);
  t.children = std::move(children);
  return t;
}

/// A deterministic tensor: values (i * 0.37 + seed) mod 2 - 1, i = 0, 1, ...
inline at::Tensor weights(std::vector<int64_t> sizes, double seed) {
  int64_t n = 1;
  for (int64_t s : sizes) n *= s;
  at::Tensor t = at::arange(n, at::kDouble).mul(0.37).add(seed).remainder(2.0).sub(1.0);
  return t.to(at::kFloat).reshape(sizes).contiguous();
}

/// A program plus the hints its symbols had on the sample.
struct Fixture {
  ir::ExportedProgram ep;
  serialize::WriteOptions opts;
};

inline ir::Node* call(ir::Graph& g, const std::string& target, std::vector<NamedArg> args, ir::TensorMeta out,
                  const std::string& name) {
  ir::Node* n = g.add_call(target, std::move(args), {ValueType::kTensor}, name);
  n->outputs()[0]->mutable_meta() = std::move(out);
  return n;
}

inline void frame(ir::Node* n, std::vector<ir::ModuleFrame> frames) { n->meta().nn_module_stack = std::move(frames); }

inline const ir::ModuleFrame kRootFrame{"L__self__", "", "__main__.M"};

/// torch.export of
///   class M(nn.Module):
///       def __init__(self):
///           super().__init__(); self.fc = nn.Linear(4, 3); self.register_buffer("scale", torch.ones(3))
///       def forward(self, x):
///           y = torch.relu(self.fc(x)) * self.scale
///           return y.view(x.shape[0] * 3)
/// with x = randn(8, 4) and Dim("batch", min=2, max=64) on x's dim 0:
///   def forward(self, p_fc_weight: "f32[3, 4]", p_fc_bias: "f32[3]", b_scale: "f32[3]", x: "f32[s77, 4]"):
///       sym_size_int_1: "Sym(s77)" = torch.ops.aten.sym_size.int(x, 0)
///       linear: "f32[s77, 3]" = torch.ops.aten.linear.default(x, p_fc_weight, p_fc_bias)
///       relu: "f32[s77, 3]" = torch.ops.aten.relu.default(linear)
///       mul: "f32[s77, 3]" = torch.ops.aten.mul.Tensor(relu, b_scale)
///       mul_1: "Sym(3*s77)" = sym_size_int_1 * 3
///       view: "f32[3*s77]" = torch.ops.aten.view.default(mul, [mul_1])
///       return (view,)
///   Range constraints: {s77: VR[2, 64]}
/// tests/serialize/golden/make_golden.py runs exactly this.
inline Fixture golden_mlp() {
  Fixture f;
  ir::ExportedProgram& ep = f.ep;
  ir::Graph& g = *ep.graph;
  const shapes::SymExpr s = shapes::SymExpr::new_symbol("s77");
  Value* w = g.add_placeholder("p_fc_weight", ValueType::kTensor, meta({3, 4}, true));
  Value* b = g.add_placeholder("p_fc_bias", ValueType::kTensor, meta({3}, true));
  Value* scale = g.add_placeholder("b_scale", ValueType::kTensor, meta({3}));
  Value* x = g.add_placeholder("x", ValueType::kTensor, meta({s, 4}));
  ir::Node* size = g.add_call("aten::sym_size.int", {{"self", x}, {"dim", int64_t{0}}}, {ValueType::kSymInt},
                              "sym_size_int_1");
  size->outputs()[0]->set_sym(s);
  const ir::ModuleFrame fc{"L__self__fc", "fc", "torch.nn.modules.linear.Linear"};
  ir::Node* linear = call(g, "aten::linear.default", {{"input", x}, {"weight", w}, {"bias", b}}, meta({s, 3}), "linear");
  frame(linear, {kRootFrame, fc});
  linear->meta().stack_trace = "File \"model.py\", line 8, in forward\n    y = torch.relu(self.fc(x)) * self.scale";
  ir::Node* relu = call(g, "aten::relu.default", {{"self", linear->outputs()[0]}}, meta({s, 3}), "relu");
  frame(relu, {kRootFrame});
  ir::Node* mul = call(g, "aten::mul.Tensor", {{"self", relu->outputs()[0]}, {"other", scale}}, meta({s, 3}), "mul");
  frame(mul, {kRootFrame});
  ir::Node* mul1 = g.add_call("_operator.mul", {{"a", size->outputs()[0]}, {"b", int64_t{3}}}, {ValueType::kSymInt},
                              "mul_1");
  mul1->outputs()[0]->set_sym(s * 3);
  frame(mul1, {kRootFrame});
  ir::Node* view = call(g, "aten::view.default",
                        {{"self", mul->outputs()[0]}, {"size", std::vector<ir::SymIntArg>{mul1->outputs()[0]}}},
                        meta({s * 3}), "view");
  frame(view, {kRootFrame});
  view->meta().stack_trace = "File \"model.py\", line 9, in forward\n    return y.view(x.shape[0] * 3)";
  g.set_outputs({view->outputs()[0]});
  ep.input_specs = {{ir::InputKind::kParameter, "p_fc_weight", "fc.weight"},
                    {ir::InputKind::kParameter, "p_fc_bias", "fc.bias"},
                    {ir::InputKind::kBuffer, "b_scale", "scale", true},
                    {ir::InputKind::kUserInput, "x", ""}};
  ep.output_specs = {{ir::OutputKind::kUserOutput, "view", ""}};
  ep.parameters["fc.weight"] = weights({3, 4}, 0.1);
  ep.parameters["fc.bias"] = weights({3}, 0.2);
  ep.buffers["scale"] = weights({3}, 0.3);
  ep.range_constraints["s77"] = shapes::Range{2, 64};
  ep.args_spec = tuple({leaf("x")});
  ep.kwargs_spec = dict({}, {});
  ep.out_spec = leaf("");
  ep.forward_arg_names = {"x"};
  ep.module_type = "__main__.M";
  f.opts.symbol_hints["s77"] = 8;
  return f;
}

/// A two-layer MLP with a dynamic batch:
///   forward(x): return self.fc2(torch.relu(self.fc1(x)))     fc1 = Linear(4, 8), fc2 = Linear(8, 2)
///   linear = aten.linear(x, p_fc1_weight, p_fc1_bias); relu = aten.relu(linear)
///   linear_1 = aten.linear(relu, p_fc2_weight, p_fc2_bias); return (linear_1,)
/// batch s0 in [2, 128], sample 5.
inline Fixture mlp() {
  Fixture f;
  ir::ExportedProgram& ep = f.ep;
  ir::Graph& g = *ep.graph;
  const shapes::SymExpr s = shapes::SymExpr::new_symbol("s0");
  Value* w1 = g.add_placeholder("p_fc1_weight", ValueType::kTensor, meta({8, 4}, true));
  Value* b1 = g.add_placeholder("p_fc1_bias", ValueType::kTensor, meta({8}, true));
  Value* w2 = g.add_placeholder("p_fc2_weight", ValueType::kTensor, meta({2, 8}, true));
  Value* b2 = g.add_placeholder("p_fc2_bias", ValueType::kTensor, meta({2}, true));
  Value* x = g.add_placeholder("x", ValueType::kTensor, meta({s, 4}));
  const ir::ModuleFrame root{"L__self__", "", "__main__.MLP"};
  ir::Node* l1 = call(g, "aten::linear.default", {{"input", x}, {"weight", w1}, {"bias", b1}}, meta({s, 8}), "linear");
  frame(l1, {root, {"L__self__fc1", "fc1", "torch.nn.modules.linear.Linear"}});
  ir::Node* relu = call(g, "aten::relu.default", {{"self", l1->outputs()[0]}}, meta({s, 8}), "relu");
  frame(relu, {root});
  ir::Node* l2 = call(g, "aten::linear.default", {{"input", relu->outputs()[0]}, {"weight", w2}, {"bias", b2}},
                      meta({s, 2}), "linear_1");
  frame(l2, {root, {"L__self__fc2", "fc2", "torch.nn.modules.linear.Linear"}});
  g.set_outputs({l2->outputs()[0]});
  ep.input_specs = {{ir::InputKind::kParameter, "p_fc1_weight", "fc1.weight"},
                    {ir::InputKind::kParameter, "p_fc1_bias", "fc1.bias"},
                    {ir::InputKind::kParameter, "p_fc2_weight", "fc2.weight"},
                    {ir::InputKind::kParameter, "p_fc2_bias", "fc2.bias"},
                    {ir::InputKind::kUserInput, "x", ""}};
  ep.output_specs = {{ir::OutputKind::kUserOutput, "linear_1", ""}};
  ep.parameters["fc1.weight"] = weights({8, 4}, 0.11);
  ep.parameters["fc1.bias"] = weights({8}, 0.21);
  ep.parameters["fc2.weight"] = weights({2, 8}, 0.31);
  ep.parameters["fc2.bias"] = weights({2}, 0.41);
  ep.range_constraints["s0"] = shapes::Range{2, 128};
  ep.args_spec = tuple({leaf("x")});
  ep.kwargs_spec = dict({}, {});
  ep.out_spec = leaf("");
  ep.forward_arg_names = {"x"};
  f.opts.symbol_hints["s0"] = 5;
  return f;
}

/// A view whose size is computed from a sym_size node:
///   forward(x): n = x.shape[0]; return x.view(n * 2, 3).relu(), n // 2 + 1
///   sym_size_int = aten.sym_size.int(x, 0); mul = sym_size_int * 2
///   view = aten.view(x, [mul, 3]); relu = aten.relu(view)
///   floordiv = sym_size_int // 2; add = floordiv + 1; return (relu, add)
/// x: [s0, 6], s0 in [2, 100], sample 4; the second output is a SymInt.
inline Fixture view() {
  Fixture f;
  ir::ExportedProgram& ep = f.ep;
  ir::Graph& g = *ep.graph;
  const shapes::SymExpr s = shapes::SymExpr::new_symbol("s0");
  Value* x = g.add_placeholder("x", ValueType::kTensor, meta({s, 6}));
  ir::Node* size = g.add_call("aten::sym_size.int", {{"self", x}, {"dim", int64_t{0}}}, {ValueType::kSymInt},
                              "sym_size_int");
  size->outputs()[0]->set_sym(s);
  ir::Node* mul = g.add_call("_operator.mul", {{"a", size->outputs()[0]}, {"b", int64_t{2}}}, {ValueType::kSymInt}, "mul");
  mul->outputs()[0]->set_sym(s * 2);
  ir::Node* v = call(g, "aten::view.default",
                     {{"self", x}, {"size", std::vector<ir::SymIntArg>{mul->outputs()[0], int64_t{3}}}},
                     meta({s * 2, 3}), "view");
  ir::Node* relu = call(g, "aten::relu.default", {{"self", v->outputs()[0]}}, meta({s * 2, 3}), "relu");
  ir::Node* fd = g.add_call("_operator.floordiv", {{"a", size->outputs()[0]}, {"b", int64_t{2}}},
                            {ValueType::kSymInt}, "floordiv");
  fd->outputs()[0]->set_sym(shapes::floor_div(s, 2));
  ir::Node* add = g.add_call("_operator.add", {{"a", fd->outputs()[0]}, {"b", int64_t{1}}}, {ValueType::kSymInt}, "add");
  add->outputs()[0]->set_sym(shapes::floor_div(s, 2) + 1);
  g.set_outputs({relu->outputs()[0], add->outputs()[0]});
  ep.input_specs = {{ir::InputKind::kUserInput, "x", ""}};
  ep.output_specs = {{ir::OutputKind::kUserOutput, "relu", ""}, {ir::OutputKind::kUserOutput, "add", ""}};
  ep.range_constraints["s0"] = shapes::Range{2, 100};
  ep.args_spec = tuple({leaf("x")});
  ep.kwargs_spec = dict({}, {});
  ep.out_spec = tuple({leaf(""), leaf("")});
  ep.forward_arg_names = {"x"};
  f.opts.symbol_hints["s0"] = 4;
  return f;
}

/// Buffers (persistent, non-persistent, mutated), a lifted constant, a specialized int input, a
/// keyword input, a list-returning op and a nested output with None:
///   class B(nn.Module):
///       running (4,), count (1,) persistent; nb (4,) non-persistent; self.c = tensor (4,)
///       def forward(self, x, k: int, *, y):
///           self.count.add_(1)
///           h = (x + self.running) * self.nb + self.c
///           a, b = (y + h).split(2, dim=1)
///           return h * k, {"a": a, "b": b}, None
/// functionalized as torch.export does with a buffer mutation output; x, y: [s0, 4], s0 in [2, 64],
/// sample 3, k = 2.
inline Fixture buffers() {
  Fixture f;
  ir::ExportedProgram& ep = f.ep;
  ir::Graph& g = *ep.graph;
  const shapes::SymExpr s = shapes::SymExpr::new_symbol("s0");
  Value* count = g.add_placeholder("b_count", ValueType::kTensor, meta({1}));
  Value* running = g.add_placeholder("b_running", ValueType::kTensor, meta({4}));
  Value* nb = g.add_placeholder("b_nb", ValueType::kTensor, meta({4}));
  Value* c = g.add_placeholder("c_c", ValueType::kTensor, meta({4}));
  Value* x = g.add_placeholder("x", ValueType::kTensor, meta({s, 4}));
  Value* y = g.add_placeholder("y", ValueType::kTensor, meta({s, 4}));
  ir::Node* add0 = call(g, "aten::add.Tensor", {{"self", count}, {"other", int64_t{1}}}, meta({1}), "add");
  ir::Node* add1 = call(g, "aten::add.Tensor", {{"self", x}, {"other", running}}, meta({s, 4}), "add_1");
  ir::Node* mul = call(g, "aten::mul.Tensor", {{"self", add1->outputs()[0]}, {"other", nb}}, meta({s, 4}), "mul");
  ir::Node* add2 = call(g, "aten::add.Tensor", {{"self", mul->outputs()[0]}, {"other", c}}, meta({s, 4}), "add_2");
  ir::Node* add3 = call(g, "aten::add.Tensor", {{"self", y}, {"other", add2->outputs()[0]}}, meta({s, 4}), "add_3");
  ir::Node* split = g.add_call("aten::split.Tensor",
                               {{"self", add3->outputs()[0]}, {"split_size", int64_t{2}}, {"dim", int64_t{1}}},
                               {ValueType::kTensor, ValueType::kTensor}, "split");
  split->set_returns_list(true);
  g.rename(split->outputs()[0], "getitem");
  g.rename(split->outputs()[1], "getitem_1");
  split->outputs()[0]->mutable_meta() = meta({s, 2});
  split->outputs()[1]->mutable_meta() = meta({s, 2});
  ir::Node* mul1 = call(g, "aten::mul.Tensor", {{"self", add2->outputs()[0]}, {"other", int64_t{2}}}, meta({s, 4}),
                        "mul_1");
  g.set_outputs({add0->outputs()[0], mul1->outputs()[0], split->outputs()[0], split->outputs()[1]});
  ep.input_specs = {{ir::InputKind::kBuffer, "b_count", "count", true},
                    {ir::InputKind::kBuffer, "b_running", "running", true},
                    {ir::InputKind::kBuffer, "b_nb", "nb", false},
                    {ir::InputKind::kConstantTensor, "c_c", "c"},
                    {ir::InputKind::kUserInput, "x", ""},
                    {ir::InputKind::kUserInput, "y", ""}};
  ep.output_specs = {{ir::OutputKind::kBufferMutation, "add", "count"},
                     {ir::OutputKind::kUserOutput, "mul_1", ""},
                     {ir::OutputKind::kUserOutput, "getitem", ""},
                     {ir::OutputKind::kUserOutput, "getitem_1", ""}};
  ep.buffers["count"] = at::zeros({1});
  ep.buffers["running"] = weights({4}, 0.5);
  ep.buffers["nb"] = weights({4}, 0.6);
  ep.constants["c"] = weights({4}, 0.7);
  ep.range_constraints["s0"] = shapes::Range{2, 64};
  ir::PyTree k;
  k.kind = ir::PyTree::Kind::kConstant;
  k.constant_json = "2";
  ep.args_spec = tuple({leaf("x"), k});
  ep.kwargs_spec = dict({"y"}, {leaf("y")});
  ir::PyTree none;
  none.kind = ir::PyTree::Kind::kNone;
  ep.out_spec = tuple({leaf(""), dict({"a", "b"}, {leaf(""), leaf("")}), none});
  ep.forward_arg_names = {"x", "k", "y"};
  f.opts.symbol_hints["s0"] = 3;
  return f;
}

/// torch.export of
///   def forward(self, x):   # x: randn(5, 4)
///       n = torch.nonzero(x > 0)
///       return torch.cond(x.sum() > 0, lambda x: x.sin(), lambda x: x.cos(), (x,)) * 2, n
/// (test_serialize_conformance.py: torch.export.load runs it), with its branches cut out of the graph
/// by ir::Graph::extract, and nonzero's count u0 in [0, 20] (no runtime assertion: the writer alone):
///   true_graph_0 = self.true_graph_0 ...
///   cond = torch.ops.higher_order.cond(gt, true_graph_0, false_graph_0, [x])
///   getitem: "f32[5, 4]" = cond[0]
///   class true_graph_0(torch.nn.Module):
///       def forward(self, x: "f32[5, 4]"):
///           sin: "f32[5, 4]" = torch.ops.aten.sin.default(x)
///           return (sin,)
inline Fixture cond() {
  Fixture f;
  ir::ExportedProgram& ep = f.ep;
  ir::Graph& g = *ep.graph;
  Value* x = g.add_placeholder("x", ValueType::kTensor, meta({5, 4}));
  ir::Node* sum = call(g, "aten::sum.default", {{"self", x}}, meta({}), "sum_1");
  ir::Node* gt = call(g, "aten::gt.Scalar", {{"self", sum->outputs()[0]}, {"other", int64_t{0}}},
                      meta({}, false, ir::DType::kBool), "gt");
  ir::Node* sin = call(g, "aten::sin.default", {{"self", x}}, meta({5, 4}), "sin");
  std::vector<Value*> ops_t, ops_f;
  auto t = g.extract({sin}, {sin->outputs()[0]}, ops_t);
  ir::Node* cos = call(g, "aten::cos.default", {{"self", x}}, meta({5, 4}), "cos");
  auto fg = g.extract({cos}, {cos->outputs()[0]}, ops_f);
  ir::Node* c = g.add_call("higher_order::cond",
                           {{"", gt->outputs()[0]}, {"", ir::GraphArg{"true_graph_0", t}},
                            {"", ir::GraphArg{"false_graph_0", fg}}, {"", ops_t}},
                           {ValueType::kTensor}, "cond", {"getitem"});
  c->outputs()[0]->mutable_meta() = meta({5, 4});
  ir::Node* mul = call(g, "aten::mul.Scalar", {{"self", c->outputs()[0]}, {"other", int64_t{2}}}, meta({5, 4}), "mul");
  const shapes::SymExpr u0 = shapes::SymExpr::new_symbol("u0");
  ir::Node* gt1 = call(g, "aten::gt.Scalar", {{"self", x}, {"other", int64_t{0}}}, meta({5, 4}, false, ir::DType::kBool),
                       "gt_1");
  ir::Node* nz = call(g, "aten::nonzero.default", {{"self", gt1->outputs()[0]}}, meta({u0, 2}, false, ir::DType::kInt64),
                      "nonzero");
  g.set_outputs({mul->outputs()[0], nz->outputs()[0]});
  ep.range_constraints["u0"] = shapes::Range{0, 20};
  ep.input_specs = {{ir::InputKind::kUserInput, "x", "", true}};
  ep.output_specs = {{ir::OutputKind::kUserOutput, "mul", ""}, {ir::OutputKind::kUserOutput, "nonzero", ""}};
  ep.args_spec = tuple({leaf("x")});
  ep.kwargs_spec = dict({}, {});
  ep.out_spec = tuple({leaf(""), leaf("")});
  ep.forward_arg_names = {"x"};
  return f;
}

inline std::map<std::string, Fixture (*)()> all_fixtures() {
  return {{"golden_mlp", &golden_mlp}, {"mlp", &mlp}, {"view", &view}, {"buffers", &buffers}, {"cond", &cond}};
}

}  // namespace ptx::test

namespace ptx::test {

/// A canonical text dump of everything a program holds, for comparing two programs (symbols by
/// name, tensors by dtype, shape and the sum and first values of their data).
inline std::string describe_arg(const ir::ArgValue& a) {
  std::string out;
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, ir::NoneArg>) {
          out = "None";
        } else if constexpr (std::is_same_v<T, bool>) {
          out = v ? "True" : "False";
        } else if constexpr (std::is_same_v<T, int64_t>) {
          out = std::to_string(v);
        } else if constexpr (std::is_same_v<T, double>) {
          out = "f" + std::to_string(v);
        } else if constexpr (std::is_same_v<T, std::string>) {
          out = "'" + v + "'";
        } else if constexpr (std::is_same_v<T, Value*>) {
          out = "%" + v->name();
        } else if constexpr (std::is_same_v<T, std::vector<ir::SymIntArg>>) {
          out = "[";
          for (const auto& e : v) {
            if (out.size() > 1) out += ", ";
            out += std::holds_alternative<int64_t>(e) ? std::to_string(std::get<int64_t>(e))
                                                      : "%" + std::get<Value*>(e)->name();
          }
          out += "]";
        } else if constexpr (std::is_same_v<T, std::vector<Value*>>) {
          out = "T[";
          for (const Value* e : v) out += "%" + e->name() + " ";
          out += "]";
        } else if constexpr (std::is_same_v<T, std::vector<std::optional<Value*>>>) {
          out = "T?[";
          for (const auto& e : v) out += (e ? "%" + (*e)->name() : std::string("None")) + " ";
          out += "]";
        } else if constexpr (std::is_same_v<T, std::vector<double>>) {
          out = "F[";
          for (double d : v) out += std::to_string(d) + " ";
          out += "]";
        } else if constexpr (std::is_same_v<T, std::vector<bool>>) {
          out = "B[";
          for (bool b : v) out += b ? "1" : "0";
          out += "]";
        } else if constexpr (std::is_same_v<T, ir::DTypeArg>) {
          out = "dtype:" + ir::dtype_name(v.v);
        } else if constexpr (std::is_same_v<T, ir::LayoutArg>) {
          out = "layout:" + std::to_string(v.v);
        } else if constexpr (std::is_same_v<T, ir::MemoryFormatArg>) {
          out = "memory_format:" + std::to_string(v.v);
        } else if constexpr (std::is_same_v<T, ir::DeviceArg>) {
          out = "device:" + v.v;
        } else if constexpr (std::is_same_v<T, ir::GraphArg>) {
          out = "graph:" + v.name + "(" + std::to_string(v.graph->placeholders().size()) + " inputs, " +
                std::to_string(v.graph->nodes().size()) + " nodes)";
        }
      },
      a);
  return out;
}

inline std::string describe_meta(const ir::TensorMeta& m) {
  return ir::dtype_name(m.dtype) + shapes::to_string(m.sizes) + " strides " + shapes::to_string(m.strides) +
         " offset " + m.storage_offset.str() + " " + m.device + (m.requires_grad ? " grad" : "");
}

inline std::string describe_value(const Value* v) {
  std::string s = "%" + v->name() + ":";
  switch (v->type()) {
    case ValueType::kTensor: return s + describe_meta(v->meta());
    case ValueType::kSymInt: return s + "Sym(" + v->sym().str() + ")";
    default: return s + "type" + std::to_string(static_cast<int>(v->type()));
  }
}

inline std::string describe_tree(const ir::PyTree& t) {
  switch (t.kind) {
    case ir::PyTree::Kind::kLeaf: return "*" + t.leaf;
    case ir::PyTree::Kind::kConstant: return "const(" + t.constant_json + ")";
    case ir::PyTree::Kind::kNone: return "None";
    default: break;
  }
  std::string s = t.kind == ir::PyTree::Kind::kTuple ? "(" : t.kind == ir::PyTree::Kind::kList ? "[" : "{";
  for (size_t i = 0; i < t.children.size(); ++i) {
    if (t.kind == ir::PyTree::Kind::kDict) s += t.keys[i] + ": ";
    s += describe_tree(t.children[i]) + ", ";
  }
  return s + (t.kind == ir::PyTree::Kind::kTuple ? ")" : t.kind == ir::PyTree::Kind::kList ? "]" : "}");
}

inline std::string describe_tensor(const at::Tensor& t) {
  std::string s = std::string(c10::toString(t.scalar_type())) + shapes::to_string(shapes::SymShape(t.sizes().begin(), t.sizes().end()));
  s += " strides";
  for (int64_t st : t.strides()) s += " " + std::to_string(st);
  const at::Tensor d = t.to(at::kDouble).contiguous();
  const double* p = d.data_ptr<double>();
  char buf[64];
  std::snprintf(buf, sizeof buf, " sum %.9g", d.sum().item<double>());
  s += buf;
  for (int64_t i = 0; i < std::min<int64_t>(d.numel(), 4); ++i) {
    std::snprintf(buf, sizeof buf, " %.9g", p[i]);
    s += buf;
  }
  return s;
}

inline std::string describe(const ir::ExportedProgram& ep) {
  std::string s;
  for (const auto& n : ep.graph->nodes()) {
    if (n->kind() == ir::NodeKind::kPlaceholder) {
      s += "input " + describe_value(n->outputs()[0]) + "\n";
      continue;
    }
    s += "node " + n->name() + " = " + n->target() + "(";
    for (const ir::NamedArg& a : n->inputs()) s += a.name + (a.kwarg_only ? "=" : ":") + describe_arg(a.value) + " ";
    s += ") ->" + std::string(n->returns_list() ? " list" : "");
    for (const Value* v : n->outputs()) s += " " + describe_value(v);
    std::string frames;
    for (const ir::ModuleFrame& f : n->meta().nn_module_stack) frames += f.key + "," + f.path + "," + f.type + ";";
    s += " | " + frames + " | " + n->meta().stack_trace + "\n";
  }
  s += "outputs";
  for (const Value* v : ep.graph->outputs()) s += " %" + v->name();
  s += "\n";
  for (const ir::InputSpec& i : ep.input_specs) {
    s += "in_spec " + std::to_string(static_cast<int>(i.kind)) + " " + i.arg + " " + i.target + " " +
         std::to_string(i.persistent) + "\n";
  }
  for (const ir::OutputSpec& o : ep.output_specs) {
    s += "out_spec " + std::to_string(static_cast<int>(o.kind)) + " " + o.arg + " " + o.target + "\n";
  }
  for (const auto& [k, t] : ep.parameters) s += "parameter " + k + " " + describe_tensor(t) + "\n";
  for (const auto& [k, t] : ep.buffers) s += "buffer " + k + " " + describe_tensor(t) + "\n";
  for (const auto& [k, t] : ep.constants) s += "constant " + k + " " + describe_tensor(t) + "\n";
  for (const auto& [k, r] : ep.range_constraints) s += "range " + k + " " + r.str() + "\n";
  s += "args " + describe_tree(ep.args_spec) + "\nkwargs " + describe_tree(ep.kwargs_spec) + "\nout " +
       describe_tree(ep.out_spec) + "\nforward_arg_names";
  for (const std::string& n : ep.forward_arg_names) s += " " + n;
  return s + "\n";
}

}  // namespace ptx::test
