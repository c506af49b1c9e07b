// passes/eliminate_dead_code.cpp
#include "passes/eliminate_dead_code.h"

#include <unordered_set>

namespace ptx::passes {
namespace {
/// Calls that exist for their effect (they check something and return nothing): never dead.
bool has_side_effects(const ir::Node& n) {
  const std::string& t = n.target();
  return t == "aten::_assert_scalar.default" || t == "aten::_assert_async.msg" ||
         t == "aten::_assert_tensor_metadata.default" || t == "aten::sym_constrain_range.default" ||
         t == "aten::sym_constrain_range_for_size.default";
}
}  // namespace

bool eliminate_dead_code(ir::Graph& graph, const std::set<int>& keep) {
  // One backward sweep: a node is live if a live node or the output reads one of its values.
  std::unordered_set<const ir::Value*> live(graph.outputs().begin(), graph.outputs().end());
  std::set<int> kept;
  for (const auto& n : graph.nodes()) {
    for (const ir::Value* v : n->outputs()) {
      std::vector<shapes::SymExpr> made;
      if (v->type() == ir::ValueType::kTensor && v->has_meta()) made = v->meta().sizes;
      if (v->type() == ir::ValueType::kSymInt && v->has_sym()) made.push_back(v->sym());
      for (const shapes::SymExpr& e : made) {
        if (e.is_symbol() && keep.count(e.symbol_id()) && kept.insert(e.symbol_id()).second) live.insert(v);
      }
    }
  }
  std::unordered_set<const ir::Node*> dead;
  const auto& nodes = graph.nodes();
  for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
    const ir::Node& n = **it;
    if (n.kind() != ir::NodeKind::kCall) continue;
    bool used = false;
    for (const ir::Value* v : n.outputs()) used = used || live.count(v);
    if (!used && !has_side_effects(n)) {
      dead.insert(&n);
      continue;
    }
    for (const ir::Value* v : n.input_values()) live.insert(v);
  }
  if (dead.empty()) return false;
  graph.remove_nodes_if([&](const ir::Node& n) { return dead.count(&n) > 0; });
  return true;
}

}  // namespace ptx::passes
