// serialize/pt2_reader_impl.h: the reader's private header (see serialize/pt2_reader.h for the API).
//
// One ProgramReader turns the schema objects of one archive's models/model.json into an
// ir::ExportedProgram. Its work is split by job:
//   pt2_reader_graph.cpp      symbols and range constraints, tensor metas, nodes and their
//                             arguments, node metadata, higher-order ops' subgraphs
//   pt2_reader_signature.cpp  inputs, outputs, the pytree specs, weights and constants
//   pt2_reader.cpp            the entry points, the archive's fixed entries, ProgramReader::run
#pragma once

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <torch/csrc/export/pt2_archive_constants.h>

#include <cstddef>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ir/program.h"
#include "serialize/pt2_format.h"
#include "serialize/pt2_zip.h"
#include "serialize/sympy_text.h"
#include "serialize/written_check.h"

namespace ptx::serialize::reader {

namespace archive = torch::_export::archive_spec;
using detail::Archive;
using detail::malformed;
using detail::Malformed;
using ir::Value;
using ir::ValueType;

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

class ProgramReader {
 public:
  /// With `check`, weights and constants are checked against what was written and taken from
  /// the written program instead of read (read_pt2_written).
  ProgramReader(const Archive& ar, const tx::ExportedProgram& program, detail::WrittenCheck* check)
      : ar_(ar), program_(program), check_(check) {}

  ir::ExportedProgram run(std::map<std::string, int64_t>* hints);

 private:
  // ---- symbols ----------------------------------------------------------------------------------
  void read_ranges();

  shapes::SymExpr parse_expr(const std::string& text, const std::string& what);

  shapes::SymExpr sym_int(const tx::SymInt& s, const std::string& what);

  static int64_t concrete(const tx::SymInt& s, const std::string& what);

  /// The schema graph being read: the program's, or a subgraph's (cond's branches).
  const tx::Graph& tx_graph() const { return tx_graph_ ? *tx_graph_ : program_.get_graph_module().get_graph(); }
  ir::Graph& graph() { return graph_ ? *graph_ : *ep_.graph; }

  ir::TensorMeta tensor_meta(const std::string& name);

  /// Gives a value its meta from the graph's tables.
  void fill(Value* v);

  // ---- inputs -----------------------------------------------------------------------------------
  /// A user input or output position: a value name, or a constant.
  struct Slot {
    std::string value;         // empty: constant
    std::string constant_json;  // "null" for None
    bool is_none = false;
  };

  static std::optional<std::string> constant_json(const tx::Argument& a);

  static std::string constant_json(const tx::ConstantValue& c);

  /// The name and type of a graph value an argument refers to; nullopt for a constant.
  static std::optional<std::pair<std::string, ValueType>> named(const tx::Argument& a);

  Value* add_placeholder(const std::string& name, ValueType type);

  void read_inputs(const tx::Graph& g, const tx::GraphSignature& sig);

  // ---- nodes ------------------------------------------------------------------------------------
  Value* value(const std::string& name, const std::string& where) const;

  ir::SymIntArg sym_int_arg(const tx::SymIntArgument& s, const std::string& where) const;

  /// True when argument `arg` of `target`'s schema is Tensor?[] (torch writes such a list without
  /// None elements as as_tensors).
  static bool is_optional_tensor_list(const std::string& target, const std::string& arg);

  ir::ArgValue arg(const tx::Argument& a, const std::string& target, const std::string& name,
                   const std::string& where) const;

  static ir::NodeMeta node_meta(const std::unordered_map<std::string, std::string>& md);

  void read_node(const tx::Node& n);

  /// A higher-order op's subgraph (torch's GraphArgument): its inputs become placeholders, read in
  /// a scope of its own (its value names may repeat the parent's).
  ir::GraphArg read_subgraph(const tx::GraphArgument& ga, const std::string& where);

  // ---- outputs ----------------------------------------------------------------------------------
  void read_outputs(const tx::Graph& g, const tx::GraphSignature& sig);

  // ---- pytree specs -----------------------------------------------------------------------------
  /// Names the spec's leaves from the slots, in order.
  /// Input leaves get their placeholder's name; output leaves stay "" (ir::PyTree).
  static void name_leaves(ir::PyTree& t, const std::vector<Slot>& slots, size_t& next, const std::string& what,
                          bool inputs);

  static ir::PyTree tuple_of_leaves(size_t n);

  void read_specs(const std::vector<tx::ModuleCallEntry>& graph);

  // ---- weights and constants --------------------------------------------------------------------
  at::Tensor payload(const std::string& dir, const std::string& fqn, const tx::PayloadMeta& pm,
                     const std::string& config_name);

  void read_payloads();

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

}  // namespace ptx::serialize::reader
