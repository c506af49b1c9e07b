// serialize/pt2_writer.cpp: ir::ExportedProgram -> torch::_export schema types -> .pt2 archive.
// See serialize/pt2_writer.h and docs/pt2.md. The comments name the function of
// torch/_export/serde/serialize.py (GraphModuleSerializer) or torch/export/pt2_archive/_package.py
// whose output each step reproduces.
#include "serialize/pt2_writer.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <caffe2/serialize/inline_container.h>
#include <nlohmann/json.hpp>
#include <torch/csrc/export/pt2_archive_constants.h>
#include <torch/headeronly/version.h>

#include <sys/statvfs.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <ios>
#include <cmath>
#include <memory>
#include <set>
#include <unordered_map>
#include <vector>

#include "serialize/pt2_format.h"
#include "serialize/schema_version.h"
#include "serialize/sympy_text.h"
#include "serialize/temp_file.h"
#include "shapes/error.h"
#include "shapes/interval.h"

namespace ptx::serialize {
namespace {

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

void restore_negative_infinity(nlohmann::json& j) {
  if (j.is_number_float()) {
    if (j.get<double>() == kNegativeInfinitySentinel) j = "-Infinity";
  } else if (j.is_structured()) {
    for (auto& child : j) restore_negative_infinity(child);
  }
}


static_assert(std::endian::native == std::endian::little,
              "weights are written as the host's bytes, which the format requires to be little-endian");

namespace archive = torch::_export::archive_spec;
using ir::Value;
using ir::ValueType;

/// One raw tensor file of the archive (data/weights/weight_N or data/constants/tensor_N).
struct Blob {
  std::string path;  // archive path without the top folder
  at::Tensor keep;   // owns the bytes
  const void* data = nullptr;
  size_t nbytes = 0;
};

/// A state_dict / constants entry to write.
struct Payload {
  std::string fqn;
  at::Tensor tensor;
  bool is_param = false;
  bool requires_grad = false;
};

/// A user input or output position: a graph value or a constant (torch's ConstantArgument).
struct UserSlot {
  const Value* value = nullptr;  // null: constant
  std::string name;              // constants: the input's name
  nlohmann::json constant;       // constants: the value (null for None)
};

std::string c10_message(const c10::Error& e) {
  std::string m = e.what_without_backtrace();
  const size_t nl = m.find('\n');
  if (nl != std::string::npos) m.resize(nl);
  return m;
}

bool is_unset(const ir::PyTree& t) {
  return t.kind == ir::PyTree::Kind::kLeaf && t.leaf.empty() && t.children.empty();
}

class ProgramSerializer {
 public:
  ProgramSerializer(const ir::ExportedProgram& ep, const WriteOptions& opts) : ep_(ep), opts_(opts) {
    PTX_INTERNAL_CHECK(ep.graph != nullptr) << "exported program without a graph";
  }

  Pt2Json run() {
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

  const std::vector<Blob>& weight_blobs() const { return weight_blobs_; }
  const std::vector<Blob>& constant_blobs() const { return constant_blobs_; }

 private:
  // ---- symbolic integers ------------------------------------------------------------------------
  std::optional<int64_t> hint_of(shapes::SymExpr e) const {
    shapes::Assignment values;
    for (shapes::SymExpr s : shapes::free_symbols(e)) {
      auto it = opts_.symbol_hints.find(s.symbol_name());
      if (it == opts_.symbol_hints.end()) return std::nullopt;
      values[s.symbol_id()] = it->second;
    }
    return shapes::evaluate(e, values);
  }

  /// serialize_sym_int: a constant is as_int, anything else as_expr with srepr text and hint.
  tx::SymInt sym_int(shapes::SymExpr e) const {
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

  /// serialize_tensor_meta for a graph value. Missing strides are the contiguous ones.
  tx::TensorMeta tensor_meta(const ir::TensorMeta& m) const {
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
  /// Records the meta of a value the graph defines (tensor_values / sym_int_values / ...).
  void define(const Value* v) {
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

  /// ir/ keeps no expression on SymBool values; the comparison that produced one gives it (or the
  /// comparison under a torch.sym_not: the runtime assert of `a != b` is sym_not(a == b)).
  tx::SymBool sym_bool_of(const Value* v) const {
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

  shapes::SymBool sym_bool_expr(const Value* v) const {
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

  /// serialize_input for an fx.Node argument.
  static tx::Argument value_arg(const Value* v) {
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

  static bool is_int_like(const Value* v) {
    return v->type() == ValueType::kSymInt || v->type() == ValueType::kInt;
  }

  static tx::SymIntArgument sym_int_arg(const ir::SymIntArg& e) {
    tx::SymIntArgument s;
    if (const auto* i = std::get_if<int64_t>(&e)) {
      s.set_as_int(*i);
    } else {
      s.set_as_name(std::get<Value*>(e)->name());
    }
    return s;
  }

  /// serialize_input: lists by their elements' runtime types, empty lists by the schema's element
  /// type (int[] -> as_ints, Tensor[] and Tensor?[] -> as_tensors), as torch does.
  static tx::Argument arg(const ir::ArgValue& value) {
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
              std::vector<tx::TensorArgument> ts;
              for (const Value* e : v) {
                PTX_INTERNAL_CHECK(e->type() == ValueType::kTensor) << "list mixes tensors and " << e->name();
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
  /// handle_call_function + serialize_outputs + serialize_metadata.
  tx::Node serialize_node(const ir::Node& node) {
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

  /// serialize_graph for a higher-order op's subgraph (cond's branches, while_loop's condition and
  /// body): a graph of its own, with its own value tables, whose inputs are its placeholders (torch's
  /// GraphArgument). `single`: it returns its one tensor as is (is_single_tensor_return).
  tx::Argument graph_arg(const ir::GraphArg& ga, bool single) {
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

  /// serialize_metadata: stack_trace and nn_module_stack ("key,path,type" joined by ';').
  static std::unordered_map<std::string, std::string> metadata(const ir::NodeMeta& m) {
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

  // ---- inputs -----------------------------------------------------------------------------------
  /// Flattens the input spec into user input slots, in torch's order (args, then kwargs).
  void collect_slots(const ir::PyTree& t, const std::string& name, std::vector<UserSlot>& out) {
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

  /// ConstantArgument values: int, float, bool, str or None.
  static tx::Argument constant_arg(const nlohmann::json& c) {
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

  static tx::ConstantValue constant_value(const nlohmann::json& c) {
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

  ir::PyTree args_spec() const {
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

  ir::PyTree kwargs_spec() const {
    if (!is_unset(ep_.kwargs_spec)) return ep_.kwargs_spec;
    ir::PyTree t;
    t.kind = ir::PyTree::Kind::kDict;
    return t;
  }

  /// handle_placeholder + serialize_input_spec: lifted inputs first, then the user's inputs in
  /// the input spec's leaf order, constants included.
  void serialize_inputs(tx::Graph& graph, tx::GraphSignature& signature) {
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

  static at::Tensor lookup(const std::map<std::string, at::Tensor>& m, const std::string& fqn,
                           const char* what) {
    auto it = m.find(fqn);
    PTX_INTERNAL_CHECK(it != m.end() && it->second.defined()) << what << " '" << fqn << "' has no tensor";
    return it->second;
  }

  /// Tensors of the program that no input spec names are still written (torch's state_dict and
  /// constants hold every entry).
  void add_unlisted_payloads() {
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
  /// The output spec; a default one (a single leaf) with several user outputs means a tuple.
  ir::PyTree out_spec() const {
    size_t n = 0;
    for (const ir::OutputSpec& s : ep_.output_specs) n += s.kind == ir::OutputKind::kUserOutput;
    if (!is_unset(ep_.out_spec) || n == 1) return ep_.out_spec;
    ir::PyTree t;
    t.kind = ir::PyTree::Kind::kTuple;
    t.children.resize(n);
    return t;
  }

  void collect_out_slots(const ir::PyTree& t, std::vector<UserSlot>& out,
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

  /// handle_output + serialize_output_spec: mutations first, then the user's outputs in the
  /// output spec's leaf order, constants and None included.
  void serialize_outputs(tx::Graph& graph, tx::GraphSignature& signature) {
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
  /// serialize_module_call_graph: the root's signature (specs and argument names), then one entry
  /// without signature per submodule seen in nn_module_stack, in order of first use.
  std::vector<tx::ModuleCallEntry> module_call_graph() const {
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
  /// _package_state_dict / _package_constants with _save_raw_tensors: tensors that share a storage
  /// share one file holding the whole storage, each with its own sizes, strides and offset.
  tx::PayloadConfig payload_config(const std::vector<Payload>& payloads, const std::string& prefix,
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

  const ir::ExportedProgram& ep_;
  const WriteOptions& opts_;
  std::unordered_map<std::string, tx::TensorMeta> tensor_values_;
  std::unordered_map<std::string, tx::SymInt> sym_int_values_;
  std::unordered_map<std::string, tx::SymFloat> sym_float_values_;
  std::unordered_map<std::string, tx::SymBool> sym_bool_values_;
  std::map<std::string, const Value*> placeholder_by_name_;
  std::map<std::string, const ir::InputSpec*> placeholder_spec_;
  std::vector<Payload> weights_, constants_;
  std::vector<Blob> weight_blobs_, constant_blobs_;
  std::vector<std::string> module_paths_;
  std::set<std::string> seen_modules_;
};

}  // namespace

Pt2Json serialize_pt2_json(const ir::ExportedProgram& ep, const WriteOptions& opts) {
  return ProgramSerializer(ep, opts).run();
}

void write_pt2(const ir::ExportedProgram& ep, const std::filesystem::path& out, const WriteOptions& opts) {
  TempFile tmp(out);
  write_pt2_uncommitted(ep, tmp, opts);
  tmp.commit();
}

namespace {

/// About how many bytes the archive takes: its records (zip headers and alignment add little).
uint64_t archive_bytes(const ProgramSerializer& s, const Pt2Json& json) {
  uint64_t n = json.model.size() + json.weights_config.size() + json.constants_config.size();
  for (const Blob& b : s.weight_blobs()) n += b.nbytes;
  for (const Blob& b : s.constant_blobs()) n += b.nbytes;
  return n;
}

/// "; the archive needs about N bytes in FOLDER, which has M free", for a write that failed.
std::string space_note(const TempFile& tmp, uint64_t needed) {
  const std::filesystem::path dir = tmp.path().has_parent_path() ? tmp.path().parent_path() : ".";
  std::string note = "; the archive needs about " + std::to_string(needed) + " bytes in " + dir.string();
  struct statvfs vfs {};
  if (::statvfs(dir.c_str(), &vfs) == 0) {
    note += ", which has " + std::to_string(static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize) + " free";
  }
  return note;
}

}  // namespace

WrittenEntries write_pt2_uncommitted(const ir::ExportedProgram& ep, TempFile& tmp, const WriteOptions& opts) {
  const std::filesystem::path& out = tmp.dest();
  // Everything that can fail on the program is done before the file is opened.
  ProgramSerializer serializer(ep, opts);
  const Pt2Json json = serializer.run();
  const std::string& model_name = kModelName;
  static const char kEmpty = 0;
  WrittenEntries written;

  // Note [leaked archive writer]: ~PyTorchStreamWriter finishes an unfinished archive and can
  // throw from the destructor (std::terminate) when the file cannot be written. A writer that
  // failed is therefore leaked, never destroyed; the temporary file is removed by `tmp`.
  auto* writer = static_cast<caffe2::serialize::PyTorchStreamWriter*>(nullptr);
  try {
    writer = new caffe2::serialize::PyTorchStreamWriter(tmp.path().string());
    writer->setMinVersion(kZipFormatVersion);
    auto put = [&](const std::string& name, const void* data, size_t n) {
      writer->writeRecord(name, n ? data : &kEmpty, n);
    };
    auto put_text = [&](const std::string& name, const std::string& text) { put(name, text.data(), text.size()); };
    // _package_exported_programs: weights, their config, constants, their config, the program,
    // the sample inputs; then PT2ArchiveWriter.__exit__: archive_format, archive_version.
    // Each tensor entry's digest is computed from the bytes as they are handed to the writer.
    auto put_blob = [&](const Blob& b) {
      written[b.path] = {b.data, b.nbytes, b.nbytes ? crc32_of(b.data, b.nbytes) : 0};
      put(b.path, b.data, b.nbytes);
    };
    for (const Blob& b : serializer.weight_blobs()) put_blob(b);
    put_text(format_archive_path(archive::WEIGHTS_CONFIG_FILENAME_FORMAT, model_name), json.weights_config);
    for (const Blob& b : serializer.constant_blobs()) put_blob(b);
    put_text(format_archive_path(archive::CONSTANTS_CONFIG_FILENAME_FORMAT, model_name), json.constants_config);
    put_text(format_archive_path(archive::MODELS_FILENAME_FORMAT, model_name), json.model);
    // No sample inputs: an empty record, which torch's loader reads as "none" (never a pickle).
    put(format_archive_path(archive::SAMPLE_INPUTS_FILENAME_FORMAT, model_name), nullptr, 0);
    put_text(std::string(archive::ARCHIVE_FORMAT_PATH), std::string(archive::ARCHIVE_FORMAT_VALUE));
    put_text(std::string(archive::ARCHIVE_VERSION_PATH), std::string(archive::ARCHIVE_VERSION_VALUE));
    writer->writeEndOfFile();  // .data/version, byteorder, .data/serialization_id, directory
  } catch (const c10::Error& e) {
    PTX_USER_FAIL(ExitCode::kOutput, "E_OUTPUT") << "cannot write " << out.string() << ": " << c10_message(e)
                                                 << space_note(tmp, archive_bytes(serializer, json));
  } catch (const std::ios_base::failure& e) {
    // The stream writer's ofstream throws with exceptions on: a full disk, a file size limit.
    const int err = errno;
    PTX_USER_FAIL(ExitCode::kOutput, "E_OUTPUT") << "cannot write " << out.string() << ": "
                                                 << (err ? std::strerror(err) : e.what())
                                                 << space_note(tmp, archive_bytes(serializer, json));
  }
  delete writer;  // finalized: the destructor does nothing
  return written;
}

}  // namespace ptx::serialize
