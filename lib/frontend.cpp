// lib/frontend.cpp: symbolic interpretation of TorchScript. See lib/frontend.h.
//
// Note [Two runs in one]
// ~~~~~~~~~~~~~~~~~~~~~~
// Every TorchScript value is interpreted twice at once: concretely (the node's own JIT operation
// runs on the sample values, so in-place updates, list mutation and control flow behave exactly as
// in eager TorchScript) and symbolically (a tensor carries symbolic sizes and the ir::Value that
// computes it; an int carries a SymExpr; a bool may carry a SymBool). The concrete run gives every
// symbolic value its hint, and checks the shape rules: a rule's result evaluated on the hints must
// equal the sizes that ATen computed, or it is a bug in the rule (InternalError).
//
// Note [Aliasing]
// ~~~~~~~~~~~~~~~
// TorchScript tensors are references: `y = x.relu_()` makes y and x the same tensor, and later
// uses of x see the update. A tensor value therefore points at a shared TensorCell holding its
// current ir::Value; an in-place call emits the functional op and moves the cell to its result.
// A view (an op whose schema returns an alias of its input) gets a cell of its own that remembers
// its base and how it was taken. An in-place update of a view is functionalized as torch does: the
// view's new value is scattered back into its base (slice_scatter, select_scatter, the inverse
// reshape or permutation), up the chain of views. Views of other kinds (expand, as_strided,
// diagonal) updated in place stop the export (exit 4). Note: other views of the same base taken
// before the update are not refreshed; a model reading them after the update is not supported.
#include "lib/frontend.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/ir/scope.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/csrc/jit/runtime/operator.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <unordered_map>

#include "ir/sym_materialize.h"
#include "lib/torch_convert.h"
#include "shapes/error.h"
#include "shapes/rules.h"

namespace ptx {
namespace {

using shapes::SymBool;
using shapes::SymExpr;
using shapes::SymShape;
namespace jit = torch::jit;

// ---- symbolic values -----------------------------------------------------------------------------

struct TensorCell {
  ir::Value* value = nullptr;  // current IR value (moves on in-place updates)
  ir::Value* original = nullptr;  // for parameters, buffers and inputs: the placeholder
  SymShape shape;
  at::Tensor sample;  // the concrete tensor (updated in place by the concrete run)
  std::shared_ptr<TensorCell> view_base;  // set when this tensor is a view of another
  /// How this view was taken from view_base (Note [Aliasing]): enough to scatter an in-place
  /// update of the view back into its base.
  struct ViewStep {
    enum class Kind : uint8_t { kAlias, kReshape, kPermute, kSlice, kSelect, kOther };
    Kind kind = Kind::kOther;
    std::vector<int64_t> perm;          // kPermute: output dim i is input dim perm[i]
    std::vector<ir::NamedArg> args;     // kSlice: dim, start, end, step; kSelect: dim, index
    std::string op;                     // the view op, for messages
  } step;
  std::optional<SymExpr> scalar;  // prim::NumToTensor of a symbolic int: the int
  std::string fqn;  // parameters/buffers: "fc.weight"
  /// Parameters: whether the module's parameter requires grad (the sample is detached). Read by
  /// prim::requires_grad, as torch.export sees it: with grad enabled and parameters requiring
  /// grad, library fast paths (fused transformer kernels) are skipped as they are under export.
  bool param_requires_grad = false;
};

struct SV;
using SVP = std::shared_ptr<SV>;

struct SV {
  enum class K : uint8_t { kNone, kTensor, kInt, kFloat, kBool, kList, kTuple, kDict, kObject, kOther };
  K k = K::kOther;
  c10::IValue iv;                         // the concrete value
  std::shared_ptr<TensorCell> cell;       // kTensor
  SymExpr sym;                            // kInt
  std::optional<SymBool> cond;            // kBool, when symbolic
  std::string data_dep;                   // non-empty: derived from tensor data (where)
  std::shared_ptr<std::vector<SVP>> elems;  // kList / kTuple (shared: lists are references)
  std::vector<std::pair<c10::IValue, SVP>> dict;  // kDict
  std::string path;                       // kObject: attribute path of a module ("layer1.0")
};

struct RuleMiss {
  int count = 0;
  std::string first_source;
  std::string detail;
};

std::string strip_mangle(std::string name) {
  // "__torch__.torch.nn.modules.linear.___torch_mangle_0.Linear" -> "torch.nn.modules.linear.Linear"
  if (name.rfind("__torch__.", 0) == 0) name = name.substr(10);
  for (;;) {
    const auto p = name.find("___torch_mangle_");
    if (p == std::string::npos) break;
    const auto dot = name.find('.', p);
    name.erase(p, dot == std::string::npos ? std::string::npos : dot - p + 1);
  }
  return name;
}

std::string line_of(const jit::SourceRange& r) {
  if (!r.source()) return "";
  const auto flc = r.file_line_col();
  if (!flc) return "";
  return std::get<0>(*flc) + ":" + std::to_string(std::get<1>(*flc));
}

std::string code_of(const jit::SourceRange& r) {
  if (!r.source()) return "";
  try {
    const size_t line = r.source()->lineno_for_offset(r.start());
    std::string text = r.source()->get_line(line).str();
    const auto b = text.find_first_not_of(" \t");
    if (b == std::string::npos) return "";
    const auto e = text.find_last_not_of(" \t\r\n");
    return text.substr(b, e - b + 1);
  } catch (...) {
    return "";
  }
}

/// The call sites that lead to `n` after inlining, innermost first, one "\n<indent>called from
/// file:line: code" each (empty for a node of the method itself).
std::string called_from(jit::Node* n, const std::string& indent) {
  std::string out;
  if (n == nullptr) return out;
  if (auto cs = n->callstack()) {
    const auto frames = (*cs)->vec();
    for (auto it = frames.rbegin(); it != frames.rend(); ++it) {
      const jit::SourceRange& r = std::get<1>(*it);
      const std::string line = line_of(r);
      if (line.empty()) continue;
      const std::string code = code_of(r);
      out += "\n" + indent + "called from " + line + (code.empty() ? "" : ": " + code);
    }
  }
  return out;
}

/// True when `n` is the constant that `torch.compiler.is_compiling()` (or is_exporting, or
/// torch._dynamo's and torch._utils' is_compiling) returns, inlined. TorchScript compiles these to
/// `return False`; while exporting they are True, as under torch.export. Library code keys its
/// export-safe path on them: nn.TransformerEncoder skips its sparsity fast path (a nested tensor
/// built from the padding mask, which gives other values in padded positions) "with torch.compile
/// or torch.export" instead of testing the mask's data.
bool exporting_flag(jit::Node* n) {
  if (n->outputs().size() != 1 || n->output()->type()->kind() != c10::TypeKind::BoolType) return false;
  auto cs = n->callstack();
  if (!cs) return false;
  const auto frames = (*cs)->vec();
  if (frames.empty() || std::get<0>(frames.back()) == nullptr) return false;
  const std::string fn = std::get<0>(frames.back())->qualname().qualifiedName();
  static const std::set<std::string> kFlags = {
      "__torch__.torch.compiler.is_compiling", "__torch__.torch.compiler.is_exporting",
      "__torch__.torch._dynamo.external_utils.is_compiling", "__torch__.torch._utils.is_compiling",
      "__torch__.torch._dynamo.is_compiling"};
  return kFlags.count(fn) > 0;
}

/// The interpreter of one trace. One instance per trace_module call.
class Tracer {
 public:
  Tracer(const LoadedModel& model, const Inputs& inputs, TraceResult& out)
      : model_(model), inputs_(inputs), out_(out), env_(out.env), graph_(*out.program.graph), syms_(graph_) {}

  void run();

 private:
  // setup
  void lift_state();
  SVP bind_input(const c10::IValue& v, const std::string& path, const c10::TypePtr& type);
  SVP make_input_tensor(const at::Tensor& t, const std::string& path);

  // interpretation
  void run_block(jit::Block* block);
  void run_node(jit::Node* n);
  void run_if(jit::Node* n);
  void run_loop(jit::Node* n);
  void run_get_attr(jit::Node* n);
  void run_aten(jit::Node* n, const c10::FunctionSchema& schema);
  void run_generic(jit::Node* n);  // non-tensor ops: concrete result, symbolic where known
  bool run_symbolic_scalar(jit::Node* n, const std::vector<SVP>& in, const std::vector<c10::IValue>& outs);
  /// Guards every symbolic int and bool in `s` (recursively in lists and tuples) to its sample value.
  void specialize(const SVP& s, jit::Node* n, const std::string& reason);

  std::vector<c10::IValue> run_concrete(jit::Node* n, const std::vector<SVP>& in);
  SVP from_concrete(const c10::IValue& v);
  SVP get(jit::Value* v);
  void set(jit::Value* v, SVP s) { vals_[v] = std::move(s); }

  // symbolic helpers
  SymExpr int_of(const SVP& s, jit::Node* n, const char* what);
  bool decide(const SVP& s, jit::Node* n, const char* what);
  shapes::Provenance why(jit::Node* n, const std::string& reason) const;
  std::vector<SVP> elements(const SVP& s);
  ir::Value* tensor_value(const SVP& s);
  ir::Value* sym_value(SymExpr e);
  ir::ArgValue to_arg(const SVP& s, const c10::TypePtr& type, jit::Node* n, const std::string& arg);
  shapes::RuleArg to_rule_arg(const SVP& s, jit::Node* n);
  void set_meta(ir::Node* node, jit::Node* n);
  [[noreturn]] void data_dependent(jit::Node* n, const SVP& s, const char* what);
  TensorCell::ViewStep view_step(const std::string& op, const std::vector<ir::NamedArg>& args, size_t in_rank);
  void scatter_into_base(TensorCell& view, jit::Node* n);
  bool run_scalar_tensor_op(jit::Node* n, const std::string& op, const std::vector<SVP>& in,
                            const std::vector<c10::IValue>& outs);

  // outputs
  void collect_outputs(const SVP& result);
  void flatten_output(const SVP& s, ir::PyTree& spec, std::vector<ir::Value*>& outs);
  ir::PyTree input_spec(const SVP& s);

  const LoadedModel& model_;
  const Inputs& inputs_;
  TraceResult& out_;
  shapes::ShapeEnv& env_;
  ir::Graph& graph_;

  std::unordered_map<jit::Value*, SVP> vals_;
  std::map<std::string, std::shared_ptr<TensorCell>> state_;  // by FQN
  std::vector<std::shared_ptr<TensorCell>> input_cells_;
  std::map<std::string, SymExpr> symbols_by_name_;
  // Symbols as sym_size / _operator nodes, read off the input placeholders' dims.
  ir::SymMaterializer syms_;
  std::map<std::string, RuleMiss> missing_;
  std::string missing_order_;  // to report in first-seen order
  std::vector<std::string> missing_seen_;
  int lifted_constants_ = 0;
  jit::Node* current_ = nullptr;
};

// ---- setup ---------------------------------------------------------------------------------------

// torch.export's placeholder name of a parameter or buffer: the prefix and the FQN in lower case,
// every character other than [a-z0-9] made '_' (placeholder_naming_pass): `p_trunk_block1_0_weight`.
std::string state_placeholder_name(const std::string& prefix, const std::string& fqn) {
  std::string name = prefix + fqn;
  for (char& c : name) {
    c = std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(static_cast<unsigned char>(c))) : '_';
  }
  return name;
}

void Tracer::lift_state() {
  // Parameters first, then buffers, in the module's registration order (torch.export's order).
  for (const auto& p : model_.module.named_parameters(/*recurse=*/true)) {
    auto cell = std::make_shared<TensorCell>();
    cell->sample = p.value.detach();
    cell->fqn = p.name;
    SymShape shape(p.value.sizes().begin(), p.value.sizes().end());
    const std::string name = state_placeholder_name("p_", p.name);
    cell->value = graph_.add_placeholder(name, ir::ValueType::kTensor, make_meta(cell->sample, shape));
    cell->value->mutable_meta().requires_grad = p.value.requires_grad();
    cell->param_requires_grad = p.value.requires_grad();
    cell->original = cell->value;
    cell->shape = shape;
    out_.program.parameters[p.name] = cell->sample;
    out_.program.input_specs.push_back({ir::InputKind::kParameter, cell->value->name(), p.name, true});
    state_[p.name] = cell;
  }
  for (const auto& b : model_.module.named_buffers(/*recurse=*/true)) {
    auto cell = std::make_shared<TensorCell>();
    cell->sample = b.value;
    cell->fqn = b.name;
    SymShape shape(b.value.sizes().begin(), b.value.sizes().end());
    const std::string name = state_placeholder_name("b_", b.name);
    cell->value = graph_.add_placeholder(name, ir::ValueType::kTensor, make_meta(cell->sample, shape));
    cell->original = cell->value;
    cell->shape = shape;
    out_.program.buffers[b.name] = b.value.clone();
    out_.program.input_specs.push_back({ir::InputKind::kBuffer, cell->value->name(), b.name, true});
    state_[b.name] = cell;
  }
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
      case DimMark::Kind::kSymbol: {
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
        shape.push_back(it->second * SymExpr(mark.a) + SymExpr(mark.b));
        break;
      }
    }
  }
  auto cell = std::make_shared<TensorCell>();
  cell->sample = t;
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
  sv->iv = t;
  sv->cell = cell;
  return sv;
}

SVP Tracer::bind_input(const c10::IValue& v, const std::string& path, const c10::TypePtr& type) {
  (void)type;
  if (v.isTensor()) return make_input_tensor(v.toTensor(), path);
  // Non-tensor inputs are specialized, as torch.export does: their values are constants. Tensors
  // inside containers are inputs too, named by their path.
  SVP sv = from_concrete(v);
  if (sv->elems) {
    const auto items = v.isList() ? v.toListRef().vec() : v.toTupleRef().elements().vec();
    for (size_t i = 0; i < items.size(); ++i) {
      (*sv->elems)[i] = bind_input(items[i], path + "[" + std::to_string(i) + "]", nullptr);
    }
  }
  for (auto& [key, value] : sv->dict) {
    const std::string name = key.isString() ? key.toStringRef() : key.tagKind();
    value = bind_input(value->iv, path + "['" + name + "']", nullptr);
  }
  return sv;
}

// ---- values ----------------------------------------------------------------------------------------

SVP Tracer::from_concrete(const c10::IValue& v) {
  auto sv = std::make_shared<SV>();
  sv->iv = v;
  if (v.isNone()) {
    sv->k = SV::K::kNone;
  } else if (v.isTensor()) {
    sv->k = SV::K::kTensor;
    auto cell = std::make_shared<TensorCell>();
    cell->sample = v.toTensor();
    cell->shape = SymShape(cell->sample.sizes().begin(), cell->sample.sizes().end());
    // A constant 0-dim integer tensor is a known scalar for size arithmetic (traced models).
    if (cell->sample.dim() == 0 && at::isIntegralType(cell->sample.scalar_type(), /*includeBool=*/false)) {
      cell->scalar = SymExpr(cell->sample.item<int64_t>());
    }
    sv->cell = cell;  // value is created lazily (lifted constant) by tensor_value()
  } else if (v.isInt()) {
    sv->k = SV::K::kInt;
    sv->sym = SymExpr(v.toInt());
  } else if (v.isDouble()) {
    sv->k = SV::K::kFloat;
  } else if (v.isBool()) {
    sv->k = SV::K::kBool;
  } else if (v.isList() || v.isTuple()) {
    sv->k = v.isList() ? SV::K::kList : SV::K::kTuple;
    sv->elems = std::make_shared<std::vector<SVP>>();
    const auto items = v.isList() ? v.toListRef().vec() : v.toTupleRef().elements().vec();
    for (const auto& item : items) sv->elems->push_back(from_concrete(item));
  } else if (v.isGenericDict()) {
    sv->k = SV::K::kDict;
    for (const auto& kv : v.toGenericDict()) sv->dict.emplace_back(kv.key(), from_concrete(kv.value()));
  } else if (v.isObject()) {
    sv->k = SV::K::kObject;
  } else {
    sv->k = SV::K::kOther;
  }
  return sv;
}

SVP Tracer::get(jit::Value* v) {
  auto it = vals_.find(v);
  if (it != vals_.end()) return it->second;
  // Constants are materialized on first use.
  if (v->node()->kind() == c10::prim::Constant) {
    auto iv = jit::toIValue(v);
    if (!iv.has_value()) {
      // A function reference left after inlining (prim::Constant[name="relu"] : Function).
      auto sv = std::make_shared<SV>();
      sv->k = SV::K::kOther;
      vals_[v] = sv;
      return sv;
    }
    SVP s = from_concrete(*iv);
    vals_[v] = s;
    return s;
  }
  PTX_INTERNAL_CHECK(false) << "value %" << v->debugName() << " used before it was computed";
}

std::vector<SVP> Tracer::elements(const SVP& s) {
  if (s->elems) return *s->elems;
  PTX_INTERNAL_CHECK(false) << "not a list or tuple";
}

shapes::Provenance Tracer::why(jit::Node* n, const std::string& reason) const {
  shapes::Provenance p;
  if (n == nullptr) return p;
  p.op = n->kind().toQualString();
  // The innermost line: the one in the (sub)module's own code that calls the op; the call chain
  // that leads there is in the node's stack trace (set_meta) and in called_from().
  const jit::SourceRange& user = n->sourceRange();
  p.source = line_of(user);
  p.code = code_of(user);
  p.reason = reason;
  return p;
}

SymExpr Tracer::int_of(const SVP& s, jit::Node* n, const char* what) {
  if (!s->data_dep.empty()) data_dependent(n, s, what);
  if (s->k == SV::K::kInt) return s->sym;
  if (s->iv.isInt()) return SymExpr(s->iv.toInt());
  if (s->k == SV::K::kTensor && s->cell->scalar) return *s->cell->scalar;
  PTX_INTERNAL_CHECK(false) << what << ": expected an int";
}

void Tracer::data_dependent(jit::Node* n, const SVP& s, const char* what) {
  const shapes::Provenance p = why(n, what);
  PTX_USER_FAIL(ExitCode::kExportFailed, "E_DATA_DEPENDENT")
      << (p.source.empty() ? std::string("model") : p.source) << ": " << what
      << " depends on the values in a tensor (" << s->data_dep << "), not only on shapes"
      << (p.code.empty() ? "" : "\n    " + p.code) << called_from(n, "  ")
      << "\n  an exported graph has no Python control flow: rewrite the condition with torch.cond, "
         "or compute both branches and select with torch.where";
}

bool Tracer::decide(const SVP& s, jit::Node* n, const char* what) {
  if (!s->data_dep.empty()) data_dependent(n, s, what);
  const bool hint = s->iv.toBool();
  if (s->cond) {
    const bool v = env_.guard_bool(*s->cond, why(n, what));
    PTX_INTERNAL_CHECK(v == hint) << "guard on " << s->cond->str() << " disagrees with the sample";
  }
  return hint;
}

ir::Value* Tracer::tensor_value(const SVP& s) {
  PTX_INTERNAL_CHECK(s->k == SV::K::kTensor) << "expected a tensor";
  TensorCell& c = *s->cell;
  if (c.value != nullptr) return c.value;
  if (c.scalar && !c.scalar->is_const()) {
    // prim::NumToTensor of a symbolic int used as a tensor: aten::scalar_tensor(sym).
    std::vector<ir::NamedArg> args{{"s", sym_value(*c.scalar), false},
                                   {"dtype", ir::DTypeArg{ir::DType::kInt64}, true},
                                   {"layout", ir::NoneArg{}, true},
                                   {"device", ir::DeviceArg{"cpu"}, true},
                                   {"pin_memory", ir::NoneArg{}, true}};
    ir::Node* node = graph_.add_call("aten::scalar_tensor.default", std::move(args), {ir::ValueType::kTensor},
                                     "scalar_tensor");
    node->outputs()[0]->mutable_meta() = make_meta(c.sample, {});
    c.value = node->outputs()[0];
    return c.value;
  }
  // A tensor that exists only as a constant in the model: lift it.
  const std::string name = "c_lifted_tensor_" + std::to_string(lifted_constants_);
  const std::string target = "lifted_tensor_" + std::to_string(lifted_constants_);
  ++lifted_constants_;
  ir::Value* v = graph_.add_placeholder(name, ir::ValueType::kTensor, make_meta(c.sample, c.shape));
  out_.program.constants[target] = c.sample.clone();
  // Constants come after parameters and buffers and before user inputs.
  size_t pos = 0;
  while (pos < out_.program.input_specs.size() &&
         out_.program.input_specs[pos].kind != ir::InputKind::kUserInput) {
    ++pos;
  }
  out_.program.input_specs.insert(out_.program.input_specs.begin() + static_cast<std::ptrdiff_t>(pos),
                                  {ir::InputKind::kConstantTensor, v->name(), target, true});
  graph_.move_placeholder(v, pos);
  c.value = v;
  c.original = v;
  return v;
}

ir::Value* Tracer::sym_value(SymExpr e) { return syms_.materialize(e); }

ir::ArgValue Tracer::to_arg(const SVP& s, const c10::TypePtr& type_in, jit::Node* n, const std::string& arg) {
  c10::TypePtr type = type_in;
  if (s->k == SV::K::kNone) return ir::NoneArg{};
  if (auto opt = type->cast<c10::OptionalType>()) type = opt->getElementType();
  const std::string what = "argument '" + arg + "' of " + std::string(n->kind().toQualString());
  switch (type->kind()) {
    case c10::TypeKind::TensorType:
      return tensor_value(s);
    case c10::TypeKind::IntType:
    case c10::TypeKind::SymIntType: {
      const SymExpr e = int_of(s, n, what.c_str());
      if (e.is_const()) return e.value();
      return sym_value(e);
    }
    case c10::TypeKind::ScalarTypeType:
      return ir::DTypeArg{static_cast<ir::DType>(s->iv.toInt())};
    case c10::TypeKind::LayoutType:
      return ir::LayoutArg{static_cast<int>(s->iv.toInt())};
    case c10::TypeKind::MemoryFormatType:
      return ir::MemoryFormatArg{static_cast<int>(s->iv.toInt())};
    case c10::TypeKind::DeviceObjType:
      return ir::DeviceArg{s->iv.toDevice().str()};
    case c10::TypeKind::FloatType:
      if (s->iv.isInt()) return static_cast<double>(s->iv.toInt());
      return s->iv.toDouble();
    case c10::TypeKind::BoolType:
      return decide(s, n, what.c_str());
    case c10::TypeKind::StringType:
      return s->iv.toStringRef();
    case c10::TypeKind::NumberType:
    case c10::TypeKind::SymFloatType: {
      if (s->k == SV::K::kInt) {
        const SymExpr e = int_of(s, n, what.c_str());
        if (e.is_const()) return e.value();
        return sym_value(e);
      }
      if (s->iv.isBool()) return s->iv.toBool();
      if (s->iv.isInt()) return s->iv.toInt();
      return s->iv.toDouble();
    }
    case c10::TypeKind::ListType: {
      const c10::TypePtr elem = type->castRaw<c10::ListType>()->getElementType();
      const std::vector<SVP> items = elements(s);
      switch (elem->kind()) {
        case c10::TypeKind::IntType:
        case c10::TypeKind::SymIntType: {
          std::vector<ir::SymIntArg> out;
          for (const SVP& item : items) {
            const SymExpr e = int_of(item, n, what.c_str());
            if (e.is_const()) {
              out.emplace_back(e.value());
            } else {
              out.emplace_back(sym_value(e));
            }
          }
          return out;
        }
        case c10::TypeKind::FloatType: {
          std::vector<double> out;
          for (const SVP& item : items) out.push_back(item->iv.isInt() ? item->iv.toInt() : item->iv.toDouble());
          return out;
        }
        case c10::TypeKind::BoolType: {
          std::vector<bool> out;
          for (const SVP& item : items) out.push_back(decide(item, n, what.c_str()));
          return out;
        }
        case c10::TypeKind::TensorType: {
          std::vector<ir::Value*> out;
          for (const SVP& item : items) out.push_back(tensor_value(item));
          return out;
        }
        case c10::TypeKind::OptionalType: {
          std::vector<std::optional<ir::Value*>> out;
          for (const SVP& item : items) {
            if (item->k == SV::K::kNone) {
              out.emplace_back(std::nullopt);
            } else {
              out.emplace_back(tensor_value(item));
            }
          }
          return out;
        }
        default:
          break;
      }
      break;
    }
    default:
      break;
  }
  PTX_USER_FAIL(ExitCode::kExportFailed, "E_UNSUPPORTED_ARG")
      << why(n, "").source << ": " << what << " has type " << type_in->str() << ", which ptexport cannot export yet";
}

shapes::RuleArg Tracer::to_rule_arg(const SVP& s, jit::Node* n) {
  shapes::RuleArg a;
  switch (s->k) {
    case SV::K::kNone:
      a.kind = shapes::RuleArg::Kind::kNone;
      break;
    case SV::K::kTensor:
      a.kind = shapes::RuleArg::Kind::kTensor;
      a.shape = s->cell->shape;
      a.dtype = static_cast<int>(s->cell->sample.scalar_type());
      break;
    case SV::K::kInt:
      a.kind = shapes::RuleArg::Kind::kInt;
      a.i = int_of(s, n, "a size argument");
      break;
    case SV::K::kFloat:
      a.kind = shapes::RuleArg::Kind::kFloat;
      a.f = s->iv.toDouble();
      break;
    case SV::K::kBool:
      a.kind = shapes::RuleArg::Kind::kBool;
      a.b = s->iv.toBool();
      break;
    case SV::K::kList:
    case SV::K::kTuple: {
      const auto items = elements(s);
      const bool tensors = std::any_of(items.begin(), items.end(), [](const SVP& i) { return i->k == SV::K::kTensor; });
      if (tensors) {
        a.kind = shapes::RuleArg::Kind::kTensorList;
        for (const SVP& i : items) {
          if (i->k == SV::K::kTensor) {
            a.shapes.emplace_back(i->cell->shape);
            a.dtypes.push_back(static_cast<int>(i->cell->sample.scalar_type()));
          } else {
            a.shapes.emplace_back(std::nullopt);
            a.dtypes.push_back(-1);
          }
        }
      } else if (std::all_of(items.begin(), items.end(), [](const SVP& i) { return i->k == SV::K::kInt; })) {
        a.kind = shapes::RuleArg::Kind::kIntList;
        for (const SVP& i : items) a.ints.push_back(int_of(i, n, "a size argument"));
      } else {
        a.kind = shapes::RuleArg::Kind::kOther;
        if (std::all_of(items.begin(), items.end(), [](const SVP& i) { return i->k == SV::K::kFloat; })) {
          for (const SVP& i : items) a.floats.push_back(i->iv.toDouble());  // float[] (scale_factors)
        }
      }
      break;
    }
    default:
      if (s->iv.isString()) {
        a.kind = shapes::RuleArg::Kind::kString;
        a.s = s->iv.toStringRef();
      } else if (s->iv.isInt()) {
        a.kind = shapes::RuleArg::Kind::kInt;
        a.i = SymExpr(s->iv.toInt());
      } else {
        a.kind = shapes::RuleArg::Kind::kOther;
      }
  }
  return a;
}

void Tracer::set_meta(ir::Node* node, jit::Node* n) {
  ir::NodeMeta& m = node->meta();
  std::ostringstream trace;
  auto frame = [&](const jit::SourceRange& r, const std::string& fn) {
    const auto flc = r.source() ? r.file_line_col() : std::nullopt;
    if (!flc) return;
    trace << "File \"" << std::get<0>(*flc) << "\", line " << std::get<1>(*flc) << ", in " << fn << "\n    "
          << code_of(r) << "\n";
  };
  std::string fn = "forward";
  std::string path;
  // torch.export's form: the root module first ("L__self__", path "", its type), then one frame
  // per submodule call ("L__self__layer1_0", "layer1.0", "torch.nn.modules.container.Sequential").
  const auto root_type = model_.module.type()->name();
  m.nn_module_stack.push_back({"L__self__", "", root_type ? strip_mangle(root_type->qualifiedName()) : ""});
  if (auto cs = n->callstack()) {
    for (const auto& entry : (*cs)->vec()) {
      frame(std::get<1>(entry), fn);
      const auto& info = std::get<2>(entry);
      if (info && info->class_type()) {
        path = path.empty() ? info->instance_name() : path + "." + info->instance_name();
        std::string key = "L__self__" + path;
        std::replace(key.begin(), key.end(), '.', '_');
        m.nn_module_stack.push_back({key, path, strip_mangle(info->class_type()->name()->qualifiedName())});
      }
      fn = std::get<0>(entry) ? std::get<0>(entry)->name() : "forward";
    }
  }
  frame(n->sourceRange(), fn);
  m.stack_trace = trace.str();
  if (!m.stack_trace.empty() && m.stack_trace.back() == '\n') m.stack_trace.pop_back();
  const shapes::Provenance p = why(n, "");
  if (auto colon = p.source.rfind(':'); colon != std::string::npos) {
    m.source_file = p.source.substr(0, colon);
    m.source_line = std::atoi(p.source.c_str() + colon + 1);
  }
}

// ---- interpretation ----------------------------------------------------------------------------------

std::vector<c10::IValue> Tracer::run_concrete(jit::Node* n, const std::vector<SVP>& in) {
  jit::Stack stack;
  stack.reserve(in.size());
  for (const SVP& s : in) stack.push_back(s->k == SV::K::kTensor ? c10::IValue(s->cell->sample) : s->iv);
  try {
    // The prim ops that TorchScript's interpreter implements itself (no registered operator).
    const c10::Symbol k = n->kind();
    const size_t nin = n->inputs().size();
    auto pop_n = [&](size_t count) {
      std::vector<c10::IValue> items(stack.end() - static_cast<std::ptrdiff_t>(count), stack.end());
      stack.resize(stack.size() - count);
      return items;
    };
    if (k == c10::prim::ListConstruct) {
      c10::impl::GenericList list(n->output()->type()->expectRef<c10::ListType>().getElementType());
      for (c10::IValue& v : pop_n(nin)) list.push_back(std::move(v));
      stack.emplace_back(std::move(list));
    } else if (k == c10::prim::TupleConstruct) {
      const auto tt = n->output()->type()->cast<c10::TupleType>();
      auto items = pop_n(nin);
      if (tt && tt->schema()) {
        stack.emplace_back(c10::ivalue::Tuple::createNamed(std::move(items), tt));
      } else {
        stack.emplace_back(c10::ivalue::Tuple::create(std::move(items)));
      }
    } else if (k == c10::prim::DictConstruct) {
      const auto& dt = n->output()->type()->expectRef<c10::DictType>();
      c10::impl::GenericDict dict(dt.getKeyType(), dt.getValueType());
      auto items = pop_n(nin);
      for (size_t i = 0; i + 1 < items.size(); i += 2) dict.insert_or_assign(items[i], items[i + 1]);
      stack.emplace_back(std::move(dict));
    } else if (k == c10::prim::ListUnpack || k == c10::prim::TupleUnpack) {
      const c10::IValue v = pop_n(1)[0];
      const std::vector<c10::IValue> items = v.isList() ? v.toListRef().vec() : v.toTupleRef().elements().vec();
      PTX_INTERNAL_CHECK(items.size() == n->outputs().size()) << "unpacking " << items.size() << " values into "
                                                              << n->outputs().size();
      for (const c10::IValue& e : items) stack.push_back(e);
    } else if (k == c10::prim::Uninitialized) {
      stack.emplace_back();
    } else if (k == c10::prim::isinstance) {
      const c10::IValue v = pop_n(1)[0];
      bool is = false;
      for (const c10::TypePtr& t : n->tys(c10::attr::types)) {
        is = is || (v.isNone() ? t->kind() == c10::TypeKind::NoneType : v.type()->isSubtypeOf(*t));
      }
      stack.emplace_back(is);
    } else if (k == c10::prim::unchecked_cast) {
      // identity
    } else {
      // Vararg operators (aten::format) take their input count on top of the stack.
      if (n->maybeSchema() != nullptr && n->schema().is_vararg()) stack.emplace_back(static_cast<int64_t>(nin));
      jit::Operation op = n->getOperation();
      op(stack);
    }
  } catch (const c10::Error& e) {
    std::string msg = e.what_without_backtrace();
    if (auto nl = msg.find('\n'); nl != std::string::npos) msg.resize(nl);
    const shapes::Provenance p = why(n, "");
    PTX_USER_FAIL(ExitCode::kInput, "E_MODEL_RAISED")
        << (p.source.empty() ? std::string("model") : p.source) << ": " << n->kind().toQualString()
        << " failed on the sample inputs: " << msg << (p.code.empty() ? "" : "\n    " + p.code)
        << called_from(n, "  ");
  }
  const size_t nout = n->outputs().size();
  PTX_INTERNAL_CHECK(stack.size() >= nout) << n->kind().toQualString() << ": operation left too few outputs";
  return std::vector<c10::IValue>(stack.end() - static_cast<std::ptrdiff_t>(nout), stack.end());
}

void Tracer::run_block(jit::Block* block) {
  for (jit::Node* n : block->nodes()) run_node(n);
}

void Tracer::run_node(jit::Node* n) {
  current_ = n;
  ++out_.script_nodes;
  const c10::Symbol kind = n->kind();
  if (kind == c10::prim::Constant) {
    if (exporting_flag(n)) {
      auto sv = from_concrete(c10::IValue(true));
      set(n->output(), sv);
      return;
    }
    get(n->output());
    return;
  }
  if (kind == c10::prim::If) return run_if(n);
  if (kind == c10::prim::Loop) return run_loop(n);
  if (kind == c10::prim::GetAttr) return run_get_attr(n);
  if (kind == c10::prim::RaiseException) {
    std::string msg;
    if (!n->inputs().empty()) {
      const SVP s = get(n->input(0));
      if (s->iv.isString()) msg = s->iv.toStringRef();
    }
    const shapes::Provenance p = why(n, "");
    PTX_USER_FAIL(ExitCode::kInput, "E_MODEL_RAISED")
        << (p.source.empty() ? std::string("model") : p.source)
        << ": the model raises an exception on the sample inputs: " << msg << called_from(n, "  ");
  }
  if (kind == c10::prim::SetAttr) {
    PTX_USER_FAIL(ExitCode::kExportFailed, "E_SETATTR")
        << why(n, "").source << ": assigning a module attribute (" << n->s(c10::attr::name)
        << ") is not supported yet";
  }
  if (kind == c10::aten::warn) return;  // warnings on the sample do not change the graph
  if (kind.is_aten() && n->maybeSchema() != nullptr) {
    const c10::FunctionSchema& schema = n->schema();
    bool tensor_out = false;
    for (const auto& r : schema.returns()) {
      const c10::TypePtr& t = r.type();
      tensor_out = tensor_out || t->kind() == c10::TypeKind::TensorType ||
                   (t->kind() == c10::TypeKind::ListType &&
                    t->castRaw<c10::ListType>()->getElementType()->kind() == c10::TypeKind::TensorType);
    }
    if (tensor_out) return run_aten(n, schema);
  }
  run_generic(n);
}

namespace {

/// True when running `b` has no effect besides computing its outputs from metadata: only
/// constants, None tests, negation, casts and nested ifs of the same kind.
bool pure_block(jit::Block* b) {
  for (jit::Node* n : b->nodes()) {
    const c10::Symbol k = n->kind();
    if (k == c10::prim::Constant || k == c10::aten::__is__ || k == c10::aten::__isnot__ ||
        k == c10::aten::__not__ || k == c10::prim::unchecked_cast) {
      continue;
    }
    if (k == c10::prim::If && pure_block(n->blocks()[0]) && pure_block(n->blocks()[1])) continue;
    return false;
  }
  return true;
}

/// True when `a` and `b` are the same value for every input the trace allows: the same symbolic
/// value, or equal constants (None, bool, int, float, string) with no symbolic or data part.
bool same_value(const SV& a, const SV& b) {
  if (&a == &b) return true;
  if (!a.data_dep.empty() || !b.data_dep.empty() || a.cond || b.cond) return false;
  if (a.k != b.k) return false;
  switch (a.k) {
    case SV::K::kNone: return true;
    case SV::K::kBool: return a.iv.toBool() == b.iv.toBool();
    case SV::K::kInt: return a.sym.is_const() && b.sym.is_const() && a.sym.value() == b.sym.value();
    case SV::K::kFloat: return a.iv.toDouble() == b.iv.toDouble();
    case SV::K::kTensor: return a.cell == b.cell;
    default: return a.iv.isString() && b.iv.isString() && a.iv.toStringRef() == b.iv.toStringRef();
  }
}

}  // namespace

void Tracer::run_if(jit::Node* n) {
  const SVP c = get(n->input(0));
  if (!c->data_dep.empty() && pure_block(n->blocks()[0]) && pure_block(n->blocks()[1])) {
    // A condition on tensor data whose branches compute the same values either way (e.g.
    // `if is_causal: x = attn_mask is None else: x = False` with a mask present): no decision.
    std::vector<SVP> outs[2];
    for (int i = 0; i < 2; ++i) {
      run_block(n->blocks()[i]);
      for (jit::Value* v : n->blocks()[i]->outputs()) outs[i].push_back(get(v));
    }
    bool same = true;
    for (size_t i = 0; i < outs[0].size(); ++i) same = same && same_value(*outs[0][i], *outs[1][i]);
    if (same) {
      for (size_t i = 0; i < n->outputs().size(); ++i) set(n->output(i), outs[0][i]);
      return;
    }
  }
  const bool taken = decide(c, n, "this if-condition");
  jit::Block* b = n->blocks()[taken ? 0 : 1];
  run_block(b);
  for (size_t i = 0; i < n->outputs().size(); ++i) set(n->output(i), get(b->outputs()[i]));
}

void Tracer::run_loop(jit::Node* n) {
  // prim::Loop(max_trip_count, initial_condition, carried...) with body (i, carried...) ->
  // (condition, carried...). Unrolled on the sample; a symbolic trip count is specialized (guard).
  const SVP trip_sv = get(n->input(0));
  const SymExpr trip_e = int_of(trip_sv, n, "a loop's trip count");
  int64_t trip = trip_sv->iv.toInt();
  if (!trip_e.is_const()) trip = env_.guard_int(trip_e, why(n, "loop trip count (the loop is unrolled)"));
  bool cond = decide(get(n->input(1)), n, "a loop condition");
  std::vector<SVP> carried;
  for (size_t i = 2; i < n->inputs().size(); ++i) carried.push_back(get(n->input(i)));
  jit::Block* body = n->blocks()[0];
  constexpr int64_t kMaxUnroll = 100000;
  for (int64_t it = 0; it < trip && cond; ++it) {
    PTX_USER_CHECK(it < kMaxUnroll, ExitCode::kExportFailed, "E_LOOP_TOO_LONG")
        << why(n, "").source << ": a loop runs more than " << kMaxUnroll << " iterations; ptexport unrolls loops";
    set(body->inputs()[0], from_concrete(c10::IValue(it)));
    for (size_t i = 0; i < carried.size(); ++i) set(body->inputs()[i + 1], carried[i]);
    run_block(body);
    cond = decide(get(body->outputs()[0]), n, "a loop condition");
    for (size_t i = 0; i < carried.size(); ++i) carried[i] = get(body->outputs()[i + 1]);
  }
  for (size_t i = 0; i < n->outputs().size(); ++i) set(n->output(i), carried[i]);
}

void Tracer::run_get_attr(jit::Node* n) {
  const SVP obj = get(n->input(0));
  const std::string name = n->s(c10::attr::name);
  PTX_INTERNAL_CHECK(obj->iv.isObject()) << "GetAttr on a non-object";
  const c10::IValue v = obj->iv.toObjectRef().getAttr(name);
  const std::string path = obj->path.empty() ? name : obj->path + "." + name;
  if (v.isTensor()) {
    auto it = state_.find(path);
    if (it != state_.end()) {
      auto sv = std::make_shared<SV>();
      sv->k = SV::K::kTensor;
      sv->iv = v;
      sv->cell = it->second;
      set(n->output(), sv);
      return;
    }
  }
  SVP sv = from_concrete(v);
  if (v.isObject()) sv->path = path;
  set(n->output(), sv);
}

void Tracer::run_aten(jit::Node* n, const c10::FunctionSchema& schema) {
  std::vector<SVP> in;
  for (jit::Value* v : n->inputs()) in.push_back(get(v));
  for (const SVP& s : in) {
    if (!s->data_dep.empty() && s->k != SV::K::kTensor) data_dependent(n, s, "an argument");
  }
  const std::string name = schema.name();  // "aten::relu_"
  const std::string overload = schema.overload_name().empty() ? "default" : schema.overload_name();
  const bool inplace = schema.is_mutable() && !name.empty() && name.back() == '_' && !schema.arguments().empty() &&
                       schema.arguments()[0].alias_info() && schema.arguments()[0].alias_info()->isWrite();
  const std::string functional = inplace ? name.substr(0, name.size() - 1) : name;

  // Concrete run first: it also validates the sample.
  const std::vector<c10::IValue> outs = run_concrete(n, in);
  if (!inplace && run_scalar_tensor_op(n, functional, in, outs)) return;
  if (functional == "aten::tensor" || functional == "aten::as_tensor") {
    // A tensor made from constant data is a constant: lifted as torch.export lifts it
    // (c_lifted_tensor_N), unless its data depends on sizes.
    bool constant = true;
    for (const SVP& s : in) {
      if (s->k == SV::K::kTensor) constant = false;
      if (s->k == SV::K::kInt && !s->sym.is_const()) constant = false;
      if (s->elems) {
        for (const SVP& e : *s->elems) constant = constant && (e->k != SV::K::kInt || e->sym.is_const()) && e->k != SV::K::kTensor;
      }
    }
    if (constant) {
      set(n->output(), from_concrete(outs[0]));
      return;
    }
  }

  // Symbolic sizes from the rule.
  std::vector<shapes::RuleArg> rargs;
  for (const SVP& s : in) rargs.push_back(to_rule_arg(s, n));
  const shapes::Provenance prov = why(n, "");
  shapes::RuleContext ctx{env_, prov, functional, overload, inplace};
  std::vector<SymShape> shapes_out;
  std::string rule_error;
  if (const shapes::ShapeRule* rule = shapes::find_shape_rule(functional)) {
    shapes::RuleResult r = rule->fn(ctx, rargs);
    if (r.error.empty()) {
      shapes_out = std::move(r.shapes);
    } else {
      rule_error = r.error;
    }
  } else {
    rule_error = "no shape rule";
  }

  // Concrete output tensors in schema order (Tensor[] returns flattened).
  std::vector<at::Tensor> concrete;
  bool returns_list = false;
  for (const c10::IValue& o : outs) {
    if (o.isTensor()) {
      concrete.push_back(o.toTensor());
    } else if (o.isTensorList()) {
      returns_list = true;
      for (const at::Tensor& t : o.toTensorVector()) concrete.push_back(t);
    }
  }
  if (!rule_error.empty()) {
    // Record and go on with static sizes, so every missing rule is reported at once.
    const std::string key = functional + "." + overload;
    RuleMiss& miss = missing_[key];
    if (miss.count++ == 0) {
      miss.first_source = prov.source.empty() ? "" : prov.source + (prov.code.empty() ? "" : ": " + prov.code);
      miss.first_source += called_from(n, "      ");
      miss.detail = rule_error;
      missing_seen_.push_back(key);
    }
    shapes_out.clear();
    for (const at::Tensor& t : concrete) shapes_out.emplace_back(t.sizes().begin(), t.sizes().end());
  }
  PTX_INTERNAL_CHECK(shapes_out.size() == concrete.size())
      << functional << ": shape rule gave " << shapes_out.size() << " outputs, ATen " << concrete.size();
  for (size_t i = 0; i < concrete.size(); ++i) {
    if (!concrete[i].defined()) continue;  // ATen returned None for it (RuleResult::undefined)
    const auto want = concrete[i].sizes().vec();
    const auto got = evaluate_shape(shapes_out[i], env_.hints());
    PTX_INTERNAL_CHECK(want == got) << functional << "." << overload << ": shape rule gives "
                                    << shapes::to_string(shapes_out[i]) << " = " << c10::IntArrayRef(got)
                                    << " on the sample, ATen computed " << c10::IntArrayRef(want) << " (at "
                                    << prov.source << ")";
  }

  // The IR node: the functional op with schema-named arguments.
  std::string target = functional + "." + overload;
  const c10::FunctionSchema* arg_schema = &schema;
  std::optional<c10::OperatorHandle> fn_op;
  if (inplace) {
    // The functional overload has the same arguments (add_.Tensor -> add.Tensor), possibly under
    // other names (dropout_(self) -> dropout(input)): use the functional schema's names.
    fn_op = c10::Dispatcher::singleton().findSchema({functional, schema.overload_name()});
    PTX_USER_CHECK(fn_op.has_value(), ExitCode::kExportFailed, "E_NO_FUNCTIONAL")
        << prov.source << ": in-place " << name << " has no functional form " << functional << "." << overload;
    arg_schema = &fn_op->schema();
  }
  const auto& args = arg_schema->arguments();
  std::vector<ir::NamedArg> iargs;
  for (size_t i = 0; i < args.size() && i < in.size(); ++i) {
    const c10::Argument& a = args[i];
    iargs.push_back({a.name(), to_arg(in[i], a.real_type(), n, a.name()), a.kwarg_only()});
  }
  std::vector<ir::ValueType> types(concrete.size(), ir::ValueType::kTensor);
  std::string hint = functional.substr(functional.find("::") + 2);
  ir::Node* node = graph_.add_call(target, std::move(iargs), types, hint);
  node->set_returns_list(returns_list);
  set_meta(node, n);
  for (size_t i = 0; i < concrete.size(); ++i) {
    if (!concrete[i].defined()) continue;
    node->outputs()[i]->mutable_meta() = make_meta(concrete[i], shapes_out[i]);
  }

  // Bind the TorchScript outputs.
  if (inplace) {
    TensorCell& cell = *in[0]->cell;
    cell.value = node->outputs()[0];
    cell.shape = shapes_out[0];
    if (cell.view_base) scatter_into_base(cell, n);
    set(n->output(0), in[0]);  // the same tensor (Note [Aliasing])
    for (size_t i = 1; i < n->outputs().size(); ++i) set(n->output(i), from_concrete(outs[i]));
    return;
  }
  size_t k = 0;
  for (size_t i = 0; i < outs.size(); ++i) {
    const c10::IValue& o = outs[i];
    auto make_tensor = [&](const at::Tensor& t) {
      auto sv = std::make_shared<SV>();
      sv->k = SV::K::kTensor;
      sv->iv = t;
      auto cell = std::make_shared<TensorCell>();
      cell->value = node->outputs()[k];
      cell->shape = shapes_out[k];
      cell->sample = t;
      const auto& ret = schema.returns()[i];
      if (ret.alias_info() && !ret.alias_info()->isWrite() && !in.empty() && in[0]->k == SV::K::kTensor) {
        cell->view_base = in[0]->cell;
        cell->step = view_step(functional, node->inputs(), in[0]->cell->shape.size());
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

TensorCell::ViewStep Tracer::view_step(const std::string& op, const std::vector<ir::NamedArg>& args, size_t in_rank) {
  using Kind = TensorCell::ViewStep::Kind;
  TensorCell::ViewStep st;
  st.op = op;
  auto int_arg = [&](const char* name) -> std::optional<int64_t> {
    for (const ir::NamedArg& a : args) {
      if (a.name == name) {
        if (const auto* v = std::get_if<int64_t>(&a.value)) return *v;
      }
    }
    return std::nullopt;
  };
  auto wrap_dim = [&](int64_t d) { return d < 0 ? d + static_cast<int64_t>(in_rank) : d; };
  if (op == "aten::view" || op == "aten::reshape" || op == "aten::flatten" || op == "aten::unflatten" ||
      op == "aten::unsqueeze" || op == "aten::squeeze" || op == "aten::view_as" || op == "aten::reshape_as") {
    st.kind = Kind::kReshape;
  } else if (op == "aten::contiguous" || op == "aten::alias" || op == "aten::detach" || op == "aten::to" ||
             op == "aten::type_as" || op == "aten::clone") {
    st.kind = Kind::kAlias;
  } else if (op == "aten::transpose" || op == "aten::t" || op == "aten::permute" || op == "aten::swapaxes") {
    st.kind = Kind::kPermute;
    st.perm.resize(in_rank);
    for (size_t i = 0; i < in_rank; ++i) st.perm[i] = static_cast<int64_t>(i);
    if (op == "aten::permute") {
      for (const ir::NamedArg& a : args) {
        if (const auto* dims = std::get_if<std::vector<ir::SymIntArg>>(&a.value); dims && a.name == "dims") {
          for (size_t i = 0; i < dims->size() && i < in_rank; ++i) st.perm[i] = wrap_dim(std::get<int64_t>((*dims)[i]));
        }
      }
    } else if (in_rank >= 2) {
      const int64_t d0 = wrap_dim(int_arg("dim0").value_or(0)), d1 = wrap_dim(int_arg("dim1").value_or(1));
      std::swap(st.perm[static_cast<size_t>(d0)], st.perm[static_cast<size_t>(d1)]);
    }
  } else if (op == "aten::slice") {
    st.kind = Kind::kSlice;
    for (const ir::NamedArg& a : args) {
      if (a.name != "self") st.args.push_back(a);
    }
  } else if (op == "aten::select") {
    st.kind = Kind::kSelect;
    for (const ir::NamedArg& a : args) {
      if (a.name != "self") st.args.push_back(a);
    }
  }
  return st;
}

void Tracer::scatter_into_base(TensorCell& view, jit::Node* n) {
  using Kind = TensorCell::ViewStep::Kind;
  TensorCell* cur = &view;
  while (cur->view_base) {
    TensorCell& base = *cur->view_base;
    const TensorCell::ViewStep& st = cur->step;
    ir::Value* base_value = base.value;
    if (base_value == nullptr) {
      auto tmp = std::make_shared<SV>();
      tmp->k = SV::K::kTensor;
      tmp->cell = cur->view_base;
      base_value = tensor_value(tmp);
    }
    ir::Node* node = nullptr;
    auto sym_list = [&](const SymShape& shape) {
      std::vector<ir::SymIntArg> out;
      for (const SymExpr& e : shape) {
        if (e.is_const()) {
          out.emplace_back(e.value());
        } else {
          out.emplace_back(sym_value(e));
        }
      }
      return out;
    };
    switch (st.kind) {
      case Kind::kAlias:
        base.value = cur->value;
        cur = &base;
        continue;
      case Kind::kReshape:
        node = graph_.add_call("aten::reshape.default", {{"self", cur->value, false}, {"shape", sym_list(base.shape), false}},
                               {ir::ValueType::kTensor}, "reshape");
        break;
      case Kind::kPermute: {
        std::vector<ir::SymIntArg> inverse(st.perm.size());
        for (size_t i = 0; i < st.perm.size(); ++i) inverse[static_cast<size_t>(st.perm[i])] = static_cast<int64_t>(i);
        node = graph_.add_call("aten::permute.default", {{"self", cur->value, false}, {"dims", inverse, false}},
                               {ir::ValueType::kTensor}, "permute");
        break;
      }
      case Kind::kSlice: {
        std::vector<ir::NamedArg> args{{"self", base_value, false}, {"src", cur->value, false}};
        for (const ir::NamedArg& a : st.args) args.push_back(a);
        node = graph_.add_call("aten::slice_scatter.default", std::move(args), {ir::ValueType::kTensor}, "slice_scatter");
        break;
      }
      case Kind::kSelect: {
        std::vector<ir::NamedArg> args{{"self", base_value, false}, {"src", cur->value, false}};
        for (const ir::NamedArg& a : st.args) args.push_back(a);
        node = graph_.add_call("aten::select_scatter.default", std::move(args), {ir::ValueType::kTensor},
                               "select_scatter");
        break;
      }
      case Kind::kOther: {
        const shapes::Provenance p = why(n, "");
        PTX_USER_FAIL(ExitCode::kExportFailed, "E_INPLACE_VIEW")
            << p.source << ": " << n->kind().toQualString() << " updates in place a view made by " << st.op
            << ", which ptexport cannot functionalize yet" << (p.code.empty() ? "" : "\n    " + p.code);
      }
    }
    set_meta(node, n);
    node->outputs()[0]->mutable_meta() = make_meta(base.sample, base.shape);
    base.value = node->outputs()[0];
    cur = &base;
  }
}

bool Tracer::run_scalar_tensor_op(jit::Node* n, const std::string& op, const std::vector<SVP>& in,
                                  const std::vector<c10::IValue>& outs) {
  // Traced models compute sizes with 0-dim tensors (prim::NumToTensor, then aten::floor_divide,
  // aten::mul, aten::div(rounding_mode="trunc"), .to(), ..., then aten::Int). Such a tensor stays a
  // symbolic int: no IR node is emitted unless the tensor is later used as a tensor (tensor_value()
  // then makes a scalar_tensor). Only integer results qualify: a float result is a real tensor.
  if (outs.size() != 1 || !outs[0].isTensor()) return false;
  const at::Tensor& out = outs[0].toTensor();
  if (out.dim() != 0 || !at::isIntegralType(out.scalar_type(), /*includeBool=*/false)) return false;
  auto scalar_of = [&](const SVP& s) -> std::optional<SymExpr> {
    if (s->k == SV::K::kTensor && s->cell->scalar && s->cell->sample.dim() == 0) return *s->cell->scalar;
    return std::nullopt;
  };
  if (in.empty() || !scalar_of(in[0])) {
    // Binary ops with the size tensor second: mul(2, t) does not exist in TorchScript, but
    // mul(c, t) with a constant tensor c does.
    if (in.size() < 2 || !scalar_of(in[1])) return false;
  }
  std::optional<SymExpr> r;
  // Ops that return their input's value (copies, conversions to another integer dtype, views).
  static const std::set<std::string> kIdentity = {"aten::to",       "aten::detach",  "aten::clone",
                                                  "aten::contiguous", "aten::alias", "aten::lift_fresh",
                                                  "aten::type_as",  "aten::_to_copy", "aten::view_as",
                                                  "aten::reshape_as", "aten::squeeze", "aten::reshape",
                                                  "aten::view", "aten::expand_as", "aten::abs"};
  if (kIdentity.count(op) && scalar_of(in[0])) {
    r = *scalar_of(in[0]);
    if (op == "aten::abs") {
      if (!env_.guard_bool(shapes::sym_ge(*r, SymExpr(0)), why(n, "abs of a size tensor"))) r = -*r;
    }
  }
  auto operand = [&](size_t i) -> std::optional<SymExpr> {
    if (i >= in.size()) return std::nullopt;
    if (auto v = scalar_of(in[i])) return v;
    if (in[i]->k == SV::K::kInt && in[i]->data_dep.empty()) return in[i]->sym;
    return std::nullopt;
  };
  const auto a = operand(0), b = operand(1);
  if (!r && op == "aten::neg" && a) r = -*a;
  if (!r && a && b) {
    std::optional<SymExpr> alpha = SymExpr(1);
    if (in.size() >= 3 && (op == "aten::add" || op == "aten::sub" || op == "aten::rsub")) alpha = operand(2);
    if (alpha) {
      if (op == "aten::add") r = *a + *b * *alpha;
      if (op == "aten::sub") r = *a - *b * *alpha;
      if (op == "aten::rsub") r = *b - *a * *alpha;
    }
    if (op == "aten::mul") r = *a * *b;
    const bool pos_divisor = b->is_const() && b->value() > 0;
    std::string mode;
    if (op == "aten::div" && in.size() >= 3 && in[2]->iv.isString()) mode = in[2]->iv.toStringRef();
    if (pos_divisor && (op == "aten::floor_divide" || (op == "aten::div" && mode == "floor"))) {
      r = shapes::floor_div(*a, *b);
    }
    if (pos_divisor && op == "aten::div" && mode == "trunc") {
      // Truncation equals floor division for a non-negative dividend (sizes): guard on it.
      if (env_.guard_bool(shapes::sym_ge(*a, SymExpr(0)), why(n, "trunc division of a size"))) {
        r = shapes::floor_div(*a, *b);
      } else {
        r = -shapes::floor_div(-*a, *b);
      }
    }
    if (pos_divisor && (op == "aten::remainder" || op == "aten::fmod")) {
      if (op == "aten::fmod" && !env_.guard_bool(shapes::sym_ge(*a, SymExpr(0)), why(n, "fmod of a size"))) {
        return false;
      }
      r = shapes::python_mod(*a, *b);
    }
    if (op == "aten::minimum" || op == "aten::min") r = shapes::sym_min(*a, *b);
    if (op == "aten::maximum" || op == "aten::max") r = shapes::sym_max(*a, *b);
  }
  if (!r) return false;
  PTX_INTERNAL_CHECK(shapes::evaluate(*r, env_.hints()) == std::optional<int64_t>(out.item<int64_t>()))
      << op << " on size tensors: " << r->str() << " disagrees with the sample";
  auto sv = from_concrete(outs[0]);
  sv->cell->scalar = *r;
  set(n->output(), sv);
  return true;
}

bool Tracer::run_symbolic_scalar(jit::Node* n, const std::vector<SVP>& in, const std::vector<c10::IValue>& outs) {
  // Symbolic results of the int/bool/list ops that shape code uses. Returns false when `n` is not
  // one of them (the caller then specializes).
  const std::string kind = n->kind().toQualString();
  auto int_out = [&](SymExpr e) {
    auto sv = from_concrete(outs[0]);
    sv->sym = e;
    PTX_INTERNAL_CHECK(shapes::evaluate(e, env_.hints()) == std::optional<int64_t>(outs[0].toInt()))
        << kind << ": symbolic " << e.str() << " disagrees with the sample " << outs[0].toInt();
    set(n->output(), sv);
    return true;
  };
  auto bool_out = [&](SymBool b) {
    auto sv = from_concrete(outs[0]);
    if (!b.as_const()) sv->cond = b;
    set(n->output(), sv);
    return true;
  };
  auto is_int = [&](size_t i) { return i < in.size() && (in[i]->k == SV::K::kInt); };
  const std::string& op_name = kind;
  if ((op_name == "aten::size" || op_name == "aten::sym_size") && in.size() == 2 && in[0]->k == SV::K::kTensor) {
    const int64_t rank = static_cast<int64_t>(in[0]->cell->shape.size());
    int64_t d = in[1]->iv.toInt();
    if (d < 0) d += rank;
    return int_out(in[0]->cell->shape.at(static_cast<size_t>(d)));
  }
  if ((op_name == "aten::size" || op_name == "prim::shape" || op_name == "aten::sym_size") && in.size() == 1 &&
      in[0]->k == SV::K::kTensor) {
    auto sv = from_concrete(outs[0]);
    for (size_t d = 0; d < sv->elems->size(); ++d) (*sv->elems)[d]->sym = in[0]->cell->shape[d];
    set(n->output(), sv);
    return true;
  }
  if (op_name == "aten::len" && in.size() == 1 && in[0]->k == SV::K::kTensor && !in[0]->cell->shape.empty()) {
    return int_out(in[0]->cell->shape[0]);
  }
  if (op_name == "aten::numel" && in.size() == 1 && in[0]->k == SV::K::kTensor) {
    SymExpr p(1);
    for (const SymExpr& e : in[0]->cell->shape) p = p * e;
    return int_out(p);
  }
  if (op_name == "prim::NumToTensor" && is_int(0)) {
    auto sv = from_concrete(outs[0]);
    sv->cell->scalar = in[0]->sym;
    sv->data_dep = in[0]->data_dep;
    set(n->output(), sv);
    return true;
  }
  if ((op_name == "aten::Int" || op_name == "aten::ScalarImplicit") && in.size() == 1 &&
      in[0]->k == SV::K::kTensor) {
    if (in[0]->cell->scalar) return int_out(*in[0]->cell->scalar);
    auto sv = from_concrete(outs[0]);
    sv->data_dep = "the value of a tensor, read by " + op_name + " at " + why(n, "").source;
    set(n->output(), sv);
    return true;
  }
  if (in.size() == 2 && is_int(0) && is_int(1)) {
    const SymExpr a = in[0]->sym, b = in[1]->sym;
    if (op_name == "aten::add") return int_out(a + b);
    if (op_name == "aten::sub") return int_out(a - b);
    if (op_name == "aten::mul") return int_out(a * b);
    // A symbolic divisor (x.size(0) // num_windows) must be positive: guarded, as a size is.
    auto positive = [&](const SymExpr& d) {
      return d.is_const() ? d.value() != 0
                          : env_.guard_bool(shapes::sym_ge(d, SymExpr(1)), why(n, "a size used as a divisor"));
    };
    if (op_name == "aten::floordiv" || op_name == "aten::__floordiv__") {
      if (!positive(b)) return false;
      return int_out(shapes::floor_div(a, b));
    }
    if (op_name == "aten::remainder" || op_name == "aten::__mod__") {
      if (!positive(b)) return false;
      return int_out(shapes::python_mod(a, b));
    }
    if (op_name == "prim::min") return int_out(shapes::sym_min(a, b));
    if (op_name == "prim::max") return int_out(shapes::sym_max(a, b));
    if (op_name == "aten::eq") return bool_out(shapes::sym_eq(a, b));
    if (op_name == "aten::ne") return bool_out(shapes::sym_ne(a, b));
    if (op_name == "aten::lt") return bool_out(shapes::sym_lt(a, b));
    if (op_name == "aten::le") return bool_out(shapes::sym_le(a, b));
    if (op_name == "aten::gt") return bool_out(shapes::sym_gt(a, b));
    if (op_name == "aten::ge") return bool_out(shapes::sym_ge(a, b));
  }
  if (op_name == "aten::neg" && is_int(0)) return int_out(-in[0]->sym);
  if (op_name == "aten::__not__" && in.size() == 1 && in[0]->cond) {
    auto sv = from_concrete(outs[0]);
    sv->cond = in[0]->cond->negated();
    set(n->output(), sv);
    return true;
  }
  return false;
}

void Tracer::run_generic(jit::Node* n) {
  std::vector<SVP> in;
  for (jit::Value* v : n->inputs()) in.push_back(get(v));
  const std::string kind = n->kind().toQualString();

  // Containers: keep the symbolic elements.
  if (kind == "prim::ListConstruct" || kind == "prim::TupleConstruct") {
    const auto outs = run_concrete(n, in);
    auto sv = from_concrete(outs[0]);
    sv->elems = std::make_shared<std::vector<SVP>>(in);
    set(n->output(), sv);
    return;
  }
  if (kind == "prim::ListUnpack" || kind == "prim::TupleUnpack") {
    const auto items = elements(in[0]);
    PTX_INTERNAL_CHECK(items.size() == n->outputs().size()) << kind << ": arity mismatch";
    for (size_t i = 0; i < items.size(); ++i) set(n->output(i), items[i]);
    return;
  }
  if (kind == "prim::TupleIndex" || (kind == "aten::__getitem__" && in[0]->elems)) {
    const SymExpr idx = int_of(in[1], n, "an index");
    int64_t i = idx.is_const() ? idx.value() : env_.guard_int(idx, why(n, "list index"));
    const auto items = elements(in[0]);
    if (i < 0) i += static_cast<int64_t>(items.size());
    PTX_USER_CHECK(i >= 0 && i < static_cast<int64_t>(items.size()), ExitCode::kInput, "E_MODEL_RAISED")
        << why(n, "").source << ": list index out of range on the sample inputs";
    set(n->output(), items[static_cast<size_t>(i)]);
    return;
  }
  if (kind == "aten::append" && in[0]->elems) {
    run_concrete(n, in);
    in[0]->elems->push_back(in[1]);
    set(n->output(), in[0]);
    return;
  }
  // List slicing, copies, concatenation and item assignment keep the symbolic elements.
  if (kind == "aten::slice" && in[0]->elems && in[0]->k == SV::K::kList) {
    const auto outs = run_concrete(n, in);
    const auto items = elements(in[0]);
    const auto len = static_cast<int64_t>(items.size());
    auto index_arg = [&](size_t i) -> std::optional<int64_t> {
      if (i >= in.size() || in[i]->k == SV::K::kNone) return std::nullopt;
      const SymExpr e = int_of(in[i], n, "a list slice bound");
      return e.is_const() ? e.value() : env_.guard_int(e, why(n, "list slice bound"));
    };
    const int64_t step = index_arg(3).value_or(1);
    if (step > 0) {
      auto clamp = [&](std::optional<int64_t> v, int64_t dflt) {
        int64_t x = v.value_or(dflt);
        if (x < 0) x += len;
        return std::clamp<int64_t>(x, 0, len);
      };
      const int64_t start = clamp(index_arg(1), 0), end = clamp(index_arg(2), len);
      auto sv = from_concrete(outs[0]);
      sv->elems = std::make_shared<std::vector<SVP>>();
      for (int64_t i = start; i < end; i += step) sv->elems->push_back(items[static_cast<size_t>(i)]);
      PTX_INTERNAL_CHECK(sv->elems->size() == outs[0].toListRef().size()) << "list slice disagrees with the sample";
      set(n->output(), sv);
      return;
    }
    // a negative step: the generic path below (specializes the elements)
  }
  if ((kind == "aten::copy" || kind == "aten::list") && in.size() == 1 && in[0]->elems) {
    const auto outs = run_concrete(n, in);
    auto sv = from_concrete(outs[0]);
    sv->elems = std::make_shared<std::vector<SVP>>(*in[0]->elems);
    set(n->output(), sv);
    return;
  }
  if (kind == "aten::add" && in.size() == 2 && in[0]->elems && in[1]->elems && in[0]->k == SV::K::kList) {
    const auto outs = run_concrete(n, in);
    auto sv = from_concrete(outs[0]);
    sv->elems = std::make_shared<std::vector<SVP>>(*in[0]->elems);
    sv->elems->insert(sv->elems->end(), in[1]->elems->begin(), in[1]->elems->end());
    set(n->output(), sv);
    return;
  }
  if ((kind == "aten::eq" || kind == "aten::ne") && in.size() == 2 && in[0]->elems && in[1]->elems) {
    // Size lists compared (x.size() == y.size()): element by element, each decided with a guard on
    // that element's equality only (not a specialization of the sizes).
    const auto outs = run_concrete(n, in);
    const auto a = elements(in[0]), b = elements(in[1]);
    bool all_ints = true;
    for (const SVP& e : a) all_ints = all_ints && e->k == SV::K::kInt && e->data_dep.empty();
    for (const SVP& e : b) all_ints = all_ints && e->k == SV::K::kInt && e->data_dep.empty();
    if (all_ints) {
      bool equal = a.size() == b.size();
      for (size_t i = 0; equal && i < a.size(); ++i) {
        const SymBool c = shapes::sym_eq(a[i]->sym, b[i]->sym);
        equal = c.as_const() ? *c.as_const() : env_.guard_bool(c, why(n, "size lists compared"));
      }
      const bool result = kind == "aten::eq" ? equal : !equal;
      PTX_INTERNAL_CHECK(result == outs[0].toBool()) << kind << " of size lists disagrees with the sample";
      set(n->output(), from_concrete(outs[0]));
      return;
    }
  }
  if (kind == "aten::_set_item" && in.size() == 3 && in[0]->elems) {
    const SymExpr idx = int_of(in[1], n, "an index");
    int64_t i = idx.is_const() ? idx.value() : env_.guard_int(idx, why(n, "list index"));
    run_concrete(n, in);
    if (i < 0) i += static_cast<int64_t>(in[0]->elems->size());
    (*in[0]->elems).at(static_cast<size_t>(i)) = in[2];
    set(n->output(), in[0]);
    return;
  }
  if (kind == "aten::len" && in[0]->elems) {
    const auto outs = run_concrete(n, in);
    set(n->output(), from_concrete(outs[0]));
    return;
  }
  if ((kind == "prim::unchecked_cast" || kind == "prim::unchecked_unwrap_optional" || kind == "aten::detach" ||
       kind == "prim::data") &&
      in.size() == 1) {
    set(n->output(), in[0]);
    return;
  }
  if (kind == "prim::DictConstruct") {
    const auto outs = run_concrete(n, in);
    auto sv = from_concrete(outs[0]);
    sv->dict.clear();
    for (size_t i = 0; i + 1 < in.size(); i += 2) sv->dict.emplace_back(in[i]->iv, in[i + 1]);
    set(n->output(), sv);
    return;
  }
  if (kind == "aten::__getitem__" && in[0]->k == SV::K::kDict) {
    for (const auto& [key, value] : in[0]->dict) {
      if (key == in[1]->iv) {
        set(n->output(), value);
        return;
      }
    }
  }

  if (kind == "prim::requires_grad" && in.size() == 1 && in[0]->k == SV::K::kTensor && in[0]->cell->param_requires_grad) {
    set(n->output(), from_concrete(c10::IValue(true)));
    return;
  }
  const auto outs = run_concrete(n, in);
  if (!outs.empty() && run_symbolic_scalar(n, in, outs)) return;

  // A non-tensor result computed from a tensor reads its data, unless the op reads only metadata.
  static const std::set<std::string> kMetadata = {
      "aten::dim",        "aten::size",          "aten::numel",       "aten::len",         "prim::dtype",
      "prim::device",     "prim::layout",        "prim::is_nested",   "prim::requires_grad", "prim::is_cuda",
      "prim::is_cpu",     "prim::is_xpu",        "prim::is_meta",     "prim::is_mkldnn",   "prim::is_quantized",
      "prim::is_sparse",  "prim::is_sparse_csr", "prim::is_vulkan",   "prim::is_ipu",      "prim::is_mps",
      "prim::is_maia",    "prim::name",          "aten::is_floating_point", "aten::is_complex",
      "aten::is_signed",  "aten::__is__",        "aten::__isnot__",   "aten::is_contiguous", "aten::get_device",
      "aten::stride",     "aten::element_size",  "aten::is_inference", "aten::is_leaf",    "aten::output_nr",
      "prim::shape",      "prim::isinstance",    "prim::unchecked_cast", "aten::sym_size", "aten::sym_numel"};
  // Anything else: the concrete result stands. Symbolic inputs (also inside lists and tuples)
  // are specialized (guarded), and a result computed from tensor data is marked data-dependent.
  std::string data_dep;
  for (const SVP& s : in) {
    if (!s->data_dep.empty()) data_dep = s->data_dep;
    // Messages (aten::format, str) print sizes without deciding anything: no specialization.
    const bool message = kind == "aten::format" || kind == "aten::str" || kind == "prim::str";
    if (!kMetadata.count(kind) && !message) {
      specialize(s, n, "used by " + kind + ", which ptexport evaluates on the sample");
    }
  }
  // A list the op mutated (insert, pop, extend, ...): its elements are now the concrete ones.
  if (n->maybeSchema() != nullptr) {
    const auto& args = n->schema().arguments();
    for (size_t i = 0; i < args.size() && i < in.size(); ++i) {
      if (in[i]->elems && in[i]->iv.isList() && args[i].alias_info() && args[i].alias_info()->isWrite()) {
        in[i]->elems->clear();
        for (const c10::IValue& e : in[i]->iv.toListRef()) in[i]->elems->push_back(from_concrete(e));
      }
    }
  }
  bool tensor_in = false;
  for (const SVP& s : in) tensor_in = tensor_in || s->k == SV::K::kTensor;
  // (item, Bool, Float, is_nonzero, equal, allclose, tolist of a tensor; Bool of an int is not)
  const bool reads_data = tensor_in && !kMetadata.count(kind);
  if (reads_data && data_dep.empty()) data_dep = "the values of a tensor, read by " + kind + " at " + why(n, "").source;
  for (size_t i = 0; i < outs.size(); ++i) {
    SVP sv = from_concrete(outs[i]);
    if (sv->k == SV::K::kTensor) {
      PTX_USER_FAIL(ExitCode::kExportFailed, "E_UNSUPPORTED_OP")
          << why(n, "").source << ": " << kind << " makes a tensor but is not an ATen operator ptexport can export";
    }
    sv->data_dep = data_dep;
    set(n->output(i), sv);
  }
}

// ---- outputs -------------------------------------------------------------------------------------

void Tracer::specialize(const SVP& s, jit::Node* n, const std::string& reason) {
  if (s->k == SV::K::kInt && !s->sym.is_const()) env_.guard_int(s->sym, why(n, reason));
  if (s->k == SV::K::kBool && s->cond) decide(s, n, "a condition");
  if (s->elems) {
    for (const SVP& e : *s->elems) specialize(e, n, reason);
  }
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

void Tracer::run() {
  const SampleSet& set0 = inputs_.sets.at(0);
  const std::string& method_name = inputs_.method;
  auto method = model_.module.find_method(method_name);
  PTX_USER_CHECK(method.has_value(), ExitCode::kUsage, "E_NO_METHOD")
      << model_.file.string() << ": the model has no method '" << method_name << "'";
  auto graph = torch::jit::toGraphFunction(method->function()).graph()->copy();
  torch::jit::Inline(*graph);

  lift_state();
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
    SVP s = bind_input(set0.args[i], set0.names[i], graph->inputs()[i + 1]->type());
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
  out_.program.module_type = model_.module.type()->name() ? model_.module.type()->name()->qualifiedName() : "";

  run_block(graph->block());

  if (!missing_.empty()) {
    std::ostringstream msg;
    msg << "no shape rule for " << missing_.size() << " op" << (missing_.size() == 1 ? "" : "s")
        << " (ptexport cannot export them yet):";
    for (const std::string& key : missing_seen_) {
      const RuleMiss& m = missing_[key];
      msg << "\n  " << key << " (" << m.count << " call" << (m.count == 1 ? "" : "s") << ")";
      if (m.detail != "no shape rule") msg << ": " << m.detail;
      if (!m.first_source.empty()) msg << "\n      first at " << m.first_source;
    }
    PTX_USER_FAIL(ExitCode::kExportFailed, "E_NO_SHAPE_RULE") << msg.str();
  }
  PTX_INTERNAL_CHECK(graph->outputs().size() == 1) << "method returns " << graph->outputs().size() << " values";
  collect_outputs(get(graph->outputs()[0]));
}

}  // namespace

TraceResult trace_module(const LoadedModel& model, const Inputs& inputs) {
  PTX_INTERNAL_CHECK(!inputs.sets.empty()) << "no sample set";
  TraceResult out;
  // The concrete run updates buffers in place (BatchNorm statistics, a counter): trace a copy so
  // that the caller's module keeps its state for verification.
  LoadedModel copy = model;
  copy.module = model.module.clone();
  copy.module.eval();
  Tracer tracer(copy, inputs, out);
  tracer.run();
  // Range constraints: every symbol that the graph uses, with the range the user asked for; the
  // constraint checker narrows them (cmd/ applies its result).
  for (const shapes::SymbolInfo& s : out.env.symbols()) {
    out.program.range_constraints[s.sym.str()] = s.requested;
  }
  return out;
}

}  // namespace ptx
