// tests/lib/npy_test.cpp: the .npy / .npz reader (lib/npy.h) against files written by numpy
// (tests/lib/data/make_data.py), whose values follow a formula recomputed here with ATen.

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include "lib/npy.h"
#include "shapes/error.h"

// Torch (c10/util/logging) defines a glog-style CHECK that aborts; Catch2's CHECK must win.
#undef CHECK
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/matchers/catch_matchers_exception.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

using namespace ptx;
using Catch::Matchers::ContainsSubstring;
using Catch::Matchers::Message;

namespace {

const std::filesystem::path kData = std::filesystem::path(PTX_SOURCE_DIR) / "tests/lib/data";

/// make_data.py's formula: element i (row-major) is (i-3) for signed ints, i for unsigned,
/// (i-3)*0.5 for floats, i%3==0 for bool.
at::Tensor expected(at::ScalarType t, std::vector<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  const at::Tensor i = at::arange(n, at::kLong);
  at::Tensor v;
  if (t == at::kBool) {
    v = i.remainder(3).eq(0);
  } else if (at::isFloatingType(t)) {
    v = (i - 3).to(at::kDouble) * 0.5;
  } else if (t == at::kByte) {
    v = i;
  } else {
    v = i - 3;
  }
  return v.to(t).reshape(shape);
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

/// A scratch file under the system temp folder, removed at scope exit.
struct TempFile {
  explicit TempFile(const std::string& name, const std::string& bytes)
      : path(std::filesystem::temp_directory_path() / ("ptx_npy_test_" + std::to_string(::getpid()) + "_" + name)) {
    std::ofstream(path, std::ios::binary) << bytes;
  }
  ~TempFile() { std::filesystem::remove(path); }
  std::filesystem::path path;
};

void check_equal(const at::Tensor& got, const at::Tensor& want) {
  REQUIRE(got.scalar_type() == want.scalar_type());
  REQUIRE(got.sizes() == want.sizes());
  REQUIRE(got.is_contiguous());
  REQUIRE(at::equal(got, want));
}

}  // namespace

TEST_CASE("npy: every supported dtype reads back numpy's values", "[lib][npy]") {
  auto [name, type] = GENERATE(table<std::string, at::ScalarType>({
      {"float16", at::kHalf}, {"float32", at::kFloat}, {"float64", at::kDouble},
      {"int8", at::kChar},    {"int16", at::kShort},   {"int32", at::kInt},
      {"int64", at::kLong},   {"uint8", at::kByte},    {"bool", at::kBool},
  }));
  INFO(name);
  check_equal(read_npy(kData / (name + ".npy")), expected(type, {2, 3}));
}

TEST_CASE("npy: rank 0, empty, Fortran order and format 2.0", "[lib][npy]") {
  check_equal(read_npy(kData / "scalar.npy"), expected(at::kFloat, {}));
  check_equal(read_npy(kData / "empty.npy"), expected(at::kFloat, {0, 3}));
  // Fortran order in the file; the tensor is C-order contiguous with the same logical values.
  check_equal(read_npy(kData / "fortran.npy"), expected(at::kInt, {2, 3, 4}));
  check_equal(read_npy(kData / "v2.npy"), expected(at::kDouble, {3, 2}));
}

TEST_CASE("npz: stored and deflated archives", "[lib][npy]") {
  for (const char* file : {"arrays.npz", "compressed.npz"}) {
    INFO(file);
    REQUIRE(npz_keys(kData / file) == std::vector<std::string>({"a", "b"}));
    check_equal(read_npz(kData / file, "a"), expected(at::kFloat, {2, 3}));
    check_equal(read_npz(kData / file, "b.npy"), expected(at::kLong, {4}));
  }
  check_equal(read_npz(kData / "single.npz", "only"), expected(at::kFloat, {17, 32}));
}

TEST_CASE("npy: refused and broken files say why", "[lib][npy]") {
  const std::string d = kData.string() + "/";
  auto [file, message] = GENERATE_COPY(table<std::string, std::string>({
      {"object.npy", d + "object.npy: object arrays ('|O') hold pickled Python objects, which ptexport refuses to "
                         "load; save a numeric array instead"},
      {"bigendian.npy",
       d + "bigendian.npy: big-endian data ('>f4') is not supported; save it little-endian (arr.astype('<f4'))"},
      {"uint16.npy", d + "uint16.npy: unsupported dtype '<u2'; supported: float16, float32, float64, int8, int16, "
                         "int32, int64, uint8, bool"},
      {"structured.npy",
       d + "structured.npy: structured arrays (a record dtype) are not supported; save one plain array per entry"},
      {"missing.npy", d + "missing.npy: cannot open: No such file or directory"},
  }));
  INFO(file);
  CHECK_THROWS_MATCHES(read_npy(kData / file), UserError, Message(message));
  try {
    read_npy(kData / file);
  } catch (const UserError& e) {
    REQUIRE(e.code() == ExitCode::kInput);
    REQUIRE(e.diag_code() == "E_INPUT_NPY");
  }
}

TEST_CASE("npy: truncated, trailing, bad magic, bad bool bytes", "[lib][npy]") {
  const std::string good = slurp(kData / "float32.npy");
  {
    TempFile f("truncated.npy", good.substr(0, good.size() - 4));
    CHECK_THROWS_MATCHES(read_npy(f.path), UserError,
                         Message(f.path.string() + ": truncated: shape (2, 3) of <f4 needs 24 bytes of data, the file has 20"));
  }
  {
    TempFile f("trailing.npy", good + "xx");
    CHECK_THROWS_MATCHES(read_npy(f.path), UserError,
                         Message(f.path.string() +
                                 ": unexpected trailing bytes: shape (2, 3) of <f4 needs 24 bytes of data, the file has 26"));
  }
  {
    TempFile f("magic.npy", "PK\x03\x04 this is a zip");
    CHECK_THROWS_MATCHES(read_npy(f.path), UserError, Message(f.path.string() + ": not a .npy file (no \\x93NUMPY magic)"));
  }
  {
    TempFile f("short.npy", good.substr(0, 40));
    CHECK_THROWS_MATCHES(read_npy(f.path), UserError, Message(f.path.string() + ": truncated .npy header"));
  }
  {
    std::string bytes = slurp(kData / "bool.npy");
    bytes.back() = 2;
    TempFile f("bool2.npy", bytes);
    CHECK_THROWS_MATCHES(read_npy(f.path), UserError,
                         Message(f.path.string() + ": bool data holds a byte other than 0 and 1 at element 5"));
  }
  {
    // parse_npy works on bytes alone and names what it was given.
    CHECK_THROWS_MATCHES(parse_npy(good.substr(0, 6), "mem"), UserError,
                         Message("mem: not a .npy file (no \\x93NUMPY magic)"));
    check_equal(parse_npy(good, "mem"), expected(at::kFloat, {2, 3}));
  }
}

TEST_CASE("npz: unknown key, not a zip, missing file", "[lib][npy]") {
  const std::string d = kData.string() + "/";
  CHECK_THROWS_MATCHES(read_npz(kData / "arrays.npz", "A"), UserError,
                       Message(d + "arrays.npz: no array 'A'; did you mean 'a'? arrays are: a, b"));
  CHECK_THROWS_MATCHES(read_npz(kData / "arrays.npz", "zz"), UserError,
                       Message(d + "arrays.npz: no array 'zz'; arrays are: a, b"));
  CHECK_THROWS_WITH(read_npz(kData / "float32.npy", "a"),
                    ContainsSubstring(d + "float32.npy: cannot open as a .npz (zip) archive: "));
  CHECK_THROWS_MATCHES(read_npz(kData / "nope.npz", "a"), UserError, Message(d + "nope.npz: no such file"));
}
