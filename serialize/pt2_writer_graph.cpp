// serialize/pt2_writer_graph.cpp: the program and its graphs as torch::_export schema objects: the
// ExportedProgram and its range constraints, nodes and their arguments, symbolic values and tensor
// metas, higher-order ops' subgraphs, node metadata (GraphModuleSerializer's handle_call_function,
// serialize_input, serialize_sym_int, serialize_tensor_meta). See serialize/pt2_writer_impl.h.
#include <torch/headeronly/version.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <type_traits>
#include <variant>

#include "serialize/pt2_writer_impl.h"
#include "serialize/schema_version.h"
#include "serialize/sympy_text.h"
#include "shapes/interval.h"

namespace ptx::serialize::writer {

// Note [-inf in the JSON]: LibTorch 2.14's generated to_json(F64) tests isinf() before the sign and
// writes -inf as "Infinity", which torch.export.load reads as +inf (a masked_fill(..., -inf) would
// turn into +inf). So -inf goes into the schema objects as a sentinel that no model writes, and the
// sentinel becomes torch's "-Infinity" in the JSON.
constexpr double kNegativeInfinitySentinel = -0x1.5ee7c0ffee123p-1021;

tx::F64 f64(double v) {
  tx::F64 f;
  f.set(std::isinf(v) && v < 0 ? kNegativeInfinitySentinel : v);
  return f;
}

namespace {

/// Turns the -inf sentinel of Note [-inf in the JSON] back into torch's "-Infinity".
void restore_negative_infinity(nlohmann::json& j) {
  if (j.is_number_float()) {
    if (j.get<double>() == kNegativeInfinitySentinel) j = "-Infinity";
  } else if (j.is_structured()) {
    for (auto& child : j) restore_negative_infinity(child);
  }
}

}  // namespace

Pt2Json ProgramSerializer::run() {
  tx::Graph graph;
  tx::GraphSignature signature;
  serialize_inputs(graph, signature);
  std::vector<tx::Node> nodes;
  for (const auto& node : ep_.graph->nodes()) {
    if (node->kind() == ir::NodeKind::kCall) nodes.push_back(serialize_node(*node));
  }
  graph.set_nodes(std::move(nodes));
  serialize_outputs(graph, signature);
  graph.set_tensor_values(tensor_values_);
  graph.set_sym_int_values(sym_int_values_);
  graph.set_sym_float_values(sym_float_values_);
  graph.set_sym_bool_values(sym_bool_values_);
  graph.set_is_single_tensor_return(false);

  tx::GraphModule gm;
  gm.set_graph(std::move(graph));
  gm.set_signature(std::move(signature));
  gm.set_module_call_graph(module_call_graph());

  tx::ExportedProgram program;
  program.set_graph_module(std::move(gm));
  program.set_opset_version(std::unordered_map<std::string, int64_t>{{"aten", kAtenOpsetVersion}});
  std::unordered_map<std::string, tx::RangeConstraint> ranges;
  for (const auto& [name, range] : ep_.range_constraints) {
    tx::RangeConstraint rc;
    // -int_oo (an item() with no check) is null, as torch writes it.
    rc.set_min_val(range.min == shapes::Range::kNoMin ? std::nullopt : std::optional<int64_t>(range.min));
    rc.set_max_val(range.max);
    ranges.emplace(name, rc);
  }
  // Like torch, the range of every derived input dim (an expression such as 2*s0, from its
  // root's range): torch.export.load's input check bounds the input dim by it.
  for (const ir::Value* p : ep_.graph->placeholders()) {
    if (p->type() != ir::ValueType::kTensor || !p->has_meta()) continue;
    for (const shapes::SymExpr& d : p->meta().sizes) {
      if (d.is_const() || d.is_symbol() || ranges.count(d.str())) continue;
      const shapes::Interval b = shapes::bounds_of(d, [&](shapes::SymExpr s) {
        auto it = ep_.range_constraints.find(s.symbol_name());
        if (it == ep_.range_constraints.end()) return shapes::Interval::all();
        return shapes::Interval{it->second.min, it->second.max};
      });
      tx::RangeConstraint rc;
      rc.set_min_val(b.lo);
      rc.set_max_val(b.hi);
      ranges.emplace(d.str(), rc);
    }
  }
  program.set_range_constraints(std::move(ranges));
  tx::SchemaVersion version;
  version.set_major(kSchemaMajor);
  version.set_minor(kSchemaMinor);
  program.set_schema_version(version);
  program.set_verifiers(std::vector<std::string>{opts_.dialect});
  program.set_torch_version(std::string(TORCH_VERSION));
  program.set_guards_code(std::vector<std::string>{});

  Pt2Json out;
  nlohmann::json model(program);
  restore_negative_infinity(model);
  out.model = model.dump();
  out.weights_config = nlohmann::json(payload_config(weights_, "weight_", archive::WEIGHTS_DIR, weight_blobs_)).dump();
  out.constants_config = nlohmann::json(payload_config(constants_, "tensor_", archive::CONSTANTS_DIR, constant_blobs_)).dump();
  return out;
}

// ---- symbolic integers ------------------------------------------------------------------------
std::optional<int64_t> ProgramSerializer::hint_of(shapes::SymExpr e) const {
  shapes::Assignment values;
  for (shapes::SymExpr s : shapes::free_symbols(e)) {
    auto it = opts_.symbol_hints.find(s.symbol_name());
    if (it == opts_.symbol_hints.end()) return std::nullopt;
    values[s.symbol_id()] = it->second;
  }
  return shapes::evaluate(e, values);
}

tx::SymInt ProgramSerializer::sym_int(shapes::SymExpr e) const {
  tx::SymInt s;
  if (auto c = e.as_const()) {
    s.set_as_int(*c);
    return s;
  }
  tx::SymExpr x;
  x.set_expr_str(to_sympy_repr(e));
  if (auto h = hint_of(e)) {
    tx::SymExprHint hint;
    hint.set_as_int(*h);
    x.set_hint(std::optional<tx::SymExprHint>(hint));
  }
  s.set_as_expr(std::move(x));
  return s;
}

tx::TensorMeta ProgramSerializer::tensor_meta(const ir::TensorMeta& m) const {
  tx::TensorMeta out;
  out.set_dtype(to_schema_dtype(m.dtype));
  std::vector<tx::SymInt> sizes, strides;
  for (shapes::SymExpr s : m.sizes) sizes.push_back(sym_int(s));
  if (m.strides.size() == m.sizes.size()) {
    for (shapes::SymExpr s : m.strides) strides.push_back(sym_int(s));
  } else {
    std::vector<shapes::SymExpr> contiguous(m.sizes.size(), shapes::SymExpr(1));
    for (size_t i = m.sizes.size(); i-- > 1;) contiguous[i - 1] = contiguous[i] * m.sizes[i];
    for (shapes::SymExpr s : contiguous) strides.push_back(sym_int(s));
  }
  out.set_sizes(std::move(sizes));
  out.set_strides(std::move(strides));
  out.set_requires_grad(m.requires_grad);
  out.set_device(to_schema_device(m.device));
  out.set_storage_offset(sym_int(m.storage_offset));
  out.set_layout(tx::Layout::Strided);
  return out;
}

// ---- values -----------------------------------------------------------------------------------
void ProgramSerializer::define(const Value* v) {
  switch (v->type()) {
    case ValueType::kTensor:
      tensor_values_[v->name()] = tensor_meta(v->meta());
      break;
    case ValueType::kSymInt:
    case ValueType::kInt:
      sym_int_values_[v->name()] = sym_int(v->sym());
      break;
    case ValueType::kSymBool:
    case ValueType::kBool:
      sym_bool_values_[v->name()] = sym_bool_of(v);
      break;
    case ValueType::kSymFloat:
    case ValueType::kFloat: {
      PTX_INTERNAL_CHECK(!v->float_symbol().empty()) << "value " << v->name() << ": a SymFloat without a symbol";
      tx::SymExpr x;
      x.set_expr_str(v->float_symbol());
      tx::SymFloat f;
      f.set_as_expr(std::move(x));
      sym_float_values_[v->name()] = std::move(f);
      break;
    }
    case ValueType::kNone:
      break;
  }
}

tx::SymBool ProgramSerializer::sym_bool_of(const Value* v) const {
  const shapes::SymBool b = sym_bool_expr(v);
  tx::SymBool out;
  if (auto c = b.as_const()) {
    out.set_as_bool(*c);
  } else {
    tx::SymExpr x;
    x.set_expr_str(to_sympy_repr(b));
    out.set_as_expr(std::move(x));
  }
  return out;
}

shapes::SymBool ProgramSerializer::sym_bool_expr(const Value* v) const {
  static const std::map<std::string, shapes::Rel> kRels = {
      {"_operator.eq", shapes::Rel::Eq}, {"_operator.ne", shapes::Rel::Ne},
      {"_operator.lt", shapes::Rel::Lt}, {"_operator.le", shapes::Rel::Le},
      {"_operator.gt", shapes::Rel::Gt}, {"_operator.ge", shapes::Rel::Ge}};
  const ir::Node* p = v->producer();
  if (p && p->target() == "torch.sym_not" && p->inputs().size() == 1) {
    const auto* in = std::get_if<Value*>(&p->inputs()[0].value);
    PTX_INTERNAL_CHECK(in && (*in)->type() == ValueType::kSymBool)
        << "value " << v->name() << ": torch.sym_not of something other than a SymBool";
    return sym_bool_expr(*in).negated();
  }
  auto it = p ? kRels.find(p->target()) : kRels.end();
  PTX_INTERNAL_CHECK(it != kRels.end() && p->inputs().size() == 2)
      << "value " << v->name() << ": a SymBool must come from a comparison of SymInts (or torch.sym_not of one)";
  auto operand = [&](const ir::NamedArg& a) -> shapes::SymExpr {
    if (const auto* i = std::get_if<int64_t>(&a.value)) return *i;
    const auto* pv = std::get_if<Value*>(&a.value);
    PTX_INTERNAL_CHECK(pv && ((*pv)->type() == ValueType::kSymInt || (*pv)->type() == ValueType::kInt))
        << "value " << v->name() << ": comparison operand is not a SymInt";
    return (*pv)->sym();
  };
  return shapes::SymBool(it->second, operand(p->inputs()[0]), operand(p->inputs()[1]));
}

tx::Argument ProgramSerializer::value_arg(const Value* v) {
  tx::Argument a;
  switch (v->type()) {
    case ValueType::kTensor: {
      tx::TensorArgument t;
      t.set_name(v->name());
      a.set_as_tensor(t);
      break;
    }
    case ValueType::kSymInt:
    case ValueType::kInt: {
      tx::SymIntArgument s;
      s.set_as_name(v->name());
      a.set_as_sym_int(s);
      break;
    }
    case ValueType::kSymFloat:
    case ValueType::kFloat: {
      tx::SymFloatArgument s;
      s.set_as_name(v->name());
      a.set_as_sym_float(s);
      break;
    }
    case ValueType::kSymBool:
    case ValueType::kBool: {
      tx::SymBoolArgument s;
      s.set_as_name(v->name());
      a.set_as_sym_bool(s);
      break;
    }
    case ValueType::kNone:
      a.set_as_none(true);
      break;
  }
  return a;
}

bool ProgramSerializer::is_int_like(const Value* v) {
  return v->type() == ValueType::kSymInt || v->type() == ValueType::kInt;
}

tx::SymIntArgument ProgramSerializer::sym_int_arg(const ir::SymIntArg& e) {
  tx::SymIntArgument s;
  if (const auto* i = std::get_if<int64_t>(&e)) {
    s.set_as_int(*i);
  } else {
    s.set_as_name(std::get<Value*>(e)->name());
  }
  return s;
}

tx::Argument ProgramSerializer::arg(const ir::ArgValue& value) {
  tx::Argument a;
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, ir::NoneArg>) {
          a.set_as_none(true);
        } else if constexpr (std::is_same_v<T, bool>) {
          a.set_as_bool(v);
        } else if constexpr (std::is_same_v<T, int64_t>) {
          a.set_as_int(v);
        } else if constexpr (std::is_same_v<T, double>) {
          a.set_as_float(f64(v));
        } else if constexpr (std::is_same_v<T, std::string>) {
          a.set_as_string(v);
        } else if constexpr (std::is_same_v<T, Value*>) {
          a = value_arg(v);
        } else if constexpr (std::is_same_v<T, std::vector<ir::SymIntArg>>) {
          const bool all_int = std::all_of(v.begin(), v.end(), [](const ir::SymIntArg& e) {
            return std::holds_alternative<int64_t>(e);
          });
          if (all_int) {
            std::vector<int64_t> ints;
            for (const auto& e : v) ints.push_back(std::get<int64_t>(e));
            a.set_as_ints(std::move(ints));
          } else {
            std::vector<tx::SymIntArgument> syms;
            for (const auto& e : v) syms.push_back(sym_int_arg(e));
            a.set_as_sym_ints(std::move(syms));
          }
        } else if constexpr (std::is_same_v<T, std::vector<Value*>>) {
          if (!v.empty() && std::all_of(v.begin(), v.end(), is_int_like)) {
            std::vector<tx::SymIntArgument> syms;
            for (const Value* e : v) syms.push_back(sym_int_arg(const_cast<Value*>(e)));
            a.set_as_sym_ints(std::move(syms));
          } else {
            // A list of tensors and SymInts (a cond's operands: a size its branches read) is written
            // by name as tensors, as torch 2.14 writes it (the subgraph's placeholder says as_sym_int).
            std::vector<tx::TensorArgument> ts;
            for (const Value* e : v) {
              PTX_INTERNAL_CHECK(e->type() == ValueType::kTensor || is_int_like(e))
                  << "list mixes tensors and " << e->name();
              tx::TensorArgument t;
              t.set_name(e->name());
              ts.push_back(t);
            }
            a.set_as_tensors(std::move(ts));
          }
        } else if constexpr (std::is_same_v<T, std::vector<std::optional<Value*>>>) {
          const bool all_present =
              std::all_of(v.begin(), v.end(), [](const auto& o) { return o.has_value(); });
          if (all_present) {
            std::vector<tx::TensorArgument> ts;
            for (const auto& o : v) {
              tx::TensorArgument t;
              t.set_name((*o)->name());
              ts.push_back(t);
            }
            a.set_as_tensors(std::move(ts));
          } else {
            std::vector<tx::OptionalTensorArgument> os;
            for (const auto& o : v) {
              tx::OptionalTensorArgument ot;
              if (o) {
                tx::TensorArgument t;
                t.set_name((*o)->name());
                ot.set_as_tensor(t);
              } else {
                ot.set_as_none(true);
              }
              os.push_back(ot);
            }
            a.set_as_optional_tensors(std::move(os));
          }
        } else if constexpr (std::is_same_v<T, std::vector<double>>) {
          std::vector<tx::F64> fs;
          for (double d : v) fs.push_back(f64(d));
          a.set_as_floats(std::move(fs));
        } else if constexpr (std::is_same_v<T, std::vector<bool>>) {
          a.set_as_bools(std::vector<bool>(v.begin(), v.end()));
        } else if constexpr (std::is_same_v<T, ir::DTypeArg>) {
          a.set_as_scalar_type(to_schema_dtype(v.v));
        } else if constexpr (std::is_same_v<T, ir::LayoutArg>) {
          a.set_as_layout(to_schema_layout(v.v));
        } else if constexpr (std::is_same_v<T, ir::MemoryFormatArg>) {
          a.set_as_memory_format(to_schema_memory_format(v.v));
        } else if constexpr (std::is_same_v<T, ir::DeviceArg>) {
          a.set_as_device(to_schema_device(v.v));
        }
      },
      value);
  return a;
}

// ---- nodes ------------------------------------------------------------------------------------
tx::Node ProgramSerializer::serialize_node(const ir::Node& node) {
  tx::Node out;
  out.set_target(to_schema_target(node.target()));
  const bool sym_op = node.target().rfind("_operator.", 0) == 0;
  std::vector<tx::NamedArgument> inputs;
  for (size_t i = 0; i < node.inputs().size(); ++i) {
    const ir::NamedArg& a = node.inputs()[i];
    tx::NamedArgument na;
    // serialize_sym_op_inputs names _operator arguments after inspect.signature: a, b.
    std::string name = a.name;
    if (name.empty() && sym_op) name = std::string(1, static_cast<char>('a' + i));
    na.set_name(name);
    const auto* ga = std::get_if<ir::GraphArg>(&a.value);
    // while_loop's condition graph returns its tensor as is, not in a tuple (torch's cond_fn).
    const bool single = node.target() == "higher_order::while_loop" && i == 0;
    na.set_arg(ga ? graph_arg(*ga, single) : arg(a.value));
    na.set_kind(std::optional<int64_t>(
        static_cast<int64_t>(a.kwarg_only ? tx::ArgumentKind::KEYWORD : tx::ArgumentKind::POSITIONAL)));
    inputs.push_back(std::move(na));
  }
  out.set_inputs(std::move(inputs));

  std::vector<tx::Argument> outputs;
  if (node.returns_list()) {
    std::vector<tx::TensorArgument> ts;
    for (const Value* v : node.outputs()) {
      PTX_INTERNAL_CHECK(v->type() == ValueType::kTensor) << node.name() << ": list output " << v->name();
      tx::TensorArgument t;
      t.set_name(v->name());
      ts.push_back(t);
      define(v);
    }
    tx::Argument a;
    a.set_as_tensors(std::move(ts));
    outputs.push_back(std::move(a));
  } else {
    for (const Value* v : node.outputs()) {
      outputs.push_back(value_arg(v));
      define(v);
    }
  }
  out.set_outputs(std::move(outputs));
  if (node.target().rfind("higher_order::", 0) == 0) out.set_is_hop_single_tensor_return(std::optional<bool>(false));
  out.set_metadata(metadata(node.meta()));
  out.set_name(std::optional<std::string>(node.name()));
  for (const ir::ModuleFrame& f : node.meta().nn_module_stack) {
    if (!f.path.empty() && seen_modules_.insert(f.path).second) module_paths_.push_back(f.path);
  }
  return out;
}

tx::Argument ProgramSerializer::graph_arg(const ir::GraphArg& ga, bool single) {
  PTX_INTERNAL_CHECK(ga.graph != nullptr) << "subgraph " << ga.name << " is null";
  auto saved_tensors = std::move(tensor_values_);
  auto saved_ints = std::move(sym_int_values_);
  auto saved_bools = std::move(sym_bool_values_);
  auto saved_floats = std::move(sym_float_values_);
  tensor_values_.clear();
  sym_int_values_.clear();
  sym_bool_values_.clear();
  sym_float_values_.clear();
  tx::Graph g;
  std::vector<tx::Argument> inputs, outputs;
  for (const Value* p : ga.graph->placeholders()) {
    inputs.push_back(value_arg(p));
    define(p);
  }
  std::vector<tx::Node> nodes;
  for (const auto& node : ga.graph->nodes()) {
    if (node->kind() == ir::NodeKind::kCall) nodes.push_back(serialize_node(*node));
  }
  for (const Value* v : ga.graph->outputs()) outputs.push_back(value_arg(v));
  g.set_inputs(std::move(inputs));
  g.set_nodes(std::move(nodes));
  g.set_outputs(std::move(outputs));
  g.set_tensor_values(tensor_values_);
  g.set_sym_int_values(sym_int_values_);
  g.set_sym_float_values(sym_float_values_);
  g.set_sym_bool_values(sym_bool_values_);
  g.set_is_single_tensor_return(single);
  tensor_values_ = std::move(saved_tensors);
  sym_int_values_ = std::move(saved_ints);
  sym_bool_values_ = std::move(saved_bools);
  sym_float_values_ = std::move(saved_floats);
  tx::GraphArgument out;
  out.set_name(ga.name);
  tx::ForwardRef<tx::Graph> ref;
  ref.emplace(std::move(g));
  out.set_graph(std::move(ref));
  tx::Argument a;
  a.set_as_graph(std::move(out));
  return a;
}

std::unordered_map<std::string, std::string> ProgramSerializer::metadata(const ir::NodeMeta& m) {
  std::unordered_map<std::string, std::string> md;
  if (!m.stack_trace.empty()) {
    md["stack_trace"] = m.stack_trace;
  } else if (!m.source_file.empty() && m.source_line > 0) {
    md["stack_trace"] =
        "File \"" + m.source_file + "\", line " + std::to_string(m.source_line) + ", in forward";
  }
  if (!m.nn_module_stack.empty()) {
    std::string s;
    for (const ir::ModuleFrame& f : m.nn_module_stack) {
      if (!s.empty()) s += ";";
      s += f.key + "," + f.path + "," + f.type;
    }
    md["nn_module_stack"] = s;
  }
  return md;
}

}  // namespace ptx::serialize::writer
