// serialize/pt2_reader_graph.cpp: the program's graphs read back from torch::_export schema
// objects: symbols and range constraints, tensor metas, nodes with their targets and arguments,
// node metadata (stack traces, nn_module_stack), higher-order ops' subgraphs. See
// serialize/pt2_reader_impl.h.
#include <ATen/core/dispatch/Dispatcher.h>

#include <limits>
#include <set>
#include <variant>

#include "serialize/pt2_reader_impl.h"
#include "shapes/error.h"
#include "shapes/limits.h"

namespace ptx::serialize::reader {

// ---- symbols ----------------------------------------------------------------------------------
void ProgramReader::read_ranges() {
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

shapes::SymExpr ProgramReader::parse_expr(const std::string& text, const std::string& what) {
  try {
    return parse_sympy_expr(text, symbols_);
  } catch (const SympyParseError& e) {
    malformed(what + ": " + e.what());
  } catch (const Error& e) {
    malformed(what + ": " + e.what());
  }
}

shapes::SymExpr ProgramReader::sym_int(const tx::SymInt& s, const std::string& what) {
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

int64_t ProgramReader::concrete(const tx::SymInt& s, const std::string& what) {
  if (s.tag() != tx::SymInt::Tag::AS_INT) malformed(what + " is symbolic; weights need concrete sizes");
  return s.get_as_int();
}

ir::TensorMeta ProgramReader::tensor_meta(const std::string& name) {
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

void ProgramReader::fill(Value* v) {
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

// ---- nodes ------------------------------------------------------------------------------------
Value* ProgramReader::value(const std::string& name, const std::string& where) const {
  auto it = values_.find(name);
  if (it == values_.end()) malformed(where + " reads unknown value '" + name + "'");
  return it->second;
}

ir::SymIntArg ProgramReader::sym_int_arg(const tx::SymIntArgument& s, const std::string& where) const {
  if (s.tag() == tx::SymIntArgument::Tag::AS_INT) return s.get_as_int();
  return value(s.get_as_name(), where);
}

bool ProgramReader::is_optional_tensor_list(const std::string& target, const std::string& arg) {
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

ir::ArgValue ProgramReader::arg(const tx::Argument& a, const std::string& target, const std::string& name,
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

ir::NodeMeta ProgramReader::node_meta(const std::unordered_map<std::string, std::string>& md) {
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

void ProgramReader::read_node(const tx::Node& n) {
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

ir::GraphArg ProgramReader::read_subgraph(const tx::GraphArgument& ga, const std::string& where) {
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

}  // namespace ptx::serialize::reader
