// ir/graph.h: the FX-like graph of ATen calls that ptexport exports.
//
// A Graph owns its Nodes and Values; Values are raw pointers that die with the Graph.
// Three kinds of node, as in torch.fx: placeholders (graph inputs, in signature order), calls
// (an ATen op, a sym_size, or a Python operator on SymInts such as "_operator.mul"), and one
// output node whose arguments are the graph's results.
//
// Targets are written as in TorchScript schemas with the overload always present:
// "aten::add.Tensor", "aten::relu.default", "aten::sym_size.int", "_operator.mul".
// serialize/ turns them into torch's "torch.ops.aten.add.Tensor" form.
//
// Note [Topological order]
// ~~~~~~~~~~~~~~~~~~~~~~~~
// Nodes are always in a valid topological order: every Value a node reads is a placeholder or
// the output of an earlier node. ir::verify reports a graph that breaks it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

#include "shapes/sym.h"

namespace ptx::ir {

/// Element types, numbered as c10::ScalarType so that conversion to and from LibTorch is a cast.
enum class DType : int8_t {
  kUInt8 = 0, kInt8 = 1, kInt16 = 2, kInt32 = 3, kInt64 = 4, kFloat16 = 5, kFloat32 = 6,
  kFloat64 = 7, kComplex32 = 8, kComplex64 = 9, kComplex128 = 10, kBool = 11, kBFloat16 = 15,
};
/// "float32", "int64", ...; the names inputs.json and reports use.
std::string dtype_name(DType t);
/// The inverse of dtype_name; nullopt for an unknown name.
std::optional<DType> dtype_from_name(const std::string& name);

struct TensorMeta {
  DType dtype = DType::kFloat32;
  shapes::SymShape sizes;
  shapes::SymShape strides;
  shapes::SymExpr storage_offset;
  std::string device = "cpu";
  bool requires_grad = false;
};

enum class ValueType : uint8_t { kTensor, kSymInt, kSymFloat, kSymBool, kInt, kFloat, kBool, kNone };

class Node;

class Value {
 public:
  const std::string& name() const { return name_; }
  ValueType type() const { return type_; }
  /// Tensors only.
  const TensorMeta& meta() const;
  TensorMeta& mutable_meta();
  /// Whether the value carries a tensor meta (every tensor value must; ir::verify checks it).
  bool has_meta() const { return meta_.has_value(); }
  /// SymInts only: the symbolic value (e.g. s0 for sym_size(x, 0)).
  shapes::SymExpr sym() const { return sym_; }
  void set_sym(shapes::SymExpr e) {
    sym_ = e;
    has_sym_ = true;
  }
  /// Whether set_sym was called (every SymInt value must have a sym; ir::verify checks it).
  bool has_sym() const { return has_sym_; }
  /// SymBools only: the condition it computes (e.g. Eq(Mod(s0, 4), 0)); nullopt if unknown.
  const std::optional<shapes::SymBool>& sym_bool() const { return sym_bool_; }
  void set_sym_bool(shapes::SymBool b) { sym_bool_ = b; }
  /// SymFloats only: the unbacked float symbol it holds ("zuf0": the value of a float tensor read
  /// by item()); empty when the value has no symbol.
  const std::string& float_symbol() const { return float_symbol_; }
  void set_float_symbol(std::string s) { float_symbol_ = std::move(s); }
  /// The node that produces it (a placeholder for graph inputs).
  Node* producer() const { return producer_; }

 private:
  friend class Graph;
  std::string name_;
  ValueType type_ = ValueType::kTensor;
  std::optional<TensorMeta> meta_;
  shapes::SymExpr sym_;
  bool has_sym_ = false;
  std::optional<shapes::SymBool> sym_bool_;
  std::string float_symbol_;
  Node* producer_ = nullptr;
};

// ---- Arguments of a call node -------------------------------------------------------------------
struct NoneArg {
  bool operator==(const NoneArg&) const = default;
};
struct DTypeArg { DType v; bool operator==(const DTypeArg&) const = default; };
/// c10::Layout / c10::MemoryFormat as ints (strided = 0, contiguous_format = 0, ...).
struct LayoutArg { int v; bool operator==(const LayoutArg&) const = default; };
struct MemoryFormatArg { int v; bool operator==(const MemoryFormatArg&) const = default; };
struct DeviceArg { std::string v; bool operator==(const DeviceArg&) const = default; };
/// An element of an int[] / SymInt[] argument: a constant or a SymInt value of the graph.
using SymIntArg = std::variant<int64_t, Value*>;

class Graph;
/// A subgraph argument of a higher-order op: the branches of "higher_order::cond" (torch's
/// torch.ops.higher_order.cond(pred, true_graph_0, false_graph_0, (operands...))). The subgraph's
/// placeholders receive the operands in order; its outputs are the op's outputs. Names are the
/// subgraph's own (a subgraph may reuse the parent's value names, as torch's do).
struct GraphArg {
  std::string name;  // "true_graph_0"
  std::shared_ptr<Graph> graph;
  bool operator==(const GraphArg& o) const { return name == o.name && graph == o.graph; }
};

using ArgValue = std::variant<NoneArg, bool, int64_t, double, std::string,
                              Value*,                               // a Tensor, SymInt, ... value
                              std::vector<SymIntArg>,               // int[] / SymInt[]
                              std::vector<Value*>,                  // Tensor[]
                              std::vector<std::optional<Value*>>,   // Tensor?[]
                              std::vector<double>,                  // float[]
                              std::vector<bool>,                    // bool[]
                              DTypeArg, LayoutArg, MemoryFormatArg, DeviceArg,
                              GraphArg>;

/// One argument, named as in the op's schema.
struct NamedArg {
  std::string name;
  ArgValue value;
  bool kwarg_only = false;
};

/// One frame of nn_module_stack: key ("L__self___layer1"), path ("layer1.0.conv1"), type
/// ("torch.nn.modules.conv.Conv2d").
struct ModuleFrame {
  std::string key, path, type;
};

struct NodeMeta {
  std::string stack_trace;                // 'File "model.py", line 41, in forward\n    x = ...'
  std::vector<ModuleFrame> nn_module_stack;
  std::string source_file;                // "model.py"
  int source_line = 0;                    // 0: unknown
};

enum class NodeKind : uint8_t { kPlaceholder, kCall, kOutput };

class Node {
 public:
  NodeKind kind() const { return kind_; }
  const std::string& name() const { return name_; }
  /// kCall: "aten::add.Tensor"; kPlaceholder/kOutput: "".
  const std::string& target() const { return target_; }
  const std::vector<NamedArg>& inputs() const { return inputs_; }
  std::vector<NamedArg>& mutable_inputs() { return inputs_; }
  /// Calls only: another overload of the same computation (passes/lower_script_overloads.h).
  void set_target(std::string target) { target_ = std::move(target); }
  const std::vector<Value*>& outputs() const { return outputs_; }
  /// The op returns Tensor[] (unbind, split): its outputs are that list's elements.
  bool returns_list() const { return returns_list_; }
  void set_returns_list(bool v) { returns_list_ = v; }
  NodeMeta& meta() { return meta_; }
  const NodeMeta& meta() const { return meta_; }
  /// Every Value this node reads, in argument order.
  std::vector<Value*> input_values() const;

 private:
  friend class Graph;
  NodeKind kind_ = NodeKind::kCall;
  std::string name_;
  std::string target_;
  std::vector<NamedArg> inputs_;
  std::vector<Value*> outputs_;
  bool returns_list_ = false;
  NodeMeta meta_;
};

/// `text` as a python identifier, as torch.export names placeholders: every character other than
/// [A-Za-z0-9_] becomes '_' (`trunk.block1-0.weight` -> `trunk_block1_0_weight`), a leading digit
/// gets a '_' in front, a python keyword a '_' after it; "" is "v".
std::string python_identifier(const std::string& text);

class Graph {
 public:
  Graph() = default;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  /// A graph input. Placeholders stay in creation order, before every call node.
  Value* add_placeholder(const std::string& name, ValueType type, std::optional<TensorMeta> meta);
  /// Appends a call node producing one Value per entry of `output_types`.
  /// `name_hint` ("relu") becomes a unique node name ("relu", "relu_1", ...) shared by a single
  /// output; several outputs are named "<node>", "<node>_1"... likewise unique.
  Node* add_call(const std::string& target, std::vector<NamedArg> inputs,
                 const std::vector<ValueType>& output_types, const std::string& name_hint);
  /// As above, but output i is named from `output_hints[i]` (made unique) instead of the node's
  /// name; the parser uses it to keep the names of a text.
  Node* add_call(const std::string& target, std::vector<NamedArg> inputs,
                 const std::vector<ValueType>& output_types, const std::string& name_hint,
                 const std::vector<std::string>& output_hints);
  /// Sets the graph's results (the output node's arguments).
  void set_outputs(std::vector<Value*> outputs);

  const std::vector<Value*>& placeholders() const { return placeholders_; }
  const std::vector<Value*>& outputs() const { return outputs_; }
  /// Placeholders, then calls, in topological order (Note [Topological order]).
  const std::vector<std::unique_ptr<Node>>& nodes() const { return nodes_; }

  /// Replaces every use of `from` (in call arguments and graph outputs) with `to`.
  void replace_all_uses(Value* from, Value* to);
  /// Number of places `v` is read (call arguments and graph outputs).
  int use_count(const Value* v) const;
  /// Removes call nodes for which `dead(node)` is true. The caller ensures no remaining node
  /// reads their outputs.
  template <typename Pred>
  void remove_nodes_if(Pred dead);
  /// Renames a placeholder (lifting renames "l_weight" to "p_l_weight"); keeps names unique.
  void rename(Value* v, const std::string& name);
  /// Renames a node (one with zero or several outputs; a single-output node is renamed with its
  /// value by rename()); keeps names unique.
  void rename_node(Node* n, const std::string& name);
  /// Moves placeholder `v` to position `index` among the placeholders.
  void move_placeholder(Value* v, size_t index);
  /// Moves the call nodes `calls` (in that order) right after the placeholders, before every other
  /// call node; the other calls keep their order. The caller keeps Note [Topological order].
  void move_to_front(const std::vector<Node*>& calls);
  /// Moves the call nodes `calls` (in that order) right after `anchor` (a call node not among
  /// them); the other nodes keep their order. The caller keeps Note [Topological order].
  void move_after(const Node* anchor, const std::vector<Node*>& calls);

  /// Moves the call nodes `calls` (in graph order; none of them a placeholder) out of this graph
  /// into a new graph that returns `results` (values of those nodes, or values read by them): every
  /// value the moved nodes read that this graph defines elsewhere becomes a placeholder of the new
  /// graph (named as here), and is listed in `operands` in placeholder order. The caller makes sure
  /// no node left here reads a moved value. Used to make cond's branches (torch's subgraphs).
  std::shared_ptr<Graph> extract(const std::vector<Node*>& calls, const std::vector<Value*>& results,
                                 std::vector<Value*>& operands);

  /// A name not yet used by any value or node, from `hint` made a python identifier
  /// (python_identifier): torch.export.load compiles the graph as python code.
  std::string unique_name(const std::string& hint);

 private:
  Value* new_value(const std::string& name, ValueType type, Node* producer);
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<std::unique_ptr<Value>> values_;
  std::vector<Value*> placeholders_;
  std::vector<Value*> outputs_;
  std::unordered_map<std::string, int> name_counts_;
  std::unordered_set<std::string> used_names_;
};

template <typename Pred>
void Graph::remove_nodes_if(Pred dead) {
  std::erase_if(nodes_, [&](const std::unique_ptr<Node>& n) {
    return n->kind() == NodeKind::kCall && dead(*n);
  });
}

}  // namespace ptx::ir
