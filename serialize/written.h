// serialize/written.h: what the writer wrote into each tensor entry of an archive, so that the
// write stage can check the file against it without reading the weights into memory again
// (issue 14): write_pt2_uncommitted (pt2_writer.h) returns it, read_pt2_written (pt2_reader.h)
// compares the file with it.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace ptx::serialize {

/// One weight or constant entry as written: the storage it holds (every tensor of the program
/// that views that storage is written into this entry), its size and the CRC-32 of its bytes,
/// computed by the writer from the bytes it handed to the archive writer.
struct WrittenEntry {
  const void* storage = nullptr;
  uint64_t nbytes = 0;
  uint32_t crc32 = 0;
};

/// By archive path below the top folder ("data/weights/weight_0").
using WrittenEntries = std::map<std::string, WrittenEntry>;

/// CRC-32 (zlib's; the zip format's checksum) of `n` bytes at `data`, continuing from `crc`.
uint32_t crc32_of(const void* data, uint64_t n, uint32_t crc = 0);

}  // namespace ptx::serialize
