// serialize/pt2_writer.cpp: ir::ExportedProgram -> torch::_export schema types -> .pt2 archive.
// See serialize/pt2_writer.h and docs/pt2.md. The comments name the function of
// torch/_export/serde/serialize.py (GraphModuleSerializer) or torch/export/pt2_archive/_package.py
// whose output each step reproduces. This file holds the entry points and the archive writing; the
// schema objects are built by writer::ProgramSerializer (serialize/pt2_writer_impl.h).
#include "serialize/pt2_writer.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <caffe2/serialize/inline_container.h>

#include <sys/statvfs.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <ios>
#include <string>

#include "serialize/pt2_format.h"
#include "serialize/pt2_writer_impl.h"
#include "serialize/temp_file.h"
#include "shapes/error.h"

namespace ptx::serialize {

namespace archive = torch::_export::archive_spec;
using writer::Blob;
using writer::ProgramSerializer;

namespace {

static_assert(std::endian::native == std::endian::little,
              "weights are written as the host's bytes, which the format requires to be little-endian");

std::string c10_message(const c10::Error& e) {
  std::string m = e.what_without_backtrace();
  const size_t nl = m.find('\n');
  if (nl != std::string::npos) m.resize(nl);
  return m;
}

}  // namespace

Pt2Json serialize_pt2_json(const ir::ExportedProgram& ep, const WriteOptions& opts) {
  return ProgramSerializer(ep, opts).run();
}

void write_pt2(const ir::ExportedProgram& ep, const std::filesystem::path& out, const WriteOptions& opts) {
  TempFile tmp(out);
  WriteOptions o = opts;
  o.digests = false;  // nothing reads the archive back here
  write_pt2_uncommitted(ep, tmp, o);
  tmp.commit();
}

namespace {

/// About how many bytes the archive takes: its records (zip headers and alignment add little).
uint64_t archive_bytes(const ProgramSerializer& s, const Pt2Json& json) {
  uint64_t n = json.model.size() + json.weights_config.size() + json.constants_config.size();
  for (const Blob& b : s.weight_blobs()) n += b.nbytes;
  for (const Blob& b : s.constant_blobs()) n += b.nbytes;
  return n;
}

/// "; the archive needs about N bytes in FOLDER, which has M free", for a write that failed.
std::string space_note(const TempFile& tmp, uint64_t needed) {
  const std::filesystem::path dir = tmp.path().has_parent_path() ? tmp.path().parent_path() : ".";
  std::string note = "; the archive needs about " + std::to_string(needed) + " bytes in " + dir.string();
  struct statvfs vfs {};
  if (::statvfs(dir.c_str(), &vfs) == 0) {
    note += ", which has " + std::to_string(static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize) + " free";
  }
  return note;
}

}  // namespace

WrittenEntries write_pt2_uncommitted(const ir::ExportedProgram& ep, TempFile& tmp, const WriteOptions& opts) {
  const std::filesystem::path& out = tmp.dest();
  // Everything that can fail on the program is done before the file is opened.
  ProgramSerializer serializer(ep, opts);
  const Pt2Json json = serializer.run();
  const std::string& model_name = kModelName;
  static const char kEmpty = 0;
  WrittenEntries written;

  // Note [leaked archive writer]: ~PyTorchStreamWriter finishes an unfinished archive and can
  // throw from the destructor (std::terminate) when the file cannot be written. A writer that
  // failed is therefore leaked, never destroyed; the temporary file is removed by `tmp`.
  auto* writer = static_cast<caffe2::serialize::PyTorchStreamWriter*>(nullptr);
  try {
    writer = new caffe2::serialize::PyTorchStreamWriter(tmp.path().string());
    writer->setMinVersion(kZipFormatVersion);
    auto put = [&](const std::string& name, const void* data, size_t n) {
      writer->writeRecord(name, n ? data : &kEmpty, n);
    };
    auto put_text = [&](const std::string& name, const std::string& text) { put(name, text.data(), text.size()); };
    // _package_exported_programs: weights, their config, constants, their config, the program,
    // the sample inputs; then PT2ArchiveWriter.__exit__: archive_format, archive_version.
    // Each tensor entry's digest is computed from the bytes as they are handed to the writer.
    auto put_blob = [&](const Blob& b) {
      written[b.path] = {b.data, b.nbytes, b.nbytes && opts.digests ? crc32_of(b.data, b.nbytes) : 0};
      put(b.path, b.data, b.nbytes);
    };
    for (const Blob& b : serializer.weight_blobs()) put_blob(b);
    put_text(format_archive_path(archive::WEIGHTS_CONFIG_FILENAME_FORMAT, model_name), json.weights_config);
    for (const Blob& b : serializer.constant_blobs()) put_blob(b);
    put_text(format_archive_path(archive::CONSTANTS_CONFIG_FILENAME_FORMAT, model_name), json.constants_config);
    put_text(format_archive_path(archive::MODELS_FILENAME_FORMAT, model_name), json.model);
    // No sample inputs: an empty record, which torch's loader reads as "none" (never a pickle).
    put(format_archive_path(archive::SAMPLE_INPUTS_FILENAME_FORMAT, model_name), nullptr, 0);
    put_text(std::string(archive::ARCHIVE_FORMAT_PATH), std::string(archive::ARCHIVE_FORMAT_VALUE));
    put_text(std::string(archive::ARCHIVE_VERSION_PATH), std::string(archive::ARCHIVE_VERSION_VALUE));
    writer->writeEndOfFile();  // .data/version, byteorder, .data/serialization_id, directory
  } catch (const c10::Error& e) {
    PTX_USER_FAIL(ExitCode::kOutput, "E_OUTPUT") << "cannot write " << out.string() << ": " << c10_message(e)
                                                 << space_note(tmp, archive_bytes(serializer, json));
  } catch (const std::ios_base::failure& e) {
    // The stream writer's ofstream throws with exceptions on: a full disk, a file size limit.
    const int err = errno;
    PTX_USER_FAIL(ExitCode::kOutput, "E_OUTPUT") << "cannot write " << out.string() << ": "
                                                 << (err ? std::strerror(err) : e.what())
                                                 << space_note(tmp, archive_bytes(serializer, json));
  }
  delete writer;  // finalized: the destructor does nothing
  return written;
}

}  // namespace ptx::serialize
