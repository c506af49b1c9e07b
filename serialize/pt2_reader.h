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
#include "serialize/written.h"

namespace ptx::serialize {

/// Reads `path`. When `symbol_hints` is given, it receives the sample value the file records for
/// each symbol (as_expr hints of bare symbols), by name.
ir::ExportedProgram read_pt2(const std::filesystem::path& path,
                             std::map<std::string, int64_t>* symbol_hints = nullptr);

/// Reads `path`, which write_pt2_uncommitted just wrote from `written` (its `entries`), as the
/// export's write stage checks it (issue 14): the graph and metadata are read from the file as by
/// read_pt2; each weight and constant entry is streamed through its CRC-32 in chunks of at most
/// 1 MiB (never held) and must have the size and CRC written and declare them, each tensor's meta
/// in the file must be the written tensor's, and the program returned takes the written
/// program's tensors (so the weights are held once). A difference is
/// UserError(ExitCode::kVerifyMismatch, "E_ROUNDTRIP") naming `dest`, the tensor, the entry and
/// `path`; a malformed archive is E_PT2 as with read_pt2.
ir::ExportedProgram read_pt2_written(const std::filesystem::path& path, const ir::ExportedProgram& written,
                                     const WrittenEntries& entries, const std::filesystem::path& dest);

}  // namespace ptx::serialize
