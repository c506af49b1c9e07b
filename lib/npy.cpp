// lib/npy.cpp: .npy / .npz reading. See lib/npy.h. Format: numpy/lib/format.py
// (magic "\x93NUMPY", major, minor, little-endian header length of 2 bytes (v1) or 4 bytes
// (v2, v3), a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// padded with spaces and a newline, then the raw data).
#include "lib/npy.h"

#include <ATen/ATen.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <bit>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <numeric>
#include <optional>
#include <sstream>

#include "lib/did_you_mean.h"
#include "shapes/error.h"
#include "shapes/limits.h"

namespace ptx {
namespace {

static_assert(std::endian::native == std::endian::little, "the .npy reader assumes a little-endian host");

constexpr const char* kDiag = "E_INPUT_NPY";
/// numpy pads headers to 64 bytes and keeps them below 64 KiB; version 2 allows 4 GiB.
constexpr size_t kMaxHeaderBytes = size_t{1} << 20;

[[noreturn]] void fail(const std::string& what, const std::string& problem) {
  PTX_USER_FAIL(ExitCode::kInput, kDiag) << what << ": " << problem;
}

struct DescrInfo {
  const char* code;  // type character and size, without byte order: "f4"
  at::ScalarType type;
};
constexpr DescrInfo kDescrs[] = {
    {"f2", at::kHalf}, {"f4", at::kFloat}, {"f8", at::kDouble}, {"i1", at::kChar},  {"i2", at::kShort},
    {"i4", at::kInt},  {"i8", at::kLong},  {"u1", at::kByte},   {"b1", at::kBool},
};

/// Parses a Python literal dict header just enough for the three keys numpy writes.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& what) : s_(text), what_(what) {}

  /// The position just after "'key':" (and blanks), or fails.
  size_t value_of(const char* key) {
    for (const char q : {'\'', '"'}) {
      const std::string pattern = std::string(1, q) + key + std::string(1, q);
      size_t p = s_.find(pattern);
      if (p == std::string_view::npos) continue;
      p += pattern.size();
      p = skip_blanks(p);
      if (p < s_.size() && s_[p] == ':') return skip_blanks(p + 1);
    }
    fail(what_, "malformed .npy header: no '" + std::string(key) + "' entry in " + quoted());
  }

  std::string string_at(size_t p, const char* key) {
    if (p >= s_.size() || (s_[p] != '\'' && s_[p] != '"')) {
      if (std::string_view(key) == "descr" && p < s_.size() && s_[p] == '[') {
        fail(what_, "structured arrays (a record dtype) are not supported; save one plain array per entry");
      }
      fail(what_, "malformed .npy header: '" + std::string(key) + "' is not a string in " + quoted());
    }
    const size_t end = s_.find(s_[p], p + 1);
    if (end == std::string_view::npos) fail(what_, "malformed .npy header: unterminated string in " + quoted());
    return std::string(s_.substr(p + 1, end - p - 1));
  }

  bool bool_at(size_t p) {
    if (s_.substr(p, 4) == "True") return true;
    if (s_.substr(p, 5) == "False") return false;
    fail(what_, "malformed .npy header: 'fortran_order' is not True or False in " + quoted());
  }

  std::vector<int64_t> shape_at(size_t p) {
    if (p >= s_.size() || s_[p] != '(') fail(what_, "malformed .npy header: 'shape' is not a tuple in " + quoted());
    std::vector<int64_t> shape;
    ++p;
    while (true) {
      p = skip_blanks(p);
      if (p < s_.size() && s_[p] == ')') break;
      size_t q = p;
      while (q < s_.size() && std::isdigit(static_cast<unsigned char>(s_[q]))) ++q;
      if (q == p || q - p > 18) fail(what_, "malformed .npy header: bad 'shape' in " + quoted());
      shape.push_back(std::stoll(std::string(s_.substr(p, q - p))));
      p = skip_blanks(q);
      if (p < s_.size() && s_[p] == ',') {
        ++p;
      } else if (p >= s_.size() || s_[p] != ')') {
        fail(what_, "malformed .npy header: bad 'shape' in " + quoted());
      }
    }
    return shape;
  }

 private:
  size_t skip_blanks(size_t p) const {
    while (p < s_.size() && (s_[p] == ' ' || s_[p] == '\t')) ++p;
    return p;
  }
  std::string quoted() const { return "\"" + std::string(s_.substr(0, 200)) + "\""; }
  std::string_view s_;
  const std::string& what_;
};

at::ScalarType dtype_of_descr(const std::string& descr, const std::string& what) {
  if (descr.size() < 2) fail(what, "unsupported dtype '" + descr + "'");
  const char order = descr[0];
  const std::string code = (order == '<' || order == '>' || order == '|' || order == '=') ? descr.substr(1) : descr;
  if (!code.empty() && code[0] == 'O') {
    fail(what, "object arrays ('" + descr + "') hold pickled Python objects, which ptexport refuses to load; "
               "save a numeric array instead");
  }
  for (const DescrInfo& d : kDescrs) {
    if (code != d.code) continue;
    if (order == '>' && code[1] != '1') {
      fail(what, "big-endian data ('" + descr + "') is not supported; save it little-endian (arr.astype('<" + code +
                     "'))");
    }
    return d.type;
  }
  fail(what, "unsupported dtype '" + descr +
                 "'; supported: float16, float32, float64, int8, int16, int32, int64, uint8, bool");
}

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
using ZipPtr = std::unique_ptr<zip_t, ZipCloser>;

/// A FIFO would block and a device never end: archives and arrays come from regular files only.
void check_regular_file(const std::filesystem::path& file) {
  std::error_code ec;
  const auto status = std::filesystem::status(file, ec);
  if (ec || !std::filesystem::exists(status)) fail(file.string(), "no such file");
  if (!std::filesystem::is_regular_file(status)) {
    fail(file.string(), "not a regular file (a device, FIFO or folder cannot hold .npy data)");
  }
}

ZipPtr open_zip(const std::filesystem::path& file) {
  int code = 0;
  zip_t* z = zip_open(file.c_str(), ZIP_RDONLY, &code);
  if (!z) {
    zip_error_t err;
    zip_error_init_with_code(&err, code);
    std::string msg = zip_error_strerror(&err);
    zip_error_fini(&err);
    fail(file.string(), "cannot open as a .npz (zip) archive: " + msg);
  }
  return ZipPtr(z);
}

/// The magic and the header dict of a .npy, and what it declares.
struct NpyHeader {
  at::ScalarType type = at::kFloat;
  std::string descr;
  bool fortran = false;
  std::vector<int64_t> shape;
  size_t data_offset = 0;  // where the data starts
  size_t data_bytes = 0;   // how much data the shape and dtype need
};

/// The header's length: what the first 12 bytes say (the 10 of version 1 are enough for it).
/// Returns the offset of the data.
size_t npy_data_offset(std::string_view bytes, const std::string& what, size_t& header_offset) {
  static constexpr std::string_view kMagic = "\x93NUMPY";
  if (bytes.size() < 10 || bytes.substr(0, 6) != kMagic) fail(what, "not a .npy file (no \\x93NUMPY magic)");
  const auto major = static_cast<unsigned char>(bytes[6]);
  auto byte = [&](size_t i) { return static_cast<size_t>(static_cast<unsigned char>(bytes[i])); };
  size_t header_len = 0;
  if (major == 1) {
    header_len = byte(8) | (byte(9) << 8);
    header_offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) fail(what, "truncated .npy header");
    header_len = byte(8) | (byte(9) << 8) | (byte(10) << 16) | (byte(11) << 24);
    header_offset = 12;
  } else {
    fail(what, "unsupported .npy format version " + std::to_string(major) + "." +
                   std::to_string(static_cast<unsigned char>(bytes[7])));
  }
  if (header_len > kMaxHeaderBytes) fail(what, "a .npy header of " + std::to_string(header_len) + " bytes (numpy writes < 64 KiB)");
  return header_offset + header_len;
}

/// Parses the header from the file's first bytes (at least npy_data_offset of them).
NpyHeader parse_npy_header(std::string_view bytes, const std::string& what) {
  NpyHeader h;
  size_t header_offset = 0;
  h.data_offset = npy_data_offset(bytes, what, header_offset);
  if (bytes.size() < h.data_offset) fail(what, "truncated .npy header");
  HeaderParser header(bytes.substr(header_offset, h.data_offset - header_offset), what);
  h.descr = header.string_at(header.value_of("descr"), "descr");
  h.type = dtype_of_descr(h.descr, what);
  h.fortran = header.bool_at(header.value_of("fortran_order"));
  h.shape = header.shape_at(header.value_of("shape"));
  const size_t item = c10::elementSize(h.type);
  // `span`, the product of the non-zero dims, is what torch's strides hold: it must fit even when
  // a 0 dim makes the array empty ((0, 739388601, 6018601, ...) escaped as a c10::Error, found by
  // fuzz_npy). numel <= span.
  size_t numel = 1, span = 1;
  for (int64_t d : h.shape) {
    const size_t m = d == 0 ? 1 : static_cast<size_t>(d);
    if (span > (static_cast<size_t>(INT64_MAX) / item) / m) fail(what, "array too large");
    span *= m;
    numel *= static_cast<size_t>(d);
  }
  h.data_bytes = numel * item;
  return h;
}

/// Fails unless `have` bytes of data are exactly what the header declares.
void check_data_size(const NpyHeader& h, size_t have, const std::string& what) {
  if (have == h.data_bytes) return;
  std::string shape;
  for (size_t i = 0; i < h.shape.size(); ++i) shape += (i ? ", " : "") + std::to_string(h.shape[i]);
  fail(what, std::string(have < h.data_bytes ? "truncated" : "unexpected trailing bytes") + ": shape (" + shape +
                 ") of " + h.descr + " needs " + std::to_string(h.data_bytes) + " bytes of data, the file has " +
                 std::to_string(have));
}

/// The tensor of a header and its data (data.size() == h.data_bytes).
at::Tensor npy_tensor(const NpyHeader& h, std::string_view data, const std::string& what) {
  std::vector<int64_t> storage_shape = h.shape;
  if (h.fortran) std::reverse(storage_shape.begin(), storage_shape.end());
  at::Tensor t = at::empty(storage_shape, at::TensorOptions().dtype(h.type));
  if (h.data_bytes) std::memcpy(t.data_ptr(), data.data(), h.data_bytes);
  if (h.type == at::kBool) {
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    for (size_t i = 0; i < h.data_bytes; ++i) {
      if (p[i] > 1) fail(what, "bool data holds a byte other than 0 and 1 at element " + std::to_string(i));
    }
  }
  if (h.fortran && h.shape.size() > 1) {
    std::vector<int64_t> perm(h.shape.size());
    std::iota(perm.rbegin(), perm.rend(), 0);
    t = t.permute(perm).contiguous();
  }
  return t;
}

/// Reads up to `n` more bytes from `read` (a function reading into a buffer, returning the count
/// or -1) onto the end of `buf`; fails on an error or an early end.
template <typename Read>
void read_exactly(std::string& buf, size_t n, Read&& read, const std::string& what) {
  size_t done = buf.size();
  buf.resize(done + n);
  while (done < buf.size()) {
    const int64_t got = read(buf.data() + done, buf.size() - done);
    if (got < 0) fail(what, std::string("cannot read: ") + std::strerror(errno));
    if (got == 0) break;
    done += static_cast<size_t>(got);
  }
  buf.resize(done);
}

/// Reads a .npy from a stream of `total` bytes: the header first, then exactly the data it declares.
template <typename Read>
at::Tensor read_npy_stream(uint64_t total, Read&& read, const std::string& what) {
  std::string bytes;
  read_exactly(bytes, std::min<uint64_t>(total, 12), read, what);
  size_t header_offset = 0;
  const size_t data_offset = npy_data_offset(bytes, what, header_offset);
  if (total < data_offset) fail(what, "truncated .npy header");
  read_exactly(bytes, data_offset - bytes.size(), read, what);
  const NpyHeader h = parse_npy_header(bytes, what);
  check_data_size(h, total - data_offset, what);
  read_exactly(bytes, h.data_bytes, read, what);
  check_data_size(h, bytes.size() - data_offset, what);
  return npy_tensor(h, std::string_view(bytes).substr(data_offset), what);
}

}  // namespace

at::Tensor parse_npy(std::string_view bytes, const std::string& what) {
  const NpyHeader h = parse_npy_header(bytes, what);
  check_data_size(h, bytes.size() - h.data_offset, what);
  return npy_tensor(h, bytes.substr(h.data_offset), what);
}

at::Tensor read_npy(const std::filesystem::path& file) {
  const std::string what = file.string();
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);  // a FIFO must not block the open
  if (fd < 0) fail(what, std::string("cannot open: ") + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail(what, std::string("cannot read: ") + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) fail(what, "not a regular file (a device, FIFO or folder cannot hold .npy data)");
  return read_npy_stream(
      static_cast<uint64_t>(st.st_size), [&](char* p, size_t n) { return static_cast<int64_t>(::read(fd, p, n)); }, what);
}

std::vector<std::string> npz_keys(const std::filesystem::path& file) {
  check_regular_file(file);
  ZipPtr z = open_zip(file);
  std::vector<std::string> keys;
  const zip_int64_t n = zip_get_num_entries(z.get(), 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    const char* name = zip_get_name(z.get(), static_cast<zip_uint64_t>(i), 0);
    if (!name) continue;
    std::string s = name;
    if (s.size() > 4 && s.ends_with(".npy")) s.resize(s.size() - 4);
    keys.push_back(s);
  }
  return keys;
}

at::Tensor read_npz(const std::filesystem::path& file, const std::string& key) {
  check_regular_file(file);
  ZipPtr z = open_zip(file);
  const std::string entry = key.ends_with(".npy") ? key : key + ".npy";
  const zip_int64_t index = zip_name_locate(z.get(), entry.c_str(), 0);
  if (index < 0) {
    const std::vector<std::string> keys = npz_keys(file);
    fail(file.string(), "no array '" + key + "'" + suggest_and_list(key, keys, "arrays"));
  }
  const std::string what = file.string() + ": entry '" + key + "'";
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(z.get(), static_cast<zip_uint64_t>(index), 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE)) {
    fail(what, std::string("cannot read: ") + zip_strerror(z.get()));
  }
  if ((st.valid & ZIP_STAT_COMP_METHOD) && st.comp_method != ZIP_CM_STORE && st.size > limits::kMaxInflatedEntryBytes) {
    fail(what, "a compressed entry that inflates to " + std::to_string(st.size) + " bytes, over the limit of " +
                   std::to_string(limits::kMaxInflatedEntryBytes) + " (docs/security.md); save it with np.savez");
  }
  zip_file_t* f = zip_fopen_index(z.get(), static_cast<zip_uint64_t>(index), 0);
  if (!f) fail(what, std::string("cannot read: ") + zip_strerror(z.get()));
  struct Closer {
    zip_file_t* f;
    ~Closer() { zip_fclose(f); }
  } closer{f};
  return read_npy_stream(
      st.size,
      [&](char* p, size_t n) {
        const zip_int64_t got = zip_fread(f, p, n);
        if (got < 0) fail(what, std::string("cannot read: ") + zip_file_strerror(f));
        return static_cast<int64_t>(got);
      },
      what);
}

}  // namespace ptx
