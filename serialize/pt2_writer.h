// serialize/pt2_writer.h: writes an ir::ExportedProgram as a .pt2 archive that torch 2.14's
// torch.export.load reads, laid out as torch.export.save writes it (docs/pt2.md).
//
// The JSON is built from LibTorch's own schema types (torch/csrc/utils/generated_serialization_types.h,
// schema 8.20) and the zip is written by LibTorch's own archive writer
// (caffe2::serialize::PyTorchStreamWriter, the one torch.export.save uses): stored entries,
// 64-byte aligned data, zero timestamps, .data/version, byteorder, .data/serialization_id.
// Weights and constants are raw little-endian bytes with use_pickle false; nothing is pickled.
//
// Deterministic: the same program and options give a byte-identical file (JSON keys sorted,
// fixed entry order, serialization_id derived from entry names and CRCs).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "ir/program.h"
#include "serialize/temp_file.h"
#include "serialize/written.h"

namespace ptx::serialize {

struct WriteOptions {
  /// The sample value of each symbol, by name ("s0" -> 8). torch writes such a hint next to every
  /// symbolic size (as_expr.hint); its loader works without one. An expression whose symbols all
  /// have hints gets its evaluated hint, others get null.
  std::map<std::string, int64_t> symbol_hints;
  /// The IR dialect recorded in "verifiers": torch.export.export 2.14 writes "TRAINING".
  std::string dialect = "TRAINING";
  /// write_pt2_uncommitted computes each weight and constant entry's CRC-32 from the bytes handed to
  /// the writer, for read_pt2_written's check. Off, their crc32 is 0 and nothing may check them: a
  /// write that is not read back (write_pt2, export --no-verify) saves a pass over the weights.
  bool digests = true;
};

/// Writes `ep` to `out` atomically: a temporary file in out's folder, fsync, rename over `out`.
/// On any failure no temporary is left, an existing `out` is untouched, and the error is
/// UserError(ExitCode::kOutput) "cannot write <out>: ...". A program that breaks ir/'s invariants
/// (a spec naming no placeholder, a parameter without a tensor, ...) is an InternalError.
/// Ctrl-C: serialize::remove_inflight_temp_files() (temp_file.h) removes the temporary.
void write_pt2(const ir::ExportedProgram& ep, const std::filesystem::path& out,
               const WriteOptions& opts = {});

/// The same archive written to `tmp`'s temporary file, not committed: the caller checks it (export
/// reads it back with read_pt2_written, pt2_reader.h) and then calls tmp.commit(), or lets `tmp`
/// remove it. Errors name tmp.dest(). Returns what was written into each weight and constant
/// entry: its storage, size and the CRC-32 of the bytes, computed as they are written (0 when
/// opts.digests is off).
WrittenEntries write_pt2_uncommitted(const ir::ExportedProgram& ep, TempFile& tmp, const WriteOptions& opts = {});

/// The JSON documents write_pt2 puts in the archive, exactly as written.
struct Pt2Json {
  std::string model;             // models/model.json
  std::string weights_config;    // data/weights/model_weights_config.json
  std::string constants_config;  // data/constants/model_constants_config.json
};
Pt2Json serialize_pt2_json(const ir::ExportedProgram& ep, const WriteOptions& opts = {});

}  // namespace ptx::serialize
