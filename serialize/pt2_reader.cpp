// serialize/pt2_reader.cpp: .pt2 archive -> torch::_export schema types -> ir::ExportedProgram.
// See serialize/pt2_reader.h. The checks mirror torch's loader (torch/export/pt2_archive/_package.py
// load_pt2, torch/_export/serde/serialize.py ExportedProgramDeserializer) and are stricter where
// torch would crash or silently make something up. This file holds the entry points, the archive's
// fixed entries and ProgramReader::run; the rest of the reader is in serialize/pt2_reader_*.cpp
// (serialize/pt2_reader_impl.h).
#include "serialize/pt2_reader.h"

#include <nlohmann/json.hpp>
#include <torch/csrc/export/pt2_archive_constants.h>

#include <string>
#include <string_view>
#include <variant>

#include "serialize/pt2_format.h"
#include "serialize/pt2_reader_impl.h"
#include "serialize/pt2_zip.h"
#include "serialize/schema_version.h"
#include "serialize/written_check.h"
#include "shapes/error.h"

namespace ptx::serialize {
namespace reader {

ir::ExportedProgram ProgramReader::run(std::map<std::string, int64_t>* hints) {
  const tx::SchemaVersion& v = program_.get_schema_version();
  if (v.get_major() != kSchemaMajor) {
    malformed("schema version " + std::to_string(v.get_major()) + "." + std::to_string(v.get_minor()) +
              " is not supported (major version " + std::to_string(kSchemaMajor) + " expected)");
  }
  const tx::GraphModule& gm = program_.get_graph_module();
  read_ranges();
  read_inputs(gm.get_graph(), gm.get_signature());
  for (const tx::Node& n : gm.get_graph().get_nodes()) read_node(n);
  read_outputs(gm.get_graph(), gm.get_signature());
  read_specs(gm.get_module_call_graph());
  read_payloads();
  if (check_) check_->check_complete(ep_);
  if (hints) *hints = hints_;
  return std::move(ep_);
}

}  // namespace reader

namespace {

namespace archive = torch::_export::archive_spec;
using detail::Archive;
using detail::malformed;
using detail::Malformed;
using reader::parse_json;
using reader::ProgramReader;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

ir::ExportedProgram read_archive(const std::filesystem::path& path, std::map<std::string, int64_t>* symbol_hints,
                                 detail::WrittenCheck* check) {
  const std::string file = path.string();
  try {
    Archive ar(path);
    auto read_text = [&](std::string_view name, const char* what) { return trim(ar.read(std::string(name), what)); };
    if (!ar.has(std::string(archive::ARCHIVE_FORMAT_PATH))) {
      malformed("not a PT2 archive (no " + ar.root() + std::string(archive::ARCHIVE_FORMAT_PATH) + " entry)");
    }
    const std::string format = read_text(archive::ARCHIVE_FORMAT_PATH, "archive format");
    if (format != archive::ARCHIVE_FORMAT_VALUE) {
      malformed("archive_format is '" + format + "', expected '" + std::string(archive::ARCHIVE_FORMAT_VALUE) + "'");
    }
    const std::string version =
        ar.has(std::string(archive::ARCHIVE_VERSION_PATH)) ? read_text(archive::ARCHIVE_VERSION_PATH, "archive version") : "0";
    if (version != archive::ARCHIVE_VERSION_VALUE) {
      malformed("archive_version is '" + version + "', expected '" + std::string(archive::ARCHIVE_VERSION_VALUE) + "'");
    }
    const std::string model = format_archive_path(archive::MODELS_FILENAME_FORMAT, kModelName);
    if (!ar.has(model)) {
      std::string others;
      for (const std::string& n : ar.names_under(std::string(archive::MODELS_DIR))) others += " " + n;
      malformed("no entry '" + ar.root() + model + "'" + (others.empty() ? "" : " (models:" + others + ")"));
    }
    const auto program = parse_json<tx::ExportedProgram>(ar, model, ar.read(model, "the exported program"));
    try {
      return ProgramReader(ar, program, check).run(symbol_hints);
    } catch (const std::bad_variant_access&) {
      malformed("entry '" + ar.root() + model + "': a union has no recognised member");
    } catch (const nlohmann::json::exception& e) {
      malformed("entry '" + ar.root() + model + "': " + e.what());
    }
  } catch (const Malformed& m) {
    PTX_USER_FAIL(ExitCode::kInput, "E_PT2") << "cannot read " << file << ": " << m.message;
  } catch (const c10::Error& e) {
    std::string msg = e.what_without_backtrace();
    if (const size_t nl = msg.find('\n'); nl != std::string::npos) msg.resize(nl);
    PTX_USER_FAIL(ExitCode::kInput, "E_PT2") << "cannot read " << file << ": " << msg;
  }
}

}  // namespace

ir::ExportedProgram read_pt2(const std::filesystem::path& path, std::map<std::string, int64_t>* symbol_hints) {
  return read_archive(path, symbol_hints, nullptr);
}

ir::ExportedProgram read_pt2_written(const std::filesystem::path& path, const ir::ExportedProgram& written,
                                     const WrittenEntries& entries, const std::filesystem::path& dest) {
  detail::WrittenCheck check(written, entries);
  try {
    return read_archive(path, nullptr, &check);
  } catch (const detail::Mismatch& m) {
    PTX_USER_FAIL(ExitCode::kVerifyMismatch, "E_ROUNDTRIP")
        << dest.string() << ": the archive read back (" << path.string() << ") differs from the program written: "
        << m.message << "; it was not written (a bug or a failing disk: please report it)";
  }
}

}  // namespace ptx::serialize
