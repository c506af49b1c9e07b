// lib/frontend/data_dependent.cpp: values read from data and control flow on data (issue 15):
// item() of an integer tensor as an unbacked symbol, TorchScript asserts / torch._check as checks,
// and an `if` on tensor data as torch.ops.higher_order.cond with both branches as subgraphs.
// See Note [Unbacked symbols] in shapes/unbacked.cpp.
#include <algorithm>
#include <map>
#include <unordered_set>

#include "lib/frontend/tracer.h"
#include "lib/torch_convert.h"
#include "shapes/error.h"
#include "shapes/interval.h"
#include "shapes/sym_sides.h"

namespace ptx::frontend {

// ---- item() ---------------------------------------------------------------------------------------

/// `int(n.item())`, `int(n)`, `n.item()` of a one-element integer tensor: a fresh unbacked symbol
/// u<N> (torch's item: "Sym(u0)" = torch.ops.aten.item.default(n)), its value on the sample as hint.
/// A floating-point tensor's item is an unbacked float (torch's "Sym(zuf0)"): a SymFloat value that
/// ATen calls may take as an argument; anything that decides on it (a comparison, arithmetic in
/// TorchScript) is still a decision on data (data_dep stays set).
/// False for any other tensor.
bool Tracer::read_item(jit::Node* n, const SVP& t, const c10::IValue& out) {
  const at::Tensor& s = t->cell->sample;
  if (s.numel() == 1 && at::isFloatingType(s.scalar_type()) && (out.isDouble() || out.isScalar())) {
    ir::Node* node = graph_.add_call("aten::item.default", {{"self", tensor_value(t), false}},
                                     {ir::ValueType::kSymFloat}, "item");
    node->outputs()[0]->set_float_symbol("zuf" + std::to_string(float_symbols_++));
    set_meta(node, n);
    auto sv = from_concrete(out.isDouble() ? out : c10::IValue(out.toScalar().toDouble()));
    sv->k = SV::K::kFloat;
    sv->fvalue = node->outputs()[0];
    sv->data_dep = "the value of a float tensor, read by " + std::string(n->kind().toQualString()) + " at " +
                   why(n, "").source;
    set(n->output(), sv);
    return true;
  }
  if (s.numel() != 1 || !at::isIntegralType(s.scalar_type(), /*includeBool=*/false)) return false;
  if (!(out.isInt() || (out.isScalar() && out.toScalar().isIntegral(false)))) return false;
  const int64_t v = out.isInt() ? out.toInt() : out.toScalar().toLong();
  const std::string kind = n->kind().toQualString();
  const SymExpr u = env_.create_unbacked(v, shapes::Range{shapes::Range::kNoMin, std::nullopt}, why(n, ""),
                                         "the value of a tensor read by " + kind);
  set(n->output(), item_value(t, v, u, n));
  return true;
}

/// aten.item(t) in the graph: the int `u` (an unbacked symbol) whose sample value is `v`.
SVP Tracer::item_value(const SVP& t, int64_t v, const SymExpr& u, jit::Node* n) {
  ir::Node* node = graph_.add_call("aten::item.default", {{"self", tensor_value(t), false}}, {ir::ValueType::kSymInt},
                                   "item");
  node->outputs()[0]->set_sym(u);
  set_meta(node, n);
  syms_.add_existing(node->outputs()[0]);
  auto sv = from_concrete(c10::IValue(v));
  sv->k = SV::K::kInt;
  sv->sym = u;
  return sv;
}

// ---- checks ---------------------------------------------------------------------------------------

namespace {
/// The prim::RaiseException of a block that does nothing else (constants and the message's
/// formatting aside), or nullptr.
jit::Node* raise_only(jit::Block* b) {
  jit::Node* raise = nullptr;
  for (jit::Node* n : b->nodes()) {
    const c10::Symbol k = n->kind();
    if (k == c10::prim::Constant || k == c10::aten::format || k == c10::aten::str) continue;
    if (k != c10::prim::RaiseException || raise) return nullptr;
    raise = n;
  }
  return raise;
}

bool empty_block(jit::Block* b) {
  for (jit::Node* n : b->nodes()) {
    if (n->kind() != c10::prim::Constant) return false;
  }
  return b->outputs().empty();
}
}  // namespace

/// `assert c, "msg"` and `torch._check(c)` script to `prim::If(c)` whose other branch only raises.
/// When c is a condition on sizes or values read from data and holds on the sample, it is a check
/// (ShapeEnv::check): a fact for the solver and a runtime assertion in the artifact. True if `n`
/// was such a check.
bool Tracer::run_check(jit::Node* n, const SVP& c) {
  if (!n->outputs().empty() || !c->cond || !c->data_dep.empty()) return false;
  int raising = -1;
  jit::Node* raise = nullptr;
  for (int i = 0; i < 2; ++i) {
    jit::Node* r = raise_only(n->blocks()[i]);
    if (r && empty_block(n->blocks()[1 - i])) {
      raising = i;
      raise = r;
    }
  }
  if (raising < 0) return false;
  const bool value = c->iv.toBool();
  if (value == (raising == 0)) return false;  // raises on the sample: the model's own error
  // The message: a constant, or an f-string whose aten::format did not run (the branch was not
  // taken), of which the template is kept (`Expected more than 1 spatial element ..., got {}`).
  std::string message;
  if (!raise->inputs().empty()) {
    jit::Value* m = raise->input(0);
    if (m->node()->kind() == c10::aten::format && m->node()->owningBlock() == raise->owningBlock()) {
      m = m->node()->input(0);
    }
    const std::optional<c10::IValue> iv = jit::toIValue(m);
    if (iv && iv->isString()) message = iv->toStringRef();
  }
  const SymBool must = raising == 1 ? *c->cond : c->cond->negated();
  env_.check(must, why(n, "a check (assert or torch._check)"), message);
  return true;
}

// ---- cond -------------------------------------------------------------------------------------------

namespace {
/// Whether node `n` is in block `b` or in a block inside it.
bool within(const jit::Block* b, const jit::Node* n) {
  for (const jit::Block* o = n->owningBlock(); o != nullptr;
       o = o->owningNode() != nullptr ? o->owningNode()->owningBlock() : nullptr) {
    if (o == b) return true;
  }
  return false;
}

/// The value `v` is an alias of, through ops whose first output aliases their first argument (views,
/// in-place ops returning self); `v` itself when its op makes a new value or aliases otherwise.
jit::Value* alias_root(jit::Value* v) {
  for (;;) {
    jit::Node* d = v->node();
    const c10::FunctionSchema* s = d->maybeSchema();
    if (s == nullptr || s->returns().empty() || s->arguments().empty() || d->inputs().empty() || v != d->output(0)) {
      return v;
    }
    const c10::AliasInfo* r = s->returns()[0].alias_info();
    const c10::AliasInfo* a = s->arguments()[0].alias_info();
    if (r == nullptr || a == nullptr || r->isWildcardAfter() || r->beforeSets() != a->beforeSets()) return v;
    v = d->input(0);
  }
}

/// Whether `root` is a new tensor or list made by a node of `b`: an update of it is local to `b`
/// (functionalized inside the subgraph), as torch functionalizes a branch's own tensors.
bool made_in(const jit::Block* b, jit::Value* root) {
  jit::Node* d = root->node();
  if (d->kind() == c10::prim::Param || !within(b, d)) return false;
  if (d->kind() == c10::prim::ListConstruct || d->kind() == c10::prim::DictConstruct) return true;
  const c10::FunctionSchema* s = d->maybeSchema();
  if (s == nullptr) return false;
  for (const c10::Argument& r : s->returns()) {
    if (r.alias_info() != nullptr) return false;
  }
  return true;
}

bool mutates_outside(const jit::Block* top, jit::Block* b, std::string& what, std::vector<jit::Value*>* outer) {
  for (jit::Node* n : b->nodes()) {
    if (n->kind() == c10::prim::SetAttr) {
      what = n->kind().toQualString();
      return true;
    }
    if (n->maybeSchema() != nullptr && n->schema().is_mutable()) {
      const auto& args = n->schema().arguments();
      for (size_t i = 0; i < args.size() && i < n->inputs().size(); ++i) {
        if (args[i].alias_info() == nullptr || !args[i].alias_info()->isWrite()) continue;
        jit::Value* root = alias_root(n->input(i));
        if (made_in(top, root)) continue;
        const bool tensor = root->type()->kind() == c10::TypeKind::TensorType;
        if (outer != nullptr && tensor && root->node()->kind() != c10::prim::GetAttr && !within(top, root->node())) {
          if (std::find(outer->begin(), outer->end(), root) == outer->end()) outer->push_back(root);
          continue;
        }
        what = n->kind().toQualString();
        return true;
      }
    }
    for (jit::Block* inner : n->blocks()) {
      if (mutates_outside(top, inner, what, outer)) return true;
    }
  }
  return false;
}
}  // namespace

/// Nodes that change state: a block that runs one cannot become a subgraph of torch.cond or while_loop.
/// An in-place update of a tensor (or list) that the block makes itself is local: not a change of state.
/// With `outer`, in-place updates of tensors made before the block are allowed and listed there
/// (a while_loop carries them).
bool block_mutates(jit::Block* b, std::string& what, std::vector<jit::Value*>* outer) {
  return mutates_outside(b, b, what, outer);
}

/// The output shapes of cond: equal dims as they are, a dim the branches disagree on becomes an
/// unbacked symbol whose range holds both (torch 2.14: x[:2] / x[:3] gives u0 in [2, 3]); a dtype or
/// rank that differs is torch.cond's error.
std::vector<SymShape> Tracer::merge_branch_shapes(jit::Node* n, const std::vector<SVP> (&results)[2], bool taken) {
  const shapes::Provenance where = why(n, "an if on tensor data (torch.cond)");
  const std::string at = where.source.empty() ? std::string("model") : where.source;
  std::vector<SymShape> shapes_out;
  for (size_t k = 0; k < results[0].size(); ++k) {
    const TensorCell& a = *results[0][k]->cell;
    const TensorCell& b = *results[1][k]->cell;
    PTX_USER_CHECK(a.sample.scalar_type() == b.sample.scalar_type(), ExitCode::kExportFailed, "E_COND_BRANCHES")
        << at << ": When merging two branches' output in torch.cond, expected same dtype but got "
        << "torch." << ir::dtype_name(to_dtype(a.sample.scalar_type())) << " and torch."
        << ir::dtype_name(to_dtype(b.sample.scalar_type()))
        << " (output " << k << " of the if)" << (where.code.empty() ? "" : "\n    " + where.code);
    PTX_USER_CHECK(a.shape.size() == b.shape.size(), ExitCode::kExportFailed, "E_COND_BRANCHES")
        << at << ": When merging two branches' output in torch.cond, expected same rank but got "
        << a.shape.size() << " and " << b.shape.size() << " (output " << k << " of the if)"
        << (where.code.empty() ? "" : "\n    " + where.code);
    SymShape merged;
    const TensorCell& t = taken ? a : b;
    for (size_t d = 0; d < a.shape.size(); ++d) {
      if (a.shape[d] == b.shape[d]) {
        merged.push_back(a.shape[d]);
        continue;
      }
      auto bounds = [&](SymExpr e) {
        return shapes::bounds_of(e, [&](SymExpr s) {
          const shapes::Range r = env_.range_of(s);
          return shapes::Interval{r.min == shapes::Range::kNoMin ? std::nullopt : std::optional<int64_t>(r.min), r.max};
        });
      };
      const shapes::Interval ia = bounds(a.shape[d]), ib = bounds(b.shape[d]);
      shapes::Range r{std::min(ia.lo.value_or(0), ib.lo.value_or(0)), std::nullopt};
      if (ia.hi && ib.hi) r.max = std::max(*ia.hi, *ib.hi);
      merged.push_back(env_.create_unbacked(t.sample.size(static_cast<int64_t>(d)), r, where,
                                            "a size of output " + std::to_string(k) + " of torch.cond (the branches differ)"));
    }
    shapes_out.push_back(merged);
  }
  return shapes_out;
}

/// An `if` on tensor data whose branches compute tensors: torch.ops.higher_order.cond(pred,
/// true_graph_N, false_graph_N, operands). Both branches are traced on the sample (each op runs, as
/// everywhere in the frontend); their nodes are moved into subgraphs whose placeholders are the
/// values they read (ir::Graph::extract), in one operand list for both. Outputs of equal symbolic
/// shapes keep them; a dim that differs becomes an unbacked symbol with both sizes in its range, as
/// torch 2.14 does; a dtype that differs is torch.cond's error.
void Tracer::run_cond(jit::Node* n, const SVP& c) {
  const shapes::Provenance where = why(n, "an if on tensor data (torch.cond)");
  const std::string at = where.source.empty() ? std::string("model") : where.source;
  const std::string on = c->data_dep.empty() && c->cond ? c->cond->str() : c->data_dep;
  std::string what;
  for (int i = 0; i < 2; ++i) {
    PTX_USER_CHECK(!block_mutates(n->blocks()[i], what), ExitCode::kExportFailed, "E_DATA_DEPENDENT")
        << at << ": an if on tensor data (" << on << ") becomes torch.cond, whose branches cannot change "
        << "state, and this one does (" << what << ")" << (where.code.empty() ? "" : "\n    " + where.code)
        << "\n  compute both branches and select with torch.where, or move the update out of the if";
  }
  for (jit::Value* o : n->outputs()) {
    PTX_USER_CHECK(o->type()->kind() == c10::TypeKind::TensorType, ExitCode::kExportFailed, "E_DATA_DEPENDENT")
        << at << ": an if on tensor data (" << on << ") becomes torch.cond, whose branches return "
        << "tensors only; this one returns " << o->type()->str() << (where.code.empty() ? "" : "\n    " + where.code)
        << "\n  compute both branches and select with torch.where";
  }
  const bool taken = c->iv.toBool();
  std::vector<ir::Node*> nodes[2];
  std::vector<SVP> results[2];
  for (int i = 0; i < 2; ++i) {
    const ir::Node* last = graph_.nodes().back().get();
    try {
      run_block(n->blocks()[i]);
    } catch (const UserError& e) {
      // Both branches run on the sample's values (torch traces them on fake tensors): the branch the
      // sample does not take may fail on them (max() of the empty selection that took the other).
      if ((i == 0) == taken || e.diag_code() != "E_MODEL_RAISED") throw;
      PTX_USER_FAIL(ExitCode::kExportFailed, "E_COND_SAMPLE")
          << at << ": the sample takes the " << (taken ? "true" : "false") << " branch of this if on data (" << on
          << "); ptexport traces the " << (taken ? "false" : "true") << " branch on the sample's values too, and "
          << "it fails on them" << (where.code.empty() ? "" : "\n    " + where.code) << "\n  " << e.what()
          << "\n  give a sample that takes the " << (taken ? "false" : "true") << " branch (inputs.json's data)";
    }
    for (jit::Value* v : n->blocks()[i]->outputs()) results[i].push_back(get(v));
    bool after = false;
    for (const auto& np : graph_.nodes()) {
      if (after && np->kind() == ir::NodeKind::kCall) nodes[i].push_back(np.get());
      after = after || np.get() == last;
    }
    // A size the branch materialized (sym_size of nonzero's count) is the branch's own: the other
    // branch computes it again rather than read a value of this one's subgraph.
    syms_.forget(nodes[i]);
  }
  // Outputs: a value the branch did not compute (an input returned as is) is cloned inside it, as
  // torch.cond does not allow a branch to return an alias of its input.
  std::vector<ir::Value*> outs[2];
  for (int i = 0; i < 2; ++i) {
    const std::unordered_set<const ir::Node*> inside(nodes[i].begin(), nodes[i].end());
    for (const SVP& r : results[i]) {
      ir::Value* v = tensor_value(r);
      if (!inside.count(v->producer())) {
        ir::Node* clone = graph_.add_call("aten::clone.default", {{"self", v, false}}, {ir::ValueType::kTensor}, "clone");
        clone->outputs()[0]->mutable_meta() = v->meta();
        set_meta(clone, n);
        nodes[i].push_back(clone);
        v = clone->outputs()[0];
      }
      outs[i].push_back(v);
    }
  }
  const std::vector<SymShape> shapes_out = merge_branch_shapes(n, results, taken);
  // Subgraphs, one operand list for both.
  std::vector<ir::Value*> ops[2];
  std::shared_ptr<ir::Graph> sub[2];
  for (int i = 0; i < 2; ++i) {
    syms_.forget(nodes[i]);
    sub[i] = graph_.extract(nodes[i], outs[i], ops[i]);
  }
  std::vector<ir::Value*> operands = ops[0];
  for (ir::Value* v : ops[1]) {
    if (std::find(operands.begin(), operands.end(), v) == operands.end()) operands.push_back(v);
  }
  for (int i = 0; i < 2; ++i) {
    // ops[i][k]'s placeholder, taken before any move (moving one shifts the others' positions).
    const std::vector<ir::Value*> had = sub[i]->placeholders();
    for (size_t j = 0; j < operands.size(); ++j) {
      auto it = std::find(ops[i].begin(), ops[i].end(), operands[j]);
      ir::Value* p = nullptr;
      if (it == ops[i].end()) {
        std::optional<ir::TensorMeta> meta;
        if (operands[j]->has_meta()) meta = operands[j]->meta();
        p = sub[i]->add_placeholder(operands[j]->name(), operands[j]->type(), meta);
        if (operands[j]->has_sym()) p->set_sym(operands[j]->sym());
      } else {
        p = had[static_cast<size_t>(it - ops[i].begin())];
      }
      sub[i]->move_placeholder(p, j);
    }
  }
  // The predicate: the 0-dim tensor the if reads (a non-bool one compared with 0, as Bool() does),
  // or the SymBool of sizes read from data.
  ir::Value* pred = c->pred ? tensor_value(c->pred) : sym_bool_value(*c->cond, n);
  if (c->pred && c->pred->cell->sample.scalar_type() != at::kBool) {
    ir::Node* ne = graph_.add_call("aten::ne.Scalar", {{"self", pred, false}, {"other", int64_t{0}, false}},
                                   {ir::ValueType::kTensor}, "ne");
    ne->outputs()[0]->mutable_meta() = make_meta(c->pred->cell->sample.ne(0), c->pred->cell->shape);
    set_meta(ne, n);
    pred = ne->outputs()[0];
  }
  const int index = cond_count_++;
  std::vector<std::string> names;
  for (size_t k = 0; k < n->outputs().size(); ++k) names.push_back("getitem");
  ir::Node* node = graph_.add_call(
      "higher_order::cond",
      {{"", pred, false},
       {"", ir::GraphArg{"true_graph_" + std::to_string(index), sub[0]}, false},
       {"", ir::GraphArg{"false_graph_" + std::to_string(index), sub[1]}, false},
       {"", operands, false}},
      std::vector<ir::ValueType>(n->outputs().size(), ir::ValueType::kTensor), "cond", names);
  set_meta(node, n);
  for (size_t k = 0; k < n->outputs().size(); ++k) {
    const SVP& r = results[taken ? 0 : 1][k];
    ir::Value* v = node->outputs()[k];
    v->mutable_meta() = make_meta(r->cell->sample, shapes_out[k]);
    auto sv = std::make_shared<SV>();
    sv->k = SV::K::kTensor;
    sv->iv = r->iv;
    sv->cell = std::make_shared<TensorCell>();
    sv->cell->value = v;
    sv->cell->shape = shapes_out[k];
    sv->cell->sample = r->cell->sample;
    bool reads_data = false;
    for (const SymExpr& d : shapes_out[k]) reads_data = reads_data || env_.has_unbacked(d);
    if (reads_data) syms_.add_sources_from(v);
    set(n->output(k), sv);
  }
}

/// `b` computed in the graph: a comparison of SymInts (_operator.eq, ...), torch's form of a SymBool.
/// The comparison as the model wrote it when the if reads one of two ints (`k > 3`, as torch records
/// it), else the SymBool's own sides.
ir::Value* Tracer::sym_bool_value(const SymBool& b, jit::Node* n) {
  static const std::map<std::string, shapes::Rel> kRels = {
      {"aten::eq", shapes::Rel::Eq}, {"aten::ne", shapes::Rel::Ne}, {"aten::lt", shapes::Rel::Lt},
      {"aten::le", shapes::Rel::Le}, {"aten::gt", shapes::Rel::Gt}, {"aten::ge", shapes::Rel::Ge}};
  auto [l, r] = shapes::printed_sides(b);
  shapes::Rel rel = b.rel();
  const jit::Node* c = n->input(0)->node();
  if (auto it = kRels.find(c->kind().toQualString()); it != kRels.end() && c->inputs().size() == 2) {
    const SVP a = get(c->input(0)), d = get(c->input(1));
    if (a->k == SV::K::kInt && d->k == SV::K::kInt && a->data_dep.empty() && d->data_dep.empty() && !a->sym.is_const()) {
      l = a->sym;
      r = d->sym;
      rel = it->second;
    }
  }
  ir::Value* lv = sym_value(l);
  const ir::ArgValue rv = r.is_const() ? ir::ArgValue(r.value()) : ir::ArgValue(sym_value(r));
  static const std::map<shapes::Rel, std::string> kOps = {
      {shapes::Rel::Eq, "eq"}, {shapes::Rel::Ne, "ne"}, {shapes::Rel::Lt, "lt"},
      {shapes::Rel::Le, "le"}, {shapes::Rel::Gt, "gt"}, {shapes::Rel::Ge, "ge"}};
  const std::string& op = kOps.at(rel);
  ir::Node* node = graph_.add_call("_operator." + op, {{"a", lv, false}, {"b", rv, false}}, {ir::ValueType::kSymBool}, op);
  node->outputs()[0]->set_sym_bool(SymBool(rel, l, r));
  set_meta(node, n);
  return node->outputs()[0];
}

}  // namespace ptx::frontend
