// ir/verify.cpp: graph and program invariants. See ir/verify.h.
#include "ir/verify.h"

#include <map>
#include <unordered_map>
#include <unordered_set>

#include "shapes/error.h"

namespace ptx::ir {
namespace {

[[noreturn]] void broken(const std::string& what) { throw InternalError("ir verify: " + what); }

const char* type_name(ValueType t) {
  switch (t) {
    case ValueType::kTensor:
      return "tensor";
    case ValueType::kSymInt:
      return "SymInt";
    case ValueType::kSymFloat:
      return "SymFloat";
    case ValueType::kSymBool:
      return "SymBool";
    case ValueType::kInt:
      return "int";
    case ValueType::kFloat:
      return "float";
    case ValueType::kBool:
      return "bool";
    case ValueType::kNone:
      return "None";
  }
  return "?";
}

std::string node_label(const Node& n) {
  switch (n.kind()) {
    case NodeKind::kPlaceholder:
      return "placeholder '" + n.name() + "'";
    case NodeKind::kOutput:
      return "output node '" + n.name() + "'";
    case NodeKind::kCall:
      break;
  }
  return "node '" + n.name() + "' (" + n.target() + ")";
}

void check_value_payload(const Value& v) {
  switch (v.type()) {
    case ValueType::kTensor:
      if (!v.has_meta()) broken("tensor value '" + v.name() + "' has no meta");
      break;
    case ValueType::kSymInt:
      if (!v.has_sym()) broken("SymInt value '" + v.name() + "' has no sym");
      break;
    case ValueType::kSymBool:
      if (!v.sym_bool()) broken("SymBool value '" + v.name() + "' has no condition");
      break;
    default:
      break;
  }
}

void collect_symbols(const Value& v, std::vector<shapes::SymExpr>& out) {
  auto add = [&](shapes::SymExpr e) {
    for (const shapes::SymExpr& s : shapes::free_symbols(e)) out.push_back(s);
  };
  if (v.type() == ValueType::kTensor && v.has_meta()) {
    const TensorMeta& m = v.meta();
    for (const auto& e : m.sizes) add(e);
    for (const auto& e : m.strides) add(e);
    add(m.storage_offset);
  }
  if (v.type() == ValueType::kSymInt && v.has_sym()) add(v.sym());
  if (v.type() == ValueType::kSymBool && v.sym_bool()) {
    for (const shapes::SymExpr& s : v.sym_bool()->free_symbols()) out.push_back(s);
  }
}

std::vector<const Value*> all_values(const Graph& g) {
  std::vector<const Value*> out;
  for (const auto& n : g.nodes()) out.insert(out.end(), n->outputs().begin(), n->outputs().end());
  return out;
}

}  // namespace

void verify_graph(const Graph& g) {
  std::unordered_set<const Value*> in_graph;
  for (const Value* v : all_values(g)) in_graph.insert(v);

  std::unordered_set<std::string> node_names, value_names;
  std::unordered_set<const Value*> defined;
  bool seen_call = false;
  size_t placeholder_index = 0;
  for (const auto& np : g.nodes()) {
    const Node& n = *np;
    if (!node_names.insert(n.name()).second) broken("two nodes are named '" + n.name() + "'");
    switch (n.kind()) {
      case NodeKind::kPlaceholder:
        if (seen_call) broken(node_label(n) + " comes after a call node");
        if (n.outputs().size() != 1) broken(node_label(n) + " has " + std::to_string(n.outputs().size()) + " values");
        if (placeholder_index >= g.placeholders().size() || g.placeholders()[placeholder_index] != n.outputs()[0]) {
          broken(node_label(n) + " is not at its position in the graph's placeholder list");
        }
        ++placeholder_index;
        break;
      case NodeKind::kCall:
        seen_call = true;
        for (const Value* in : n.input_values()) {
          if (in == nullptr) broken(node_label(n) + " reads a null value");
          if (defined.count(in)) continue;
          if (in_graph.count(in)) {
            broken(node_label(n) + " reads '" + in->name() + "' before it is defined (Note [Topological order])");
          }
          broken(node_label(n) + " reads '" + in->name() +
                 "', which no node of this graph produces (a value of another graph, or of a removed node)");
        }
        for (size_t k = 0, graphs = 0; k < n.inputs().size(); ++k) {
          const auto* ga = std::get_if<GraphArg>(&n.inputs()[k].value);
          if (!ga) continue;
          if (!ga->graph) broken(node_label(n) + ": subgraph '" + ga->name + "' is null");
          verify_graph(*ga->graph);
          // while_loop(cond_fn, body_fn, ...): cond_fn returns the one predicate, body_fn the carried
          // values (the node's outputs); each branch of cond returns the node's outputs.
          const bool predicate = n.target() == "higher_order::while_loop" && graphs++ == 0;
          if (predicate && ga->graph->outputs().size() != 1) {
            broken(node_label(n) + ": subgraph '" + ga->name + "' returns " + std::to_string(ga->graph->outputs().size()) +
                   " values for the loop's predicate");
          }
          if (!predicate && ga->graph->outputs().size() != n.outputs().size()) {
            broken(node_label(n) + ": subgraph '" + ga->name + "' returns " + std::to_string(ga->graph->outputs().size()) +
                   " values for " + std::to_string(n.outputs().size()) + " outputs");
          }
        }
        break;
      case NodeKind::kOutput:
        broken(node_label(n) + " is in the node list; graph outputs are set with set_outputs");
    }
    for (const Value* v : n.outputs()) {
      if (v->producer() != &n) broken("value '" + v->name() + "' of " + node_label(n) + " names another producer");
      if (!value_names.insert(v->name()).second) broken("two values are named '" + v->name() + "'");
      check_value_payload(*v);
      defined.insert(v);
    }
  }
  if (placeholder_index != g.placeholders().size()) {
    broken("the graph lists " + std::to_string(g.placeholders().size()) + " placeholders but has " +
           std::to_string(placeholder_index) + " placeholder nodes");
  }
  for (const Value* out : g.outputs()) {
    if (out == nullptr) broken("a graph output is null");
    if (defined.count(out)) continue;
    broken("graph output '" + out->name() +
           "' is not produced by any node of this graph (a value of another graph, or of a removed node)");
  }
}

void verify(const ExportedProgram& p) {
  PTX_INTERNAL_CHECK(p.graph != nullptr) << "program without graph";
  const Graph& g = *p.graph;
  verify_graph(g);

  const auto& phs = g.placeholders();
  if (p.input_specs.size() != phs.size()) {
    broken(std::to_string(p.input_specs.size()) + " input specs for " + std::to_string(phs.size()) +
           " placeholders (one per placeholder, in order)");
  }
  for (size_t i = 0; i < phs.size(); ++i) {
    if (p.input_specs[i].arg != phs[i]->name()) {
      broken("input spec " + std::to_string(i) + " names '" + p.input_specs[i].arg + "' but placeholder " +
             std::to_string(i) + " is '" + phs[i]->name() + "'");
    }
    if (p.input_specs[i].kind != InputKind::kUserInput && p.input_specs[i].target.empty()) {
      broken("input spec of placeholder '" + phs[i]->name() + "' has no target");
    }
  }
  const auto& outs = g.outputs();
  if (p.output_specs.size() != outs.size()) {
    broken(std::to_string(p.output_specs.size()) + " output specs for " + std::to_string(outs.size()) +
           " graph outputs (one per output, in order)");
  }
  for (size_t i = 0; i < outs.size(); ++i) {
    if (p.output_specs[i].arg != outs[i]->name()) {
      broken("output spec " + std::to_string(i) + " names '" + p.output_specs[i].arg + "' but graph output " +
             std::to_string(i) + " is '" + outs[i]->name() + "'");
    }
  }

  std::map<std::string, int> symbol_ids;
  for (const auto& np : g.nodes()) {
    for (const Value* v : np->outputs()) {
      std::vector<shapes::SymExpr> syms;
      collect_symbols(*v, syms);
      for (const shapes::SymExpr& s : syms) {
        const std::string& name = s.symbol_name();
        auto [it, fresh] = symbol_ids.emplace(name, s.symbol_id());
        if (!fresh && it->second != s.symbol_id()) {
          broken("two different symbols are named '" + name + "' (in value '" + v->name() + "')");
        }
        if (!p.range_constraints.count(name)) {
          broken(std::string(type_name(v->type())) + " value '" + v->name() + "' uses symbol " + name +
                 ", which has no range constraint");
        }
      }
    }
  }
}

}  // namespace ptx::ir
