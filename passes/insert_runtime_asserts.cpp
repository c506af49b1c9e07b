// passes/insert_runtime_asserts.cpp: guards as aten::_assert_scalar nodes. See the header.
#include "passes/insert_runtime_asserts.h"

#include <map>
#include <unordered_map>
#include <unordered_set>

#include "ir/sym_materialize.h"
#include "shapes/error.h"
#include "shapes/sym_sides.h"

namespace ptx::passes {
namespace {

using shapes::Rel;
using shapes::SymBool;
using shapes::SymExpr;

/// Targets that compute on SymInts only, with no effect: safe to move next to the placeholders when
/// their inputs are there too.
bool is_pure_sym_target(const std::string& t) {
  return t == "aten::sym_size.int" || t.rfind("_operator.", 0) == 0 || t == "torch.sym_min" ||
         t == "torch.sym_max" || t == "torch.sym_not";
}


/// Appends the nodes checking `guard` (comparison, _assert_scalar) to the graph, and records
/// them (and the sym nodes materialized for them) in `added`.
void emit_assert(ir::Graph& graph, ir::SymMaterializer& syms, const shapes::Guard& guard,
                 std::vector<ir::Node*>& added) {
  const SymBool& cond = guard.cond;
  const auto [l, r] = printed_sides(cond);
  PTX_INTERNAL_CHECK(SymBool(cond.rel(), l, r) == cond && !l.is_const())
      << "runtime assert: cannot split " << cond.str() << " into two sides";
  const size_t before = syms.created().size();
  ir::Value* lv = syms.materialize(l);
  const ir::ArgValue rv = r.is_const() ? ir::ArgValue(r.value()) : ir::ArgValue(syms.materialize(r));
  added.insert(added.end(), syms.created().begin() + static_cast<std::ptrdiff_t>(before), syms.created().end());

  const std::string trace = guard.origin.stack_trace();
  auto bool_node = [&](const std::string& target, const std::string& name, std::vector<ir::NamedArg> args,
                       const SymBool& value) {
    ir::Node* n = graph.add_call(target, std::move(args), {ir::ValueType::kSymBool}, name);
    n->outputs()[0]->set_sym_bool(value);
    n->meta().stack_trace = trace;
    added.push_back(n);
    return n->outputs()[0];
  };
  auto compare = [&](const char* op, const SymBool& value) {
    return bool_node(std::string("_operator.") + op, op, {{"a", lv, false}, {"b", rv, false}}, value);
  };
  ir::Value* check = nullptr;
  switch (cond.rel()) {
    case Rel::Eq: check = compare("eq", cond); break;
    case Rel::Ne: check = bool_node("torch.sym_not", "sym_not", {{"a", compare("eq", cond.negated()), false}}, cond); break;
    case Rel::Lt: check = compare("lt", cond); break;
    case Rel::Le: check = compare("le", cond); break;
    case Rel::Gt: check = compare("gt", cond); break;
    case Rel::Ge: check = compare("ge", cond); break;
  }
  const std::string msg = "Runtime assertion failed for expression " + cond.str() + " on node '" +
                          check->producer()->name() + "'" + (guard.message.empty() ? "" : ": " + guard.message);
  ir::Node* a = graph.add_call("aten::_assert_scalar.default", {{"self", check, false}, {"assert_msg", msg, false}},
                               {}, "_assert_scalar_default");
  a->meta().stack_trace = trace;
  added.push_back(a);
}

}  // namespace

bool insert_runtime_asserts(ir::Graph& graph, const std::vector<shapes::Guard>& guards) {
  ir::SymMaterializer syms(graph);
  for (ir::Value* p : graph.placeholders()) syms.add_sources_from(p);

  // Existing sym nodes that depend only on placeholders: reused, and moved up with the asserts.
  std::unordered_set<const ir::Node*> hoistable;
  std::unordered_set<const ir::Value*> early(graph.placeholders().begin(), graph.placeholders().end());
  // Symbols the graph defines after the placeholders (unbacked: item(), nonzero's count...), by id:
  // the call node that makes them. Their asserts go right after it (Note [Unbacked symbols]).
  std::map<int, ir::Node*> defined_by;
  std::unordered_map<const ir::Node*, size_t> index;
  auto define = [&](shapes::SymExpr e, ir::Node* n) {
    if (!e.is_symbol() || syms.has_source(e) || defined_by.count(e.symbol_id())) return;
    defined_by[e.symbol_id()] = n;
  };
  for (const auto& np : graph.nodes()) {
    ir::Node& n = *np;
    index[&n] = index.size();
    if (n.kind() != ir::NodeKind::kCall) continue;
    for (ir::Value* out : n.outputs()) {
      if (out->type() == ir::ValueType::kSymInt && out->has_sym()) define(out->sym(), &n);
      if (out->type() == ir::ValueType::kTensor && out->has_meta()) {
        for (const shapes::SymExpr& d : out->meta().sizes) define(d, &n);
      }
    }
    if (!is_pure_sym_target(n.target())) continue;
    bool ok = n.outputs().size() == 1;
    for (const ir::Value* in : n.input_values()) ok = ok && early.count(in);
    if (!ok) continue;
    hoistable.insert(&n);
    ir::Value* out = n.outputs()[0];
    early.insert(out);
    if (out->type() == ir::ValueType::kSymInt && out->has_sym()) syms.add_existing(out);
  }
  // Sources of the later symbols: the SymInt an op returns (item) or a tensor dim (nonzero).
  for (const auto& np : graph.nodes()) {
    for (ir::Value* out : np->outputs()) {
      if (out->type() == ir::ValueType::kSymInt && out->has_sym() && out->sym().is_symbol() &&
          defined_by.count(out->sym().symbol_id()) && !syms.has_source(out->sym())) {
        syms.add_existing(out);
      }
    }
  }
  for (const auto& np : graph.nodes()) {
    for (ir::Value* out : np->outputs()) {
      if (out->type() == ir::ValueType::kTensor && out->has_meta()) syms.add_sources_from(out);
    }
  }

  // Conditions already asserted (a second run of the pass adds nothing).
  std::unordered_set<std::string> asserted;
  for (const auto& np : graph.nodes()) {
    if (np->kind() != ir::NodeKind::kCall || np->target() != "aten::_assert_scalar.default") continue;
    for (const ir::NamedArg& a : np->inputs()) {
      const auto* msg = std::get_if<std::string>(&a.value);
      const std::string prefix = "Runtime assertion failed for expression ";
      if (a.name != "assert_msg" || msg == nullptr || msg->rfind(prefix, 0) != 0) continue;
      const auto end = msg->rfind(" on node '");
      if (end != std::string::npos) asserted.insert(msg->substr(prefix.size(), end - prefix.size()));
    }
  }
  std::vector<ir::Node*> added;                                   // go to the front
  std::vector<std::pair<ir::Node*, std::vector<ir::Node*>>> later;  // go after a node
  std::vector<SymBool> done;
  for (const shapes::Guard& guard : guards) {
    const SymBool& cond = guard.cond;
    if (auto k = cond.as_const()) {
      PTX_INTERNAL_CHECK(*k) << "runtime assert of a condition that is always false (" << guard.origin.str() << ")";
      continue;
    }
    bool seen = asserted.count(cond.str()) > 0;
    for (const SymBool& d : done) seen = seen || d == cond;
    if (seen) continue;
    done.push_back(cond);
    ir::Node* anchor = nullptr;
    bool computed = true;
    for (const SymExpr& s : cond.free_symbols()) {
      auto it = defined_by.find(s.symbol_id());
      if (it != defined_by.end() && (!anchor || index.at(it->second) > index.at(anchor))) anchor = it->second;
      computed = computed && (it != defined_by.end() || syms.has_source(s));
    }
    // A value read inside a cond branch only (its subgraph makes it): not checked in this graph.
    if (!computed) continue;
    if (!anchor) {
      emit_assert(graph, syms, guard, added);
      continue;
    }
    std::vector<ir::Node*> nodes;
    emit_assert(graph, syms, guard, nodes);
    // A size it reads may be computed after the anchor (a sym_size of a later node that reads the
    // same symbol, as after a torch.cond whose output it sizes): the assert goes after that.
    const std::unordered_set<const ir::Node*> own(nodes.begin(), nodes.end());
    for (const ir::Node* a : nodes) {
      for (const ir::Value* in : a->input_values()) {
        const ir::Node* p = in->producer();
        if (p == nullptr || own.count(p) || !index.count(p)) continue;
        if (index.at(p) > index.at(anchor)) anchor = const_cast<ir::Node*>(p);
      }
    }
    later.emplace_back(anchor, std::move(nodes));
  }
  if (added.empty() && later.empty()) return false;

  // Move the new nodes, and the existing sym nodes they read, right after the placeholders.
  std::unordered_set<const ir::Node*> moving(added.begin(), added.end());
  std::vector<const ir::Node*> work(added.begin(), added.end());
  for (const auto& [anchor, nodes] : later) work.insert(work.end(), nodes.begin(), nodes.end());
  while (!work.empty()) {
    const ir::Node* n = work.back();
    work.pop_back();
    for (const ir::Value* in : n->input_values()) {
      const ir::Node* p = in->producer();
      if (p && hoistable.count(p) && moving.insert(p).second) work.push_back(p);
    }
  }
  std::vector<ir::Node*> order;
  for (const auto& np : graph.nodes()) {
    if (moving.count(np.get())) order.push_back(np.get());
  }
  graph.move_to_front(order);
  // The asserts on later symbols, in guard order after the node that makes their last symbol.
  std::unordered_map<const ir::Node*, ir::Node*> last_after;
  for (const auto& [anchor, nodes] : later) {
    auto it = last_after.find(anchor);
    graph.move_after(it == last_after.end() ? anchor : it->second, nodes);
    last_after[anchor] = nodes.back();
  }
  return true;
}

std::vector<shapes::Guard> lower_bound_guards(const ir::Graph& graph,
                                             const std::map<std::string, shapes::Range>& ranges) {
  std::map<int, SymExpr> symbols;  // by id: creation order
  for (const ir::Value* p : graph.placeholders()) {
    if (!p->has_meta()) continue;
    for (const SymExpr& d : p->meta().sizes) {
      for (const SymExpr& s : shapes::free_symbols(d)) symbols.emplace(s.symbol_id(), s);
    }
  }
  std::vector<shapes::Guard> out;
  for (const auto& [id, s] : symbols) {
    auto it = ranges.find(s.str());
    if (it == ranges.end() || it->second.min < 1 || it->second.min > 2) continue;
    shapes::Guard g{SymBool(Rel::Ge, s, SymExpr(it->second.min)), {}};
    g.origin.op = "range constraint";
    g.origin.reason = "torch.export.load does not check lower bounds of 2 or less";
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace ptx::passes
