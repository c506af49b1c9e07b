// lib/npy.cpp: .npy / .npz reading. See lib/npy.h. Format: numpy/lib/format.py
// (magic "\x93NUMPY", major, minor, little-endian header length of 2 bytes (v1) or 4 bytes
// (v2, v3), a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// padded with spaces and a newline, then the raw data).
#include "lib/npy.h"

#include <ATen/ATen.h>
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

namespace ptx {
namespace {

static_assert(std::endian::native == std::endian::little, "the .npy reader assumes a little-endian host");

constexpr const char* kDiag = "E_INPUT_NPY";

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

std::string read_file_bytes(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) fail(file.string(), std::string("cannot open: ") + std::strerror(errno));
  std::ostringstream os;
  os << in.rdbuf();
  if (in.bad()) fail(file.string(), std::string("cannot read: ") + std::strerror(errno));
  return std::move(os).str();
}

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
using ZipPtr = std::unique_ptr<zip_t, ZipCloser>;

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

}  // namespace

at::Tensor parse_npy(std::string_view bytes, const std::string& what) {
  static constexpr std::string_view kMagic = "\x93NUMPY";
  if (bytes.size() < 10 || bytes.substr(0, 6) != kMagic) fail(what, "not a .npy file (no \\x93NUMPY magic)");
  const auto major = static_cast<unsigned char>(bytes[6]);
  size_t header_len = 0, offset = 0;
  auto byte = [&](size_t i) { return static_cast<size_t>(static_cast<unsigned char>(bytes[i])); };
  if (major == 1) {
    header_len = byte(8) | (byte(9) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) fail(what, "truncated .npy header");
    header_len = byte(8) | (byte(9) << 8) | (byte(10) << 16) | (byte(11) << 24);
    offset = 12;
  } else {
    fail(what, "unsupported .npy format version " + std::to_string(major) + "." +
                   std::to_string(static_cast<unsigned char>(bytes[7])));
  }
  if (bytes.size() < offset + header_len) fail(what, "truncated .npy header");
  HeaderParser header(bytes.substr(offset, header_len), what);
  const std::string descr = header.string_at(header.value_of("descr"), "descr");
  const at::ScalarType type = dtype_of_descr(descr, what);
  const bool fortran = header.bool_at(header.value_of("fortran_order"));
  std::vector<int64_t> shape = header.shape_at(header.value_of("shape"));

  const size_t item = c10::elementSize(type);
  size_t numel = 1;
  for (int64_t d : shape) {
    if (d != 0 && numel > (SIZE_MAX / item) / static_cast<size_t>(d)) fail(what, "array too large");
    numel *= static_cast<size_t>(d);
  }
  const size_t data_offset = offset + header_len;
  const size_t have = bytes.size() - data_offset;
  const size_t want = numel * item;
  if (have != want) {
    fail(what, std::string(have < want ? "truncated" : "unexpected trailing bytes") + ": shape (" +
                   [&] {
                     std::string s;
                     for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
                     return s;
                   }() +
                   ") of " + descr + " needs " + std::to_string(want) + " bytes of data, the file has " +
                   std::to_string(have));
  }
  std::vector<int64_t> storage_shape = shape;
  if (fortran) std::reverse(storage_shape.begin(), storage_shape.end());
  at::Tensor t = at::empty(storage_shape, at::TensorOptions().dtype(type));
  if (want) std::memcpy(t.data_ptr(), bytes.data() + data_offset, want);
  if (type == at::kBool) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + data_offset);
    for (size_t i = 0; i < numel; ++i) {
      if (p[i] > 1) fail(what, "bool data holds a byte other than 0 and 1 at element " + std::to_string(i));
    }
  }
  if (fortran && shape.size() > 1) {
    std::vector<int64_t> perm(shape.size());
    std::iota(perm.rbegin(), perm.rend(), 0);
    t = t.permute(perm).contiguous();
  }
  return t;
}

at::Tensor read_npy(const std::filesystem::path& file) { return parse_npy(read_file_bytes(file), file.string()); }

std::vector<std::string> npz_keys(const std::filesystem::path& file) {
  if (!std::filesystem::exists(file)) fail(file.string(), "no such file");
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
  if (!std::filesystem::exists(file)) fail(file.string(), "no such file");
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
  std::string bytes(st.size, '\0');
  zip_file_t* f = zip_fopen_index(z.get(), static_cast<zip_uint64_t>(index), 0);
  if (!f) fail(what, std::string("cannot read: ") + zip_strerror(z.get()));
  const zip_int64_t got = zip_fread(f, bytes.data(), bytes.size());
  const std::string err = got < 0 ? zip_file_strerror(f) : "";
  zip_fclose(f);
  if (got < 0 || static_cast<zip_uint64_t>(got) != st.size) fail(what, "cannot read: " + (err.empty() ? "short read" : err));
  return parse_npy(bytes, what);
}

}  // namespace ptx
