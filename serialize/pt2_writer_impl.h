// serialize/pt2_writer_impl.h: the writer's private header (see serialize/pt2_writer.h for the API).
//
// One ProgramSerializer turns one ir::ExportedProgram into torch::_export schema objects, the way
// torch/_export/serde/serialize.py's GraphModuleSerializer does. Its work is split by job:
//   pt2_writer_graph.cpp      the program and its graphs: nodes, arguments, symbolic values,
//                             subgraphs, range constraints
//   pt2_writer_signature.cpp  inputs, outputs and their specs, the module call graph, the weights
//                             and constants configs (which tensor goes into which raw file)
//   pt2_writer.cpp            the entry points and the archive (LibTorch's PyTorchStreamWriter)
#pragma once

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <torch/csrc/export/pt2_archive_constants.h>

#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ir/program.h"
#include "serialize/pt2_format.h"
#include "serialize/pt2_writer.h"
#include "shapes/error.h"

namespace ptx::serialize::writer {

/// A double as the schema's F64, -inf as the sentinel of Note [-inf in the JSON] (pt2_writer_graph.cpp).
tx::F64 f64(double v);

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

inline bool is_unset(const ir::PyTree& t) {
  return t.kind == ir::PyTree::Kind::kLeaf && t.leaf.empty() && t.children.empty();
}

class ProgramSerializer {
 public:
  ProgramSerializer(const ir::ExportedProgram& ep, const WriteOptions& opts) : ep_(ep), opts_(opts) {
    PTX_INTERNAL_CHECK(ep.graph != nullptr) << "exported program without a graph";
  }

  Pt2Json run();

  const std::vector<Blob>& weight_blobs() const { return weight_blobs_; }
  const std::vector<Blob>& constant_blobs() const { return constant_blobs_; }

 private:
  // ---- symbolic integers ------------------------------------------------------------------------
  std::optional<int64_t> hint_of(shapes::SymExpr e) const;

  /// serialize_sym_int: a constant is as_int, anything else as_expr with srepr text and hint.
  tx::SymInt sym_int(shapes::SymExpr e) const;

  /// serialize_tensor_meta for a graph value. Missing strides are the contiguous ones.
  tx::TensorMeta tensor_meta(const ir::TensorMeta& m) const;

  // ---- values -----------------------------------------------------------------------------------
  /// Records the meta of a value the graph defines (tensor_values / sym_int_values / ...).
  void define(const Value* v);

  /// ir/ keeps no expression on SymBool values; the comparison that produced one gives it (or the
  /// comparison under a torch.sym_not: the runtime assert of `a != b` is sym_not(a == b)).
  tx::SymBool sym_bool_of(const Value* v) const;

  shapes::SymBool sym_bool_expr(const Value* v) const;

  /// serialize_input for an fx.Node argument.
  static tx::Argument value_arg(const Value* v);

  static bool is_int_like(const Value* v);

  static tx::SymIntArgument sym_int_arg(const ir::SymIntArg& e);

  /// serialize_input: lists by their elements' runtime types, empty lists by the schema's element
  /// type (int[] -> as_ints, Tensor[] and Tensor?[] -> as_tensors), as torch does.
  static tx::Argument arg(const ir::ArgValue& value);

  // ---- nodes ------------------------------------------------------------------------------------
  /// handle_call_function + serialize_outputs + serialize_metadata.
  tx::Node serialize_node(const ir::Node& node);

  /// serialize_graph for a higher-order op's subgraph (cond's branches, while_loop's condition and
  /// body): a graph of its own, with its own value tables, whose inputs are its placeholders (torch's
  /// GraphArgument). `single`: it returns its one tensor as is (is_single_tensor_return).
  tx::Argument graph_arg(const ir::GraphArg& ga, bool single);

  /// serialize_metadata: stack_trace and nn_module_stack ("key,path,type" joined by ';').
  static std::unordered_map<std::string, std::string> metadata(const ir::NodeMeta& m);

  // ---- inputs -----------------------------------------------------------------------------------
  /// Flattens the input spec into user input slots, in torch's order (args, then kwargs).
  void collect_slots(const ir::PyTree& t, const std::string& name, std::vector<UserSlot>& out);

  /// ConstantArgument values: int, float, bool, str or None.
  static tx::Argument constant_arg(const nlohmann::json& c);

  static tx::ConstantValue constant_value(const nlohmann::json& c);

  ir::PyTree args_spec() const;

  ir::PyTree kwargs_spec() const;

  /// handle_placeholder + serialize_input_spec: lifted inputs first, then the user's inputs in
  /// the input spec's leaf order, constants included.
  void serialize_inputs(tx::Graph& graph, tx::GraphSignature& signature);

  static at::Tensor lookup(const std::map<std::string, at::Tensor>& m, const std::string& fqn,
                           const char* what);

  /// Tensors of the program that no input spec names are still written (torch's state_dict and
  /// constants hold every entry).
  void add_unlisted_payloads();

  // ---- outputs ----------------------------------------------------------------------------------
  /// The output spec; a default one (a single leaf) with several user outputs means a tuple.
  ir::PyTree out_spec() const;

  void collect_out_slots(const ir::PyTree& t, std::vector<UserSlot>& out,
                         const std::vector<const Value*>& user_outputs, size_t& next);

  /// handle_output + serialize_output_spec: mutations first, then the user's outputs in the
  /// output spec's leaf order, constants and None included.
  void serialize_outputs(tx::Graph& graph, tx::GraphSignature& signature);

  // ---- module call graph ------------------------------------------------------------------------
  /// serialize_module_call_graph: the root's signature (specs and argument names), then one entry
  /// without signature per submodule seen in nn_module_stack, in order of first use.
  std::vector<tx::ModuleCallEntry> module_call_graph() const;

  // ---- weights and constants --------------------------------------------------------------------
  /// _package_state_dict / _package_constants with _save_raw_tensors: tensors that share a storage
  /// share one file holding the whole storage, each with its own sizes, strides and offset.
  tx::PayloadConfig payload_config(const std::vector<Payload>& payloads, const std::string& prefix,
                                   std::string_view dir, std::vector<Blob>& blobs) const;

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

}  // namespace ptx::serialize::writer
