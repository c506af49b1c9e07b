// tests/ir/programs.h: programs built by hand in C++ that mirror what torch.export 2.14 makes for
// small python modules, with the text torch prints for them (print(ep)), for the printer, parser
// and verifier tests.
//
// The golden texts are the verbatim output of this python, run as /tmp/irgold/model.py with
// `scripts/env.sh run python3 /tmp/irgold/model.py` (torch 2.14.1), except where a comment says:
//
//   import torch
//   from torch.export import export, Dim
//   class MLP(torch.nn.Module):
//       def __init__(self):
//           super().__init__()
//           self.fc1 = torch.nn.Linear(64, 32)
//           self.fc2 = torch.nn.Linear(32, 10)
//       def forward(self, x):
//           return self.fc2(torch.relu(self.fc1(x)))                                   # line 10
//   class LinearView(torch.nn.Module):
//       def __init__(self):
//           super().__init__()
//           self.fc = torch.nn.Linear(4, 3)
//       def forward(self, x):
//           return torch.relu(self.fc(x)).view(x.size(0) * 3)                         # line 17
//   class Divisible(torch.nn.Module):
//       def forward(self, x):
//           return x.view(-1, 4)                                                      # line 21
//   class Mixed(torch.nn.Module):
//       def __init__(self):
//           super().__init__()
//           self.bn = torch.nn.BatchNorm1d(4)
//           self.register_buffer("c", torch.ones(4), persistent=False)
//       def forward(self, x):
//           y = self.bn(x)
//           a, b = y.split(2, dim=1)                                                  # line 30
//           z = torch.zeros(x.size(0), 4, dtype=torch.float16)
//           w = torch.nn.functional.gelu(a, approximate='tanh') * 0.5
//           s = x.sum(dim=1, keepdim=True).to(torch.float64)
//           t = torch.tensor([1.0, 2.0, 3.0, 4.0])
//           return w, b, z, s, x + t + self.c, x.size(0) + 1                          # line 35
//   class Tuple(torch.nn.Module):
//       def forward(self, x):
//           a, b = torch.ops.aten.native_layer_norm.default(x, [4], None, None, 1e-5)[:2]   # line 39
//           return a.view(x.size(0) * 4), x.size(0) // 2, torch.full((2,), float("-inf")),
//                  torch.sym_min(x.size(0), 5), x.size(0) % 3 == 0        # line 40 (one line in the file)
//   def show(name, ep): print(str(ep), end="")
//   show("mlp", export(MLP(), (torch.randn(8, 64),), dynamic_shapes={"x": {0: Dim.DYNAMIC}}))
//   show("linear_view", export(LinearView(), (torch.randn(8, 4),), dynamic_shapes={"x": {0: Dim.DYNAMIC}}))
//   show("divisible", export(Divisible(), (torch.randn(8),), dynamic_shapes={"x": {0: Dim.DYNAMIC}},
//                            prefer_deferred_runtime_asserts_over_guards=True))
//   show("mixed", export(Mixed().eval(), (torch.randn(8, 4),),
//                        dynamic_shapes={"x": {0: Dim("batch", min=2, max=1024)}}))
//   show("tuple", export(Tuple(), (torch.randn(8, 4),), dynamic_shapes={"x": {0: Dim.DYNAMIC}}))
//
// torch names the batch symbol s77; the programs below name theirs "s77" too.
#pragma once

#include <limits>
#include <memory>
#include <optional>
#include <string>

#include "ir/graph.h"
#include "ir/program.h"
#include "shapes/sym.h"

namespace ptx::ir::testing {

using shapes::SymExpr;
using shapes::SymShape;

inline const SymExpr& s77() {
  static const SymExpr s = SymExpr::new_symbol("s77");
  return s;
}

inline TensorMeta meta(DType t, SymShape sizes) {
  TensorMeta m;
  m.dtype = t;
  m.strides.assign(sizes.size(), SymExpr(1));
  for (size_t k = sizes.size(); k-- > 1;) m.strides[k - 1] = m.strides[k] * sizes[k];
  m.sizes = std::move(sizes);
  return m;
}

inline NamedArg arg(const std::string& name, ArgValue v, bool kwarg = false) { return {name, std::move(v), kwarg}; }
inline ArgValue I(int64_t v) { return v; }

/// One call with one tensor output.
inline Value* tensor_call(Graph& g, const std::string& target, std::vector<NamedArg> args, TensorMeta m,
                          const std::string& name, const std::string& trace = "") {
  Node* n = g.add_call(target, std::move(args), {ValueType::kTensor}, name);
  n->outputs()[0]->mutable_meta() = std::move(m);
  n->meta().stack_trace = trace;
  return n->outputs()[0];
}

/// One call with one SymInt output.
inline Value* sym_call(Graph& g, const std::string& target, std::vector<NamedArg> args, SymExpr e,
                       const std::string& name, const std::string& trace = "") {
  Node* n = g.add_call(target, std::move(args), {ValueType::kSymInt}, name);
  n->outputs()[0]->set_sym(e);
  n->meta().stack_trace = trace;
  return n->outputs()[0];
}

/// One call with one SymBool output.
inline Value* bool_call(Graph& g, const std::string& target, std::vector<NamedArg> args, shapes::SymBool b,
                        const std::string& name, const std::string& trace = "") {
  Node* n = g.add_call(target, std::move(args), {ValueType::kSymBool}, name);
  n->outputs()[0]->set_sym_bool(b);
  n->meta().stack_trace = trace;
  return n->outputs()[0];
}

inline Value* param(ExportedProgram& p, InputKind kind, const std::string& name, const std::string& target,
                    TensorMeta m, bool persistent = true) {
  Value* v = p.graph->add_placeholder(name, ValueType::kTensor, std::move(m));
  p.input_specs.push_back({kind, name, target, persistent});
  return v;
}

inline Value* user_input(ExportedProgram& p, const std::string& name, TensorMeta m) {
  Value* v = p.graph->add_placeholder(name, ValueType::kTensor, std::move(m));
  p.input_specs.push_back({InputKind::kUserInput, name, "", true});
  return v;
}

inline void user_outputs(ExportedProgram& p, const std::vector<Value*>& outs) {
  p.graph->set_outputs(outs);
  for (Value* v : outs) p.output_specs.push_back({OutputKind::kUserOutput, v->name(), ""});
}

/// A stack trace as torch records it: outermost frame first.
inline std::string frame(const std::string& file, int line, const std::string& code, const std::string& fn = "forward") {
  return "File \"" + file + "\", line " + std::to_string(line) + ", in " + fn + "\n    " + code;
}
inline const std::string kModel = "/tmp/irgold/model.py";
inline const std::string kLinearPy = "/usr/lib/python3/dist-packages/torch/nn/modules/linear.py";
inline std::string linear_frame() { return frame(kLinearPy, 134, "return F.linear(input, self.weight, self.bias)"); }

// ---- MLP with a dynamic batch --------------------------------------------------------------------

inline std::unique_ptr<ExportedProgram> mlp_program() {
  auto p = std::make_unique<ExportedProgram>();
  Graph& g = *p->graph;
  const SymExpr s = s77();
  Value* w1 = param(*p, InputKind::kParameter, "p_fc1_weight", "fc1.weight", meta(DType::kFloat32, {32, 64}));
  Value* b1 = param(*p, InputKind::kParameter, "p_fc1_bias", "fc1.bias", meta(DType::kFloat32, {32}));
  Value* w2 = param(*p, InputKind::kParameter, "p_fc2_weight", "fc2.weight", meta(DType::kFloat32, {10, 32}));
  Value* b2 = param(*p, InputKind::kParameter, "p_fc2_bias", "fc2.bias", meta(DType::kFloat32, {10}));
  Value* x = user_input(*p, "x", meta(DType::kFloat32, {s, 64}));
  const std::string line10 = frame(kModel, 10, "return self.fc2(torch.relu(self.fc1(x)))");
  Value* linear = tensor_call(g, "aten::linear.default", {arg("input", x), arg("weight", w1), arg("bias", b1)},
                              meta(DType::kFloat32, {s, 32}), "linear", line10 + "\n" + linear_frame());
  Value* relu = tensor_call(g, "aten::relu.default", {arg("self", linear)}, meta(DType::kFloat32, {s, 32}), "relu", line10);
  Value* linear_1 = tensor_call(g, "aten::linear.default", {arg("input", relu), arg("weight", w2), arg("bias", b2)},
                                meta(DType::kFloat32, {s, 10}), "linear", line10 + "\n" + linear_frame());
  user_outputs(*p, {linear_1});
  p->range_constraints["s77"] = {2, std::nullopt};
  return p;
}

inline const char* const kMlpText = R"txt(ExportedProgram:
    class GraphModule(torch.nn.Module):
        def forward(self, p_fc1_weight: "f32[32, 64]", p_fc1_bias: "f32[32]", p_fc2_weight: "f32[10, 32]", p_fc2_bias: "f32[10]", x: "f32[s77, 64]"):
            # File: /usr/lib/python3/dist-packages/torch/nn/modules/linear.py:134 in forward, code: return F.linear(input, self.weight, self.bias)
            linear: "f32[s77, 32]" = torch.ops.aten.linear.default(x, p_fc1_weight, p_fc1_bias);  x = p_fc1_weight = p_fc1_bias = None
    
            # File: /tmp/irgold/model.py:10 in forward, code: return self.fc2(torch.relu(self.fc1(x)))
            relu: "f32[s77, 32]" = torch.ops.aten.relu.default(linear);  linear = None
    
            # File: /usr/lib/python3/dist-packages/torch/nn/modules/linear.py:134 in forward, code: return F.linear(input, self.weight, self.bias)
            linear_1: "f32[s77, 10]" = torch.ops.aten.linear.default(relu, p_fc2_weight, p_fc2_bias);  relu = p_fc2_weight = p_fc2_bias = None
            return (linear_1,)
    
Graph signature:
    # inputs
    p_fc1_weight: PARAMETER target='fc1.weight'
    p_fc1_bias: PARAMETER target='fc1.bias'
    p_fc2_weight: PARAMETER target='fc2.weight'
    p_fc2_bias: PARAMETER target='fc2.bias'
    x: USER_INPUT
    
    # outputs
    linear_1: USER_OUTPUT
    
Range constraints: {s77: VR[2, int_oo]}
)txt";

// ---- Linear then a view on a symbolic size ---------------------------------------------------------

inline std::unique_ptr<ExportedProgram> linear_view_program() {
  auto p = std::make_unique<ExportedProgram>();
  Graph& g = *p->graph;
  const SymExpr s = s77();
  Value* w = param(*p, InputKind::kParameter, "p_fc_weight", "fc.weight", meta(DType::kFloat32, {3, 4}));
  Value* b = param(*p, InputKind::kParameter, "p_fc_bias", "fc.bias", meta(DType::kFloat32, {3}));
  Value* x = user_input(*p, "x", meta(DType::kFloat32, {s, 4}));
  const std::string line17 = frame(kModel, 17, "return torch.relu(self.fc(x)).view(x.size(0) * 3)");
  Value* size = sym_call(g, "aten::sym_size.int", {arg("self", x), arg("dim", I(0))}, s, "sym_size_int_1");
  Value* linear = tensor_call(g, "aten::linear.default", {arg("input", x), arg("weight", w), arg("bias", b)},
                              meta(DType::kFloat32, {s, 3}), "linear", line17 + "\n" + linear_frame());
  Value* relu = tensor_call(g, "aten::relu.default", {arg("self", linear)}, meta(DType::kFloat32, {s, 3}), "relu", line17);
  Value* mul = sym_call(g, "_operator.mul", {arg("a", size), arg("b", I(3))}, 3 * s, "mul", line17);
  Value* view = tensor_call(g, "aten::view.default", {arg("self", relu), arg("size", std::vector<SymIntArg>{mul})},
                            meta(DType::kFloat32, {3 * s}), "view", line17);
  user_outputs(*p, {view});
  p->range_constraints["s77"] = {2, std::nullopt};
  return p;
}

inline const char* const kLinearViewText = R"txt(ExportedProgram:
    class GraphModule(torch.nn.Module):
        def forward(self, p_fc_weight: "f32[3, 4]", p_fc_bias: "f32[3]", x: "f32[s77, 4]"):
            # No stacktrace found for following nodes
            sym_size_int_1: "Sym(s77)" = torch.ops.aten.sym_size.int(x, 0)
    
            # File: /usr/lib/python3/dist-packages/torch/nn/modules/linear.py:134 in forward, code: return F.linear(input, self.weight, self.bias)
            linear: "f32[s77, 3]" = torch.ops.aten.linear.default(x, p_fc_weight, p_fc_bias);  x = p_fc_weight = p_fc_bias = None
    
            # File: /tmp/irgold/model.py:17 in forward, code: return torch.relu(self.fc(x)).view(x.size(0) * 3)
            relu: "f32[s77, 3]" = torch.ops.aten.relu.default(linear);  linear = None
            mul: "Sym(3*s77)" = sym_size_int_1 * 3;  sym_size_int_1 = None
            view: "f32[3*s77]" = torch.ops.aten.view.default(relu, [mul]);  relu = mul = None
            return (view,)
    
Graph signature:
    # inputs
    p_fc_weight: PARAMETER target='fc.weight'
    p_fc_bias: PARAMETER target='fc.bias'
    x: USER_INPUT
    
    # outputs
    view: USER_OUTPUT
    
Range constraints: {s77: VR[2, int_oo]}
)txt";

// ---- x.view(-1, 4) with runtime asserts (prefer_deferred_runtime_asserts_over_guards=True) -----------

inline std::unique_ptr<ExportedProgram> divisible_program() {
  auto p = std::make_unique<ExportedProgram>();
  Graph& g = *p->graph;
  const SymExpr s = s77();
  Value* x = user_input(*p, "x", meta(DType::kFloat32, {s}));
  const std::string line21 = frame(kModel, 21, "return x.view(-1, 4)");
  Value* size = sym_call(g, "aten::sym_size.int", {arg("self", x), arg("dim", I(0))}, s, "sym_size_int");
  Value* view = tensor_call(g, "aten::view.default", {arg("self", x), arg("size", std::vector<SymIntArg>{int64_t{-1}, int64_t{4}})},
                            meta(DType::kFloat32, {shapes::floor_div(s, 4), 4}), "view", line21);
  Value* mod = sym_call(g, "_operator.mod", {arg("a", size), arg("b", I(4))}, shapes::python_mod(s, 4), "mod", line21);
  Value* eq = bool_call(g, "_operator.eq", {arg("a", mod), arg("b", I(0))}, shapes::sym_eq(shapes::python_mod(s, 4), 0), "eq", line21);
  g.add_call("aten::_assert_scalar.default",
             {arg("self", eq), arg("assert_msg", std::string("Runtime assertion failed for expression Eq(Mod(s77, 4), 0) on node 'eq'"))},
             {}, "_assert_scalar_default")
      ->meta()
      .stack_trace = line21;
  Value* fd = sym_call(g, "_operator.floordiv", {arg("a", size), arg("b", I(4))}, shapes::floor_div(s, 4), "floordiv", line21);
  Value* mul = sym_call(g, "_operator.mul", {arg("a", I(2)), arg("b", fd)}, 2 * shapes::floor_div(s, 4), "mul", line21);
  Value* ge = bool_call(g, "_operator.ge", {arg("a", mul), arg("b", I(1))}, shapes::sym_ge(2 * shapes::floor_div(s, 4), 1), "ge", line21);
  g.add_call("aten::_assert_scalar.default",
             {arg("self", ge), arg("assert_msg", std::string("Runtime assertion failed for expression 1 <= 2*((s77//4)) on node 'ge'"))},
             {}, "_assert_scalar_default")
      ->meta()
      .stack_trace = line21;
  Value* eq_1 = bool_call(g, "_operator.eq", {arg("a", fd), arg("b", I(1))}, shapes::sym_eq(shapes::floor_div(s, 4), 1), "eq", line21);
  Value* nt = bool_call(g, "torch.sym_not", {arg("a", eq_1)}, shapes::sym_ne(shapes::floor_div(s, 4), 1), "sym_not", line21);
  g.add_call("aten::_assert_scalar.default",
             {arg("self", nt), arg("assert_msg", std::string("Runtime assertion failed for expression Ne((s77//4), 1) on node 'sym_not'"))},
             {}, "_assert_scalar_default")
      ->meta()
      .stack_trace = line21;
  user_outputs(*p, {view});
  p->range_constraints["s77"] = {2, std::nullopt};
  return p;
}

// One line differs from torch's text: torch prints the `ge` value as "Sym(2*((s77//4)) >= 1)";
// our relations are canonical (shapes/sym.h divides by the gcd of the coefficients), so it is
// "Sym((s77//4) >= 1)" here.
inline const char* const kDivisibleText = R"txt(ExportedProgram:
    class GraphModule(torch.nn.Module):
        def forward(self, x: "f32[s77]"):
            # No stacktrace found for following nodes
            sym_size_int: "Sym(s77)" = torch.ops.aten.sym_size.int(x, 0)
    
            # File: /tmp/irgold/model.py:21 in forward, code: return x.view(-1, 4)
            view: "f32[(s77//4), 4]" = torch.ops.aten.view.default(x, [-1, 4]);  x = None
            mod: "Sym(Mod(s77, 4))" = sym_size_int % 4
            eq: "Sym(Eq(Mod(s77, 4), 0))" = mod == 0;  mod = None
            _assert_scalar_default = torch.ops.aten._assert_scalar.default(eq, "Runtime assertion failed for expression Eq(Mod(s77, 4), 0) on node 'eq'");  eq = _assert_scalar_default = None
            floordiv: "Sym((s77//4))" = sym_size_int // 4;  sym_size_int = None
            mul: "Sym(2*((s77//4)))" = 2 * floordiv
            ge: "Sym((s77//4) >= 1)" = mul >= 1;  mul = None
            _assert_scalar_default_1 = torch.ops.aten._assert_scalar.default(ge, "Runtime assertion failed for expression 1 <= 2*((s77//4)) on node 'ge'");  ge = _assert_scalar_default_1 = None
            eq_1: "Sym(Eq((s77//4), 1))" = floordiv == 1;  floordiv = None
            sym_not: "Sym(Ne((s77//4), 1))" = torch.sym_not(eq_1);  eq_1 = None
            _assert_scalar_default_2 = torch.ops.aten._assert_scalar.default(sym_not, "Runtime assertion failed for expression Ne((s77//4), 1) on node 'sym_not'");  sym_not = _assert_scalar_default_2 = None
            return (view,)
    
Graph signature:
    # inputs
    x: USER_INPUT
    
    # outputs
    view: USER_OUTPUT
    
Range constraints: {s77: VR[2, int_oo]}
)txt";

// ---- buffers, constants, several outputs, keyword arguments, no-output nodes ----------------------------

inline std::unique_ptr<ExportedProgram> mixed_program() {
  auto p = std::make_unique<ExportedProgram>();
  Graph& g = *p->graph;
  const SymExpr s = s77();
  const auto f32 = DType::kFloat32;
  Value* w = param(*p, InputKind::kParameter, "p_bn_weight", "bn.weight", meta(f32, {4}));
  Value* b = param(*p, InputKind::kParameter, "p_bn_bias", "bn.bias", meta(f32, {4}));
  Value* c = param(*p, InputKind::kBuffer, "b_c", "c", meta(f32, {4}), /*persistent=*/false);
  Value* rm = param(*p, InputKind::kBuffer, "b_bn_running_mean", "bn.running_mean", meta(f32, {4}));
  Value* rv = param(*p, InputKind::kBuffer, "b_bn_running_var", "bn.running_var", meta(f32, {4}));
  param(*p, InputKind::kBuffer, "b_bn_num_batches_tracked", "bn.num_batches_tracked", meta(DType::kInt64, {}));
  Value* lifted = param(*p, InputKind::kConstantTensor, "c_lifted_tensor_0", "lifted_tensor_0", meta(f32, {4}));
  Value* x = user_input(*p, "x", meta(f32, {s, 4}));
  auto line = [](int n, const std::string& code) { return frame(kModel, n, code); };
  const std::string bn_trace = line(29, "y = self.bn(x)") + "\n" +
                               frame("/usr/lib/python3/dist-packages/torch/nn/modules/batchnorm.py", 210, "return F.batch_norm(");
  Value* size = sym_call(g, "aten::sym_size.int", {arg("self", x), arg("dim", I(0))}, s, "sym_size_int_1");
  Value* bn = tensor_call(g, "aten::batch_norm.default",
                          {arg("input", x), arg("weight", w), arg("bias", b), arg("running_mean", rm),
                           arg("running_var", rv), arg("training", false), arg("momentum", 0.1), arg("eps", 1e-05),
                           arg("cudnn_enabled", false)},
                          meta(f32, {s, 4}), "batch_norm", bn_trace);
  Node* split = g.add_call("aten::split.Tensor", {arg("self", bn), arg("split_size", I(2)), arg("dim", I(1))},
                           {ValueType::kTensor, ValueType::kTensor}, "split", {"getitem", "getitem"});
  split->set_returns_list(true);
  split->meta().stack_trace = line(30, "a, b = y.split(2, dim=1)");
  split->outputs()[0]->mutable_meta() = meta(f32, {s, 2});
  split->outputs()[1]->mutable_meta() = meta(f32, {s, 2});
  Value* zeros = tensor_call(g, "aten::zeros.default",
                             {arg("size", std::vector<SymIntArg>{size, int64_t{4}}),
                              arg("dtype", DTypeArg{DType::kFloat16}, true), arg("device", DeviceArg{"cpu"}, true),
                              arg("pin_memory", false, true)},
                             meta(DType::kFloat16, {s, 4}), "zeros",
                             line(31, "z = torch.zeros(x.size(0), 4, dtype=torch.float16)"));
  const std::string line32 = line(32, "w = torch.nn.functional.gelu(a, approximate='tanh') * 0.5");
  Value* gelu = tensor_call(g, "aten::gelu.default", {arg("self", split->outputs()[0]), arg("approximate", std::string("tanh"), true)},
                            meta(f32, {s, 2}), "gelu", line32);
  Value* mul = tensor_call(g, "aten::mul.Tensor", {arg("self", gelu), arg("other", 0.5)}, meta(f32, {s, 2}), "mul", line32);
  const std::string line33 = line(33, "s = x.sum(dim=1, keepdim=True).to(torch.float64)");
  Value* sum = tensor_call(g, "aten::sum.dim_IntList",
                           {arg("self", x), arg("dim", std::vector<SymIntArg>{int64_t{1}}), arg("keepdim", true)},
                           meta(f32, {s, 1}), "sum_1", line33);
  g.add_call("aten::_assert_tensor_metadata.default",
             {arg("a", sum), arg("dtype", DTypeArg{f32}, true), arg("device", DeviceArg{"cpu"}, true),
              arg("layout", LayoutArg{0}, true)},
             {}, "_assert_tensor_metadata_default")
      ->meta()
      .stack_trace = line33;
  Value* to = tensor_call(g, "aten::to.dtype", {arg("self", sum), arg("dtype", DTypeArg{DType::kFloat64})},
                          meta(DType::kFloat64, {s, 1}), "to", line33);
  const std::string line34 = line(34, "t = torch.tensor([1.0, 2.0, 3.0, 4.0])");
  Value* lfc = tensor_call(g, "aten::lift_fresh_copy.default", {arg("self", lifted)}, meta(f32, {4}), "lift_fresh_copy", line34);
  Value* det = tensor_call(g, "aten::detach_.default", {arg("self", lfc)}, meta(f32, {4}), "detach_", line34);
  const std::string line35 = line(35, "return w, b, z, s, x + t + self.c, x.size(0) + 1");
  Value* add = tensor_call(g, "aten::add.Tensor", {arg("self", x), arg("other", det)}, meta(f32, {s, 4}), "add", line35);
  Value* add_1 = tensor_call(g, "aten::add.Tensor", {arg("self", add), arg("other", c)}, meta(f32, {s, 4}), "add", line35);
  Value* add_2 = sym_call(g, "_operator.add", {arg("a", size), arg("b", I(1))}, s + 1, "add", line35);
  user_outputs(*p, {mul, split->outputs()[1], zeros, to, add_1, add_2});
  p->range_constraints["s77"] = {2, 1024};
  return p;
}

inline const char* const kMixedText = R"txt(ExportedProgram:
    class GraphModule(torch.nn.Module):
        def forward(self, p_bn_weight: "f32[4]", p_bn_bias: "f32[4]", b_c: "f32[4]", b_bn_running_mean: "f32[4]", b_bn_running_var: "f32[4]", b_bn_num_batches_tracked: "i64[]", c_lifted_tensor_0: "f32[4]", x: "f32[s77, 4]"):
            # No stacktrace found for following nodes
            sym_size_int_1: "Sym(s77)" = torch.ops.aten.sym_size.int(x, 0)
    
            # File: /usr/lib/python3/dist-packages/torch/nn/modules/batchnorm.py:210 in forward, code: return F.batch_norm(
            batch_norm: "f32[s77, 4]" = torch.ops.aten.batch_norm.default(x, p_bn_weight, p_bn_bias, b_bn_running_mean, b_bn_running_var, False, 0.1, 1e-05, False);  p_bn_weight = p_bn_bias = b_bn_running_mean = b_bn_running_var = None
    
            # File: /tmp/irgold/model.py:30 in forward, code: a, b = y.split(2, dim=1)
            split = torch.ops.aten.split.Tensor(batch_norm, 2, 1);  batch_norm = None
            getitem: "f32[s77, 2]" = split[0]
            getitem_1: "f32[s77, 2]" = split[1];  split = None
    
            # File: /tmp/irgold/model.py:31 in forward, code: z = torch.zeros(x.size(0), 4, dtype=torch.float16)
            zeros: "f16[s77, 4]" = torch.ops.aten.zeros.default([sym_size_int_1, 4], dtype = torch.float16, device = device(type='cpu'), pin_memory = False)
    
            # File: /tmp/irgold/model.py:32 in forward, code: w = torch.nn.functional.gelu(a, approximate='tanh') * 0.5
            gelu: "f32[s77, 2]" = torch.ops.aten.gelu.default(getitem, approximate = 'tanh');  getitem = None
            mul: "f32[s77, 2]" = torch.ops.aten.mul.Tensor(gelu, 0.5);  gelu = None
    
            # File: /tmp/irgold/model.py:33 in forward, code: s = x.sum(dim=1, keepdim=True).to(torch.float64)
            sum_1: "f32[s77, 1]" = torch.ops.aten.sum.dim_IntList(x, [1], True)
            _assert_tensor_metadata_default = torch.ops.aten._assert_tensor_metadata.default(sum_1, dtype = torch.float32, device = device(type='cpu'), layout = torch.strided);  _assert_tensor_metadata_default = None
            to: "f64[s77, 1]" = torch.ops.aten.to.dtype(sum_1, torch.float64);  sum_1 = None
    
            # File: /tmp/irgold/model.py:34 in forward, code: t = torch.tensor([1.0, 2.0, 3.0, 4.0])
            lift_fresh_copy: "f32[4]" = torch.ops.aten.lift_fresh_copy.default(c_lifted_tensor_0);  c_lifted_tensor_0 = None
            detach_: "f32[4]" = torch.ops.aten.detach_.default(lift_fresh_copy);  lift_fresh_copy = None
    
            # File: /tmp/irgold/model.py:35 in forward, code: return w, b, z, s, x + t + self.c, x.size(0) + 1
            add: "f32[s77, 4]" = torch.ops.aten.add.Tensor(x, detach_);  x = detach_ = None
            add_1: "f32[s77, 4]" = torch.ops.aten.add.Tensor(add, b_c);  add = b_c = None
            add_2: "Sym(s77 + 1)" = sym_size_int_1 + 1;  sym_size_int_1 = None
            return (mul, getitem_1, zeros, to, add_1, add_2)
    
Graph signature:
    # inputs
    p_bn_weight: PARAMETER target='bn.weight'
    p_bn_bias: PARAMETER target='bn.bias'
    b_c: BUFFER target='c' persistent=False
    b_bn_running_mean: BUFFER target='bn.running_mean' persistent=True
    b_bn_running_var: BUFFER target='bn.running_var' persistent=True
    b_bn_num_batches_tracked: BUFFER target='bn.num_batches_tracked' persistent=True
    c_lifted_tensor_0: CONSTANT_TENSOR target='lifted_tensor_0'
    x: USER_INPUT
    
    # outputs
    mul: USER_OUTPUT
    getitem_1: USER_OUTPUT
    zeros: USER_OUTPUT
    to: USER_OUTPUT
    add_1: USER_OUTPUT
    add_2: USER_OUTPUT
    
Range constraints: {s77: VR[2, 1024]}
)txt";

// ---- a tuple-returning op with unused outputs, floats, sym_min, a SymBool output ---------------------

inline std::unique_ptr<ExportedProgram> tuple_program() {
  auto p = std::make_unique<ExportedProgram>();
  Graph& g = *p->graph;
  const SymExpr s = s77();
  const auto f32 = DType::kFloat32;
  Value* x = user_input(*p, "x", meta(f32, {s, 4}));
  Value* size = sym_call(g, "aten::sym_size.int", {arg("self", x), arg("dim", I(0))}, s, "sym_size_int_1");
  Node* ln = g.add_call("aten::native_layer_norm.default",
                        {arg("input", x), arg("normalized_shape", std::vector<SymIntArg>{int64_t{4}}),
                         arg("weight", NoneArg{}), arg("bias", NoneArg{}), arg("eps", 1e-05)},
                        {ValueType::kTensor, ValueType::kTensor, ValueType::kTensor}, "native_layer_norm",
                        {"getitem", "getitem", "getitem"});
  ln->meta().stack_trace =
      frame(kModel, 39, "a, b = torch.ops.aten.native_layer_norm.default(x, [4], None, None, 1e-5)[:2]");
  ln->outputs()[0]->mutable_meta() = meta(f32, {s, 4});
  ln->outputs()[1]->mutable_meta() = meta(f32, {s, 1});
  ln->outputs()[2]->mutable_meta() = meta(f32, {s, 1});
  const std::string line40 = frame(
      kModel, 40,
      "return a.view(x.size(0) * 4), x.size(0) // 2, torch.full((2,), float(\"-inf\")), torch.sym_min(x.size(0), 5), "
      "x.size(0) % 3 == 0");
  Value* mul = sym_call(g, "_operator.mul", {arg("a", size), arg("b", I(4))}, 4 * s, "mul", line40);
  Value* view = tensor_call(g, "aten::view.default", {arg("self", ln->outputs()[0]), arg("size", std::vector<SymIntArg>{mul})},
                            meta(f32, {4 * s}), "view", line40);
  Value* fd = sym_call(g, "_operator.floordiv", {arg("a", size), arg("b", I(2))}, shapes::floor_div(s, 2), "floordiv", line40);
  Value* full = tensor_call(g, "aten::full.default",
                            {arg("size", std::vector<SymIntArg>{int64_t{2}}), arg("fill_value", -std::numeric_limits<double>::infinity()),
                             arg("device", DeviceArg{"cpu"}, true), arg("pin_memory", false, true)},
                            meta(f32, {2}), "full", line40);
  Value* mn = sym_call(g, "torch.sym_min", {arg("a", size), arg("b", I(5))}, shapes::sym_min(s, 5), "sym_min", line40);
  Value* mod = sym_call(g, "_operator.mod", {arg("a", size), arg("b", I(3))}, shapes::python_mod(s, 3), "mod", line40);
  Value* eq = bool_call(g, "_operator.eq", {arg("a", mod), arg("b", I(0))}, shapes::sym_eq(shapes::python_mod(s, 3), 0), "eq", line40);
  user_outputs(*p, {view, fd, full, mn, eq});
  p->range_constraints["s77"] = {2, std::nullopt};
  return p;
}

inline const char* const kTupleText = R"txt(ExportedProgram:
    class GraphModule(torch.nn.Module):
        def forward(self, x: "f32[s77, 4]"):
            # No stacktrace found for following nodes
            sym_size_int_1: "Sym(s77)" = torch.ops.aten.sym_size.int(x, 0)
    
            # File: /tmp/irgold/model.py:39 in forward, code: a, b = torch.ops.aten.native_layer_norm.default(x, [4], None, None, 1e-5)[:2]
            native_layer_norm = torch.ops.aten.native_layer_norm.default(x, [4], None, None, 1e-05);  x = None
            getitem: "f32[s77, 4]" = native_layer_norm[0]
            getitem_1: "f32[s77, 1]" = native_layer_norm[1];  getitem_1 = None
            getitem_2: "f32[s77, 1]" = native_layer_norm[2];  native_layer_norm = getitem_2 = None
    
            # File: /tmp/irgold/model.py:40 in forward, code: return a.view(x.size(0) * 4), x.size(0) // 2, torch.full((2,), float("-inf")), torch.sym_min(x.size(0), 5), x.size(0) % 3 == 0
            mul: "Sym(4*s77)" = sym_size_int_1 * 4
            view: "f32[4*s77]" = torch.ops.aten.view.default(getitem, [mul]);  getitem = mul = None
            floordiv: "Sym((s77//2))" = sym_size_int_1 // 2
            full: "f32[2]" = torch.ops.aten.full.default([2], -inf, device = device(type='cpu'), pin_memory = False)
            sym_min: "Sym(Min(5, s77))" = torch.sym_min(sym_size_int_1, 5)
            mod: "Sym(Mod(s77, 3))" = sym_size_int_1 % 3;  sym_size_int_1 = None
            eq: "Sym(Eq(Mod(s77, 3), 0))" = mod == 0;  mod = None
            return (view, floordiv, full, sym_min, eq)
    
Graph signature:
    # inputs
    x: USER_INPUT
    
    # outputs
    view: USER_OUTPUT
    floordiv: USER_OUTPUT
    full: USER_OUTPUT
    sym_min: USER_OUTPUT
    eq: USER_OUTPUT
    
Range constraints: {s77: VR[2, int_oo]}
)txt";

}  // namespace ptx::ir::testing
