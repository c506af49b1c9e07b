// serialize/pt2_format.h: the pieces of the .pt2 format that the writer and the reader share:
// enum numbering of the schema (torch/_export/serde/schema.py) against ir/ and c10, operator
// target names, devices, and torch's pytree spec text (torch/utils/_pytree.py, protocol 1).
// Internal to serialize/.
#pragma once

#include <c10/core/ScalarType.h>
#include <nlohmann/json.hpp>
#include <torch/csrc/utils/generated_serialization_types.h>

#include <optional>
#include <string>

#include "ir/graph.h"
#include "ir/program.h"

namespace ptx::serialize {

namespace tx = torch::_export;

/// The archive's model name: torch.export.save writes one program called "model".
inline constexpr const char* kModelName = "model";
/// torch.export.save's writer sets the zip format version record (.data/version) to this.
inline constexpr uint64_t kZipFormatVersion = 6;
/// torch/utils/_pytree.py: the treespec serialization protocol torch.export writes.
inline constexpr int kTreeSpecProtocol = 1;
/// torch._C._get_max_operator_version() of torch 2.14: the "aten" opset version torch writes.
inline constexpr int64_t kAtenOpsetVersion = 10;

/// The archive path "models/{}.json" etc. with "{}" replaced by `name`.
std::string format_archive_path(std::string_view format, const std::string& name);

/// ir::DType (numbered as c10::ScalarType) <-> the schema's ScalarType (FLOAT = 7, ...).
tx::ScalarType to_schema_dtype(ir::DType t);
/// nullopt for a dtype ir/ cannot hold (e.g. FLOAT8E4M3FN).
std::optional<ir::DType> from_schema_dtype(tx::ScalarType t);
/// c10::Layout as int (strided = 0) <-> schema Layout (Strided = 7).
tx::Layout to_schema_layout(int c10_layout);
std::optional<int> from_schema_layout(tx::Layout l);
/// c10::MemoryFormat as int (contiguous = 0, preserve = 1) <-> schema MemoryFormat.
tx::MemoryFormat to_schema_memory_format(int c10_format);
std::optional<int> from_schema_memory_format(tx::MemoryFormat f);

/// "cpu" -> {type cpu, index null}; "cuda:1" -> {type cuda, index 1}.
tx::Device to_schema_device(const std::string& device);
std::string from_schema_device(const tx::Device& d);

/// "aten::add.Tensor" -> "torch.ops.aten.add.Tensor"; a target without "::" ("_operator.mul")
/// is written as it is.
std::string to_schema_target(const std::string& ir_target);
/// The inverse: "torch.ops.aten.add.Tensor" -> "aten::add.Tensor"; others unchanged.
std::string from_schema_target(const std::string& schema_target);

/// torch's treespec_dumps(spec, 1) text for `spec`, byte for byte as Python's json.dumps writes
/// it. Constant and None leaves are leaves, as torch.export flattens them.
std::string treespec_dumps(const ir::PyTree& spec);
/// Parses treespec text. Leaves come back as Kind::kLeaf with an empty `leaf`; the caller names
/// them. Throws std::runtime_error on text that is not a protocol-1 treespec of tuple, list,
/// dict and leaves (namedtuples and other registered types are not supported).
ir::PyTree treespec_loads(const std::string& text);

/// nlohmann::json::parse for JSON read from an archive: also throws std::length_error for nesting
/// deeper than limits::kMaxArchiveJsonDepth (every walk over the document recurses per level).
nlohmann::json parse_archive_json(const std::string& text);

/// Python's json.dumps of a string (ensure_ascii): quotes, escapes, \uXXXX for non-ASCII.
std::string py_json_string(const std::string& utf8);

}  // namespace ptx::serialize
