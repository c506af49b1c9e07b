// lib/torchscript_check.h: checks a TorchScript archive before torch::jit::load reads it.
//
// LibTorch trusts the archive: a storage record shorter than the tensors that view it is read out
// of bounds (segfaults, heap bytes in the weights), and its TorchScript parser and unpickler recurse
// once per nesting level (5k nested brackets in code/, 200k nested lists in data.pkl overflow the
// stack). check_torchscript_archive refuses, with UserError(ExitCode::kInput) naming the file and
// the record:
//   - entry names that collide when case is ignored (LibTorch's zip reader may pick either);
//   - compressed records that inflate past limits::kMaxInflatedEntryBytes, code and pickles past
//     limits::kMaxMetadataEntryBytes;
//   - code/*.py nested deeper than limits::kMaxCodeNesting brackets or indentation levels;
//   - data.pkl, constants.pkl and *.debug_pkl (what the loader reads) that do not unpickle
//     structurally
//     (lib/unpickler.h, UnpickleMode::kTorchScriptCheck: nesting, value count, no code run), whose
//     storages have no record or a record smaller than they declare, or with a tensor view reaching
//     past its storage's record.
// It reads the pickles and code, never the weights.
#pragma once

#include <filesystem>

namespace ptx {

void check_torchscript_archive(const std::filesystem::path& file);

}  // namespace ptx
