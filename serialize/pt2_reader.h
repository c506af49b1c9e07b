// serialize/pt2_reader.h: reads a .pt2 archive (ours, or one torch.export.save wrote) back into
// an ir::ExportedProgram.
//
// The zip is read with libzip; the JSON through LibTorch's schema types. Targets come back in
// ir/ form ("aten::add.Tensor", "_operator.mul"), symbolic sizes as SymExpr parsed from torch's
// sympy text (serialize/sympy_text.h; one symbol per name), weights and constants as CPU
// at::Tensors that view the archive's raw bytes with their sizes, strides and offsets.
//
// A malformed archive is a UserError(ExitCode::kInput, "E_PT2") "cannot read <file>: ..." naming
// the entry: not a zip, truncated, an entry outside the top folder, a wrong archive_format or
// archive_version, a missing or malformed models/model.json, a schema major version other than 8,
// a weight whose bytes disagree with its meta, a pickled payload (never unpickled), or a graph
// construct ir/ cannot hold (higher-order ops, custom objects, tokens).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "ir/program.h"

namespace ptx::serialize {

/// Reads `path`. When `symbol_hints` is given, it receives the sample value the file records for
/// each symbol (as_expr hints of bare symbols), by name.
ir::ExportedProgram read_pt2(const std::filesystem::path& path,
                             std::map<std::string, int64_t>* symbol_hints = nullptr);

}  // namespace ptx::serialize
