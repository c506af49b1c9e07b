// passes/decompose/norms.cpp: batch_norm (eval) -> _native_batch_norm_legit_no_training,
// layer_norm -> native_layer_norm; both return (output, statistics...) and the graph reads [0].
#include "passes/decompose/families.h"

namespace ptx::passes::decomp {
namespace {
ir::ArgValue optional_tensor(ir::Value* v) { return v ? ir::ArgValue(v) : ir::ArgValue(ir::NoneArg{}); }
}  // namespace

// batch_norm(input, weight, bias, running_mean, running_var, training=False, momentum, eps, cudnn)
// -> _native_batch_norm_legit_no_training(input, weight, bias, running_mean, running_var, momentum,
// eps)[0]. Its other two outputs are empty on CPU (sizes [0]). Training mode stays a batch_norm.
Outputs batch_norm(Rewriter& r) {
  if (r.bool_or("training", true)) return std::nullopt;
  ir::Value* mean = r.tensor("running_mean", true);
  ir::Value* var = r.tensor("running_var", true);
  if (mean == nullptr || var == nullptr) return std::nullopt;
  const ir::TensorMeta& out = r.out()->meta();
  const ir::TensorMeta empty = with_sizes(out, {shapes::SymExpr(0)});
  auto outs = r.call("aten::_native_batch_norm_legit_no_training.default",
                     {named("input", r.tensor("input")), named("weight", optional_tensor(r.tensor("weight", true))),
                      named("bias", optional_tensor(r.tensor("bias", true))), named("running_mean", mean),
                      named("running_var", var), named("momentum", r.float_or("momentum", 0.1)),
                      named("eps", r.float_or("eps", 1e-5))},
                     {out, empty, empty}, "_native_batch_norm_legit_no_training");
  return std::vector<ir::Value*>{outs[0]};
}

// layer_norm(input, normalized_shape, weight, bias, eps, cudnn_enable) -> native_layer_norm(input,
// normalized_shape, weight, bias, eps)[0]; mean and rstd keep the leading dims, 1 for the others.
Outputs layer_norm(Rewriter& r) {
  ir::Value* input = r.tensor("input");
  const ir::TensorMeta& out = r.out()->meta();
  const auto normalized = r.ints_or("normalized_shape", {});
  const size_t rank = input->meta().sizes.size();
  if (normalized.empty() || normalized.size() > rank) return std::nullopt;
  shapes::SymShape stat_sizes(input->meta().sizes.begin(), input->meta().sizes.end() - static_cast<long>(normalized.size()));
  stat_sizes.resize(rank, shapes::SymExpr(1));
  const ir::TensorMeta stat = with_sizes(out, stat_sizes);
  auto outs = r.call("aten::native_layer_norm.default",
                     {named("input", input), named("normalized_shape", normalized),
                      named("weight", optional_tensor(r.tensor("weight", true))),
                      named("bias", optional_tensor(r.tensor("bias", true))), named("eps", r.float_or("eps", 1e-5))},
                     {out, stat, stat}, "native_layer_norm");
  return std::vector<ir::Value*>{outs[0]};
}

}  // namespace ptx::passes::decomp
