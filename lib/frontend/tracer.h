// lib/frontend/tracer.h: the frontend's private header (see lib/frontend.h for the public API).
//
// One Tracer interprets one method of a TorchScript module on the sample inputs. Its work is split
// by job over lib/frontend/:
//   values.cpp       symbolic values: from concrete IValues, ints, decisions, IR arguments, rule args
//   provenance.cpp   source lines, call chains and node metadata (stack traces, nn_module_stack)
//   control_flow.cpp the node dispatcher, the concrete run of a node, prim::If / prim::Loop / GetAttr
//   aten.cpp         ATen calls: shape rules, the IR call node, outputs (views remember their base)
//   aliasing.cpp     in-place updates of views scattered back into their bases (Note [Aliasing])
//   scalars.cpp      ints, bools and 0-dim size tensors computed symbolically
//   containers.cpp   lists, tuples and dicts; the generic evaluation of other non-tensor ops
//   signature.cpp    inputs, lifted parameters/buffers/constants, outputs and their specs
//   trace.cpp        the entry point: trace_module and Tracer::run
//   data_dependent.cpp  values read from data (item() as unbacked symbols), asserts as checks,
//                    ifs on tensor data as torch.cond (see Note [Unbacked symbols] in shapes/)
//   while_loop.cpp   loops decided by data as torch's while_loop (Note [Data loops])
//   objects.cpp      objects of TorchScript classes made in forward (Note [Script objects])
//   meta.cpp         the trace on meta tensors (Note [Meta trace]): stand-ins, ops without a meta
//                    kernel, and the restart on the sample's values when data is read
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
// Note [Meta trace]
// ~~~~~~~~~~~~~~~~~
// By default the concrete run computes nothing: inputs, parameters, buffers and tensor constants
// are replaced by meta tensors of the same sizes, strides and dtype ("stand-ins"; the real tensor
// stays known for constants, which are lifted with their data), factory ops make meta tensors, and
// every node runs on them as above, so ATen's meta kernels compute the sizes that the shape rules
// are checked against. An op without a meta kernel in LibTorch (the convolutions, batch norm, ...)
// gets meta outputs of its shape rule's sizes (meta.cpp lists them, with their dtype and memory
// format). Nothing "meta" reaches the graph: a stand-in is a CPU tensor in the metadata and in
// `x.device`. Whenever the trace would read a value (item(), aten::Int of a tensor, tolist, an op
// whose output sizes depend on data, an op that fails on meta, a model raising on the sample, a
// custom op), the Tracer throws NeedsData and trace_module traces again on the sample's values
// (TraceOptions::concrete, the mode above), saying which op at which line needed data.
//
// Note [Aliasing]
// ~~~~~~~~~~~~~~~
// TorchScript tensors are references: `y = x.relu_()` makes y and x the same tensor, and later
// uses of x see the update. A tensor value therefore points at a shared TensorCell holding its
// current ir::Value; an in-place call emits the functional op and moves the cell to its result.
// A view (an op whose schema returns an alias of its input) gets a cell of its own that remembers
// its base and how it was taken. An in-place update of a view is functionalized as torch does: the
// view's new value is scattered back into its base (slice_scatter, select_scatter, the inverse
// reshape or permutation), up the chain of views, each intermediate view taken again from the
// root's current value first (torch's regenerated views). Views of other kinds (expand,
// as_strided, diagonal) updated in place stop the export (exit 4). Every in-place update of a
// root or through a view bumps the root's `version`; a view whose `synced` is older is stale, and
// reading it takes it again from its base (Tracer::refresh_view), as torch's functionalization
// regenerates views. A view's strides are its input's, transformed (Tracer::view_output_strides):
// a slice of a padded tensor is not contiguous, whatever its sample's order says.
#pragma once

#include <torch/csrc/jit/ir/ir.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ir/sym_materialize.h"
#include "lib/frontend.h"
#include "shapes/rules.h"

namespace ptx::frontend {

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
  /// A 1-d integer tensor of ints known symbolically (Note [Size vectors]): torch._shape_as_tensor(x),
  /// torch.stack of size tensors, their cat, a small integer constant.
  std::optional<std::vector<SymExpr>> elems;
  /// Values computed from constants and static sizes alone (Note [Size vectors]): known while tracing,
  /// a constant where the program reads them.
  bool known = false;
  /// Parameters: whether the module's parameter requires grad (the sample is detached). Read by
  /// prim::requires_grad, as torch.export sees it: with grad enabled and parameters requiring
  /// grad, library fast paths (fused transformer kernels) are skipped as they are under export.
  bool param_requires_grad = false;
  /// In-place updates of this tensor (a root: no view_base) or of a view of it: a view whose
  /// `synced` differs from its root's `version` has a stale value (Tracer::refresh_view).
  uint64_t version = 0;
  uint64_t synced = 0;
  /// Made in forward from constant data (aten::tensor of a number): torch.export reads such a
  /// tensor through aten::lift_fresh_copy of the lifted constant (Tracer::tensor_value).
  bool fresh = false;
};

/// The tensor a view is (through its chain of views) a view of; `c` itself when it is no view.
inline TensorCell& root_of(TensorCell& c) {
  TensorCell* r = &c;
  while (r->view_base) r = r->view_base.get();
  return *r;
}

struct SV;
using SVP = std::shared_ptr<SV>;

/// One symbolic value (Note [Two runs in one]).
struct SV {
  enum class K : uint8_t { kNone, kTensor, kInt, kFloat, kBool, kList, kTuple, kDict, kObject, kOther };
  K k = K::kOther;
  c10::IValue iv;                         // the concrete value
  std::shared_ptr<TensorCell> cell;       // kTensor
  SymExpr sym;                            // kInt
  ir::Value* fvalue = nullptr;            // kFloat read from a tensor by item(): its SymFloat value
  std::optional<SymBool> cond;            // kBool, when symbolic
  std::string data_dep;                   // non-empty: derived from tensor data (where)
  std::shared_ptr<std::vector<SVP>> elems;  // kList / kTuple (shared: lists are references)
  std::vector<std::pair<c10::IValue, SVP>> dict;  // kDict
  std::string path;                       // kObject: attribute path of a module ("layer1.0")
  /// kObject made in forward (prim::CreateObject, Note [Script objects]): its attributes' symbolic
  /// values by name (shared: objects are references).
  std::shared_ptr<std::map<std::string, SVP>> attrs;
  /// kBool read from a one-element tensor (aten::Bool, is_nonzero): that tensor, the predicate of
  /// torch.cond when an if reads this bool (data_dependent.cpp).
  SVP pred;
};

/// An op without a usable shape rule: reported once at the end of the trace with its call count.
struct RuleMiss {
  int count = 0;
  std::string first_source;
  std::string detail;
};

/// Thrown by a trace on meta tensors that needs a tensor's values (Note [Meta trace]): the op and
/// where, for the log. trace_module catches it and traces on the sample's values.
struct NeedsData {
  std::string what;
};

/// True when `error` (a c10::Error's message) says that LibTorch has no meta kernel for an op.
bool missing_meta_kernel(const std::string& error);

/// One ATen call being interpreted (aten.cpp): its schema names, inputs and concrete results.
struct AtenCall {
  jit::Node* n = nullptr;
  const c10::FunctionSchema* schema = nullptr;
  std::string name;        // "aten::relu_"
  std::string functional;  // "aten::relu" (the in-place call's functional form)
  std::string overload;    // "default" when the schema has none
  bool inplace = false;
  std::vector<SVP> in;
  std::vector<c10::IValue> outs;     // the concrete run's results
  std::vector<at::Tensor> concrete;  // the tensor results in schema order (Tensor[] flattened)
  bool returns_list = false;
  std::vector<SymShape> shapes;      // symbolic sizes of `concrete`
  shapes::Provenance prov;
};

// ---- source locations (provenance.cpp) -------------------------------------------------------------

/// "__torch__.torch.nn.modules.linear.___torch_mangle_0.Linear" -> "torch.nn.modules.linear.Linear".
std::string strip_mangle(std::string name);
/// "file.py:12", or "" when the range has no source.
std::string line_of(const jit::SourceRange& r);
/// The trimmed source line of the range, or "".
std::string code_of(const jit::SourceRange& r);
/// The call sites that lead to `n` after inlining, innermost first, one "\n<indent>called from
/// file:line: code" each (empty for a node of the method itself).
std::string called_from(jit::Node* n, const std::string& indent);
/// True when `n` is the inlined constant of torch.compiler.is_compiling() or the like (True while
/// exporting, as under torch.export).
bool exporting_flag(jit::Node* n);

/// True when a node of `b` (or of a block inside it) changes state (prim::SetAttr, an in-place op on
/// a tensor or list that `b` did not make): such a block cannot become a subgraph of torch.cond or
/// while_loop. `what` names the node. With `outer`, in-place updates of tensors made before `b`
/// (not attributes) are collected there instead (a while_loop carries them).
bool block_mutates(jit::Block* b, std::string& what, std::vector<jit::Value*>* outer = nullptr);

// ---- the interpreter -------------------------------------------------------------------------------

/// The interpreter of one trace. One instance per trace_module call.
class Tracer {
 public:
  /// `on_meta`: the concrete run is on meta stand-ins (Note [Meta trace]).
  Tracer(const LoadedModel& model, const Inputs& inputs, TraceResult& out, bool on_meta)
      : model_(model), inputs_(inputs), out_(out), env_(out.env), graph_(*out.program.graph), syms_(graph_),
        meta_(on_meta) {}

  /// `graph`: the method's inlined graph, or null (run makes it).
  void run(std::shared_ptr<jit::Graph> graph = nullptr);

 private:
  // signature.cpp: inputs, lifted state, outputs
  void lift_state();
  void bind_inputs(const std::shared_ptr<jit::Graph>& graph);
  void warn_small_dynamic_samples();
  SVP bind_input(const c10::IValue& v, const std::string& path);
  SVP make_input_tensor(const at::Tensor& t, const std::string& path);
  SymExpr named_dim(const DimMark& mark, const std::string& path, int64_t d, int64_t size);
  ir::PyTree input_spec(const SVP& s);
  void collect_outputs(const SVP& result);
  void flatten_output(const SVP& s, ir::PyTree& spec, std::vector<ir::Value*>& outs);

  // control_flow.cpp: dispatch, the concrete run, control flow
  void run_block(jit::Block* block);
  void run_node(jit::Node* n);
  void run_if(jit::Node* n);
  void run_loop(jit::Node* n);
  void run_get_attr(jit::Node* n);
  void run_set_attr(jit::Node* n);

  // objects.cpp: objects of TorchScript classes made in forward (Note [Script objects])
  void run_create_object(jit::Node* n);
  /// SetAttr / GetAttr on an object made in forward; false when `obj` is not one.
  bool set_object_attr(jit::Node* n, const SVP& obj, const SVP& value);
  bool get_object_attr(jit::Node* n, const SVP& obj);
  /// The node's own operation on the samples. On meta, a failure throws NeedsData, except an ATen
  /// op without a meta kernel when `no_meta_kernel` is given: it receives the error, no outputs.
  std::vector<c10::IValue> run_concrete(jit::Node* n, const std::vector<SVP>& in, std::string* no_meta_kernel = nullptr);

  // aten.cpp: ATen calls
  void run_aten(jit::Node* n, const c10::FunctionSchema& schema);
  bool run_constant_tensor(const AtenCall& call);
  void setitem_as_fill(AtenCall& call);
  SVP fresh_copy(const SVP& constant);
  void rule_shapes(AtenCall& call);
  void record_rule_miss(const AtenCall& call, const std::string& error);
  void check_rule_shapes(const AtenCall& call);
  ir::Node* emit_call(const AtenCall& call);
  void bind_aten_outputs(const AtenCall& call, ir::Node* node);
  void report_missing_rules();

  // aliasing.cpp: views and in-place updates
  TensorCell::ViewStep view_step(const std::string& op, const std::vector<ir::NamedArg>& args, size_t in_rank) const;
  void scatter_into_base(TensorCell& view, jit::Node* n);
  ir::Value* replay_view(const TensorCell& view, ir::Value* base_value, jit::Node* n);
  void refresh_view(TensorCell& view, jit::Node* n);
  ir::Value* cell_value(const std::shared_ptr<TensorCell>& cell);  // tensor_value of the cell
  std::optional<SymShape> view_output_strides(const std::string& op, const std::vector<ir::NamedArg>& args,
                                              const ir::TensorMeta& in, const SymShape& out_sizes,
                                              const at::Tensor& sample) const;

  // scalars.cpp: symbolic ints, bools and size tensors
  bool run_scalar_tensor_op(jit::Node* n, const std::string& op, const std::vector<SVP>& in,
                            const std::vector<c10::IValue>& outs);
  // size_vectors.cpp: 1-d size tensors and values known from constants (Note [Size vectors])
  at::Tensor known_value(const SVP& s);
  std::optional<std::vector<SymExpr>> ints_of(const SVP& s);
  bool run_known_op(jit::Node* n, const std::vector<SVP>& in, const std::vector<c10::IValue>& outs);
  bool run_size_vector_op(jit::Node* n, const std::string& op, const std::vector<SVP>& in,
                          const std::vector<c10::IValue>& outs);
  ir::Value* size_vector_value(TensorCell& c);
  std::optional<SymExpr> binary_size_op(jit::Node* n, const std::string& op, const std::vector<SVP>& in,
                                        const SymExpr& a, const SymExpr& b);
  bool run_symbolic_scalar(jit::Node* n, const std::vector<SVP>& in, const std::vector<c10::IValue>& outs);
  bool run_size_query(jit::Node* n, const std::vector<SVP>& in, const std::vector<c10::IValue>& outs);
  bool run_int_binary(jit::Node* n, const std::vector<SVP>& in, const std::vector<c10::IValue>& outs);
  bool run_int_float_compare(jit::Node* n, const std::vector<SVP>& in, const std::vector<c10::IValue>& outs);
  bool int_result(jit::Node* n, const std::vector<c10::IValue>& outs, SymExpr e);
  bool bool_result(jit::Node* n, const std::vector<c10::IValue>& outs, SymBool b);
  /// Guards every symbolic int and bool in `s` (recursively in lists and tuples) to its sample value.
  void specialize(const SVP& s, jit::Node* n, const std::string& reason);

  // containers.cpp: lists, tuples, dicts; other non-tensor ops
  void run_generic(jit::Node* n);  // non-tensor ops: concrete result, symbolic where known
  bool run_list_op(jit::Node* n, const std::string& kind, const std::vector<SVP>& in);
  bool run_list_slice(jit::Node* n, const std::vector<SVP>& in);
  bool run_size_list_compare(jit::Node* n, const std::string& kind, const std::vector<SVP>& in);
  bool run_dict_op(jit::Node* n, const std::string& kind, const std::vector<SVP>& in);
  void evaluate_on_sample(jit::Node* n, const std::string& kind, const std::vector<SVP>& in,
                          const std::vector<c10::IValue>& outs);

  // values.cpp: symbolic values
  SVP from_concrete(const c10::IValue& given);
  SVP get(jit::Value* v);
  void set(jit::Value* v, SVP s) { vals_[v] = std::move(s); }
  std::vector<SVP> elements(const SVP& s);
  SymExpr int_of(const SVP& s, jit::Node* n, const char* what);
  bool decide(const SVP& s, jit::Node* n, const char* what);
  ir::Value* tensor_value(const SVP& s);
  ir::Value* sym_value(SymExpr e);
  /// aten::scalar_tensor(e) (int64, cpu), its meta that of `like` (a 0-dim tensor).
  ir::Value* scalar_tensor_of(const SymExpr& e, const at::Tensor& like);
  std::vector<ir::SymIntArg> sym_list(const SymShape& shape);  // constants, or sym_value's
  ir::ArgValue to_arg(const SVP& s, const c10::TypePtr& type, jit::Node* n, const std::string& arg);
  std::optional<ir::ArgValue> list_arg(const SVP& s, const c10::TypePtr& elem, jit::Node* n, const std::string& what);
  shapes::RuleArg to_rule_arg(const SVP& s, jit::Node* n);

  // data_dependent.cpp: values read from data, checks, torch.cond
  bool read_item(jit::Node* n, const SVP& t, const c10::IValue& out);
  SVP item_value(const SVP& t, int64_t v, const SymExpr& u, jit::Node* n);
  bool run_check(jit::Node* n, const SVP& c);
  void run_cond(jit::Node* n, const SVP& c);
  ir::Value* sym_bool_value(const SymBool& b, jit::Node* n);
  std::vector<SymShape> merge_branch_shapes(jit::Node* n, const std::vector<SVP> (&results)[2], bool taken);

  // while_loop.cpp: loops decided by data as while_loop (Note [Data loops])
  bool is_data_loop(const SymExpr& trip, const SVP& cond);
  void run_while_loop(jit::Node* n, const SymExpr& trip, const SVP& cond0);
  void build_while_loop(jit::Node* n, const std::vector<SVP>& init, const std::vector<SVP>& inner, const SVP& bound,
                        const std::shared_ptr<ir::Graph>& body_graph, const std::vector<ir::Value*>& ops,
                        const std::vector<ir::Node*>& stand_in_nodes);
  at::Tensor sample_of(const ir::Value* v);
  SVP iteration_value(jit::Node* n, const SVP& counter, const SymExpr& trip);
  [[noreturn]] void refuse_loop(jit::Node* n, const SymExpr& trip, const SVP& cond0, const std::string& what,
                                const std::string& fix);
  SVP node_tensor(ir::Node* node, const at::Tensor& sample, jit::Node* n);
  SVP loop_first(jit::Node* n, const SymExpr& trip, const SVP& cond0, SVP& bound);
  void check_carried(jit::Node* n, const SymExpr& trip, const SVP& cond0, const std::vector<SVP>& inner,
                     const std::vector<SVP>& next, size_t own, const std::vector<std::string>& outer_names);
  std::vector<SVP> carry_updated(jit::Node* n, const SymExpr& trip, const SVP& cond0,
                                 const std::vector<jit::Value*>& updated, std::vector<SVP>& init,
                                 std::vector<std::string>& names);
  std::shared_ptr<ir::Graph> extract_body(jit::Node* n, const ir::Node* last, const std::vector<SVP>& next,
                                          std::vector<ir::Value*>& ops);
  std::vector<at::Tensor> loop_samples_;  // the last while_loop's results on the sample
  SVP bool_tensor(const SVP& pred, jit::Node* n);
  // meta.cpp: the trace on meta tensors (Note [Meta trace])
  /// The meta stand-in of `t` (the same for the same tensor); `t` itself when not on meta or when
  /// it is a meta tensor already.
  at::Tensor stand_in(const at::Tensor& t);
  /// `v` with every tensor replaced by its stand-in; lists, tuples and dicts holding one are new
  /// containers (with `copy`, every container is: a module's attribute is never mutated).
  c10::IValue stand_in_value(const c10::IValue& v, bool copy = false);
  /// The real tensor a stand-in stands for, or an undefined tensor when its values are unknown.
  at::Tensor real_of(const at::Tensor& sample) const;
  /// The data of a tensor constant to lift: the sample, or on meta the real tensor it stands for.
  at::Tensor constant_data(const TensorCell& c, jit::Node* n);
  /// On meta: factory ops make meta tensors; a size tensor's int is its hint (no item()).
  /// True when the node's outputs were computed here (no operation run).
  bool meta_arguments(jit::Node* n, jit::Stack& stack, const std::vector<SVP>& in);
  /// On meta, an op without a meta kernel whose tensors all have known values (size tensors of
  /// traced models, small constants): run on them for real. nullopt when a value is not known.
  std::optional<std::vector<c10::IValue>> run_on_known_values(jit::Node* n, const std::vector<SVP>& in);
  /// On meta: results as a CPU run gives them (the device is cpu), CPU tensors made stand-ins.
  void meta_results(jit::Node* n, std::vector<c10::IValue>& outs);
  /// An op without a meta kernel: its outputs from its shape rule (fills call.outs, call.shapes,
  /// call.concrete). Throws NeedsData when meta.cpp does not know the op or the rule fails.
  void meta_fallback(AtenCall& call, const std::string& error);
  [[noreturn]] void needs_data(jit::Node* n, const std::string& why);

  // provenance.cpp: where a node comes from
  shapes::Provenance why(jit::Node* n, const std::string& reason);
  /// The call chain of `n`, outermost first (cached per node).
  const std::vector<shapes::SourceFrame>& frames_of(const jit::Node* n);
  void set_meta(ir::Node* node, jit::Node* n);
  [[noreturn]] void data_dependent(jit::Node* n, const SVP& s, const char* what);

  const LoadedModel& model_;
  const Inputs& inputs_;
  TraceResult& out_;
  shapes::ShapeEnv& env_;
  std::unordered_map<const jit::Node*, std::vector<shapes::SourceFrame>> frames_;  // frames_of
  ir::Graph& graph_;

  std::unordered_map<jit::Value*, SVP> vals_;
  std::map<std::string, std::shared_ptr<TensorCell>> state_;  // by FQN
  /// The same cells by data pointer: a parameter or buffer reached another way (nn.LSTM's
  /// _flat_weights list holds its weights) is the parameter, not a constant copy.
  std::map<const void*, std::shared_ptr<TensorCell>> state_by_data_;
  /// Module attributes assigned during the call (`self.x = ...`, prim::SetAttr), by attribute path:
  /// later reads in the same call get the value (Note [Attributes assigned in forward]).
  std::map<std::string, SVP> assigned_;
  /// Attribute paths read before any assignment in this call (an assignment to one of them would
  /// carry state from one call to the next).
  std::map<std::string, std::string> read_first_;  // path -> where it was read
  std::vector<std::shared_ptr<TensorCell>> input_cells_;
  std::set<const void*> input_data_;  // the user inputs' data (not known values: run_on_known_values)
  std::map<std::string, SymExpr> symbols_by_name_;
  // Symbols as sym_size / _operator nodes, read off the input placeholders' dims.
  ir::SymMaterializer syms_;
  std::map<std::string, RuleMiss> missing_;
  std::vector<std::string> missing_seen_;  // the keys of missing_ in first-seen order
  int lifted_constants_ = 0;
  int float_symbols_ = 0;  // zuf<N>: unbacked floats read by item()
  int cond_count_ = 0;  // torch.cond nodes made (true_graph_N)
  int while_count_ = 0;  // while_loop nodes made (while_loop_body_graph_N)
  const bool meta_;     // Note [Meta trace]
  /// Stand-ins by the real tensor they stand for, and the real tensors by their stand-in (each
  /// entry holds both tensors, so that an address is never reused while it is a key).
  std::unordered_map<const c10::TensorImpl*, std::pair<at::Tensor, at::Tensor>> stand_ins_;  // real -> (real, meta)
  std::unordered_map<const c10::TensorImpl*, std::pair<at::Tensor, at::Tensor>> reals_;      // meta -> (meta, real)
};

}  // namespace ptx::frontend
