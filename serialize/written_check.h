// serialize/written_check.h: the reader's side of checking an archive against what was written
// (serialize/written.h): each weight entry streamed through its CRC-32 in bounded chunks and
// compared with the writer's digest and the entry's declared size and CRC, each tensor's meta in
// the file compared with the written tensor, which the program read back then takes. Internal
// to serialize/ (the pt2_reader*.cpp files).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "ir/program.h"
#include "serialize/pt2_zip.h"
#include "serialize/written.h"

namespace ptx::serialize::detail {

/// The file disagrees with what was written: E_ROUNDTRIP for the caller.
struct Mismatch {
  std::string message;
};

class WrittenCheck {
 public:
  WrittenCheck(const ir::ExportedProgram& written, const WrittenEntries& entries) : written_(written), entries_(entries) {}

  /// The written tensor `fqn`, once the archive's `entry` holds the bytes written for its storage
  /// and the file's meta (dtype, sizes, strides, offset) is the written tensor's. Throws Mismatch.
  at::Tensor tensor(const Archive& ar, const std::string& entry, const std::string& fqn, ir::DType dtype,
                    const std::vector<int64_t>& sizes, const std::vector<int64_t>& strides, int64_t offset);
  /// The program read back has the written program's parameters, buffers and constants, no more.
  void check_complete(const ir::ExportedProgram& back) const;

 private:
  void check_entry(const Archive& ar, const std::string& entry, const std::string& who);

  const ir::ExportedProgram& written_;
  const WrittenEntries& entries_;
  std::set<std::string> checked_;
};

}  // namespace ptx::serialize::detail
