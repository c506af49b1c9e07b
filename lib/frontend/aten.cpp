// lib/frontend/aten.cpp: ATen calls. Each call runs on the sample, takes its symbolic sizes from
// its shape rule (checked against the sizes ATen computed), and becomes an IR call node of the
// functional op; an in-place call moves its tensor's cell to the result (Note [Aliasing]). Ops
// without a usable rule are recorded and reported together at the end. See lib/frontend/tracer.h.
#include <ATen/core/dispatch/Dispatcher.h>

#include <sstream>

#include "lib/custom_ops.h"
#include "lib/frontend/tracer.h"
#include "lib/torch_convert.h"
#include "shapes/error.h"

namespace ptx::frontend {

void Tracer::run_aten(jit::Node* n, const c10::FunctionSchema& schema) {
  AtenCall call;
  call.n = n;
  call.schema = &schema;
  for (jit::Value* v : n->inputs()) call.in.push_back(get(v));
  for (const SVP& s : call.in) {
    if (s->k == SV::K::kTensor && s->cell) refresh_view(*s->cell, n);  // a view read after its base changed
  }
  for (const SVP& s : call.in) {
    // An unbacked float (item() of a float tensor) is passed as its SymFloat value, as torch does.
    if (!s->data_dep.empty() && s->k != SV::K::kTensor && s->fvalue == nullptr) data_dependent(n, s, "an argument");
  }
  call.name = schema.name();
  call.overload = schema.overload_name().empty() ? "default" : schema.overload_name();
  const std::string& name = call.name;
  call.inplace = schema.is_mutable() && !name.empty() && name.back() == '_' && !schema.arguments().empty() &&
                 schema.arguments()[0].alias_info() && schema.arguments()[0].alias_info()->isWrite();
  call.functional = call.inplace ? name.substr(0, name.size() - 1) : name;

  // Concrete run first: it also validates the sample.
  std::string no_meta_kernel;
  call.outs = run_concrete(n, call.in, &no_meta_kernel);
  setitem_as_fill(call);  // after the run: it may drop copy_'s non_blocking
  if (!no_meta_kernel.empty()) {
    meta_fallback(call, no_meta_kernel);  // sizes from the rule (Note [Meta trace])
  } else {
    if (!call.inplace && run_scalar_tensor_op(n, call.functional, call.in, call.outs)) return;
    if (run_constant_tensor(call)) return;
    rule_shapes(call);
    // On meta, no value has been read: a size from data is this op's own (nonzero, unique, ...),
    // whose meta kernel does not know it.
    if (meta_) {
      for (const SymShape& s : call.shapes) {
        for (const SymExpr& d : s) {
          if (env_.has_unbacked(d)) needs_data(n, "the size of its output depends on data");
        }
      }
    }
    check_rule_shapes(call);
  }
  ir::Node* node = emit_call(call);
  // A size read from data (nonzero's count): later sym_size nodes read it off this output.
  for (size_t i = 0; i < call.shapes.size() && i < node->outputs().size(); ++i) {
    for (const SymExpr& d : call.shapes[i]) {
      if (env_.has_unbacked(d)) syms_.add_sources_from(node->outputs()[i]);
    }
  }
  bind_aten_outputs(call, node);
}

/// A tensor made from constant data is a constant: lifted as torch.export lifts it
/// (c_lifted_tensor_N), unless its data depends on sizes. True when `call` is such a tensor.
bool Tracer::run_constant_tensor(const AtenCall& call) {
  if (call.functional != "aten::tensor" && call.functional != "aten::as_tensor") return false;
  bool constant = true;
  for (const SVP& s : call.in) {
    if (s->k == SV::K::kTensor) constant = false;
    if (s->k == SV::K::kInt && !s->sym.is_const()) constant = false;
    if (s->elems) {
      for (const SVP& e : *s->elems) constant = constant && (e->k != SV::K::kInt || e->sym.is_const()) && e->k != SV::K::kTensor;
    }
  }
  if (!constant) {
    // torch.tensor(s, dtype=...) of a symbolic int (torchvision's postprocess: the image's size as a
    // float tensor): aten.scalar_tensor(s, dtype, device), as torch.export records it.
    const bool sym_int = !call.in.empty() && call.in[0]->k == SV::K::kInt && !call.in[0]->sym.is_const();
    if (call.functional != "aten::tensor" || !sym_int || !call.outs[0].isTensor() || call.outs[0].toTensor().dim() != 0) {
      return false;
    }
    const at::Tensor sample = call.outs[0].toTensor();
    ir::Node* node = graph_.add_call("aten::scalar_tensor.default",
                                     {{"s", sym_value(call.in[0]->sym), false},
                                      {"dtype", ir::DTypeArg{to_dtype(sample.scalar_type())}, true},
                                      {"device", ir::DeviceArg{"cpu"}, true},
                                      {"pin_memory", false, true}},
                                     {ir::ValueType::kTensor}, "scalar_tensor");
    set(call.n->output(), node_tensor(node, sample, call.n));
    return true;
  }
  SVP sv = from_concrete(call.outs[0]);
  if (sv->cell) sv->cell->fresh = true;
  set(call.n->output(), sv);
  return true;
}

/// A new tensor reading the constant `constant` through lift_fresh_copy (see TensorCell::fresh).
SVP Tracer::fresh_copy(const SVP& constant) {
  auto cell = std::make_shared<TensorCell>();
  cell->sample = constant->cell->sample;
  cell->shape = constant->cell->shape;
  cell->fresh = true;
  auto sv = std::make_shared<SV>();
  sv->k = SV::K::kTensor;
  sv->iv = constant->iv;
  sv->cell = std::move(cell);
  return sv;
}

/// `x[i] = 3` as torch.export writes it. Python's __setitem__ fills a view with a 0-dim value
/// (fill_(view, lift_fresh_copy(c_lifted_tensor_N)), from copy_to in torch's indexing code); TorchScript
/// writes copy_(view, aten::tensor(3, dtype, device)) and torch.jit.trace records fill_(view, C) with
/// C a 0-dim constant tensor. Both become fill_.Tensor of a fresh copy of the lifted number: the same
/// values (a 0-dim source broadcasts either way, converted to the view's dtype).
void Tracer::setitem_as_fill(AtenCall& call) {
  if (!call.inplace || call.in.size() < 2) return;
  const SVP& dst = call.in[0];
  const SVP& src = call.in[1];
  if (dst->k != SV::K::kTensor || src->k != SV::K::kTensor || !src->cell || src->cell->sample.dim() != 0) return;
  const TensorCell& c = *src->cell;
  const bool lifted_constant = c.value == nullptr && !c.view_base && !c.scalar;  // not yet read
  if (call.name == "aten::copy_" && c.fresh && lifted_constant && dst->cell->sample.dim() > 0) {
    static const c10::OperatorHandle fill = c10::Dispatcher::singleton().findSchemaOrThrow("aten::fill_", "Tensor");
    call.schema = &fill.schema();
    call.name = "aten::fill_";
    call.functional = "aten::fill";
    call.overload = "Tensor";
    call.in.resize(2);  // src is fresh already: read through lift_fresh_copy when lifted
  } else if (call.name == "aten::fill_" && call.overload == "Tensor" && lifted_constant && !c.fresh) {
    call.in[1] = fresh_copy(src);  // one per fill, as each `x[i] = 3` makes its own tensor
  }
}

/// Fills call.concrete, call.returns_list and call.shapes: the symbolic sizes from the op's shape
/// rule, or the sample's static sizes when the rule is missing or fails (recorded in missing_).
void Tracer::rule_shapes(AtenCall& call) {
  std::vector<shapes::RuleArg> rargs;
  for (const SVP& s : call.in) rargs.push_back(to_rule_arg(s, call.n));
  call.prov = why(call.n, "");
  // Concrete output tensors in schema order (Tensor[] returns flattened); their sizes are what a
  // rule of data-dependent sizes (nonzero) reads its new symbols' sample values from.
  for (const c10::IValue& o : call.outs) {
    if (o.isTensor()) {
      call.concrete.push_back(o.toTensor());
    } else if (o.isTensorList()) {
      call.returns_list = true;
      for (const at::Tensor& t : o.toTensorVector()) call.concrete.push_back(t);
    }
  }
  std::vector<std::vector<int64_t>> sample_sizes;
  for (const at::Tensor& t : call.concrete) sample_sizes.push_back(t.defined() ? t.sizes().vec() : std::vector<int64_t>{});
  shapes::RuleContext ctx{env_, call.prov, call.functional, call.overload, call.inplace, sample_sizes};
  std::string rule_error;
  if (is_custom_op(call.functional)) {
    // A custom op: an --op-rules entry or its Meta kernel (lib/custom_ops.h).
    std::vector<c10::IValue> inputs;
    for (const SVP& s : call.in) inputs.push_back(s->iv);
    shapes::RuleResult r = custom_op_shapes(ctx, rargs, *call.schema, inputs, call.concrete, active_op_rules());
    if (r.error.empty()) {
      call.shapes = std::move(r.shapes);
    } else {
      rule_error = r.error;
    }
  } else if (const shapes::ShapeRule* rule = shapes::find_shape_rule(call.functional)) {
    shapes::RuleResult r = rule->fn(ctx, rargs);
    if (r.error.empty()) {
      call.shapes = std::move(r.shapes);
    } else {
      rule_error = r.error;
    }
  } else {
    rule_error = "no shape rule";
  }
  if (!rule_error.empty()) {
    // Record and go on with static sizes, so every missing rule is reported at once.
    record_rule_miss(call, rule_error);
    call.shapes.clear();
    for (const at::Tensor& t : call.concrete) call.shapes.emplace_back(t.sizes().begin(), t.sizes().end());
  }
}

void Tracer::record_rule_miss(const AtenCall& call, const std::string& error) {
  const std::string key = call.functional + "." + call.overload;
  RuleMiss& miss = missing_[key];
  if (miss.count++ == 0) {
    const shapes::Provenance& prov = call.prov;
    miss.first_source = prov.source.empty() ? "" : prov.source + (prov.code.empty() ? "" : ": " + prov.code);
    miss.first_source += called_from(call.n, "      ");
    miss.detail = error;
    missing_seen_.push_back(key);
  }
}

/// The rule's sizes evaluated on the hints must be the sizes ATen computed (Note [Two runs in one]).
void Tracer::check_rule_shapes(const AtenCall& call) {
  PTX_INTERNAL_CHECK(call.shapes.size() == call.concrete.size())
      << call.functional << ": shape rule gave " << call.shapes.size() << " outputs, ATen " << call.concrete.size();
  for (size_t i = 0; i < call.concrete.size(); ++i) {
    if (!call.concrete[i].defined()) continue;  // ATen returned None for it (RuleResult::undefined)
    const auto want = call.concrete[i].sizes().vec();
    const auto got = evaluate_shape(call.shapes[i], env_.hints());
    PTX_INTERNAL_CHECK(want == got) << call.functional << "." << call.overload << ": shape rule gives "
                                    << shapes::to_string(call.shapes[i]) << " = " << c10::IntArrayRef(got)
                                    << " on the sample, ATen computed " << c10::IntArrayRef(want) << " (at "
                                    << call.prov.source << ")";
  }
}

/// The IR node: the functional op with schema-named arguments, its outputs' metadata set.
ir::Node* Tracer::emit_call(const AtenCall& call) {
  std::string target = call.functional + "." + call.overload;
  const c10::FunctionSchema* arg_schema = call.schema;
  std::optional<c10::OperatorHandle> fn_op;
  if (call.inplace) {
    // The functional overload has the same arguments (add_.Tensor -> add.Tensor), possibly under
    // other names (dropout_(self) -> dropout(input)): use the functional schema's names.
    fn_op = c10::Dispatcher::singleton().findSchema({call.functional, call.schema->overload_name()});
    PTX_USER_CHECK(fn_op.has_value(), ExitCode::kExportFailed, "E_NO_FUNCTIONAL")
        << call.prov.source << ": in-place " << call.name << " has no functional form " << call.functional << "."
        << call.overload;
    arg_schema = &fn_op->schema();
  }
  const auto& args = arg_schema->arguments();
  std::vector<ir::NamedArg> iargs;
  for (size_t i = 0; i < args.size() && i < call.in.size(); ++i) {
    const c10::Argument& a = args[i];
    iargs.push_back({a.name(), to_arg(call.in[i], a.real_type(), call.n, a.name()), a.kwarg_only()});
  }
  std::vector<ir::ValueType> types(call.concrete.size(), ir::ValueType::kTensor);
  std::string hint = call.functional.substr(call.functional.find("::") + 2);
  // A list of one tensor (unbind of a size-1 dim): its element is named apart from the node, as
  // torch.export.load makes a node and a getitem of its list.
  std::vector<std::string> out_hints;
  if (call.returns_list && types.size() == 1) out_hints = {hint};
  ir::Node* node = graph_.add_call(target, std::move(iargs), types, hint, out_hints);
  node->set_returns_list(call.returns_list);
  set_meta(node, call.n);
  for (size_t i = 0; i < call.concrete.size(); ++i) {
    if (!call.concrete[i].defined()) continue;
    ir::TensorMeta& meta = node->outputs()[i]->mutable_meta();
    meta = make_meta(call.concrete[i], call.shapes[i]);
    // A view's strides follow from its input's (a slice of a padded tensor is not dense).
    const auto& rets = call.schema->returns();
    const bool view = i == 0 && !call.inplace && !rets.empty() && rets[0].alias_info() && !rets[0].alias_info()->isWrite();
    ir::Value* const* self = node->inputs().empty() ? nullptr : std::get_if<ir::Value*>(&node->inputs()[0].value);
    if (view && self != nullptr && (*self)->type() == ir::ValueType::kTensor) {
      if (auto st = view_output_strides(call.functional, node->inputs(), (*self)->meta(), call.shapes[0], call.concrete[0])) {
        meta.strides = std::move(*st);
      }
    }
  }
  return node;
}

/// Binds the TorchScript outputs of `call` to the outputs of its IR node. An in-place call's
/// output is its input tensor, moved on; a view remembers its base (Note [Aliasing]).
void Tracer::bind_aten_outputs(const AtenCall& call, ir::Node* node) {
  jit::Node* n = call.n;
  const std::vector<SVP>& in = call.in;
  if (call.inplace) {
    TensorCell& cell = *in[0]->cell;
    cell.value = node->outputs()[0];
    cell.shape = call.shapes[0];
    cell.scalar.reset();  // its values are the op's now
    cell.elems.reset();
    cell.known = false;
    if (cell.view_base) {
      scatter_into_base(cell, n);
    } else {
      ++cell.version;  // its views are stale now (Tracer::refresh_view)
    }
    set(n->output(0), in[0]);  // the same tensor (Note [Aliasing])
    for (size_t i = 1; i < n->outputs().size(); ++i) set(n->output(i), from_concrete(call.outs[i]));
    return;
  }
  size_t k = 0;
  for (size_t i = 0; i < call.outs.size(); ++i) {
    const c10::IValue& o = call.outs[i];
    auto make_tensor = [&](const at::Tensor& t) {
      auto sv = std::make_shared<SV>();
      sv->k = SV::K::kTensor;
      sv->iv = t;
      auto cell = std::make_shared<TensorCell>();
      cell->value = node->outputs()[k];
      cell->shape = call.shapes[k];
      cell->sample = t;
      const auto& ret = call.schema->returns()[i];
      if (ret.alias_info() && !ret.alias_info()->isWrite() && !in.empty() && in[0]->k == SV::K::kTensor) {
        cell->view_base = in[0]->cell;
        cell->step = view_step(call.functional, node->inputs(), in[0]->cell->shape.size());
        cell->synced = root_of(*cell).version;
      }
      sv->cell = cell;
      ++k;
      return sv;
    };
    if (o.isTensor()) {
      set(n->output(i), make_tensor(o.toTensor()));
    } else if (o.isTensorList()) {
      auto sv = std::make_shared<SV>();
      sv->k = SV::K::kList;
      sv->iv = o;
      sv->elems = std::make_shared<std::vector<SVP>>();
      for (const at::Tensor& t : o.toTensorVector()) sv->elems->push_back(make_tensor(t));
      set(n->output(i), sv);
    } else {
      set(n->output(i), from_concrete(o));
    }
  }
}

/// Every op without a usable shape rule, at once (exit 4), in first-seen order.
void Tracer::report_missing_rules() {
  if (missing_.empty()) return;
  std::ostringstream msg;
  msg << "no shape rule for " << missing_.size() << " op" << (missing_.size() == 1 ? "" : "s")
      << " (ptexport cannot export them yet):";
  for (const std::string& key : missing_seen_) {
    const RuleMiss& m = missing_[key];
    msg << "\n  " << key << " (" << m.count << " call" << (m.count == 1 ? "" : "s") << ")";
    if (m.detail != "no shape rule") msg << ": " << m.detail;
    if (!m.first_source.empty()) msg << "\n      first at " << m.first_source;
  }
  if (env_.draft()) {  // --draft: listed in the report, the artifact keeps the sample's sizes
    for (const std::string& key : missing_seen_) {
      const RuleMiss& m = missing_[key];
      out_.missing_rules.push_back(key + " (" + std::to_string(m.count) + " call" + (m.count == 1 ? "" : "s") + ")" +
                                   (m.detail != "no shape rule" ? ": " + m.detail : "") +
                                   (m.first_source.empty() ? "" : ", first at " + m.first_source));
    }
    return;
  }
  PTX_USER_FAIL(ExitCode::kExportFailed, "E_NO_SHAPE_RULE") << msg.str();
}

}  // namespace ptx::frontend
