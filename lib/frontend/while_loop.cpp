// lib/frontend/while_loop.cpp: a TorchScript loop that tensor data decides (issue 15) as
// torch.ops.higher_order.while_loop(cond_graph, body_graph, carried_inputs, additional_inputs).
//
// Note [Data loops]
// ~~~~~~~~~~~~~~~~~
// TorchScript scripts both kinds of loop to prim::Loop(max_trip_count, initial_condition, carried...)
// whose body maps (iteration, carried...) to (condition, carried...):
// - `for _ in range(int(n.item()))`: the trip count is an unbacked symbol, the conditions are True.
//   It becomes a while_loop carrying a 0-dim int64 counter first, whose condition graph is
//   `counter < scalar_tensor(trip)` (the bound is an additional input), as torch writes a counted
//   while_loop by hand;
// - `while x.sum() < 100:`: the trip count is TorchScript's "no limit" and the conditions are bools
//   read from tensors (aten::Bool). It becomes a while_loop carrying that 0-dim bool tensor first: the
//   condition graph returns it (cloned: torch refuses a subgraph output that aliases its input), the
//   body computes the next one with the carried values.
// The body is traced once on the sample, on stand-ins of the carried values (clones in the outer graph,
// removed afterwards) so that the subgraph can tell a carried value from one read from outside (an
// additional input) even where they are the same tensor. torch's while_loop requires each carried
// tensor to keep its shape and dtype; the body's outputs are checked against its inputs
// symbolically. The sample's result comes from running the two subgraphs (lib/interpreter.h) until
// the condition is false, as torch.export.load's program will.
// A counted loop's body that reads the iteration number (`for v in t:`'s select(t, 0, i), `x + i`) reads
// `counter.item()`, as torch writes it in a while_loop body: an unbacked symbol in [0, oo), checked
// below the trip count. A body that updates in place a tensor made before the loop (torchvision's
// `keep_mask[idx] = True`) carries that tensor after the loop's own values: the body reads a stand-in
// through the tensor's own cell, and after the loop the cell holds the loop's output (and the concrete
// tensor the loop's result). An update of a tensor the body makes itself is local (block_mutates).
// Not supported (a clear error naming the line): a `while` loop's body that reads the iteration number,
// a body that carries a non-tensor (an int counter, a list), assigns an attribute, updates a view, a
// parameter or a list made before the loop; a `break` inside a counted loop (TorchScript turns it into
// an int counter); any other mix of a data trip count and a data condition.
#include <limits>
#include <unordered_set>

#include "lib/frontend/tracer.h"
#include "lib/interpreter.h"
#include "lib/torch_convert.h"
#include "shapes/error.h"

namespace ptx::frontend {

namespace {
bool constant_true(jit::Value* v) {
  const std::optional<c10::IValue> iv = jit::toIValue(v);
  return iv && iv->isBool() && iv->toBool();
}
}  // namespace

bool Tracer::is_data_loop(const SymExpr& trip, const SVP& cond) {
  return env_.has_unbacked(trip) || (!cond->data_dep.empty() && cond->pred);
}

/// Exit 4 (E_DATA_DEPENDENT_LOOP) for a data loop that while_loop cannot take here: `what`, then `fix`.
void Tracer::refuse_loop(jit::Node* n, const SymExpr& trip, const SVP& cond0, const std::string& what,
                         const std::string& fix) {
  const shapes::Provenance where = why(n, "a loop on tensor data (while_loop)");
  const std::string at = where.source.empty() ? std::string("model") : where.source;
  PTX_USER_FAIL(ExitCode::kExportFailed, "E_DATA_DEPENDENT_LOOP")
      << at << ": a loop decided by tensor data (" << (env_.has_unbacked(trip) ? "its trip count " + trip.str()
                                                                               : cond0->data_dep)
      << ") becomes torch.ops.higher_order.while_loop, and " << what
      << (where.code.empty() ? "" : "\n    " + where.code) << called_from(n, "  ") << "\n  " << fix;
}

/// A new tensor value: `node`'s output, holding `sample` (its sizes static), made for TorchScript node `n`.
SVP Tracer::node_tensor(ir::Node* node, const at::Tensor& sample, jit::Node* n) {
  node->outputs()[0]->mutable_meta() = make_meta(sample, {});
  set_meta(node, n);
  auto sv = std::make_shared<SV>();
  sv->k = SV::K::kTensor;
  sv->iv = sample;
  sv->cell = std::make_shared<TensorCell>();
  sv->cell->value = node->outputs()[0];
  sv->cell->sample = sample;
  return sv;
}

void Tracer::run_while_loop(jit::Node* n, const SymExpr& trip, const SVP& cond0) {
  const auto refuse = [&](const std::string& what, const std::string& fix) { refuse_loop(n, trip, cond0, what, fix); };
  jit::Block* body = n->blocks()[0];
  const bool counted = env_.has_unbacked(trip);
  if (counted) {
    if (!constant_true(n->input(1)) || !constant_true(body->outputs()[0])) {
      refuse("this one also stops on a condition (a break): TorchScript counts it with an int, which "
             "while_loop cannot carry here",
             "write it as `while` on a tensor condition, or bound the count by a size");
    }
  } else if (!trip.is_const() || trip.value() != std::numeric_limits<int64_t>::max()) {
    refuse("this one also has a trip count (" + trip.str() + "): a `for` loop with a break on data",
           "write it as `while` on a tensor condition that includes the count");
  }
  const bool reads_iteration = !body->inputs()[0]->uses().empty();
  if (reads_iteration && !counted) {
    refuse("its body reads the iteration number, which a `while` loop's while_loop does not count",
           "carry a counter tensor yourself (i = i + 1) and read it as a tensor");
  }
  std::string what;
  std::vector<jit::Value*> updated;  // tensors made before the loop that the body updates in place
  if (block_mutates(body, what, &updated)) {
    refuse("its body changes state (" + what + "), which while_loop's body cannot",
           "compute the new values functionally (x = x * 2, not x.mul_(2))");
  }
  std::vector<SVP> init;
  for (size_t i = 2; i < n->inputs().size(); ++i) {
    init.push_back(get(n->input(i)));
    if (init.back()->k != SV::K::kTensor) {
      refuse("it carries " + n->input(i)->type()->str() + " '" + n->input(i)->debugName() +
                 "' from one iteration to the next; while_loop carries tensors here",
             "keep the carried values tensors (a count as a 0-dim tensor)");
    }
  }

  // The first carried value: the counter (counted) or the condition as a 0-dim bool tensor.
  SVP bound;  // counted: scalar_tensor(trip), an additional input of the condition graph
  init.insert(init.begin(), loop_first(n, trip, cond0, bound));
  // Tensors made before the loop and updated in place by its body: carried after the loop's own.
  const size_t own = init.size();
  std::vector<std::string> outer_names;
  const std::vector<SVP> outer = carry_updated(n, trip, cond0, updated, init, outer_names);

  // Stand-ins the body reads: clones of the carried values (removed once the body is a subgraph).
  std::vector<ir::Node*> stand_in_nodes;
  std::vector<SVP> inner;
  for (const SVP& s : init) {
    ir::Value* v = tensor_value(s);
    ir::Node* clone = graph_.add_call("aten::clone.default", {{"self", v, false}}, {ir::ValueType::kTensor}, "clone");
    clone->outputs()[0]->mutable_meta() = v->meta();
    stand_in_nodes.push_back(clone);
    auto sv = std::make_shared<SV>(*s);
    sv->cell = std::make_shared<TensorCell>(*s->cell);
    sv->cell->value = clone->outputs()[0];
    sv->cell->view_base = nullptr;
    inner.push_back(sv);
  }

  // The body, traced once on the sample's carried values (the updated outer tensors read the
  // stand-ins through their own cells, which the body's in-place updates move on).
  for (size_t k = own; k < inner.size(); ++k) outer[k - own]->cell->value = inner[k]->cell->value;
  const ir::Node* last = graph_.nodes().back().get();
  set(body->inputs()[0], reads_iteration ? iteration_value(n, inner[0], trip) : from_concrete(c10::IValue(int64_t{0})));
  for (size_t i = 1; i < own; ++i) set(body->inputs()[i], inner[i]);
  run_block(body);
  std::vector<SVP> next;
  if (counted) {
    ir::Node* add = graph_.add_call("aten::add.Tensor", {{"self", tensor_value(inner[0]), false},
                                                          {"other", int64_t{1}, false}},
                                    {ir::ValueType::kTensor}, "add");
    next.push_back(node_tensor(add, inner[0]->cell->sample.add(1), n));
  } else {
    const SVP c = get(body->outputs()[0]);
    if (c->data_dep.empty() || !c->pred) {
      refuse("the condition the body computes is not a bool read from a tensor",
             "compute the loop's condition from the carried tensors");
    }
    next.push_back(bool_tensor(c->pred, n));
  }
  for (size_t i = 1; i < body->outputs().size(); ++i) next.push_back(get(body->outputs()[i]));
  for (const SVP& o : outer) {
    auto now = std::make_shared<SV>(*o);
    now->cell = std::make_shared<TensorCell>(*o->cell);
    next.push_back(now);
  }
  check_carried(n, trip, cond0, inner, next, own, outer_names);
  std::vector<ir::Value*> ops;
  std::shared_ptr<ir::Graph> body_graph = extract_body(n, last, next, ops);
  build_while_loop(n, init, inner, bound, body_graph, ops, stand_in_nodes);
  // The updated outer tensors are the loop's last outputs from here on (in the concrete run too).
  ir::Node* loop = graph_.nodes().back().get();
  for (size_t k = own; k < init.size(); ++k) {
    TensorCell& c = *outer[k - own]->cell;
    c.value = loop->outputs()[k];
    c.sample.copy_(loop_samples_[k]);
    ++c.version;
  }
}

/// The iteration number a counted loop's body reads: the counter's value, `counter.item()` in the
/// body (as torch writes it in a while_loop body), an unbacked symbol in [0, trip) (ranges and the
/// relation: the body's `select(t, 0, i)` of a `for v in t` needs i < t.size(0)).
SVP Tracer::iteration_value(jit::Node* n, const SVP& counter, const SymExpr& trip) {
  const int64_t v = counter->cell->sample.item<int64_t>();
  const SymExpr u = env_.create_unbacked(v, shapes::Range{0, std::nullopt}, why(n, ""),
                                         "the iteration number of a loop on tensor data (counter.item())");
  if (env_.hint_of(trip) > v) env_.check(shapes::sym_lt(u, trip), why(n, "the iteration number of a loop"));
  return item_value(counter, v, u, n);
}

/// The first value a data loop carries: a 0-dim int64 counter from 0 (a counted loop; `bound` is
/// scalar_tensor(trip)), or the loop's condition as a 0-dim bool tensor.
SVP Tracer::loop_first(jit::Node* n, const SymExpr& trip, const SVP& cond0, SVP& bound) {
  if (!env_.has_unbacked(trip)) return bool_tensor(cond0->pred, n);
  SVP counter = node_tensor(graph_.add_call("aten::zeros.default",
                                            {{"size", std::vector<ir::SymIntArg>{}, false},
                                             {"dtype", ir::DTypeArg{ir::DType::kInt64}, true},
                                             {"device", ir::DeviceArg{"cpu"}, true},
                                             {"pin_memory", false, true}},
                                            {ir::ValueType::kTensor}, "zeros"),
                            at::zeros({}, at::kLong), n);
  bound = node_tensor(graph_.add_call("aten::scalar_tensor.default",
                                      {{"s", sym_value(trip), false},
                                       {"dtype", ir::DTypeArg{ir::DType::kInt64}, true},
                                       {"layout", ir::NoneArg{}, true},
                                       {"device", ir::DeviceArg{"cpu"}, true},
                                       {"pin_memory", ir::NoneArg{}, true}},
                                      {ir::ValueType::kTensor}, "scalar_tensor"),
                      at::scalar_tensor(get(n->input(0))->iv.toInt(), at::kLong), n);
  return counter;
}

/// torch's rule: each carried tensor keeps its symbolic shape and dtype through the body (`inner` the
/// values the body read, `next` those it returns); exit 4 naming the variable otherwise.
void Tracer::check_carried(jit::Node* n, const SymExpr& trip, const SVP& cond0, const std::vector<SVP>& inner,
                           const std::vector<SVP>& next, size_t own, const std::vector<std::string>& outer_names) {
  for (size_t k = 1; k < next.size(); ++k) {
    const TensorCell& a = *inner[k]->cell;
    const TensorCell& b = *next[k]->cell;
    if (a.shape != b.shape || a.sample.scalar_type() != b.sample.scalar_type()) {
      const std::string name = k < own ? n->input(k + 1)->debugName() : outer_names[k - own];
      refuse_loop(n, trip, cond0,
                  "its body changes carried '" + name + "' from " + shapes::to_string(a.shape) + " " +
                      std::string(c10::toString(a.sample.scalar_type())) + " to " + shapes::to_string(b.shape) + " " +
                      std::string(c10::toString(b.sample.scalar_type())) +
                      ": while_loop requires each carried tensor to keep its shape and dtype",
                  "keep the carried tensors' shapes fixed (pad, or collect the results outside the loop)");
    }
  }
}

/// The tensors made before loop `n` that its body updates in place (`updated`), each once: their
/// values before the loop (a copy of the sample, which the body's run updates) are appended to `init`
/// and their names to `names`; the live values are returned (the body reads them, and they hold the
/// loop's outputs afterwards).
std::vector<SVP> Tracer::carry_updated(jit::Node* n, const SymExpr& trip, const SVP& cond0,
                                       const std::vector<jit::Value*>& updated, std::vector<SVP>& init,
                                       std::vector<std::string>& names) {
  std::vector<SVP> outer;
  for (jit::Value* u : updated) {
    const SVP s = get(u);
    if (s->k != SV::K::kTensor || !s->cell || s->cell->view_base) {
      refuse_loop(n, trip, cond0, "its body updates '" + u->debugName() + "' in place, a view of another tensor",
                  "update the tensor the view was taken from, or compute the new values functionally");
    }
    for (const auto& [fqn, cell] : state_) {
      if (cell == s->cell) {
        refuse_loop(n, trip, cond0, "its body updates the parameter or buffer '" + fqn + "' in place",
                    "update a copy made before the loop and assign it after");
      }
    }
    bool seen = false;
    for (const SVP& o : outer) seen = seen || o->cell == s->cell;
    if (seen) continue;
    auto before = std::make_shared<SV>(*s);
    before->cell = std::make_shared<TensorCell>(*s->cell);
    before->cell->sample = s->cell->sample.clone();
    before->iv = before->cell->sample;
    init.push_back(before);
    outer.push_back(s);
    names.push_back(u->debugName());
  }
  return outer;
}

/// The body's nodes (the calls made since `last`) as a subgraph returning `next`'s values (a value
/// returned as it came in is cloned: no aliasing in subgraphs); `ops` gets the outer values it reads.
std::shared_ptr<ir::Graph> Tracer::extract_body(jit::Node* n, const ir::Node* last, const std::vector<SVP>& next,
                                                std::vector<ir::Value*>& ops) {
  std::vector<ir::Node*> body_nodes;
  bool after = false;
  for (const auto& np : graph_.nodes()) {
    if (after && np->kind() == ir::NodeKind::kCall) body_nodes.push_back(np.get());
    after = after || np.get() == last;
  }
  const std::unordered_set<const ir::Node*> inside(body_nodes.begin(), body_nodes.end());
  std::vector<ir::Value*> outs;
  for (const SVP& r : next) {
    ir::Value* v = tensor_value(r);
    if (!inside.count(v->producer())) {
      ir::Node* clone = graph_.add_call("aten::clone.default", {{"self", v, false}}, {ir::ValueType::kTensor}, "clone");
      clone->outputs()[0]->mutable_meta() = v->meta();
      set_meta(clone, n);
      body_nodes.push_back(clone);
      v = clone->outputs()[0];
    }
    outs.push_back(v);
  }
  syms_.forget(body_nodes);
  return graph_.extract(body_nodes, outs, ops);
}

/// The condition graph, the while_loop node, its sample result and the loop's outputs.
void Tracer::build_while_loop(jit::Node* n, const std::vector<SVP>& init, const std::vector<SVP>& inner,
                              const SVP& bound, const std::shared_ptr<ir::Graph>& body_graph,
                              const std::vector<ir::Value*>& ops, const std::vector<ir::Node*>& stand_in_nodes) {
  // Placeholders: the carried stand-ins in order, then the additional inputs (other outer values).
  std::vector<ir::Value*> additional;
  for (ir::Value* v : ops) {
    bool carried = false;
    for (const SVP& s : inner) carried = carried || s->cell->value == v;
    if (!carried) additional.push_back(v);
  }
  if (bound && std::find(additional.begin(), additional.end(), tensor_value(bound)) == additional.end()) {
    additional.push_back(tensor_value(bound));
  }
  std::vector<ir::Value*> order;
  for (const SVP& s : inner) order.push_back(s->cell->value);
  order.insert(order.end(), additional.begin(), additional.end());
  const auto place = [&](ir::Graph& g, const std::vector<ir::Value*>& have) {
    const std::vector<ir::Value*> had = g.placeholders();  // have[i]'s placeholder, before any move
    for (size_t j = 0; j < order.size(); ++j) {
      auto it = std::find(have.begin(), have.end(), order[j]);
      ir::Value* p = nullptr;
      if (it == have.end()) {
        std::optional<ir::TensorMeta> meta;
        if (order[j]->has_meta()) meta = order[j]->meta();
        p = g.add_placeholder(order[j]->name(), order[j]->type(), meta);
        if (order[j]->has_sym()) p->set_sym(order[j]->sym());
      } else {
        p = had[static_cast<size_t>(it - have.begin())];
      }
      g.move_placeholder(p, j);
    }
  };
  place(*body_graph, ops);
  for (ir::Value* v : additional) {
    PTX_USER_CHECK(v->type() == ir::ValueType::kTensor, ExitCode::kExportFailed, "E_DATA_DEPENDENT_LOOP")
        << why(n, "").source << ": the body of a loop on tensor data reads the " << (v->has_sym() ? "size " : "value ")
        << v->name() << " from outside the loop; ptexport passes tensors only into a while_loop";
  }
  // The condition graph: the carried bool (cloned), or counter < bound.
  auto cond_graph = std::make_shared<ir::Graph>();
  place(*cond_graph, {});
  const auto& cph = cond_graph->placeholders();
  ir::Node* c = bound ? cond_graph->add_call("aten::lt.Tensor",
                                             {{"self", cph[0], false}, {"other", cph[inner.size() + static_cast<size_t>(
                                                  std::find(additional.begin(), additional.end(), tensor_value(bound)) -
                                                  additional.begin())], false}},
                                             {ir::ValueType::kTensor}, "lt")
                      : cond_graph->add_call("aten::clone.default", {{"self", cph[0], false}}, {ir::ValueType::kTensor},
                                             "clone");
  c->outputs()[0]->mutable_meta() = make_meta(at::zeros({}, at::kBool), {});
  set_meta(c, n);
  cond_graph->set_outputs({c->outputs()[0]});

  // The node, on the values the loop starts from; the stand-ins are gone.
  std::vector<ir::Value*> carried;
  for (const SVP& s : init) carried.push_back(tensor_value(s));
  const int index = while_count_++;
  std::vector<std::string> names(init.size(), "getitem");
  ir::Node* node = graph_.add_call("higher_order::while_loop",
                                   {{"", ir::GraphArg{"while_loop_cond_graph_" + std::to_string(index), cond_graph}, false},
                                    {"", ir::GraphArg{"while_loop_body_graph_" + std::to_string(index), body_graph}, false},
                                    {"", carried, false},
                                    {"", additional, false}},
                                   std::vector<ir::ValueType>(init.size(), ir::ValueType::kTensor), "while_loop", names);
  set_meta(node, n);
  const std::unordered_set<const ir::Node*> gone(stand_in_nodes.begin(), stand_in_nodes.end());
  graph_.remove_nodes_if([&](const ir::Node& x) { return gone.count(&x) > 0; });

  // The sample's result: the loop run on the sample (lib/interpreter.h).
  std::vector<c10::IValue> values;
  for (const SVP& s : init) values.push_back(s->cell->sample);
  for (ir::Value* v : additional) values.push_back(bound && v == tensor_value(bound) ? bound->cell->sample : sample_of(v));
  while (run_subgraph(*cond_graph, values).at(0).toTensor().item<bool>()) {
    std::vector<c10::IValue> step = run_subgraph(*body_graph, values);
    std::move(step.begin(), step.end(), values.begin());
  }
  loop_samples_.clear();
  for (size_t k = 0; k < init.size(); ++k) {
    ir::Value* v = node->outputs()[k];
    const at::Tensor sample = values[k].toTensor();
    loop_samples_.push_back(sample);
    v->mutable_meta() = make_meta(sample, inner[k]->cell->shape);
    // the counter or the condition, and the outer tensors updated in place: not outputs of the
    // TorchScript loop
    if (k == 0 || k > n->outputs().size()) continue;
    auto sv = std::make_shared<SV>();
    sv->k = SV::K::kTensor;
    sv->iv = sample;
    sv->cell = std::make_shared<TensorCell>();
    sv->cell->value = v;
    sv->cell->shape = inner[k]->cell->shape;
    sv->cell->sample = sample;
    set(n->output(k - 1), sv);
  }
}

/// The sample of the tensor that IR value `v` holds now (a live TorchScript value, a parameter,
/// buffer or input).
at::Tensor Tracer::sample_of(const ir::Value* v) {
  for (const auto& [jv, s] : vals_) {
    if (s->k == SV::K::kTensor && s->cell && (s->cell->value == v || s->cell->original == v)) return s->cell->sample;
    if (s->elems) {
      for (const SVP& e : *s->elems) {
        if (e->k == SV::K::kTensor && e->cell && e->cell->value == v) return e->cell->sample;
      }
    }
  }
  for (const auto& [fqn, cell] : state_) {
    if (cell->value == v || cell->original == v) return cell->sample;
  }
  PTX_INTERNAL_CHECK(false) << "no sample for " << v->name() << ", read by a while_loop body";
  return {};
}

/// A 0-dim bool tensor of the one-element tensor an if or a loop reads (aten::Bool): as it is when
/// it is a bool, else compared with 0 as Bool() does.
SVP Tracer::bool_tensor(const SVP& pred, jit::Node* n) {
  if (pred->cell->sample.scalar_type() == at::kBool && pred->cell->sample.dim() == 0) return pred;
  ir::Node* ne = graph_.add_call("aten::ne.Scalar", {{"self", tensor_value(pred), false}, {"other", int64_t{0}, false}},
                                 {ir::ValueType::kTensor}, "ne");
  at::Tensor sample = pred->cell->sample.ne(0).reshape({});
  ir::Value* v = ne->outputs()[0];
  if (pred->cell->sample.dim() != 0) {  // a one-element tensor of rank > 0: viewed as 0-dim
    v->mutable_meta() = make_meta(pred->cell->sample.ne(0), pred->cell->shape);
    set_meta(ne, n);
    ir::Node* view = graph_.add_call("aten::view.default", {{"self", v, false}, {"size", std::vector<ir::SymIntArg>{}, false}},
                                     {ir::ValueType::kTensor}, "view");
    v = view->outputs()[0];
    ne = view;
  }
  v->mutable_meta() = make_meta(sample, {});
  set_meta(ne, n);
  auto sv = std::make_shared<SV>();
  sv->k = SV::K::kTensor;
  sv->iv = sample;
  sv->cell = std::make_shared<TensorCell>();
  sv->cell->value = v;
  sv->cell->sample = sample;
  return sv;
}

}  // namespace ptx::frontend
