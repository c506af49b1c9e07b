// lib/frontend/signature.cpp: the exported program's signature. Inputs become placeholders with
// symbolic sizes (their dim marks); parameters and buffers are lifted to placeholders named as
// torch.export names them, tensor constants on first use (values.cpp); outputs are flattened into
// the output spec, after the mutated buffers and inputs. See lib/frontend/tracer.h.
#include <functional>

#include "lib/frontend/tracer.h"
#include "lib/torch_convert.h"
#include "shapes/error.h"

namespace ptx::frontend {
namespace {

// torch.export's placeholder name of a parameter or buffer: the prefix and the FQN in lower case,
// every character other than [a-z0-9] made '_' (placeholder_naming_pass): `p_trunk_block1_0_weight`.
std::string state_placeholder_name(const std::string& prefix, const std::string& fqn) {
  std::string name = prefix + fqn;
  for (char& c : name) {
    c = std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(static_cast<unsigned char>(c))) : '_';
  }
  return name;
}

}  // namespace

void Tracer::lift_state() {
  // Parameters first, then buffers, in the module's registration order (torch.export's order).
  for (const auto& p : model_.module.named_parameters(/*recurse=*/true)) {
    auto cell = std::make_shared<TensorCell>();
    cell->sample = stand_in(p.value.detach());  // on meta a stand-in (Note [Meta trace])
    SymShape shape(p.value.sizes().begin(), p.value.sizes().end());
    const std::string name = state_placeholder_name("p_", p.name);
    cell->value = graph_.add_placeholder(name, ir::ValueType::kTensor, make_meta(cell->sample, shape));
    cell->value->mutable_meta().requires_grad = p.value.requires_grad();
    cell->param_requires_grad = p.value.requires_grad();
    cell->original = cell->value;
    cell->shape = shape;
    out_.program.parameters[p.name] = p.value.detach();
    out_.program.input_specs.push_back({ir::InputKind::kParameter, cell->value->name(), p.name, true});
    state_[p.name] = cell;
    state_by_data_.emplace(p.value.data_ptr(), cell);
  }
  for (const auto& b : model_.module.named_buffers(/*recurse=*/true)) {
    auto cell = std::make_shared<TensorCell>();
    cell->sample = stand_in(b.value);
    SymShape shape(b.value.sizes().begin(), b.value.sizes().end());
    const std::string name = state_placeholder_name("b_", b.name);
    cell->value = graph_.add_placeholder(name, ir::ValueType::kTensor, make_meta(cell->sample, shape));
    cell->original = cell->value;
    cell->shape = shape;
    out_.program.buffers[b.name] = b.value.clone();
    out_.program.input_specs.push_back({ir::InputKind::kBuffer, cell->value->name(), b.name, true});
    state_[b.name] = cell;
    state_by_data_.emplace(b.value.data_ptr(), cell);
  }
}

/// Binds self and the sample's arguments to the graph's inputs, and builds the call's input spec.
void Tracer::bind_inputs(const std::shared_ptr<jit::Graph>& graph) {
  const SampleSet& set0 = inputs_.sets.at(0);
  // Bind self and the inputs.
  auto self = std::make_shared<SV>();
  self->k = SV::K::kObject;
  self->iv = model_.module._ivalue();
  set(graph->inputs()[0], self);
  PTX_INTERNAL_CHECK(graph->inputs().size() == set0.args.size() + 1)
      << "bound " << set0.args.size() << " inputs for " << graph->inputs().size() - 1 << " parameters";
  out_.program.args_spec.kind = ir::PyTree::Kind::kTuple;
  out_.program.kwargs_spec.kind = ir::PyTree::Kind::kDict;
  for (size_t i = 0; i < set0.args.size(); ++i) {
    SVP s = bind_input(set0.args[i], set0.names[i]);
    set(graph->inputs()[i + 1], s);
    // As torch.export's in_spec: positional arguments in args, keyword ones in kwargs by name; an
    // argument left to its default is not part of the call (a constant in the graph).
    ir::PyTree spec = input_spec(s);
    const ArgSource source = i < set0.sources.size() ? set0.sources[i] : ArgSource::kPositional;
    if (source == ArgSource::kDefault && spec.kind == ir::PyTree::Kind::kConstant) continue;
    out_.program.forward_arg_names.push_back(set0.names[i]);
    if (source == ArgSource::kPositional) {
      out_.program.args_spec.children.push_back(std::move(spec));
    } else {
      out_.program.kwargs_spec.keys.push_back(set0.names[i]);
      out_.program.kwargs_spec.children.push_back(std::move(spec));
    }
  }
}

/// A dynamic dimension whose sample size is 0 or 1 may specialize: warn.
void Tracer::warn_small_dynamic_samples() {
  const SampleSet& set0 = inputs_.sets.at(0);
  for (const TensorLeaf& leaf : set0.tensors) {
    for (size_t d = 0; d < leaf.dims.size() && d < leaf.shape.size(); ++d) {
      if (leaf.dims[d].kind != DimMark::Kind::kStatic && leaf.shape[d] <= 1) {
        out_.warnings.push_back(leaf.path + ".size()[" + std::to_string(d) + "] is dynamic but its sample size is " +
                                std::to_string(leaf.shape[d]) +
                                "; sizes 0 and 1 often take special paths (broadcasting), so the export may "
                                "specialize: prefer a sample size of 2 or more");
      }
    }
  }
}

SVP Tracer::bind_input(const c10::IValue& v, const std::string& path) {
  if (v.isTensor()) return make_input_tensor(v.toTensor(), path);
  // Non-tensor inputs are specialized, as torch.export does: their values are constants. Tensors
  // inside containers are inputs too, named by their path.
  SVP sv = from_concrete(v);
  if (sv->elems) {
    const auto items = v.isList() ? v.toListRef().vec() : v.toTupleRef().elements().vec();
    for (size_t i = 0; i < items.size(); ++i) {
      (*sv->elems)[i] = bind_input(items[i], path + "[" + std::to_string(i) + "]");
    }
  }
  for (auto& [key, value] : sv->dict) {
    const std::string name = key.isString() ? key.toStringRef() : key.tagKind();
    value = bind_input(value->iv, path + "['" + name + "']");
  }
  return sv;
}

SVP Tracer::make_input_tensor(const at::Tensor& t, const std::string& path) {
  // Find the leaf's dim marks.
  const TensorLeaf* leaf = nullptr;
  for (const TensorLeaf& l : inputs_.sets[0].tensors) {
    if (l.path == path) leaf = &l;
  }
  SymShape shape;
  for (int64_t d = 0; d < t.dim(); ++d) {
    const int64_t size = t.size(d);
    const DimMark mark = (leaf && d < static_cast<int64_t>(leaf->dims.size())) ? leaf->dims[d] : DimMark{};
    const std::string source = path + ".size()[" + std::to_string(d) + "]";
    switch (mark.kind) {
      case DimMark::Kind::kStatic:
        shape.emplace_back(size);
        break;
      case DimMark::Kind::kAuto:
      case DimMark::Kind::kDynamic: {
        shapes::Range r{0, std::nullopt};
        const auto kind = mark.kind == DimMark::Kind::kAuto ? shapes::DimHint::kAuto : shapes::DimHint::kDynamic;
        SymExpr s = env_.create_symbol(source, size, r, kind, source);
        shape.push_back(s);
        break;
      }
      case DimMark::Kind::kSymbol:
        shape.push_back(named_dim(mark, path, d, size));
        break;
    }
  }
  auto cell = std::make_shared<TensorCell>();
  cell->sample = stand_in(t);
  if (const at::Tensor real = real_of(cell->sample); real.defined() && !real.is_meta() && real.numel() > 0) {
    input_data_.insert(real.data_ptr());
  }
  cell->shape = shape;
  std::string name = ir::python_identifier(path);
  while (name.size() > 1 && name.back() == '_') name.pop_back();
  cell->value = graph_.add_placeholder(name, ir::ValueType::kTensor, make_meta(t, shape));
  cell->original = cell->value;
  syms_.add_sources_from(cell->value);  // each dim a*s+b with one symbol gives s
  out_.program.input_specs.push_back({ir::InputKind::kUserInput, cell->value->name(), "", true});
  input_cells_.push_back(cell);
  auto sv = std::make_shared<SV>();
  sv->k = SV::K::kTensor;
  sv->iv = cell->sample;
  sv->cell = cell;
  return sv;
}

/// A dimension marked `a*NAME+b`: the named symbol (created on its first use, with the range that
/// inputs.json or --dynamic gives it; later uses must agree with its sample value), times a, plus b.
SymExpr Tracer::named_dim(const DimMark& mark, const std::string& path, int64_t d, int64_t size) {
  const std::string source = path + ".size()[" + std::to_string(d) + "]";
  PTX_USER_CHECK(mark.a > 0, ExitCode::kUsage, "E_DIM_SPEC")
      << path << ".size()[" << d << "]: derived dim " << mark.a << "*" << mark.symbol << "+" << mark.b
      << " needs a positive coefficient";
  PTX_USER_CHECK((size - mark.b) % mark.a == 0, ExitCode::kInput, "E_DIM_SAMPLE")
      << path << ".size()[" << d << "] is " << size << ", which is not of the form " << mark.a << "*"
      << mark.symbol << (mark.b >= 0 ? "+" : "") << mark.b << " for an integer " << mark.symbol;
  const int64_t root = (size - mark.b) / mark.a;
  auto it = symbols_by_name_.find(mark.symbol);
  if (it == symbols_by_name_.end()) {
    shapes::Range r{0, std::nullopt};
    if (auto spec = inputs_.symbols.find(mark.symbol); spec != inputs_.symbols.end()) {
      if (spec->second.min) r.min = *spec->second.min;
      r.max = spec->second.max;
    }
    SymExpr s = env_.create_symbol(mark.symbol, root, r, shapes::DimHint::kNamed, source);
    it = symbols_by_name_.emplace(mark.symbol, s).first;
  } else {
    const int64_t hint = env_.hint_of(it->second);
    PTX_USER_CHECK(hint == root, ExitCode::kInput, "E_DIM_SAMPLE")
        << path << ".size()[" << d << "] is " << size << ", so " << mark.symbol << " would be " << root
        << ", but another input dimension already has " << mark.symbol << " = " << hint
        << " (" << env_.find_symbol(it->second)->sources.front() << ")";
    env_.add_source(it->second, source);
  }
  return it->second * SymExpr(mark.a) + SymExpr(mark.b);
}

// The input spec of one bound argument: a tensor is a leaf (its placeholder), lists, tuples and
// dicts holding tensors are containers of their elements' specs, anything else is a constant.
ir::PyTree Tracer::input_spec(const SVP& s) {
  ir::PyTree t;
  const std::function<bool(const SVP&)> has_tensor = [&](const SVP& e) {
    if (e->k == SV::K::kTensor) return true;
    if (e->elems) {
      for (const SVP& x : *e->elems) {
        if (has_tensor(x)) return true;
      }
    }
    for (const auto& [k, v] : e->dict) {
      if (has_tensor(v)) return true;
    }
    return false;
  };
  if (s->k == SV::K::kTensor) {
    t.kind = ir::PyTree::Kind::kLeaf;
    t.leaf = s->cell->value->name();
  } else if (has_tensor(s) && s->elems) {
    t.kind = s->k == SV::K::kList ? ir::PyTree::Kind::kList : ir::PyTree::Kind::kTuple;
    for (const SVP& e : *s->elems) t.children.push_back(input_spec(e));
  } else if (has_tensor(s) && s->k == SV::K::kDict) {
    t.kind = ir::PyTree::Kind::kDict;
    for (const auto& [k, v] : s->dict) {
      t.keys.push_back(k.isString() ? k.toStringRef() : k.tagKind());
      t.children.push_back(input_spec(v));
    }
  } else {
    t.kind = ir::PyTree::Kind::kConstant;
    t.constant_json = s->iv.isNone() ? "null" : c10::str(s->iv);
  }
  return t;
}

void Tracer::flatten_output(const SVP& s, ir::PyTree& spec, std::vector<ir::Value*>& outs) {
  switch (s->k) {
    case SV::K::kTensor:
      spec.kind = ir::PyTree::Kind::kLeaf;
      outs.push_back(tensor_value(s));
      return;
    case SV::K::kNone:
      spec.kind = ir::PyTree::Kind::kNone;
      return;
    case SV::K::kInt:
      if (!s->sym.is_const()) {
        spec.kind = ir::PyTree::Kind::kLeaf;
        outs.push_back(sym_value(s->sym));
        return;
      }
      spec.kind = ir::PyTree::Kind::kConstant;
      spec.constant_json = std::to_string(s->sym.value());
      return;
    case SV::K::kList:
    case SV::K::kTuple:
      spec.kind = s->k == SV::K::kList ? ir::PyTree::Kind::kList : ir::PyTree::Kind::kTuple;
      for (const SVP& e : elements(s)) {
        spec.children.emplace_back();
        flatten_output(e, spec.children.back(), outs);
      }
      return;
    case SV::K::kDict:
      spec.kind = ir::PyTree::Kind::kDict;
      for (const auto& [k, v] : s->dict) {
        spec.keys.push_back(k.isString() ? k.toStringRef() : k.tagKind());
        spec.children.emplace_back();
        flatten_output(v, spec.children.back(), outs);
      }
      return;
    default:
      break;
  }
  PTX_USER_CHECK(!s->iv.isObject(), ExitCode::kExportFailed, "E_UNSUPPORTED_OUTPUT")
      << "the model returns an object of the TorchScript class " << s->iv.type()->annotation_str()
      << ", which a .pt2 cannot hold (return its attributes: tensors, ints, lists, tuples or dicts)";
  PTX_USER_FAIL(ExitCode::kExportFailed, "E_UNSUPPORTED_OUTPUT")
      << "the model returns a " << s->iv.tagKind() << ", which a .pt2 cannot hold";
}

void Tracer::collect_outputs(const SVP& result) {
  std::vector<ir::Value*> user_outs;
  flatten_output(result, out_.program.out_spec, user_outs);
  // Mutations first, as torch.export orders them: buffers (in the order of the input specs, i.e.
  // the module's registration order), then user inputs.
  std::vector<ir::Value*> all;
  for (const ir::InputSpec& spec : out_.program.input_specs) {
    if (spec.kind != ir::InputKind::kParameter && spec.kind != ir::InputKind::kBuffer) continue;
    const std::string& fqn = spec.target;
    const auto it = state_.find(fqn);
    if (it == state_.end()) continue;
    const std::shared_ptr<TensorCell>& cell = it->second;
    if (cell->value != cell->original) {
      all.push_back(cell->value);
      out_.program.output_specs.push_back({ir::OutputKind::kBufferMutation, cell->value->name(), fqn});
    }
  }
  for (const auto& cell : input_cells_) {
    if (cell->value != cell->original) {
      all.push_back(cell->value);
      out_.program.output_specs.push_back(
          {ir::OutputKind::kUserInputMutation, cell->value->name(), cell->original->name()});
    }
  }
  for (ir::Value* v : user_outs) {
    all.push_back(v);
    out_.program.output_specs.push_back({ir::OutputKind::kUserOutput, v->name(), ""});
  }
  graph_.set_outputs(all);
}

}  // namespace ptx::frontend
