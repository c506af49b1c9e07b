// serialize/pt2_reader.cpp: .pt2 archive -> torch::_export schema types -> ir::ExportedProgram.
// See serialize/pt2_reader.h. The checks mirror torch's loader (torch/export/pt2_archive/_package.py
// load_pt2, torch/_export/serde/serialize.py ExportedProgramDeserializer) and are stricter where
// torch would crash or silently make something up.
#include "serialize/pt2_reader.h"

#include <ATen/ATen.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <nlohmann/json.hpp>
#include <torch/csrc/export/pt2_archive_constants.h>

#include <cstring>
#include <limits>
#include <memory>
#include <set>
#include <unordered_map>
#include <variant>
#include <vector>

#include "serialize/pt2_format.h"
#include "serialize/pt2_zip.h"
#include "serialize/written_check.h"
#include "serialize/schema_version.h"
#include "serialize/sympy_text.h"
#include "shapes/error.h"
#include "shapes/limits.h"

namespace ptx::serialize {
namespace {

namespace archive = torch::_export::archive_spec;
using detail::Archive;
using detail::malformed;
using detail::Malformed;
using ir::Value;
using ir::ValueType;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

/// Parses an entry's JSON into a schema type, naming the entry on failure.
template <typename T>
T parse_json(const Archive& ar, const std::string& name, const std::string& text) {
  try {
    return parse_archive_json(text).get<T>();
  } catch (const nlohmann::json::exception& e) {
    malformed("entry '" + ar.root() + name + "': bad JSON (" + e.what() + ")");
  } catch (const std::length_error& e) {
    malformed("entry '" + ar.root() + name + "': " + e.what());
  }
}

// ---- the program --------------------------------------------------------------------------------

int64_t elem_size(ir::DType t) {
  return static_cast<int64_t>(c10::elementSize(static_cast<c10::ScalarType>(static_cast<int>(t))));
}

std::string shape_text(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

class ProgramReader {
 public:
  /// With `check`, weights and constants are checked against what was written and taken from
  /// the written program instead of read (read_pt2_written).
  ProgramReader(const Archive& ar, const tx::ExportedProgram& program, detail::WrittenCheck* check)
      : ar_(ar), program_(program), check_(check) {}

  ir::ExportedProgram run(std::map<std::string, int64_t>* hints) {
    const tx::SchemaVersion& v = program_.get_schema_version();
    if (v.get_major() != kSchemaMajor) {
      malformed("schema version " + std::to_string(v.get_major()) + "." + std::to_string(v.get_minor()) +
                " is not supported (major version " + std::to_string(kSchemaMajor) + " expected)");
    }
    const tx::GraphModule& gm = program_.get_graph_module();
    read_ranges();
    read_inputs(gm.get_graph(), gm.get_signature());
    for (const tx::Node& n : gm.get_graph().get_nodes()) read_node(n);
    read_outputs(gm.get_graph(), gm.get_signature());
    read_specs(gm.get_module_call_graph());
    read_payloads();
    if (check_) check_->check_complete(ep_);
    if (hints) *hints = hints_;
    return std::move(ep_);
  }

 private:
  // ---- symbols ----------------------------------------------------------------------------------
  void read_ranges() {
    std::map<std::string, tx::RangeConstraint> sorted(program_.get_range_constraints().begin(),
                                                      program_.get_range_constraints().end());
    for (const auto& [name, rc] : sorted) {
      shapes::Range r;
      r.min = rc.get_min_val().value_or(std::numeric_limits<int64_t>::min());
      // Unbounded is null; some writers use a huge sentinel (sys.maxsize - 1) instead.
      if (rc.get_max_val() && *rc.get_max_val() < std::numeric_limits<int64_t>::max() - 1) r.max = rc.get_max_val();
      // torch also lists the range of each derived input dim ("2*s0"); the program keeps the
      // symbols' ranges only, and the writer derives the others again from the inputs' sizes.
      if (parse_expr(name, "range constraint '" + name + "'").is_symbol()) ep_.range_constraints[name] = r;
    }
  }

  shapes::SymExpr parse_expr(const std::string& text, const std::string& what) {
    try {
      return parse_sympy_expr(text, symbols_);
    } catch (const SympyParseError& e) {
      malformed(what + ": " + e.what());
    } catch (const Error& e) {
      malformed(what + ": " + e.what());
    }
  }

  shapes::SymExpr sym_int(const tx::SymInt& s, const std::string& what) {
    switch (s.tag()) {
      case tx::SymInt::Tag::AS_INT:
        return s.get_as_int();
      case tx::SymInt::Tag::AS_EXPR: {
        const tx::SymExpr& x = s.get_as_expr();
        shapes::SymExpr e = parse_expr(x.get_expr_str(), what);
        if (e.is_symbol() && x.get_hint() && x.get_hint()->tag() == tx::SymExprHint::Tag::AS_INT) {
          hints_[e.symbol_name()] = x.get_hint()->get_as_int();
        }
        return e;
      }
    }
    malformed(what + ": not a SymInt");
  }

  static int64_t concrete(const tx::SymInt& s, const std::string& what) {
    if (s.tag() != tx::SymInt::Tag::AS_INT) malformed(what + " is symbolic; weights need concrete sizes");
    return s.get_as_int();
  }

  /// The schema graph being read: the program's, or a subgraph's (cond's branches).
  const tx::Graph& tx_graph() const { return tx_graph_ ? *tx_graph_ : program_.get_graph_module().get_graph(); }
  ir::Graph& graph() { return graph_ ? *graph_ : *ep_.graph; }

  ir::TensorMeta tensor_meta(const std::string& name) {
    const auto& values = tx_graph().get_tensor_values();
    auto it = values.find(name);
    if (it == values.end()) malformed("tensor '" + name + "' has no entry in tensor_values");
    const tx::TensorMeta& m = it->second;
    ir::TensorMeta out;
    auto dtype = from_schema_dtype(m.get_dtype());
    if (!dtype) malformed("tensor '" + name + "': unsupported dtype " + std::to_string(static_cast<int>(m.get_dtype())));
    out.dtype = *dtype;
    for (const tx::SymInt& s : m.get_sizes()) out.sizes.push_back(sym_int(s, "size of tensor '" + name + "'"));
    for (const tx::SymInt& s : m.get_strides()) out.strides.push_back(sym_int(s, "stride of tensor '" + name + "'"));
    out.storage_offset = sym_int(m.get_storage_offset(), "storage offset of tensor '" + name + "'");
    out.device = from_schema_device(m.get_device());
    out.requires_grad = m.get_requires_grad();
    if (m.get_layout() != tx::Layout::Strided) malformed("tensor '" + name + "' is not strided");
    return out;
  }

  /// Gives a value its meta from the graph's tables.
  void fill(Value* v) {
    const tx::Graph& g = tx_graph();
    switch (v->type()) {
      case ValueType::kTensor:
        v->mutable_meta() = tensor_meta(v->name());
        break;
      case ValueType::kSymInt: {
        auto it = g.get_sym_int_values().find(v->name());
        if (it == g.get_sym_int_values().end()) malformed("SymInt '" + v->name() + "' has no entry in sym_int_values");
        v->set_sym(sym_int(it->second, "SymInt '" + v->name() + "'"));
        break;
      }
      case ValueType::kSymFloat: {  // an unbacked float's symbol (zuf0), when the table names one
        auto it = g.get_sym_float_values().find(v->name());
        if (it != g.get_sym_float_values().end() && it->second.tag() == tx::SymFloat::Tag::AS_EXPR) {
          v->set_float_symbol(it->second.get_as_expr().get_expr_str());
        }
        break;
      }
      default:
        break;  // ir/ keeps no expression for SymBool values
    }
  }

  // ---- inputs -----------------------------------------------------------------------------------
  /// A user input or output position: a value name, or a constant.
  struct Slot {
    std::string value;         // empty: constant
    std::string constant_json;  // "null" for None
    bool is_none = false;
  };

  static std::optional<std::string> constant_json(const tx::Argument& a) {
    switch (a.tag()) {
      case tx::Argument::Tag::AS_NONE: return std::string("null");
      case tx::Argument::Tag::AS_INT: return nlohmann::json(a.get_as_int()).dump();
      case tx::Argument::Tag::AS_FLOAT: return nlohmann::json(a.get_as_float().get()).dump();
      case tx::Argument::Tag::AS_BOOL: return nlohmann::json(a.get_as_bool()).dump();
      case tx::Argument::Tag::AS_STRING: return nlohmann::json(a.get_as_string()).dump();
      default: return std::nullopt;
    }
  }

  static std::string constant_json(const tx::ConstantValue& c) {
    switch (c.tag()) {
      case tx::ConstantValue::Tag::AS_NONE: return "null";
      case tx::ConstantValue::Tag::AS_INT: return nlohmann::json(c.get_as_int()).dump();
      case tx::ConstantValue::Tag::AS_FLOAT: return nlohmann::json(c.get_as_float().get()).dump();
      case tx::ConstantValue::Tag::AS_STRING: return nlohmann::json(c.get_as_string()).dump();
      case tx::ConstantValue::Tag::AS_BOOL: return nlohmann::json(c.get_as_bool()).dump();
    }
    return "null";
  }

  /// The name and type of a graph value an argument refers to; nullopt for a constant.
  static std::optional<std::pair<std::string, ValueType>> named(const tx::Argument& a) {
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

  Value* add_placeholder(const std::string& name, ValueType type) {
    if (values_.count(name)) malformed("graph input '" + name + "' is defined twice");
    std::optional<ir::TensorMeta> meta;
    if (type == ValueType::kTensor) meta = tensor_meta(name);
    Value* v = graph().add_placeholder(name, type, meta);
    if (v->name() != name) malformed("graph input name '" + name + "' clashes with another name");
    if (type == ValueType::kSymInt) fill(v);
    values_[name] = v;
    return v;
  }

  void read_inputs(const tx::Graph& g, const tx::GraphSignature& sig) {
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

  // ---- nodes ------------------------------------------------------------------------------------
  Value* value(const std::string& name, const std::string& where) const {
    auto it = values_.find(name);
    if (it == values_.end()) malformed(where + " reads unknown value '" + name + "'");
    return it->second;
  }

  ir::SymIntArg sym_int_arg(const tx::SymIntArgument& s, const std::string& where) const {
    if (s.tag() == tx::SymIntArgument::Tag::AS_INT) return s.get_as_int();
    return value(s.get_as_name(), where);
  }

  /// True when argument `arg` of `target`'s schema is Tensor?[] (torch writes such a list without
  /// None elements as as_tensors).
  static bool is_optional_tensor_list(const std::string& target, const std::string& arg) {
    const size_t sep = target.find("::");
    if (sep == std::string::npos) return false;
    const size_t dot = target.find('.', sep);
    std::string name = target.substr(0, dot), overload = dot == std::string::npos ? "" : target.substr(dot + 1);
    if (overload == "default") overload.clear();
    auto op = c10::Dispatcher::singleton().findSchema({name, overload});
    if (!op) return false;
    for (const c10::Argument& a : op->schema().arguments()) {
      if (a.name() != arg) continue;
      const auto list = a.type()->cast<c10::ListType>();
      return list && list->getElementType()->kind() == c10::TypeKind::OptionalType;
    }
    return false;
  }

  ir::ArgValue arg(const tx::Argument& a, const std::string& target, const std::string& name,
                   const std::string& where) const {
    using Tag = tx::Argument::Tag;
    switch (a.tag()) {
      case Tag::AS_NONE: return ir::NoneArg{};
      case Tag::AS_TENSOR: return value(a.get_as_tensor().get_name(), where);
      case Tag::AS_TENSORS: {
        if (is_optional_tensor_list(target, name)) {
          std::vector<std::optional<Value*>> out;
          for (const auto& t : a.get_as_tensors()) out.emplace_back(value(t.get_name(), where));
          return out;
        }
        std::vector<Value*> out;
        for (const auto& t : a.get_as_tensors()) out.push_back(value(t.get_name(), where));
        return out;
      }
      case Tag::AS_OPTIONAL_TENSORS: {
        std::vector<std::optional<Value*>> out;
        for (const auto& o : a.get_as_optional_tensors()) {
          if (o.tag() == tx::OptionalTensorArgument::Tag::AS_TENSOR) {
            out.emplace_back(value(o.get_as_tensor().get_name(), where));
          } else {
            out.emplace_back(std::nullopt);
          }
        }
        return out;
      }
      case Tag::AS_INT: return a.get_as_int();
      case Tag::AS_INTS: {
        std::vector<ir::SymIntArg> out;
        for (int64_t i : a.get_as_ints()) out.emplace_back(i);
        return out;
      }
      case Tag::AS_SYM_INT: {
        ir::SymIntArg s = sym_int_arg(a.get_as_sym_int(), where);
        if (const auto* i = std::get_if<int64_t>(&s)) return *i;
        return std::get<Value*>(s);
      }
      case Tag::AS_SYM_INTS: {
        std::vector<ir::SymIntArg> out;
        for (const auto& s : a.get_as_sym_ints()) out.push_back(sym_int_arg(s, where));
        return out;
      }
      case Tag::AS_FLOAT: return a.get_as_float().get();
      case Tag::AS_FLOATS: {
        std::vector<double> out;
        for (const auto& f : a.get_as_floats()) out.push_back(f.get());
        return out;
      }
      case Tag::AS_STRING: return a.get_as_string();
      case Tag::AS_BOOL: return a.get_as_bool();
      case Tag::AS_BOOLS: return std::vector<bool>(a.get_as_bools().begin(), a.get_as_bools().end());
      case Tag::AS_SYM_BOOL:
        if (a.get_as_sym_bool().tag() == tx::SymBoolArgument::Tag::AS_BOOL) return a.get_as_sym_bool().get_as_bool();
        return value(a.get_as_sym_bool().get_as_name(), where);
      case Tag::AS_SYM_FLOAT:
        if (a.get_as_sym_float().tag() == tx::SymFloatArgument::Tag::AS_FLOAT) {
          return a.get_as_sym_float().get_as_float().get();
        }
        return value(a.get_as_sym_float().get_as_name(), where);
      case Tag::AS_SCALAR_TYPE: {
        auto d = from_schema_dtype(a.get_as_scalar_type());
        if (!d) malformed(where + ": unsupported dtype " + std::to_string(static_cast<int>(a.get_as_scalar_type())));
        return ir::DTypeArg{*d};
      }
      case Tag::AS_LAYOUT: {
        auto l = from_schema_layout(a.get_as_layout());
        if (!l) malformed(where + ": unknown layout");
        return ir::LayoutArg{*l};
      }
      case Tag::AS_MEMORY_FORMAT: {
        auto f = from_schema_memory_format(a.get_as_memory_format());
        if (!f) malformed(where + ": unknown memory format");
        return ir::MemoryFormatArg{*f};
      }
      case Tag::AS_DEVICE: return ir::DeviceArg{from_schema_device(a.get_as_device())};
      default:
        malformed(where + ": argument kind " + std::to_string(static_cast<int>(a.tag())) +
                  " (graphs, custom objects, operators, nested lists) is not supported");
    }
  }

  static ir::NodeMeta node_meta(const std::unordered_map<std::string, std::string>& md) {
    ir::NodeMeta m;
    if (auto it = md.find("stack_trace"); it != md.end()) {
      m.stack_trace = it->second;
      // The innermost frame: the last 'File "<file>", line <n>'.
      const size_t at = m.stack_trace.rfind("File \"");
      if (at != std::string::npos) {
        const size_t q = m.stack_trace.find('"', at + 6);
        const size_t line = m.stack_trace.find(", line ", q == std::string::npos ? at : q);
        if (q != std::string::npos && line == q + 1) {
          m.source_file = m.stack_trace.substr(at + 6, q - at - 6);
          m.source_line = std::atoi(m.stack_trace.c_str() + line + 7);
        }
      }
    }
    if (auto it = md.find("nn_module_stack"); it != md.end()) {
      // "key,path,type;..." where path and type may hold commas inside brackets.
      size_t start = 0;
      const std::string& s = it->second;
      while (start <= s.size()) {
        size_t end = s.find(';', start);
        if (end == std::string::npos) end = s.size();
        const std::string item = s.substr(start, end - start);
        std::vector<std::string> parts;
        int depth = 0;
        size_t from = 0;
        for (size_t i = 0; i < item.size(); ++i) {
          const char c = item[i];
          if (c == '[' || c == '(') ++depth;
          if (c == ']' || c == ')') --depth;
          if (c == ',' && depth == 0) {
            parts.push_back(item.substr(from, i - from));
            from = i + 1;
          }
        }
        parts.push_back(item.substr(from));
        if (parts.size() == 3) m.nn_module_stack.push_back({parts[0], parts[1], parts[2]});
        start = end + 1;
      }
    }
    return m;
  }

  void read_node(const tx::Node& n) {
    const std::string target = from_schema_target(n.get_target());
    std::string node_name = n.get_name().value_or("");
    const std::string where = "node '" + (node_name.empty() ? target : node_name) + "'";
    if ((target.rfind("torch.ops.higher_order.", 0) == 0 || target.rfind("higher_order::", 0) == 0) &&
        target != "higher_order::cond" && target != "higher_order::while_loop") {
      malformed(where + ": higher-order op " + n.get_target() + " is not supported");
    }
    std::vector<ir::NamedArg> inputs;
    for (const tx::NamedArgument& na : n.get_inputs()) {
      ir::NamedArg a;
      a.name = na.get_name();
      if (na.get_arg().tag() == tx::Argument::Tag::AS_GRAPH) {
        a.value = read_subgraph(na.get_arg().get_as_graph(), where);
      } else {
        a.value = arg(na.get_arg(), target, a.name, where);
      }
      a.kwarg_only = na.get_kind() && *na.get_kind() == static_cast<int64_t>(tx::ArgumentKind::KEYWORD);
      inputs.push_back(std::move(a));
    }
    // Outputs: names and types.
    std::vector<std::string> names;
    std::vector<ValueType> types;
    bool returns_list = false;
    for (const tx::Argument& out : n.get_outputs()) {
      if (out.tag() == tx::Argument::Tag::AS_TENSORS) {
        if (n.get_outputs().size() != 1) malformed(where + ": a list among several outputs is not supported");
        returns_list = true;
        for (const auto& t : out.get_as_tensors()) {
          names.push_back(t.get_name());
          types.push_back(ValueType::kTensor);
        }
      } else if (out.tag() == tx::Argument::Tag::AS_NONE) {
        names.push_back("");
        types.push_back(ValueType::kNone);
      } else if (auto nm = named(out)) {
        names.push_back(nm->first);
        types.push_back(nm->second);
      } else {
        malformed(where + ": unsupported output kind");
      }
    }
    if (node_name.empty()) node_name = names.size() == 1 && !names[0].empty() ? names[0] : "node";
    ir::Graph& g = graph();
    // A single output shares the node's name. With several, the node gets a throw-away name first
    // so that Graph::add_call's derived output names cannot take a name a later value needs.
    const bool single = names.size() == 1 && !names[0].empty() && target.rfind("higher_order::", 0) != 0;
    ir::Node* node = g.add_call(target, std::move(inputs), types, single ? names[0] : "\x01" + node_name);
    node->set_returns_list(returns_list);
    node->meta() = node_meta(n.get_metadata());
    const bool hop_single = !single && names.size() == 1;  // cond with one output: named after it
    if (!single && !hop_single) g.rename_node(node, node_name);
    for (size_t i = 0; i < names.size(); ++i) {
      Value* v = node->outputs()[i];
      if (names[i].empty()) {
        g.rename(v, node_name + "_none_" + std::to_string(i));
        continue;
      }
      if (values_.count(names[i])) malformed(where + ": value '" + names[i] + "' is defined twice");
      if (!single) g.rename(v, names[i]);
      if (v->name() != names[i]) malformed(where + ": value name '" + names[i] + "' clashes with another name");
      values_[names[i]] = v;
      fill(v);
    }
    // A higher-order op's one output renamed its node too (Graph::rename): the node keeps its name.
    if (hop_single) g.rename_node(node, node_name);
  }

  /// A higher-order op's subgraph (torch's GraphArgument): its inputs become placeholders, read in
  /// a scope of its own (its value names may repeat the parent's).
  ir::GraphArg read_subgraph(const tx::GraphArgument& ga, const std::string& where) {
    auto sub = std::make_shared<ir::Graph>();
    const tx::Graph& txg = *ga.get_graph();
    ir::Graph* saved_graph = graph_;
    const tx::Graph* saved_tx = tx_graph_;
    std::map<std::string, Value*> saved_values = std::move(values_);
    values_.clear();
    graph_ = sub.get();
    tx_graph_ = &txg;
    const std::string here = where + ", subgraph '" + ga.get_name() + "'";
    for (const tx::Argument& in : txg.get_inputs()) {
      auto nm = named(in);
      if (!nm) malformed(here + ": a constant input is not supported");
      add_placeholder(nm->first, nm->second);
    }
    for (const tx::Node& n : txg.get_nodes()) read_node(n);
    std::vector<Value*> outs;
    for (const tx::Argument& out : txg.get_outputs()) {
      auto nm = named(out);
      if (!nm) malformed(here + ": a constant output is not supported");
      outs.push_back(value(nm->first, here));
    }
    sub->set_outputs(std::move(outs));
    graph_ = saved_graph;
    tx_graph_ = saved_tx;
    values_ = std::move(saved_values);
    return ir::GraphArg{ga.get_name(), sub};
  }

  // ---- outputs ----------------------------------------------------------------------------------
  void read_outputs(const tx::Graph& g, const tx::GraphSignature& sig) {
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
  /// Names the spec's leaves from the slots, in order.
  /// Input leaves get their placeholder's name; output leaves stay "" (ir::PyTree).
  static void name_leaves(ir::PyTree& t, const std::vector<Slot>& slots, size_t& next, const std::string& what,
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

  static ir::PyTree tuple_of_leaves(size_t n) {
    ir::PyTree t;
    t.kind = ir::PyTree::Kind::kTuple;
    t.children.resize(n);
    return t;
  }

  void read_specs(const std::vector<tx::ModuleCallEntry>& graph) {
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
  at::Tensor payload(const std::string& dir, const std::string& fqn, const tx::PayloadMeta& pm,
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

  void read_payloads() {
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

  const Archive& ar_;
  const tx::ExportedProgram& program_;
  detail::WrittenCheck* check_;
  ir::ExportedProgram ep_;
  SymbolTable symbols_;
  std::map<std::string, int64_t> hints_;
  std::map<std::string, Value*> values_;
  ir::Graph* graph_ = nullptr;            // null: the program's graph
  const tx::Graph* tx_graph_ = nullptr;   // null: the program's graph
  std::vector<Slot> user_inputs_, user_outputs_;
  std::map<std::string, std::string> blobs_;
};

}  // namespace

namespace {
ir::ExportedProgram read_archive(const std::filesystem::path& path, std::map<std::string, int64_t>* symbol_hints,
                                 detail::WrittenCheck* check) {
  const std::string file = path.string();
  try {
    Archive ar(path);
    auto read_text = [&](std::string_view name, const char* what) { return trim(ar.read(std::string(name), what)); };
    if (!ar.has(std::string(archive::ARCHIVE_FORMAT_PATH))) {
      malformed("not a PT2 archive (no " + ar.root() + std::string(archive::ARCHIVE_FORMAT_PATH) + " entry)");
    }
    const std::string format = read_text(archive::ARCHIVE_FORMAT_PATH, "archive format");
    if (format != archive::ARCHIVE_FORMAT_VALUE) {
      malformed("archive_format is '" + format + "', expected '" + std::string(archive::ARCHIVE_FORMAT_VALUE) + "'");
    }
    const std::string version =
        ar.has(std::string(archive::ARCHIVE_VERSION_PATH)) ? read_text(archive::ARCHIVE_VERSION_PATH, "archive version") : "0";
    if (version != archive::ARCHIVE_VERSION_VALUE) {
      malformed("archive_version is '" + version + "', expected '" + std::string(archive::ARCHIVE_VERSION_VALUE) + "'");
    }
    const std::string model = format_archive_path(archive::MODELS_FILENAME_FORMAT, kModelName);
    if (!ar.has(model)) {
      std::string others;
      for (const std::string& n : ar.names_under(std::string(archive::MODELS_DIR))) others += " " + n;
      malformed("no entry '" + ar.root() + model + "'" + (others.empty() ? "" : " (models:" + others + ")"));
    }
    const auto program = parse_json<tx::ExportedProgram>(ar, model, ar.read(model, "the exported program"));
    try {
      return ProgramReader(ar, program, check).run(symbol_hints);
    } catch (const std::bad_variant_access&) {
      malformed("entry '" + ar.root() + model + "': a union has no recognised member");
    } catch (const nlohmann::json::exception& e) {
      malformed("entry '" + ar.root() + model + "': " + e.what());
    }
  } catch (const Malformed& m) {
    PTX_USER_FAIL(ExitCode::kInput, "E_PT2") << "cannot read " << file << ": " << m.message;
  } catch (const c10::Error& e) {
    std::string msg = e.what_without_backtrace();
    if (const size_t nl = msg.find('\n'); nl != std::string::npos) msg.resize(nl);
    PTX_USER_FAIL(ExitCode::kInput, "E_PT2") << "cannot read " << file << ": " << msg;
  }
}
}  // namespace

ir::ExportedProgram read_pt2(const std::filesystem::path& path, std::map<std::string, int64_t>* symbol_hints) {
  return read_archive(path, symbol_hints, nullptr);
}

ir::ExportedProgram read_pt2_written(const std::filesystem::path& path, const ir::ExportedProgram& written,
                                     const WrittenEntries& entries, const std::filesystem::path& dest) {
  detail::WrittenCheck check(written, entries);
  try {
    return read_archive(path, nullptr, &check);
  } catch (const detail::Mismatch& m) {
    PTX_USER_FAIL(ExitCode::kVerifyMismatch, "E_ROUNDTRIP")
        << dest.string() << ": the archive read back (" << path.string() << ") differs from the program written: "
        << m.message << "; it was not written (a bug or a failing disk: please report it)";
  }
}

}  // namespace ptx::serialize
