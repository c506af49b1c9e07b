// tests/fuzz/fuzz_common.h: what the libFuzzer targets of tests/fuzz/ share (scripts/fuzz.sh runs
// them; docs/security.md, "Fuzzing").
//
// Every target feeds one parser of untrusted input and accepts exactly two outcomes: the input is
// read, or it is refused with a UserError (a documented exit code). Anything else (an
// InternalError, a c10::Error or std::exception escaping, a crash, a sanitizer report, a stack
// overflow, a hang) is a finding. `expect_user_error_or_success` turns an escaping exception into
// an abort, which libFuzzer reports with the input.
//
// Parsers that take a path read a memfd through /proc/self/fd/N (a regular file in memory), and
// archive parsers get a well-formed stored zip built around the fuzzed parts (StoredZip), so that
// the mutations reach the JSON, pickles and code inside rather than dying on the zip's CRCs.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "shapes/error.h"

namespace ptx::fuzz {

/// Runs `fn`; a UserError is an accepted refusal, anything else aborts (a finding).
/// Allocations the input asks for and the process cannot make (a valid inputs.json may ask for a
/// 2^32-element sample) are accepted too: ASan returns null above its max_allocation_size_mb
/// (scripts/fuzz.sh), and the CLI reports that as "out of memory".
template <typename Fn>
void expect_user_error_or_success(Fn&& fn) {
  try {
    fn();
  } catch (const UserError&) {
  } catch (const std::bad_alloc&) {
  } catch (const std::exception& e) {
    const std::string what = e.what();
    if (what.find("can't allocate memory") != std::string::npos) return;
    std::fprintf(stderr, "fuzz: escaped exception: %s\n", e.what());
    std::abort();
  } catch (...) {
    std::fprintf(stderr, "fuzz: escaped unknown exception\n");
    std::abort();
  }
}

/// A file in memory with a path that every parser can open.
class MemFile {
 public:
  MemFile() : fd_(::memfd_create("ptx-fuzz", 0)) {
    if (fd_ < 0) std::abort();
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~MemFile() { ::close(fd_); }
  /// Replaces the contents; returns the path.
  const std::string& write(std::string_view bytes) {
    if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size())) {
      std::abort();
    }
    return path_;
  }

 private:
  int fd_;
  std::string path_;
};

inline uint32_t crc32(std::string_view data) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : data) c = table[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

/// A zip archive of stored (uncompressed) entries, written in memory.
class StoredZip {
 public:
  void add(const std::string& name, std::string_view data) {
    const uint32_t crc = crc32(data);
    const auto offset = static_cast<uint32_t>(out_.size());
    put32(0x04034b50);
    header_fields(name, data.size(), crc);
    out_ += name;
    out_ += data;
    central_.push_back({name, offset, crc, static_cast<uint32_t>(data.size())});
  }
  std::string finish() {
    const auto dir = static_cast<uint32_t>(out_.size());
    for (const Entry& e : central_) {
      put32(0x02014b50);
      put16(20);
      header_fields(e.name, e.size, e.crc);
      put16(0);  // comment
      put16(0);  // disk
      put16(0);  // internal attributes
      put32(0);  // external attributes
      put32(e.offset);
      out_ += e.name;
    }
    const auto dir_size = static_cast<uint32_t>(out_.size()) - dir;
    put32(0x06054b50);
    put16(0);
    put16(0);
    put16(static_cast<uint16_t>(central_.size()));
    put16(static_cast<uint16_t>(central_.size()));
    put32(dir_size);
    put32(dir);
    put16(0);
    return std::move(out_);
  }

 private:
  struct Entry {
    std::string name;
    uint32_t offset, crc, size;
  };
  void header_fields(const std::string& name, size_t size, uint32_t crc) {
    put16(20);  // version needed
    put16(0);   // flags
    put16(0);   // stored
    put16(0);   // time
    put16(0x21);  // date (1980-01-01)
    put32(crc);
    put32(static_cast<uint32_t>(size));
    put32(static_cast<uint32_t>(size));
    put16(static_cast<uint16_t>(name.size()));
    put16(0);  // extra
  }
  void put16(uint16_t v) {
    out_ += static_cast<char>(v & 0xFF);
    out_ += static_cast<char>(v >> 8);
  }
  void put32(uint32_t v) {
    put16(static_cast<uint16_t>(v & 0xFFFF));
    put16(static_cast<uint16_t>(v >> 16));
  }
  std::string out_;
  std::vector<Entry> central_;
};

/// `data` cut at each "\n====\n" (the separator the seed files use between an archive's parts).
inline std::vector<std::string_view> parts(std::string_view data, size_t at_most) {
  static constexpr std::string_view kSep = "\n====\n";
  std::vector<std::string_view> out;
  while (out.size() + 1 < at_most) {
    const size_t p = data.find(kSep);
    if (p == std::string_view::npos) break;
    out.push_back(data.substr(0, p));
    data.remove_prefix(p + kSep.size());
  }
  out.push_back(data);
  return out;
}

/// The archive a fuzz input stands for: the input itself when it starts with a zip's magic ("PK"),
/// else a well-formed stored zip of the `fixed` entries and then the input's parts under `part_names`
/// (as many parts as names at most; fewer parts, fewer entries).
inline std::string archive_of(std::string_view input, const std::vector<std::pair<std::string, std::string>>& fixed,
                              const std::vector<std::string>& part_names) {
  if (input.starts_with("PK")) return std::string(input);
  StoredZip zip;
  for (const auto& [name, bytes] : fixed) zip.add(name, bytes);
  const auto p = parts(input, part_names.size());
  for (size_t i = 0; i < p.size(); ++i) zip.add(part_names[i], p[i]);
  return zip.finish();
}

}  // namespace ptx::fuzz
