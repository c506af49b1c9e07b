// serialize/pt2_zip.h: the zip side of reading a .pt2 archive (libzip): entries under one top
// folder, read whole with the size and decompression bounds of docs/security.md, or streamed
// through a CRC-32 in bounded chunks (the write stage's check of its own weights, never holding
// them). Internal to serialize/.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "serialize/written.h"

struct zip;

namespace ptx::serialize::detail {

/// Raised inside the reader for a malformed archive; turned into UserError with the file name.
struct Malformed {
  std::string message;
};
[[noreturn]] inline void malformed(const std::string& m) { throw Malformed{m}; }

/// An entry as the zip's central directory declares it, and the CRC-32 of the bytes it really holds.
struct EntryDigest {
  uint64_t size = 0;          // declared (uncompressed) size
  uint32_t declared_crc = 0;  // declared CRC-32
  bool stored = true;         // not compressed
  uint64_t read = 0;          // bytes read
  uint32_t crc = 0;           // CRC-32 of the bytes read
};

/// A PT2 zip: every entry under one top folder, read by its name below that folder. Errors are
/// Malformed naming the entry.
class Archive {
 public:
  explicit Archive(const std::filesystem::path& path);
  Archive(const Archive&) = delete;
  Archive& operator=(const Archive&) = delete;
  ~Archive();

  const std::string& root() const { return root_; }
  bool has(const std::string& name) const { return index_.count(name) != 0; }
  std::vector<std::string> names_under(const std::string& prefix) const;

  /// The entry's bytes. `what` says what the entry is for, in messages.
  std::string read(const std::string& name, const std::string& what) const;
  /// The entry's declared size (what read() would return), without reading it.
  uint64_t size(const std::string& name, const std::string& what) const;
  /// The entry's declared size and CRC, and the CRC-32 of its bytes as they are in the file (a
  /// stored entry's raw bytes, without libzip's own CRC check, so that a difference is reported
  /// by the caller), read in chunks of at most 1 MiB: the entry is never held whole.
  EntryDigest digest(const std::string& name, const std::string& what) const;

 private:
  struct zip* zip_ = nullptr;
  uint64_t file_size_ = 0;
  std::string root_;
  std::map<std::string, uint64_t> index_;
};

}  // namespace ptx::serialize::detail
