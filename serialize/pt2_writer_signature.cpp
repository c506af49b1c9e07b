// serialize/pt2_writer_signature.cpp: the program's signature as torch::_export schema objects: inputs
// and outputs with their specs (GraphModuleSerializer's handle_placeholder, handle_output,
// serialize_input_spec, serialize_output_spec), the module call graph, and the weights and
// constants configs that assign each tensor its raw file. See serialize/pt2_writer_impl.h.
#include <algorithm>
#include <map>
#include <set>

#include "serialize/pt2_writer_impl.h"
#include "serialize/sympy_text.h"

namespace ptx::serialize::writer {

// ---- inputs -----------------------------------------------------------------------------------
/// Flattens the input spec into user input slots, in torch's order (args, then kwargs).
// ---- inputs -----------------------------------------------------------------------------------
void ProgramSerializer::collect_slots(const ir::PyTree& t, const std::string& name, std::vector<UserSlot>& out) {
  switch (t.kind) {
    case ir::PyTree::Kind::kLeaf: {
      auto it = placeholder_by_name_.find(t.leaf);
      PTX_INTERNAL_CHECK(it != placeholder_by_name_.end()) << "input spec leaf '" << t.leaf
                                                            << "' names no placeholder";
      out.push_back({it->second, t.leaf, nullptr});
      return;
    }
    case ir::PyTree::Kind::kConstant: {
      nlohmann::json c = nlohmann::json::parse(t.constant_json, nullptr, false);
      PTX_INTERNAL_CHECK(!c.is_discarded()) << "input constant '" << t.constant_json << "' is not JSON";
      out.push_back({nullptr, name, c});
      return;
    }
    case ir::PyTree::Kind::kNone:
      out.push_back({nullptr, name, nullptr});
      return;
    case ir::PyTree::Kind::kTuple:
    case ir::PyTree::Kind::kList:
      for (size_t i = 0; i < t.children.size(); ++i) {
        collect_slots(t.children[i], name + "_" + std::to_string(i), out);
      }
      return;
    case ir::PyTree::Kind::kDict:
      for (size_t i = 0; i < t.children.size(); ++i) collect_slots(t.children[i], name + "_" + t.keys[i], out);
      return;
  }
}

tx::Argument ProgramSerializer::constant_arg(const nlohmann::json& c) {
  tx::Argument a;
  if (c.is_null()) {
    a.set_as_none(true);
  } else if (c.is_boolean()) {
    a.set_as_bool(c.get<bool>());
  } else if (c.is_number_integer()) {
    a.set_as_int(c.get<int64_t>());
  } else if (c.is_number()) {
    a.set_as_float(f64(c.get<double>()));
  } else if (c.is_string()) {
    a.set_as_string(c.get<std::string>());
  } else {
    PTX_INTERNAL_CHECK(false) << "constant " << c.dump() << " is not an int, float, bool, str or None";
  }
  return a;
}

tx::ConstantValue ProgramSerializer::constant_value(const nlohmann::json& c) {
  tx::ConstantValue v;
  if (c.is_null()) {
    v.set_as_none(true);
  } else if (c.is_boolean()) {
    v.set_as_bool(c.get<bool>());
  } else if (c.is_number_integer()) {
    v.set_as_int(c.get<int64_t>());
  } else if (c.is_number()) {
    v.set_as_float(f64(c.get<double>()));
  } else {
    v.set_as_string(c.get<std::string>());
  }
  return v;
}

ir::PyTree ProgramSerializer::args_spec() const {
  if (!is_unset(ep_.args_spec)) return ep_.args_spec;
  // No spec: forward takes the user-input placeholders positionally.
  ir::PyTree t;
  t.kind = ir::PyTree::Kind::kTuple;
  for (size_t i = 0; i < ep_.input_specs.size(); ++i) {
    if (ep_.input_specs[i].kind != ir::InputKind::kUserInput) continue;
    ir::PyTree leaf;
    leaf.leaf = ep_.input_specs[i].arg;
    t.children.push_back(leaf);
  }
  return t;
}

ir::PyTree ProgramSerializer::kwargs_spec() const {
  if (!is_unset(ep_.kwargs_spec)) return ep_.kwargs_spec;
  ir::PyTree t;
  t.kind = ir::PyTree::Kind::kDict;
  return t;
}

void ProgramSerializer::serialize_inputs(tx::Graph& graph, tx::GraphSignature& signature) {
  const auto& placeholders = ep_.graph->placeholders();
  PTX_INTERNAL_CHECK(placeholders.size() == ep_.input_specs.size())
      << placeholders.size() << " placeholders but " << ep_.input_specs.size() << " input specs";
  std::vector<tx::Argument> inputs;
  std::vector<tx::InputSpec> specs;
  for (size_t i = 0; i < placeholders.size(); ++i) {
    const Value* v = placeholders[i];
    const ir::InputSpec& s = ep_.input_specs[i];
    PTX_INTERNAL_CHECK(s.arg == v->name()) << "input spec " << i << " names '" << s.arg
                                           << "' but the placeholder is '" << v->name() << "'";
    placeholder_by_name_[v->name()] = v;
    placeholder_spec_[v->name()] = &s;
    define(v);
    if (s.kind == ir::InputKind::kUserInput) continue;
    PTX_INTERNAL_CHECK(v->type() == ValueType::kTensor) << "lifted input " << v->name() << " is not a tensor";
    tx::TensorArgument t;
    t.set_name(v->name());
    tx::InputSpec spec;
    switch (s.kind) {
      case ir::InputKind::kParameter: {
        tx::InputToParameterSpec p;
        p.set_arg(t);
        p.set_parameter_name(s.target);
        spec.set_parameter(p);
        weights_.push_back({s.target, lookup(ep_.parameters, s.target, "parameter"), true,
                            v->meta().requires_grad});
        break;
      }
      case ir::InputKind::kBuffer: {
        tx::InputToBufferSpec b;
        b.set_arg(t);
        b.set_buffer_name(s.target);
        b.set_persistent(s.persistent);
        spec.set_buffer(b);
        // _package_state_dict / _package_constants: non-persistent buffers are constants.
        (s.persistent ? weights_ : constants_)
            .push_back({s.target, lookup(ep_.buffers, s.target, "buffer"), false, false});
        break;
      }
      case ir::InputKind::kConstantTensor: {
        tx::InputToTensorConstantSpec c;
        c.set_arg(t);
        c.set_tensor_constant_name(s.target);
        spec.set_tensor_constant(c);
        constants_.push_back({s.target, lookup(ep_.constants, s.target, "constant"), false, false});
        break;
      }
      case ir::InputKind::kUserInput:
        break;
    }
    inputs.push_back(value_arg(v));
    specs.push_back(std::move(spec));
  }
  add_unlisted_payloads();

  std::vector<UserSlot> slots;
  const ir::PyTree args = args_spec();
  PTX_INTERNAL_CHECK(args.kind == ir::PyTree::Kind::kTuple) << "args spec is not a tuple";
  for (size_t i = 0; i < args.children.size(); ++i) {
    const std::string name =
        i < ep_.forward_arg_names.size() ? ep_.forward_arg_names[i] : "arg_" + std::to_string(i);
    collect_slots(args.children[i], name, slots);
  }
  const ir::PyTree kwargs = kwargs_spec();
  PTX_INTERNAL_CHECK(kwargs.kind == ir::PyTree::Kind::kDict) << "kwargs spec is not a dict";
  for (size_t i = 0; i < kwargs.children.size(); ++i) collect_slots(kwargs.children[i], kwargs.keys[i], slots);

  std::set<std::string> used;
  for (const UserSlot& slot : slots) {
    tx::InputSpec spec;
    if (slot.value) {
      const ir::InputSpec* s = placeholder_spec_.at(slot.value->name());
      PTX_INTERNAL_CHECK(s->kind == ir::InputKind::kUserInput)
          << "input spec leaf '" << slot.value->name() << "' is not a user input";
      PTX_INTERNAL_CHECK(used.insert(slot.value->name()).second)
          << "user input '" << slot.value->name() << "' appears twice in the input spec";
      tx::UserInputSpec u;
      u.set_arg(value_arg(slot.value));
      spec.set_user_input(u);
      inputs.push_back(value_arg(slot.value));
    } else {
      tx::InputToConstantInputSpec c;
      c.set_name(slot.name);
      c.set_value(constant_value(slot.constant));
      spec.set_constant_input(c);
      inputs.push_back(constant_arg(slot.constant));
    }
    specs.push_back(std::move(spec));
  }
  for (const ir::InputSpec& s : ep_.input_specs) {
    PTX_INTERNAL_CHECK(s.kind != ir::InputKind::kUserInput || used.count(s.arg))
        << "user input '" << s.arg << "' is missing from the input spec";
  }
  graph.set_inputs(std::move(inputs));
  signature.set_input_specs(std::move(specs));
}

at::Tensor ProgramSerializer::lookup(const std::map<std::string, at::Tensor>& m, const std::string& fqn,
                                     const char* what) {
  auto it = m.find(fqn);
  PTX_INTERNAL_CHECK(it != m.end() && it->second.defined()) << what << " '" << fqn << "' has no tensor";
  return it->second;
}

void ProgramSerializer::add_unlisted_payloads() {
  std::set<std::string> listed;
  for (const Payload& p : weights_) listed.insert(p.fqn);
  for (const Payload& p : constants_) listed.insert(p.fqn);
  for (const auto& [fqn, t] : ep_.parameters) {
    if (!listed.count(fqn)) weights_.push_back({fqn, t, true, true});
  }
  for (const auto& [fqn, t] : ep_.buffers) {
    if (!listed.count(fqn)) weights_.push_back({fqn, t, false, false});
  }
  for (const auto& [fqn, t] : ep_.constants) {
    if (!listed.count(fqn)) constants_.push_back({fqn, t, false, false});
  }
}

// ---- outputs ----------------------------------------------------------------------------------
ir::PyTree ProgramSerializer::out_spec() const {
  size_t n = 0;
  for (const ir::OutputSpec& s : ep_.output_specs) n += s.kind == ir::OutputKind::kUserOutput;
  if (!is_unset(ep_.out_spec) || n == 1) return ep_.out_spec;
  ir::PyTree t;
  t.kind = ir::PyTree::Kind::kTuple;
  t.children.resize(n);
  return t;
}

void ProgramSerializer::collect_out_slots(const ir::PyTree& t, std::vector<UserSlot>& out,
                                          const std::vector<const Value*>& user_outputs, size_t& next) {
  switch (t.kind) {
    case ir::PyTree::Kind::kLeaf:
      PTX_INTERNAL_CHECK(next < user_outputs.size()) << "output spec has more leaves than user outputs";
      out.push_back({user_outputs[next++], "", nullptr});
      return;
    case ir::PyTree::Kind::kConstant: {
      nlohmann::json c = nlohmann::json::parse(t.constant_json, nullptr, false);
      PTX_INTERNAL_CHECK(!c.is_discarded()) << "output constant '" << t.constant_json << "' is not JSON";
      out.push_back({nullptr, "", c});
      return;
    }
    case ir::PyTree::Kind::kNone:
      out.push_back({nullptr, "", nullptr});
      return;
    default:
      for (const ir::PyTree& c : t.children) collect_out_slots(c, out, user_outputs, next);
      return;
  }
}

void ProgramSerializer::serialize_outputs(tx::Graph& graph, tx::GraphSignature& signature) {
  const auto& outs = ep_.graph->outputs();
  PTX_INTERNAL_CHECK(outs.size() == ep_.output_specs.size())
      << outs.size() << " graph outputs but " << ep_.output_specs.size() << " output specs";
  std::vector<tx::Argument> outputs;
  std::vector<tx::OutputSpec> specs;
  std::vector<const Value*> user_outputs;
  for (size_t i = 0; i < outs.size(); ++i) {
    const ir::OutputSpec& s = ep_.output_specs[i];
    PTX_INTERNAL_CHECK(s.arg == outs[i]->name()) << "output spec " << i << " names '" << s.arg
                                                 << "' but the output is '" << outs[i]->name() << "'";
    if (s.kind == ir::OutputKind::kUserOutput) {
      user_outputs.push_back(outs[i]);
      continue;
    }
    tx::TensorArgument t;
    t.set_name(outs[i]->name());
    tx::OutputSpec spec;
    if (s.kind == ir::OutputKind::kBufferMutation) {
      tx::BufferMutationSpec b;
      b.set_arg(t);
      b.set_buffer_name(s.target);
      spec.set_buffer_mutation(b);
    } else {
      tx::UserInputMutationSpec u;
      u.set_arg(t);
      u.set_user_input_name(s.target);
      spec.set_user_input_mutation(u);
    }
    outputs.push_back(value_arg(outs[i]));
    specs.push_back(std::move(spec));
  }
  std::vector<UserSlot> slots;
  size_t next = 0;
  collect_out_slots(out_spec(), slots, user_outputs, next);
  PTX_INTERNAL_CHECK(next == user_outputs.size())
      << "output spec has " << next << " leaves but the graph has " << user_outputs.size() << " user outputs";
  for (const UserSlot& slot : slots) {
    tx::Argument a = slot.value ? value_arg(slot.value) : constant_arg(slot.constant);
    tx::UserOutputSpec u;
    u.set_arg(a);
    tx::OutputSpec spec;
    spec.set_user_output(u);
    outputs.push_back(std::move(a));
    specs.push_back(std::move(spec));
  }
  graph.set_outputs(std::move(outputs));
  signature.set_output_specs(std::move(specs));
}

// ---- module call graph ------------------------------------------------------------------------
std::vector<tx::ModuleCallEntry> ProgramSerializer::module_call_graph() const {
  ir::PyTree in;
  in.kind = ir::PyTree::Kind::kTuple;
  in.children = {args_spec(), kwargs_spec()};
  const ir::PyTree out = out_spec();
  tx::ModuleCallSignature sig;
  sig.set_inputs(std::vector<tx::Argument>{});
  sig.set_outputs(std::vector<tx::Argument>{});
  sig.set_in_spec(treespec_dumps(in));
  sig.set_out_spec(treespec_dumps(out));
  if (!ep_.forward_arg_names.empty()) {
    sig.set_forward_arg_names(std::optional<std::vector<std::string>>(ep_.forward_arg_names));
  }
  std::vector<tx::ModuleCallEntry> entries;
  tx::ModuleCallEntry root;
  root.set_fqn(std::string());
  root.set_signature(std::optional<tx::ModuleCallSignature>(sig));
  entries.push_back(root);
  for (const std::string& path : module_paths_) {
    tx::ModuleCallEntry e;
    e.set_fqn(path);
    entries.push_back(e);
  }
  return entries;
}

// ---- weights and constants --------------------------------------------------------------------
tx::PayloadConfig ProgramSerializer::payload_config(const std::vector<Payload>& payloads, const std::string& prefix,
                                                    std::string_view dir, std::vector<Blob>& blobs) const {
  std::unordered_map<std::string, tx::PayloadMeta> config;
  std::map<const void*, std::string> file_of_storage;
  for (const Payload& p : payloads) {
    at::Tensor t = p.tensor;
    PTX_USER_CHECK(t.layout() == at::kStrided, ExitCode::kOutput, "E_OUTPUT")
        << "cannot write tensor '" << p.fqn << "': only strided tensors can be written";
    if (!t.device().is_cpu()) t = t.cpu();
    const int n = static_cast<int>(t.scalar_type());
    PTX_USER_CHECK((n >= 0 && n <= 11) || n == 15, ExitCode::kOutput, "E_OUTPUT")
        << "cannot write tensor '" << p.fqn << "': dtype " << c10::toString(t.scalar_type())
        << " is not supported";
    const auto dtype = static_cast<ir::DType>(n);
    const void* data = t.storage().data();
    std::string file;
    auto it = data ? file_of_storage.find(data) : file_of_storage.end();
    if (it != file_of_storage.end()) {
      file = it->second;
    } else {
      file = prefix + std::to_string(blobs.size());
      blobs.push_back({std::string(dir) + file, t, data, t.storage().nbytes()});
      if (data) file_of_storage[data] = file;
    }
    tx::TensorMeta m;
    m.set_dtype(to_schema_dtype(dtype));
    std::vector<tx::SymInt> sizes, strides;
    for (int64_t s : t.sizes()) sizes.push_back(sym_int(s));
    for (int64_t s : t.strides()) strides.push_back(sym_int(s));
    m.set_sizes(std::move(sizes));
    m.set_strides(std::move(strides));
    m.set_requires_grad(p.is_param ? (p.requires_grad || t.requires_grad()) : t.requires_grad());
    m.set_device(to_schema_device(p.tensor.device().str()));
    m.set_storage_offset(sym_int(t.storage_offset()));
    m.set_layout(tx::Layout::Strided);
    tx::PayloadMeta pm;
    pm.set_path_name(file);
    pm.set_is_param(p.is_param);
    pm.set_use_pickle(false);
    pm.set_tensor_meta(std::optional<tx::TensorMeta>(m));
    config[p.fqn] = pm;
  }
  tx::PayloadConfig out;
  out.set_config(std::move(config));
  return out;
}

}  // namespace ptx::serialize::writer
