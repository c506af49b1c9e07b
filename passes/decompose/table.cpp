// passes/decompose/table.cpp: the sorted table of decompositions and the pass that applies them.
// See passes/decompose/decompose.h. tests/passes/decompose_test.cpp checks that the table is
// sorted, and runs every entry against the op itself on the interpreter.
#include <ATen/core/dispatch/Dispatcher.h>

#include <algorithm>
#include <set>
#include <unordered_set>

#include "passes/decompose/decompose.h"
#include "passes/decompose/families.h"
#include "shapes/error.h"

namespace ptx::passes {
namespace {

struct Decomposition {
  const char* target;  // "aten::batch_norm.default"
  IrLevel level;       // the lowest level that applies it (kInference entries apply at kCore too)
  decomp::Outputs (*fn)(decomp::Rewriter&);
};

// Keep sorted by target. Inference entries are what torch's run_decompositions({}) replaces (the
// CompositeImplicitAutograd ops torch does not preserve at that level); core entries are the
// default table's. Asked live of torch 2.14 for the zoo's ops (docs/commands/export.md).
constexpr Decomposition kDecompositions[] = {
    {"aten::_convolution.default", IrLevel::kCore, &decomp::convolution_private},
    {"aten::_unsafe_view.default", IrLevel::kCore, &decomp::unsafe_view},
    {"aten::adaptive_avg_pool2d.default", IrLevel::kCore, &decomp::adaptive_avg_pool2d},
    {"aten::batch_norm.default", IrLevel::kInference, &decomp::batch_norm},
    {"aten::chunk.default", IrLevel::kInference, &decomp::chunk},
    {"aten::contiguous.default", IrLevel::kInference, &decomp::contiguous},
    {"aten::conv1d.default", IrLevel::kCore, &decomp::conv_nd},
    {"aten::conv2d.default", IrLevel::kCore, &decomp::conv_nd},
    {"aten::conv3d.default", IrLevel::kCore, &decomp::conv_nd},
    {"aten::dropout.default", IrLevel::kInference, &decomp::dropout},
    {"aten::fill.Tensor", IrLevel::kCore, &decomp::fill_tensor},
    {"aten::flatten.using_ints", IrLevel::kInference, &decomp::flatten},
    {"aten::hardsigmoid.default", IrLevel::kCore, &decomp::hardsigmoid},
    {"aten::hardswish.default", IrLevel::kCore, &decomp::hardswish},
    {"aten::layer_norm.default", IrLevel::kCore, &decomp::layer_norm},
    {"aten::lift_fresh_copy.default", IrLevel::kInference, &decomp::lift_fresh_copy},
    {"aten::linear.default", IrLevel::kCore, &decomp::linear},
    {"aten::masked_fill.Scalar", IrLevel::kCore, &decomp::masked_fill_scalar},
    {"aten::matmul.default", IrLevel::kCore, &decomp::matmul},
    {"aten::max_pool2d.default", IrLevel::kCore, &decomp::max_pool2d},
    {"aten::new_zeros.default", IrLevel::kCore, &decomp::new_zeros},
    {"aten::pad.default", IrLevel::kCore, &decomp::pad},
    {"aten::reshape.default", IrLevel::kInference, &decomp::reshape},
    {"aten::roll.default", IrLevel::kCore, &decomp::roll},
    {"aten::scaled_dot_product_attention.default", IrLevel::kCore, &decomp::scaled_dot_product_attention},
    {"aten::silu.default", IrLevel::kCore, &decomp::silu},
    {"aten::slice.Tensor", IrLevel::kInference, &decomp::full_slice},
    {"aten::softmax.int", IrLevel::kCore, &decomp::softmax},
    {"aten::split.Tensor", IrLevel::kCore, &decomp::split_tensor},
    {"aten::squeeze.dim", IrLevel::kCore, &decomp::squeeze_dim},
    {"aten::transpose.int", IrLevel::kCore, &decomp::transpose},
    {"aten::unflatten.int", IrLevel::kInference, &decomp::unflatten},
};

const Decomposition* find(const std::string& target) {
  const auto* end = std::end(kDecompositions);
  const auto* it = std::lower_bound(std::begin(kDecompositions), end, target,
                                    [](const Decomposition& d, const std::string& t) { return d.target < t; });
  return it != end && it->target == target ? it : nullptr;
}

/// "aten.linear.default" / "torch.ops.aten.linear.default" -> "aten::linear.default".
std::string normalize(std::string name) {
  if (name.rfind("torch.ops.", 0) == 0) name = name.substr(10);
  if (name.find("::") == std::string::npos) {
    const auto dot = name.find('.');
    if (dot != std::string::npos) name = name.substr(0, dot) + "::" + name.substr(dot + 1);
  }
  return name;
}

/// Whether `target` ("aten::linear.default") is named by a --keep entry (a full target, or an op
/// name without overload).
bool kept(const std::string& target, const std::vector<std::string>& keep) {
  const std::string op = target.substr(0, target.rfind('.'));
  return std::any_of(keep.begin(), keep.end(), [&](const std::string& k) { return k == target || k == op; });
}

bool applies(const Decomposition& d, IrLevel level) {
  return level == IrLevel::kCore || (level == IrLevel::kInference && d.level == IrLevel::kInference);
}

/// One sweep over the graph's calls in order; returns how many were rewritten.
int sweep(ir::ExportedProgram& p, const DecomposeOptions& o, const std::vector<std::string>& keep) {
  ir::Graph& g = *p.graph;
  std::vector<ir::Value*> user_inputs;
  for (size_t i = 0; i < g.placeholders().size() && i < p.input_specs.size(); ++i) {
    if (p.input_specs[i].kind == ir::InputKind::kUserInput) user_inputs.push_back(g.placeholders()[i]);
  }
  std::vector<ir::Node*> calls;
  for (const auto& n : g.nodes()) {
    if (n->kind() == ir::NodeKind::kCall) calls.push_back(n.get());
  }
  // Each replacement is appended to the graph, then moved to where its op was: the call order
  // becomes [replacement of the op | the op] for every op, which keeps Note [Topological order]
  // (a replacement reads the op's inputs and sizes computed from the placeholders).
  std::unordered_set<const ir::Node*> replaced;
  std::vector<ir::Node*> order;
  for (ir::Node* n : calls) {
    const Decomposition* d = find(n->target());
    if (d == nullptr || !applies(*d, o.level) || kept(n->target(), keep)) {
      order.push_back(n);
      continue;
    }
    const size_t first = g.nodes().size();
    decomp::Rewriter rw(g, *n, user_inputs);
    const decomp::Outputs outs = d->fn(rw);
    for (size_t i = first; i < g.nodes().size(); ++i) order.push_back(g.nodes()[i].get());
    order.push_back(n);
    if (!outs) continue;  // it does not apply to these arguments (any node it made is dead)
    PTX_INTERNAL_CHECK(outs->size() == n->outputs().size())
        << "decomposition of " << n->target() << " gave " << outs->size() << " values for " << n->outputs().size();
    for (size_t i = 0; i < outs->size(); ++i) g.replace_all_uses(n->outputs()[i], (*outs)[i]);
    replaced.insert(n);
  }
  if (replaced.empty()) return 0;
  g.move_to_front(order);
  g.remove_nodes_if([&](const ir::Node& n) { return replaced.count(&n) > 0; });
  return static_cast<int>(replaced.size());
}

}  // namespace

const char* ir_level_name(IrLevel level) {
  switch (level) {
    case IrLevel::kTraining: return "training";
    case IrLevel::kInference: return "inference";
    case IrLevel::kCore: return "core";
  }
  return "?";
}

bool ir_level_from_name(const std::string& name, IrLevel& out) {
  for (IrLevel l : {IrLevel::kTraining, IrLevel::kInference, IrLevel::kCore}) {
    if (name == ir_level_name(l)) {
      out = l;
      return true;
    }
  }
  return false;
}

const char* ir_level_dialect(IrLevel level) { return level == IrLevel::kTraining ? "TRAINING" : "ATEN"; }

std::vector<std::string> decomposable_targets(IrLevel level) {
  std::vector<std::string> out;
  for (const Decomposition& d : kDecompositions) {
    if (applies(d, level)) out.emplace_back(d.target);
  }
  return out;
}

bool decompose(ir::ExportedProgram& program, const DecomposeOptions& options) {
  std::vector<std::string> keep;
  for (const std::string& k : options.keep) {
    const std::string n = normalize(k);
    const bool known = std::any_of(std::begin(kDecompositions), std::end(kDecompositions), [&](const Decomposition& d) {
      return kept(d.target, {n});
    });
    if (!known) {
      std::string all;
      for (const Decomposition& d : kDecompositions) all += (all.empty() ? "" : ", ") + std::string(d.target);
      PTX_USER_FAIL(ExitCode::kUsage, "E_UNKNOWN_KEEP")
          << "--keep " << k << ": ptexport has no decomposition of that op (it decomposes: " << all << ")";
    }
    keep.push_back(n);
  }
  if (options.level == IrLevel::kTraining) return false;
  bool changed = false;
  // New calls are rewritten again (chunk -> split.Tensor -> split_with_sizes); the table has no
  // cycles, so a few sweeps reach the fixed point.
  for (int round = 0; round < 8; ++round) {
    if (sweep(program, options, keep) == 0) break;
    changed = true;
  }
  return changed;
}

std::vector<std::string> non_core_targets(const ir::Graph& graph) {
  std::set<std::string> out;
  for (const auto& n : graph.nodes()) {
    if (n->kind() != ir::NodeKind::kCall) continue;
    const std::string& t = n->target();
    if (t.rfind("aten::", 0) != 0 || t == "aten::sym_size.int" || t.rfind("aten::_assert", 0) == 0) continue;
    const auto dot = t.rfind('.');
    std::string overload = t.substr(dot + 1);
    if (overload == "default") overload = "";
    const auto op = c10::Dispatcher::singleton().findSchema({t.substr(0, dot), overload});
    if (!op || !op->hasTag(at::Tag::core)) out.insert(t);
  }
  return {out.begin(), out.end()};
}

}  // namespace ptx::passes
