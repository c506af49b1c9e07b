// serialize/pt2_zip.cpp: see serialize/pt2_zip.h.
#include "serialize/pt2_zip.h"

#include <sys/stat.h>
#include <zip.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "shapes/limits.h"

namespace ptx::serialize {

uint32_t crc32_of(const void* data, uint64_t n, uint32_t crc) {
  const auto* p = static_cast<const Bytef*>(data);
  uLong c = crc;
  while (n > 0) {  // zlib's length is a uInt on some builds: feed at most 1 GiB at a time
    const uint64_t step = std::min<uint64_t>(n, uint64_t{1} << 30);
    c = ::crc32(c, p, static_cast<uInt>(step));
    p += step;
    n -= step;
  }
  return static_cast<uint32_t>(c);
}

namespace detail {

namespace {
std::string zip_error_text(int code) {
  zip_error_t e;
  zip_error_init_with_code(&e, code);
  std::string msg = zip_error_strerror(&e);
  zip_error_fini(&e);
  return msg;
}
}  // namespace

Archive::Archive(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) malformed(std::strerror(errno));
  if (S_ISDIR(st.st_mode)) malformed("is a directory");
  if (!S_ISREG(st.st_mode)) malformed("not a regular file (a device or FIFO cannot hold an archive)");
  file_size_ = static_cast<uint64_t>(st.st_size);
  int err = 0;
  // No ZIP_CHECKCONS: torch's writer leaves sizes out of local headers (data descriptors), which
  // that check rejects. Entry data is still checked against its CRC-32 when read.
  zip_ = zip_open(path.c_str(), ZIP_RDONLY, &err);
  if (!zip_) malformed("not a valid zip archive (" + zip_error_text(err) + ")");
  const zip_int64_t n = zip_get_num_entries(zip_, 0);
  if (n <= 0) malformed("the archive has no entries");
  for (zip_int64_t i = 0; i < n; ++i) {
    const char* name = zip_get_name(zip_, static_cast<zip_uint64_t>(i), 0);
    if (!name) malformed("entry " + std::to_string(i) + " has no name");
    std::string s = name;
    if (i == 0) {
      // torch's reader takes the top folder from the first entry (PyTorchStreamReader::init).
      const size_t slash = s.find('/');
      if (slash == std::string::npos || slash == 0) malformed("entry '" + s + "' is not inside a top folder");
      root_ = s.substr(0, slash + 1);
    }
    if (s.compare(0, root_.size(), root_) != 0) {
      malformed("entry '" + s + "' is outside the archive's top folder '" + root_ + "'");
    }
    index_[s.substr(root_.size())] = static_cast<zip_uint64_t>(i);
  }
}

Archive::~Archive() {
  if (zip_) zip_discard(zip_);
}

std::vector<std::string> Archive::names_under(const std::string& prefix) const {
  std::vector<std::string> out;
  for (const auto& [name, i] : index_) {
    if (name.compare(0, prefix.size(), prefix) == 0) out.push_back(name);
  }
  return out;
}

namespace {
zip_stat_t stat_entry(zip_t* zip, uint64_t index, const std::string& entry) {
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(zip, index, 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE)) {
    malformed("entry '" + entry + "': cannot stat (" + zip_strerror(zip) + ")");
  }
  return st;
}
}  // namespace

uint64_t Archive::size(const std::string& name, const std::string& what) const {
  auto it = index_.find(name);
  if (it == index_.end()) malformed("no entry '" + root_ + name + "' (" + what + ")");
  return stat_entry(zip_, it->second, root_ + name).size;
}

std::string Archive::read(const std::string& name, const std::string& what) const {
  auto it = index_.find(name);
  if (it == index_.end()) malformed("no entry '" + root_ + name + "' (" + what + ")");
  const zip_stat_t st = stat_entry(zip_, it->second, root_ + name);
  // Stored entries are never larger than the file; allow deflate's best ratio (~1032:1).
  if (st.size > file_size_ * 1100 + 4096) {
    malformed("entry '" + root_ + name + "' claims an implausible size of " + std::to_string(st.size) + " bytes");
  }
  if ((st.valid & ZIP_STAT_COMP_METHOD) && st.comp_method != ZIP_CM_STORE &&
      st.size > limits::kMaxInflatedEntryBytes) {
    malformed("entry '" + root_ + name + "' is compressed and inflates to " + std::to_string(st.size) +
              " bytes, over the limit of " + std::to_string(limits::kMaxInflatedEntryBytes) +
              " (docs/security.md; torch stores weights uncompressed)");
  }
  zip_file_t* f = zip_fopen_index(zip_, it->second, 0);
  if (!f) malformed("entry '" + root_ + name + "': cannot open (" + zip_strerror(zip_) + ")");
  std::string data(static_cast<size_t>(st.size), '\0');
  zip_uint64_t done = 0;
  while (done < st.size) {
    const zip_int64_t got = zip_fread(f, data.data() + done, st.size - done);
    if (got <= 0) {
      const std::string msg = got < 0 ? zip_error_strerror(zip_file_get_error(f)) : "unexpected end of data";
      zip_fclose(f);
      malformed("entry '" + root_ + name + "': truncated or corrupt (" + msg + ")");
    }
    done += static_cast<zip_uint64_t>(got);
  }
  if (const int rc = zip_fclose(f); rc != 0) {
    malformed("entry '" + root_ + name + "': corrupt (" + zip_error_text(rc) + ")");
  }
  return data;
}

EntryDigest Archive::digest(const std::string& name, const std::string& what) const {
  auto it = index_.find(name);
  if (it == index_.end()) malformed("no entry '" + root_ + name + "' (" + what + ")");
  const zip_stat_t st = stat_entry(zip_, it->second, root_ + name);
  EntryDigest d;
  d.size = st.size;
  d.declared_crc = (st.valid & ZIP_STAT_CRC) ? st.crc : 0;
  d.stored = !(st.valid & ZIP_STAT_COMP_METHOD) || st.comp_method == ZIP_CM_STORE;
  if (!d.stored) return d;  // the writer stores every entry: the caller reports the difference
  // ZIP_FL_COMPRESSED: a stored entry's bytes as they are, without libzip's CRC check at the end.
  zip_file_t* f = zip_fopen_index(zip_, it->second, ZIP_FL_COMPRESSED);
  if (!f) malformed("entry '" + root_ + name + "': cannot open (" + zip_strerror(zip_) + ")");
  std::vector<char> chunk(std::min<uint64_t>(st.size, uint64_t{1} << 20));
  while (d.read < st.size) {
    const zip_int64_t got = zip_fread(f, chunk.data(), std::min<uint64_t>(chunk.size(), st.size - d.read));
    if (got <= 0) break;  // short: the caller compares d.read with the size written
    d.crc = crc32_of(chunk.data(), static_cast<uint64_t>(got), d.crc);
    d.read += static_cast<uint64_t>(got);
  }
  zip_fclose(f);
  return d;
}

}  // namespace detail
}  // namespace ptx::serialize
