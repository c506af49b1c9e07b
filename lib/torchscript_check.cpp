// lib/torchscript_check.cpp: see lib/torchscript_check.h.
#include "lib/torchscript_check.h"

#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "lib/unpickler.h"
#include "shapes/error.h"
#include "shapes/limits.h"

namespace ptx {
namespace {

constexpr const char* kDiag = "E_MODEL_ARCHIVE";

/// The deepest nesting of brackets and of indentation in Python-like TorchScript source. Brackets
/// inside string literals and comments are skipped.
struct Nesting {
  int brackets = 0;
  int indents = 0;
};

Nesting code_nesting(const std::string& code) {
  Nesting most;
  int depth = 0;                // open brackets
  std::vector<size_t> indents;  // widths of the open indentation levels
  size_t i = 0;
  while (i < code.size()) {
    if (depth == 0) {  // a logical line starts: its indentation
      size_t width = 0;
      while (i + width < code.size() && (code[i + width] == ' ' || code[i + width] == '\t')) ++width;
      const char next = i + width < code.size() ? code[i + width] : '\n';
      if (next != '\n' && next != '\r' && next != '#') {
        while (!indents.empty() && indents.back() > width) indents.pop_back();
        if (width > 0 && (indents.empty() || indents.back() < width)) indents.push_back(width);
        most.indents = std::max(most.indents, static_cast<int>(indents.size()));
      }
      i += width;
    }
    for (; i < code.size() && code[i] != '\n'; ++i) {
      const char ch = code[i];
      if (ch == '#') {
        while (i + 1 < code.size() && code[i + 1] != '\n') ++i;
      } else if (ch == '"' || ch == '\'') {  // a string literal, perhaps triple-quoted over lines
        const size_t quote = code.compare(i, 3, std::string(3, ch)) == 0 ? 3 : 1;
        size_t j = i + quote;
        while (j < code.size() && code.compare(j, quote, std::string(quote, ch)) != 0) {
          if (code[j] == '\\') ++j;
          if (quote == 1 && j < code.size() && code[j] == '\n') break;
          ++j;
        }
        i = std::min(code.size(), j + quote) - 1;
      } else if (ch == '(' || ch == '[' || ch == '{') {
        most.brackets = std::max(most.brackets, ++depth);
      } else if ((ch == ')' || ch == ']' || ch == '}') && depth > 0) {
        --depth;
      }
    }
    ++i;  // the newline
  }
  return most;
}

void check_code(const TorchZipArchive& zip, const std::string& name, const std::string& what) {
  const std::string code = zip.read_record(name, limits::kMaxMetadataEntryBytes);
  const Nesting n = code_nesting(code);
  PTX_USER_CHECK(n.brackets <= limits::kMaxCodeNesting && n.indents <= limits::kMaxCodeNesting, ExitCode::kInput, kDiag)
      << what << ": " << zip.top() << "/" << name << " nests " << std::max(n.brackets, n.indents)
      << " levels deep, more than the limit of " << limits::kMaxCodeNesting
      << " (LibTorch's parser would overflow its stack; docs/security.md)";
}

/// Unpickles a pickle of the archive structurally; tensor storages are checked against the records
/// under `storage_dir` ("data/", "constants/") and stand in as meta tensors (no data is read).
void check_pickle(const TorchZipArchive& zip, const std::string& name, const std::string& storage_dir,
                  const std::string& what) {
  const std::string pickle = zip.read_record(name, kMaxPickleBytes);
  const std::string where = what + ": " + name;
  StorageLoader loader = [&](const std::string& key, at::ScalarType dtype, int64_t numel) {
    const std::string record = storage_dir + key;
    const auto size = zip.record_size(record);
    PTX_USER_CHECK(size.has_value() && !storage_dir.empty(), ExitCode::kInput, kDiag)
        << where << ": storage '" << key << "' has no record " << zip.top() << "/" << record;
    const uint64_t item = c10::elementSize(dtype);
    PTX_USER_CHECK(static_cast<uint64_t>(numel) <= *size / item, ExitCode::kInput, kDiag)
        << where << ": storage '" << key << "' declares " << numel << " " << c10::toString(dtype) << " elements ("
        << static_cast<uint64_t>(numel) * item << " bytes), but its record " << zip.top() << "/" << record
        << " has " << *size << " bytes";
    PTX_USER_CHECK(!zip.record_compressed(record) || *size <= limits::kMaxInflatedEntryBytes, ExitCode::kInput, kDiag)
        << where << ": record " << zip.top() << "/" << record << " is compressed and inflates to " << *size
        << " bytes, over the limit of " << limits::kMaxInflatedEntryBytes << " (docs/security.md)";
    // The views are checked against what the record holds: LibTorch sizes the storage by the record.
    return at::empty({numel}, at::TensorOptions().dtype(dtype).device(at::kMeta));
  };
  unpickle(pickle, where, loader, UnpickleMode::kTorchScriptCheck);
}

}  // namespace

void check_torchscript_archive(const std::filesystem::path& file) {
  const TorchZipArchive zip(file);
  const std::string what = file.string();
  PTX_USER_CHECK(zip.colliding_names().empty(), ExitCode::kInput, kDiag)
      << what << ": entry '" << zip.colliding_names().front()
      << "' repeats another entry's name (ignoring case), so what LibTorch would read is ambiguous";
  for (const std::string& name : zip.records()) {
    const bool metadata = name.starts_with("code/") || name.ends_with(".pkl") || name.ends_with(".debug_pkl");
    const auto size = zip.record_size(name).value_or(0);
    PTX_USER_CHECK(!zip.record_compressed(name) || size <= limits::kMaxInflatedEntryBytes, ExitCode::kInput, kDiag)
        << what << ": record " << zip.top() << "/" << name << " is compressed and inflates to " << size
        << " bytes, over the limit of " << limits::kMaxInflatedEntryBytes << " (docs/security.md)";
    PTX_USER_CHECK(!metadata || size <= limits::kMaxMetadataEntryBytes, ExitCode::kInput, kDiag)
        << what << ": record " << zip.top() << "/" << name << " of " << size << " bytes is over the limit of "
        << limits::kMaxMetadataEntryBytes << " for code and pickles (docs/security.md)";
    if (name.starts_with("code/") && name.ends_with(".py")) {
      check_code(zip, name, what);
    } else if (name == "data.pkl" || name == "constants.pkl") {
      // What torch::jit::load reads, with its storages: data.pkl -> data/<key>, constants.pkl ->
      // constants/<key>. (traced_inputs.pkl is not read by the loader; torch writes its records empty.)
      check_pickle(zip, name, name.substr(0, name.size() - 4) + "/", what);
    } else if (name.ends_with(".debug_pkl")) {
      check_pickle(zip, name, "", what);
    }
  }
}

}  // namespace ptx
