// serialize/pt2_reader_signature.cpp: the program's signature read back from torch::_export schema
// objects: inputs and outputs with their specs, the pytree specs of the module call graph, and the
// weights and constants (raw entries viewed as tensors, or checked against what was written). See
// serialize/pt2_reader_impl.h.
#include <cstring>
#include <limits>
#include <set>
#include <variant>

#include "serialize/pt2_reader_impl.h"
#include "shapes/error.h"
#include "shapes/limits.h"

namespace ptx::serialize::reader {
namespace {

int64_t elem_size(ir::DType t) {
  return static_cast<int64_t>(c10::elementSize(static_cast<c10::ScalarType>(static_cast<int>(t))));
}

std::string shape_text(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

}  // namespace

std::optional<std::string> ProgramReader::constant_json(const tx::Argument& a) {
  switch (a.tag()) {
    case tx::Argument::Tag::AS_NONE: return std::string("null");
    case tx::Argument::Tag::AS_INT: return nlohmann::json(a.get_as_int()).dump();
    case tx::Argument::Tag::AS_FLOAT: return nlohmann::json(a.get_as_float().get()).dump();
    case tx::Argument::Tag::AS_BOOL: return nlohmann::json(a.get_as_bool()).dump();
    case tx::Argument::Tag::AS_STRING: return nlohmann::json(a.get_as_string()).dump();
    default: return std::nullopt;
  }
}

std::string ProgramReader::constant_json(const tx::ConstantValue& c) {
  switch (c.tag()) {
    case tx::ConstantValue::Tag::AS_NONE: return "null";
    case tx::ConstantValue::Tag::AS_INT: return nlohmann::json(c.get_as_int()).dump();
    case tx::ConstantValue::Tag::AS_FLOAT: return nlohmann::json(c.get_as_float().get()).dump();
    case tx::ConstantValue::Tag::AS_STRING: return nlohmann::json(c.get_as_string()).dump();
    case tx::ConstantValue::Tag::AS_BOOL: return nlohmann::json(c.get_as_bool()).dump();
  }
  return "null";
}

std::optional<std::pair<std::string, ValueType>> ProgramReader::named(const tx::Argument& a) {
  switch (a.tag()) {
    case tx::Argument::Tag::AS_TENSOR:
      return std::make_pair(a.get_as_tensor().get_name(), ValueType::kTensor);
    case tx::Argument::Tag::AS_SYM_INT:
      if (a.get_as_sym_int().tag() == tx::SymIntArgument::Tag::AS_NAME) {
        return std::make_pair(a.get_as_sym_int().get_as_name(), ValueType::kSymInt);
      }
      return std::nullopt;
    case tx::Argument::Tag::AS_SYM_BOOL:
      if (a.get_as_sym_bool().tag() == tx::SymBoolArgument::Tag::AS_NAME) {
        return std::make_pair(a.get_as_sym_bool().get_as_name(), ValueType::kSymBool);
      }
      return std::nullopt;
    case tx::Argument::Tag::AS_SYM_FLOAT:
      if (a.get_as_sym_float().tag() == tx::SymFloatArgument::Tag::AS_NAME) {
        return std::make_pair(a.get_as_sym_float().get_as_name(), ValueType::kSymFloat);
      }
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

Value* ProgramReader::add_placeholder(const std::string& name, ValueType type) {
  if (values_.count(name)) malformed("graph input '" + name + "' is defined twice");
  std::optional<ir::TensorMeta> meta;
  if (type == ValueType::kTensor) meta = tensor_meta(name);
  Value* v = graph().add_placeholder(name, type, meta);
  if (v->name() != name) malformed("graph input name '" + name + "' clashes with another name");
  if (type == ValueType::kSymInt) fill(v);
  values_[name] = v;
  return v;
}

void ProgramReader::read_inputs(const tx::Graph& g, const tx::GraphSignature& sig) {
  const auto& specs = sig.get_input_specs();
  if (specs.size() != g.get_inputs().size()) {
    malformed(std::to_string(g.get_inputs().size()) + " graph inputs but " + std::to_string(specs.size()) +
              " input specs");
  }
  for (size_t i = 0; i < specs.size(); ++i) {
    const tx::InputSpec& s = specs[i];
    ir::InputSpec out;
    auto tensor_input = [&](const tx::TensorArgument& t) {
      add_placeholder(t.get_name(), ValueType::kTensor);
      out.arg = t.get_name();
    };
    switch (s.tag()) {
      case tx::InputSpec::Tag::USER_INPUT: {
        const tx::Argument& a = s.get_user_input().get_arg();
        if (auto n = named(a)) {
          add_placeholder(n->first, n->second);
          out.kind = ir::InputKind::kUserInput;
          out.arg = n->first;
          user_inputs_.push_back({n->first, "", false});
        } else if (auto c = constant_json(a)) {
          user_inputs_.push_back({"", *c, a.tag() == tx::Argument::Tag::AS_NONE});
          continue;
        } else {
          malformed("input spec " + std::to_string(i) + ": unsupported user input");
        }
        break;
      }
      case tx::InputSpec::Tag::PARAMETER:
        tensor_input(s.get_parameter().get_arg());
        out.kind = ir::InputKind::kParameter;
        out.target = s.get_parameter().get_parameter_name();
        break;
      case tx::InputSpec::Tag::BUFFER:
        tensor_input(s.get_buffer().get_arg());
        out.kind = ir::InputKind::kBuffer;
        out.target = s.get_buffer().get_buffer_name();
        out.persistent = s.get_buffer().get_persistent();
        break;
      case tx::InputSpec::Tag::TENSOR_CONSTANT:
        tensor_input(s.get_tensor_constant().get_arg());
        out.kind = ir::InputKind::kConstantTensor;
        out.target = s.get_tensor_constant().get_tensor_constant_name();
        break;
      case tx::InputSpec::Tag::CONSTANT_INPUT: {
        const std::string c = constant_json(s.get_constant_input().get_value());
        user_inputs_.push_back({"", c, c == "null"});
        continue;
      }
      default:
        malformed("input spec " + std::to_string(i) + ": custom objects and tokens are not supported");
    }
    ep_.input_specs.push_back(out);
  }
}

// ---- outputs ----------------------------------------------------------------------------------
void ProgramReader::read_outputs(const tx::Graph& g, const tx::GraphSignature& sig) {
  const auto& specs = sig.get_output_specs();
  if (specs.size() != g.get_outputs().size()) {
    malformed(std::to_string(g.get_outputs().size()) + " graph outputs but " + std::to_string(specs.size()) +
              " output specs");
  }
  std::vector<Value*> outs;
  for (size_t i = 0; i < specs.size(); ++i) {
    const tx::OutputSpec& s = specs[i];
    const std::string where = "output spec " + std::to_string(i);
    ir::OutputSpec out;
    switch (s.tag()) {
      case tx::OutputSpec::Tag::USER_OUTPUT: {
        const tx::Argument& a = s.get_user_output().get_arg();
        if (auto n = named(a)) {
          out.kind = ir::OutputKind::kUserOutput;
          out.arg = n->first;
          user_outputs_.push_back({n->first, "", false});
        } else if (auto c = constant_json(a)) {
          user_outputs_.push_back({"", *c, a.tag() == tx::Argument::Tag::AS_NONE});
          continue;
        } else {
          malformed(where + ": unsupported user output");
        }
        break;
      }
      case tx::OutputSpec::Tag::BUFFER_MUTATION:
        out.kind = ir::OutputKind::kBufferMutation;
        out.arg = s.get_buffer_mutation().get_arg().get_name();
        out.target = s.get_buffer_mutation().get_buffer_name();
        break;
      case tx::OutputSpec::Tag::USER_INPUT_MUTATION:
        out.kind = ir::OutputKind::kUserInputMutation;
        out.arg = s.get_user_input_mutation().get_arg().get_name();
        out.target = s.get_user_input_mutation().get_user_input_name();
        break;
      default:
        malformed(where + ": losses, gradients, tokens and parameter mutations are not supported");
    }
    outs.push_back(value(out.arg, where));
    ep_.output_specs.push_back(out);
  }
  ep_.graph->set_outputs(std::move(outs));
}

// ---- pytree specs -----------------------------------------------------------------------------
void ProgramReader::name_leaves(ir::PyTree& t, const std::vector<Slot>& slots, size_t& next, const std::string& what,
                                bool inputs) {
  if (t.kind == ir::PyTree::Kind::kLeaf) {
    if (next >= slots.size()) malformed(what + " has more leaves than the signature has entries");
    const Slot& s = slots[next++];
    if (!s.value.empty()) {
      if (inputs) t.leaf = s.value;
    } else if (s.is_none) {
      t.kind = ir::PyTree::Kind::kNone;
    } else {
      t.kind = ir::PyTree::Kind::kConstant;
      t.constant_json = s.constant_json;
    }
    return;
  }
  for (ir::PyTree& c : t.children) name_leaves(c, slots, next, what, inputs);
}

ir::PyTree ProgramReader::tuple_of_leaves(size_t n) {
  ir::PyTree t;
  t.kind = ir::PyTree::Kind::kTuple;
  t.children.resize(n);
  return t;
}

void ProgramReader::read_specs(const std::vector<tx::ModuleCallEntry>& graph) {
  const tx::ModuleCallSignature* sig = nullptr;
  for (const tx::ModuleCallEntry& e : graph) {
    if (e.get_fqn().empty() && e.get_signature()) sig = &*e.get_signature();
  }
  ir::PyTree in, out;
  if (sig) {
    try {
      in = treespec_loads(sig->get_in_spec());
      out = treespec_loads(sig->get_out_spec());
    } catch (const std::exception& e) {
      malformed(std::string("module_call_graph: bad treespec (") + e.what() + ")");
    }
    if (sig->get_forward_arg_names()) ep_.forward_arg_names = *sig->get_forward_arg_names();
  } else {
    in.kind = ir::PyTree::Kind::kTuple;
    in.children = {tuple_of_leaves(user_inputs_.size()), ir::PyTree{}};
    in.children[1].kind = ir::PyTree::Kind::kDict;
    out = tuple_of_leaves(user_outputs_.size());
  }
  if (in.kind != ir::PyTree::Kind::kTuple || in.children.size() != 2 ||
      in.children[1].kind != ir::PyTree::Kind::kDict) {
    malformed("module_call_graph: in_spec is not a tuple of (args, kwargs)");
  }
  size_t next = 0;
  name_leaves(in, user_inputs_, next, "in_spec", true);
  if (next != user_inputs_.size()) malformed("in_spec has fewer leaves than the graph has user inputs");
  next = 0;
  name_leaves(out, user_outputs_, next, "out_spec", false);
  if (next != user_outputs_.size()) malformed("out_spec has fewer leaves than the graph has user outputs");
  ep_.args_spec = std::move(in.children[0]);
  ep_.kwargs_spec = std::move(in.children[1]);
  ep_.out_spec = std::move(out);
}

// ---- weights and constants --------------------------------------------------------------------
at::Tensor ProgramReader::payload(const std::string& dir, const std::string& fqn, const tx::PayloadMeta& pm,
                                  const std::string& config_name) {
  const std::string what = "'" + fqn + "' in " + config_name;
  if (pm.get_use_pickle()) malformed(what + " is pickled (use_pickle true); ptexport never unpickles");
  const std::string& file = pm.get_path_name();
  if (file.empty() || file.find('/') != std::string::npos || file.find("..") != std::string::npos) {
    malformed(what + " has a bad path_name '" + file + "'");
  }
  if (!pm.get_tensor_meta()) malformed(what + " has no tensor_meta");
  const tx::TensorMeta& m = *pm.get_tensor_meta();
  auto dtype = from_schema_dtype(m.get_dtype());
  if (!dtype) malformed(what + ": unsupported dtype " + std::to_string(static_cast<int>(m.get_dtype())));
  std::vector<int64_t> sizes, strides;
  for (const auto& s : m.get_sizes()) sizes.push_back(concrete(s, "a size of " + what));
  for (const auto& s : m.get_strides()) strides.push_back(concrete(s, "a stride of " + what));
  const int64_t offset = concrete(m.get_storage_offset(), "the storage offset of " + what);
  if (sizes.size() != strides.size()) malformed(what + ": " + std::to_string(sizes.size()) + " sizes but " +
                                                std::to_string(strides.size()) + " strides");
  // The elements the view reaches: offset + sum((size - 1) * stride) + 1.
  int64_t numel = 1, extent = offset + 1;
  bool empty = false;
  if (offset < 0) malformed(what + ": negative storage offset");
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] < 0 || strides[i] < 0) malformed(what + ": negative size or stride");
    if (sizes[i] == 0) empty = true;
    if (sizes[i] > 0 && strides[i] > 0 && (sizes[i] - 1) > (std::numeric_limits<int64_t>::max() / 2) / strides[i]) {
      malformed(what + ": sizes overflow");
    }
    if (sizes[i] > 0) extent += (sizes[i] - 1) * strides[i];
    numel = empty ? 0 : numel * sizes[i];
  }
  const int64_t esize = elem_size(*dtype);
  const std::string entry = dir + file;
  if (check_) return check_->tensor(ar_, entry, fqn, *dtype, sizes, strides, offset);
  auto [it, fresh] = blobs_.try_emplace(entry);
  if (fresh) it->second = ar_.read(entry, "the data of " + what);
  const std::string& bytes = it->second;
  const int64_t nbytes = static_cast<int64_t>(bytes.size());
  if (nbytes % esize != 0 || (!empty && nbytes / esize < extent)) {
    malformed("entry '" + ar_.root() + entry + "' has " + std::to_string(nbytes) + " bytes, but " + what + " (" +
              ir::dtype_name(*dtype) + shape_text(sizes) + ", strides " + shape_text(strides) + ", offset " +
              std::to_string(offset) + ") needs " + std::to_string(empty ? 0 : extent * esize));
  }
  const auto scalar = static_cast<c10::ScalarType>(static_cast<int>(*dtype));
  at::Tensor flat = at::empty({nbytes / esize}, at::TensorOptions().dtype(scalar));
  if (nbytes) std::memcpy(flat.data_ptr(), bytes.data(), static_cast<size_t>(nbytes));
  (void)numel;
  return flat.as_strided(sizes, strides, offset);
}

void ProgramReader::read_payloads() {
  std::set<std::string> params, persistent, nonpersistent, constants;
  for (const ir::InputSpec& s : ep_.input_specs) {
    if (s.kind == ir::InputKind::kParameter) params.insert(s.target);
    if (s.kind == ir::InputKind::kBuffer) (s.persistent ? persistent : nonpersistent).insert(s.target);
    if (s.kind == ir::InputKind::kConstantTensor) constants.insert(s.target);
  }
  const std::string weights_config = format_archive_path(archive::WEIGHTS_CONFIG_FILENAME_FORMAT, kModelName);
  const std::string constants_config = format_archive_path(archive::CONSTANTS_CONFIG_FILENAME_FORMAT, kModelName);
  if (ar_.has(std::string(archive::WEIGHTS_DIR) + kModelName + ".pt") ||
      ar_.has(std::string(archive::CONSTANTS_DIR) + kModelName + ".pt")) {
    malformed("weights in the legacy pickled format (data/weights/model.pt) are not supported");
  }
  auto read_config = [&](const std::string& name) {
    std::map<std::string, tx::PayloadMeta> sorted;
    if (!ar_.has(name)) return sorted;
    const auto config = parse_json<tx::PayloadConfig>(ar_, name, ar_.read(name, "payload config"));
    sorted.insert(config.get_config().begin(), config.get_config().end());
    return sorted;
  };
  for (const auto& [fqn, pm] : read_config(weights_config)) {
    at::Tensor t = payload(std::string(archive::WEIGHTS_DIR), fqn, pm, weights_config);
    (pm.get_is_param() ? ep_.parameters : ep_.buffers)[fqn] = t;
  }
  for (const auto& [fqn, pm] : read_config(constants_config)) {
    const std::string& file = pm.get_path_name();
    if (file.rfind(archive::TENSOR_CONSTANT_FILENAME_PREFIX, 0) != 0) {
      malformed("constant '" + fqn + "' in " + constants_config + " is a pickled object ('" + file +
                "'); ptexport never unpickles");
    }
    at::Tensor t = payload(std::string(archive::CONSTANTS_DIR), fqn, pm, constants_config);
    (nonpersistent.count(fqn) ? ep_.buffers : ep_.constants)[fqn] = t;
  }
  auto require = [&](const std::set<std::string>& names, const std::map<std::string, at::Tensor>& m,
                     const char* what, const std::string& config) {
    for (const std::string& n : names) {
      if (!m.count(n)) malformed(std::string(what) + " '" + n + "' has no entry in " + config);
    }
  };
  require(params, ep_.parameters, "parameter", weights_config);
  require(persistent, ep_.buffers, "buffer", weights_config);
  require(nonpersistent, ep_.buffers, "buffer", constants_config);
  require(constants, ep_.constants, "constant", constants_config);
}

}  // namespace ptx::serialize::reader
