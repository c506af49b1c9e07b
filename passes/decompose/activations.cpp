// passes/decompose/activations.cpp: dropout, hard sigmoid/swish, silu, softmax
// (torch/_decomp/decompositions.py: hardsigmoid, hardswish, silu; ATen's CompositeImplicit dropout).
#include "passes/decompose/families.h"

namespace ptx::passes::decomp {
// dropout(input, p, train) in eval mode (train=False) is its input: the op disappears.
Outputs dropout(Rewriter& r) {
  if (r.bool_or("train", true)) return std::nullopt;
  return std::vector<ir::Value*>{r.tensor("input")};
}

namespace {
/// clamp(clamp(x + 3, min=0), max=6): the ReLU6 of x + 3 that hardsigmoid and hardswish share.
ir::Value* relu6_of_x_plus_3(Rewriter& r, ir::Value* x, const ir::TensorMeta& m) {
  ir::Value* add = r.call1("aten::add.Tensor", {named("self", x), named("other", int64_t{3})}, m, "add");
  ir::Value* lo = r.call1("aten::clamp.default", {named("self", add), named("min", int64_t{0})}, m, "clamp");
  return r.call1("aten::clamp.default", {named("self", lo), named("min", ir::NoneArg{}), named("max", int64_t{6})}, m,
                 "clamp");
}
}  // namespace

// hardsigmoid(x) = clamp(clamp(x + 3, min=0), max=6) / 6
Outputs hardsigmoid(Rewriter& r) {
  const ir::TensorMeta& m = r.out()->meta();
  ir::Value* hi = relu6_of_x_plus_3(r, r.tensor("self"), m);
  return std::vector<ir::Value*>{r.call1("aten::div.Tensor", {named("self", hi), named("other", int64_t{6})}, m, "div")};
}

// hardswish(x) = x * clamp(clamp(x + 3, min=0), max=6) / 6
Outputs hardswish(Rewriter& r) {
  ir::Value* x = r.tensor("self");
  const ir::TensorMeta& m = r.out()->meta();
  ir::Value* hi = relu6_of_x_plus_3(r, x, m);
  ir::Value* mul = r.call1("aten::mul.Tensor", {named("self", x), named("other", hi)}, m, "mul");
  return std::vector<ir::Value*>{r.call1("aten::div.Tensor", {named("self", mul), named("other", int64_t{6})}, m, "div")};
}

// silu(x) = x * sigmoid(x)
Outputs silu(Rewriter& r) {
  ir::Value* x = r.tensor("self");
  const ir::TensorMeta& m = r.out()->meta();
  ir::Value* sig = r.call1("aten::sigmoid.default", {named("self", x)}, m, "sigmoid");
  return std::vector<ir::Value*>{r.call1("aten::mul.Tensor", {named("self", x), named("other", sig)}, m, "mul")};
}

// softmax.int(self, dim, dtype=None) = _softmax(self, dim, half_to_float=False); with a dtype the
// input is converted first, which is not written here (the node stays).
Outputs softmax(Rewriter& r) {
  const ir::ArgValue dtype = r.arg_or("dtype", ir::NoneArg{});
  if (!std::holds_alternative<ir::NoneArg>(dtype)) return std::nullopt;
  ir::Value* x = r.tensor("self");
  return std::vector<ir::Value*>{r.call1("aten::_softmax.default",
                                         {named("self", x), named("dim", r.int_or("dim", -1)),
                                          named("half_to_float", false)},
                                         r.out()->meta(), "_softmax")};
}

}  // namespace ptx::passes::decomp
