// tests/lib/inputs_errors_test.cpp: every error of inputs.json loading (lib/inputs.h) and the
// `--dynamic` flags, with its exact text and exit code.
#include <ATen/ATen.h>
#include <torch/csrc/jit/api/module.h>

#include <filesystem>

#include "lib/inputs.h"
#include "shapes/error.h"
#include "tests/lib/inputs_fixtures.h"

// Torch (c10/util/logging) defines a glog-style CHECK that aborts; Catch2's CHECK must win.
#undef CHECK
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

using namespace ptx;

namespace {

const std::string kX = R"({"name": "x", "dtype": "float32", "shape": [8, 64], "dims": ["batch", null]})";
const std::string kK = R"({"name": "k", "value": 4})";
const std::string kYs =
    R"({"name": "ys", "value": [{"dtype": "int64", "shape": [5], "dims": ["n"]},
                                {"dtype": "float32", "shape": [11, 2], "dims": ["2*n+1", null]}]})";
const std::string kGood = kX + ", " + kK + ", " + kYs;

/// {"schema": ..., "args": [ARGS] EXTRA}
std::string doc(const std::string& args, const std::string& extra = "") {
  return R"({"schema": "ptexport.inputs/v1", "args": [)" + args + "]" + extra + "}";
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
  return s;
}

struct ErrorCase {
  std::string what;
  std::string json;  // "" = no file at all
  std::vector<std::string> flags;
  ExitCode code;
  std::string message;  // {F}: the JSON file, {D}: its folder
};

}  // namespace

TEST_CASE("inputs: every error names the file, the JSON path or the flag", "[lib][inputs][errors]") {
  const ExitCode U = ExitCode::kUsage, I = ExitCode::kInput;
  const std::string schema_v1 = R"({"schema": "ptexport.inputs/v1")";
  const ErrorCase c = GENERATE_COPY(values<ErrorCase>({
      // ---- --dynamic names (exit 2)
      {"unknown input", doc(kGood), {"xx.0=batch"}, U,
       "--dynamic 'xx.0=batch': unknown input 'xx'; did you mean 'x'? inputs are: x, ys[0], ys[1]"},
      {"unknown input, no suggestion", doc(kGood), {"q.0=batch"}, U,
       "--dynamic 'q.0=batch': unknown input 'q'; inputs are: x, ys[0], ys[1]"},
      {"a list is not a tensor", doc(kGood), {"ys.0=n"}, U,
       "--dynamic 'ys.0=n': 'ys' is not a tensor; name a tensor inside it: ys[0], ys[1]"},
      {"an int is not a tensor", doc(kGood), {"k.0=n"}, U,
       "--dynamic 'k.0=n': 'k' is not a tensor (int); inputs are: x, ys[0], ys[1]"},
      {"dimension out of range", doc(kGood), {"x.2=batch"}, U,
       "--dynamic 'x.2=batch': x has 2 dimensions (shape [8, 64]); DIM must be in [-2, 1]"},
      {"negative dimension out of range", doc(kGood), {"x.-3=batch"}, U,
       "--dynamic 'x.-3=batch': x has 2 dimensions (shape [8, 64]); DIM must be in [-2, 1]"},
      {"unused symbol in a flag", doc(kGood), {"bach=1:8"}, U,
       "--dynamic 'bach=1:8': symbol 'bach' is not used by any input; did you mean 'batch'? symbols in use are: "
       "batch, n"},
      {"flag syntax before the file", "{", {"x.0=2*"}, U, "--dynamic 'x.0=2*': '2*': expected a symbol after '*'"},
      // ---- the samples against the symbols (exit 2)
      {"sample outside a flag's range", doc(kGood), {"batch=16:"}, U,
       "--dynamic 'batch=16:': the sample has batch = 8 (x.0 = 8), outside batch's range [16, inf]"},
      {"sample outside the JSON's range", doc(kGood, R"(, "dims": {"batch": {"min": 1, "max": 4}})"), {}, U,
       "{F}: dims.batch: the sample has batch = 8 (x.0 = 8), outside batch's range [1, 4]"},
      {"shared symbol, different sizes", doc(kGood), {"x.1=batch"}, U,
       "--dynamic 'x.1=batch': x.1 = 64 does not fit batch: batch = 8 (from x.0 = 8) gives 8; dimensions that "
       "share a symbol must have matching sample sizes"},
      {"derived dim not matching", doc(kGood), {"ys[1].0=2*n"}, U,
       "--dynamic 'ys[1].0=2*n': ys[1].0 = 11 does not fit 2*n: n = 5 (from ys[0].0 = 5) gives 10; dimensions that "
       "share a symbol must have matching sample sizes"},
      {"derived dim not whole", doc(kGood), {"x.0=3*m"}, U, "--dynamic 'x.0=3*m': x.0 = 8 cannot be 3*m for a whole m >= 0"},
      {"derived dim below zero", doc(kGood), {"x.0=m+9"}, U, "--dynamic 'x.0=m+9': x.0 = 8 cannot be m+9 for a whole m >= 0"},
      {"derived dim negative in range", doc(kGood), {"x.0=batch-1", "batch=:"}, U,
       "--dynamic 'x.0=batch-1': x.0 = batch-1 is negative for batch = 0; give batch a min of at least 1 (--dynamic "
       "batch=1:)"},
      // ---- the JSON's dims (exit 2)
      {"unused symbol in the JSON", doc(kGood, R"(, "dims": {"bach": {"min": 2}})"), {}, U,
       "{F}: dims.bach: symbol 'bach' is not used by any input; did you mean 'batch'? symbols in use are: batch, n"},
      {"min > max in the JSON", doc(kGood, R"(, "dims": {"batch": {"min": 5, "max": 2}})"), {}, U,
       "{F}: dims.batch: min 5 is greater than max 2"},
      {"negative min", doc(kGood, R"(, "dims": {"batch": {"min": -1}})"), {}, U,
       "{F}: dims.batch.min: expected a non-negative integer or null, got -1"},
      {"bad symbol name", doc(kGood, R"(, "dims": {"2b": {}})"), {}, U,
       "{F}: dims[\"2b\"]: '2b' is not a valid symbol name (letters, digits and _, not starting with a digit; not "
       "auto, dynamic or static)"},
      {"bad mark syntax", doc(R"({"name": "x", "dtype": "float32", "shape": [8], "dims": ["2*"]}, )" + kK + ", " + kYs), {}, U,
       "{F}: args[0].dims[0]: '2*': expected a symbol after '*'"},
      // ---- names against the schema (exit 2)
      {"arg name mismatch", doc(R"({"name": "xx", "dtype": "float32", "shape": [8]}, )" + kK + ", " + kYs), {}, U,
       "{F}: args[0].name: 'xx' does not match forward's argument 0, 'x'; did you mean 'x'? forward's arguments "
       "are: x, k, ys"},
      {"arg given in the wrong place", doc(R"({"name": "k", "dtype": "float32", "shape": [8]})"), {}, U,
       "{F}: args[0].name: 'k' does not match forward's argument 0, 'x' (args bind by position; pass 'k' in kwargs "
       "to give it by name); forward's arguments are: x, k, ys"},
      {"too many args", doc(kGood + R"(, {"value": 1})"), {}, U,
       "{F}: args: forward takes 3 positional arguments (x, k, ys), got 4"},
      {"unknown kwarg", doc(kX + ", " + kYs.substr(0, 0) + kK, R"(, "kwargs": {"kk": {"value": 1}})"), {}, U,
       "{F}: kwargs.kk: forward has no argument 'kk'; did you mean 'k'? forward's arguments are: x, k, ys"},
      {"kwarg given twice", doc(kGood, R"(, "kwargs": {"x": {"dtype": "float32", "shape": [1]}})"), {}, U,
       "{F}: kwargs.x: argument 'x' is already given by position (args[0])"},
      {"missing argument", doc(kX), {}, U, "{F}: missing argument 'ys' of forward(x, k=3, ys); give it in args or kwargs"},
      // ---- the file (exit 3)
      {"no file", "", {}, I, "{F}: cannot read: No such file or directory"},
      {"malformed JSON", "{\"schema\": ", {}, I,
       "{F}: malformed JSON: parse error at line 1, column 12: syntax error while parsing value - unexpected end of "
       "input; expected '[', '{', or a literal"},
      {"not an object", "[]", {}, I, "{F}: expected a JSON object at the top level, got a list"},
      {"no schema", "{}", {}, I, "{F}: missing field 'schema' (\"ptexport.inputs/v1\")"},
      {"wrong schema", R"({"schema": "ptexport.inputs/v2"})", {}, I,
       "{F}: schema: expected \"ptexport.inputs/v1\", got \"ptexport.inputs/v2\""},
      {"unknown top-level field", schema_v1 + R"(, "arg": []})", {}, I,
       "{F}: arg: unknown field 'arg'; did you mean 'args'? fields are: schema, method, args, kwargs, dims, samples"},
      {"method not a string", schema_v1 + R"(, "method": 1})", {}, I,
       "{F}: method: expected a string (a method name such as \"forward\"), got an integer"},
      {"args not a list", schema_v1 + R"(, "args": {}})", {}, I, "{F}: args: expected a list of arguments, got an object"},
      // ---- tensors (exit 3)
      {"dims length", doc(R"({"name": "x", "dtype": "float32", "shape": [8, 64], "dims": [null, null, null]})"), {}, I,
       "{F}: args[0].dims: expected 2 entries (one per dimension of shape [8, 64]), got 3"},
      {"dims entry type", doc(R"({"name": "x", "dtype": "float32", "shape": [8], "dims": [8]})"), {}, I,
       "{F}: args[0].dims[0]: expected null or a string (a symbol, A*SYM+B, auto, dynamic or static), got 8"},
      {"missing dtype", doc(R"({"name": "x", "shape": [8]})"), {}, I,
       "{F}: args[0]: missing field 'dtype' (one of float32, float64, float16, bfloat16, int64, int32, int16, int8, "
       "uint8, bool)"},
      {"missing shape", doc(R"({"name": "x", "dtype": "float32"})"), {}, I,
       "{F}: args[0]: missing field 'shape' (a list of sizes, [] for a scalar)"},
      {"unknown dtype", doc(R"({"name": "x", "dtype": "float", "shape": [8]})"), {}, I,
       "{F}: args[0].dtype: unknown dtype 'float'; did you mean 'float32'? dtypes are: float32, float64, float16, "
       "bfloat16, int64, int32, int16, int8, uint8, bool"},
      {"unsupported dtype", doc(R"({"name": "x", "dtype": "complex64", "shape": [8]})"), {}, I,
       "{F}: args[0].dtype: unsupported dtype 'complex64'; dtypes are: float32, float64, float16, bfloat16, int64, "
       "int32, int16, int8, uint8, bool"},
      {"unknown tensor field", doc(R"({"name": "x", "dtype": "float32", "shape": [8], "dim": []})"), {}, I,
       "{F}: args[0].dim: unknown field 'dim'; did you mean 'dims'? fields are: name, dtype, shape, dims, data"},
      {"negative size", doc(R"({"name": "x", "dtype": "float32", "shape": [8, -64]})"), {}, I,
       "{F}: args[0].shape[1]: expected a non-negative integer, got -64"},
      {"huge shape", doc(R"({"name": "x", "dtype": "float32", "shape": [100000, 100000]})"), {}, I,
       "{F}: args[0].shape: [100000, 100000]... has more than 2^32 elements; sample inputs this large are refused"},
      // ---- values against the schema's types (exit 3)
      {"int expected", doc(kX + R"(, {"name": "k", "value": "a"}, )" + kYs), {}, I,
       "{F}: args[1].value: expected an integer, got a string (argument 'k' is int)"},
      {"bool is not an int", doc(kX + R"(, {"name": "k", "value": true}, )" + kYs), {}, I,
       "{F}: args[1].value: expected an integer, got a bool (argument 'k' is int)"},
      {"tensor where a list is expected", doc(kX + ", " + kK + R"(, {"name": "ys", "dtype": "float32", "shape": [1]})"),
       {}, I, "{F}: args[2]: expected a value ({\"value\": ...}), got a tensor (argument 'ys' is List[Tensor])"},
      {"number where a tensor is expected", doc(R"({"name": "x", "value": 3})"), {}, I,
       "{F}: args[0].value: expected a tensor (an object with dtype and shape), got an integer (argument 'x' is "
       "Tensor)"},
      {"neither tensor nor value", doc(R"({"name": "x"})"), {}, I,
       "{F}: args[0]: expected a tensor (fields dtype, shape, dims, data) or a value (field value)"},
      {"list element type", doc(kX + ", " + kK + R"(, {"name": "ys", "value": [{"dtype": "float32", "shape": [1]}, 2]})"),
       {}, I, "{F}: args[2].value[1]: expected a tensor (an object with dtype and shape), got an integer (argument 'ys' "
              "is List[Tensor])"},
      // ---- data (exit 3)
      {"two data kinds", doc(R"({"name": "x", "dtype": "float32", "shape": [2], "data": {"fill": 1, "value": [1, 2]}})"),
       {}, I, "{F}: args[0].data: give only one of random, fill, value, npy (got fill, value)"},
      {"unknown data kind", doc(R"({"name": "x", "dtype": "float32", "shape": [2], "data": {"rand": {}}})"), {}, I,
       "{F}: args[0].data.rand: unknown field 'rand'; did you mean 'random'? fields are: random, fill, value, npy, key"},
      {"fill not an integer", doc(R"({"name": "x", "dtype": "int64", "shape": [2], "data": {"fill": 1.5}})"), {}, I,
       "{F}: args[0].data.fill: expected an integer for an int64 tensor, got 1.5"},
      {"fill out of range", doc(R"({"name": "x", "dtype": "uint8", "shape": [2], "data": {"fill": 256}})"), {}, I,
       "{F}: args[0].data.fill: 256 is out of range for uint8 [0, 255]"},
      {"value shape", doc(R"({"name": "x", "dtype": "float32", "shape": [2, 3], "data": {"value": [[1, 2, 3], [4, 5]]}})"),
       {}, I, "{F}: args[0].data.value[1]: expected a list of 3 entries (dimension 1 of shape [2, 3]), got 2 entries"},
      {"value element", doc(R"({"name": "x", "dtype": "bool", "shape": [2], "data": {"value": [true, 2]}})"), {}, I,
       "{F}: args[0].data.value[1]: expected true, false, 0 or 1 for a bool tensor, got 2"},
      {"normal for ints", doc(R"({"name": "x", "dtype": "int64", "shape": [2], "data": {"random": {"dist": "normal"}}})"),
       {}, I, "{F}: args[0].data.random.dist: 'normal' needs a floating dtype; use \"int\" (with low/high) for an int64 "
              "tensor"},
      {"unknown dist", doc(R"({"name": "x", "dtype": "float32", "shape": [2], "data": {"random": {"dist": "gauss"}}})"),
       {}, I, "{F}: args[0].data.random.dist: unknown distribution 'gauss'; distributions are: normal, uniform, int"},
      {"low >= high", doc(R"({"name": "x", "dtype": "int64", "shape": [2], "data": {"random": {"low": 3, "high": 3}}})"),
       {}, I, "{F}: args[0].data.random: expected low < high (high is exclusive), got low 3, high 3"},
      {"int range beyond the dtype", doc(R"({"name": "x", "dtype": "uint8", "shape": [2], "data": {"random": {"low": -1, "high": 3}}})"),
       {}, I, "{F}: args[0].data.random: [-1, 3) does not fit in uint8 [0, 255]"},
      {"low for normal", doc(R"({"name": "x", "dtype": "float32", "shape": [2], "data": {"random": {"low": 0}}})"),
       {}, I, "{F}: args[0].data.random.low: 'low' does not apply to dist 'normal'"},
      {"negative seed", doc(R"({"name": "x", "dtype": "float32", "shape": [2], "data": {"random": {"seed": -1}}})"),
       {}, I, "{F}: args[0].data.random.seed: expected a non-negative integer, got -1"},
      {"npy dtype", doc(R"({"name": "x", "dtype": "float64", "shape": [2, 3], "data": {"npy": "data/float32.npy"}})"),
       {}, I, "{F}: args[0].data.npy: {D}/data/float32.npy holds float32 [2, 3], but the input is float64 [2, 3]"},
      {"npy shape", doc(R"({"name": "x", "dtype": "float32", "shape": [3, 2], "data": {"npy": "data/float32.npy"}})"),
       {}, I, "{F}: args[0].data.npy: {D}/data/float32.npy holds float32 [2, 3], but the input is float32 [3, 2]"},
      {"npy missing", doc(R"({"name": "x", "dtype": "float32", "shape": [2], "data": {"npy": "data/nope.npy"}})"),
       {}, I, "{F}: args[0].data.npy: {D}/data/nope.npy: cannot open: No such file or directory"},
      {"npy refused", doc(R"({"name": "x", "dtype": "float32", "shape": [3], "data": {"npy": "data/object.npy"}})"),
       {}, I, "{F}: args[0].data.npy: {D}/data/object.npy: object arrays ('|O') hold pickled Python objects, which "
              "ptexport refuses to load; save a numeric array instead"},
      {"npz key missing", doc(R"({"name": "x", "dtype": "float32", "shape": [2], "data": {"npy": "data/arrays.npz", "key": "c"}})"),
       {}, I, "{F}: args[0].data.npy: {D}/data/arrays.npz: no array 'c'; arrays are: a, b"},
      {"npz needs a key", doc(R"({"name": "x", "dtype": "float32", "shape": [2], "data": {"npy": "data/arrays.npz"}})"),
       {}, I, "{F}: args[0].data: {D}/data/arrays.npz holds 2 arrays; name one with \"key\" (keys: a, b)"},
      {"key on a npy", doc(R"({"name": "x", "dtype": "float32", "shape": [2, 3], "data": {"npy": "data/float32.npy", "key": "a"}})"),
       {}, I, "{F}: args[0].data.key: 'key' names an array inside a .npz archive; {D}/data/float32.npy is not a .npz file"},
      // ---- samples
      {"samples and args", schema_v1 + R"(, "args": [], "samples": [{}]})", {}, I,
       "{F}: args: give either samples or top-level args/kwargs, not both (each sample has its own args and kwargs)"},
      {"empty samples", schema_v1 + R"(, "samples": []})", {}, I,
       "{F}: samples: expected a non-empty list of {\"args\": [...], \"kwargs\": {...}}, got an empty list"},
      {"samples differ in an int", schema_v1 + R"(, "samples": [{"args": [)" + kGood + R"(]}, {"args": [)" + kX +
                                       R"(, {"value": 5}, )" + kYs + "]}]}",
       {}, I, "{F}: samples[1]: k is 5 here and 4 in the first sample; non-tensor inputs are specialized (constants "
              "of the exported program), so they must be equal in every sample"},
      {"samples differ in structure", schema_v1 + R"(, "samples": [{"args": [)" + kGood + R"(]}, {"args": [)" + kX +
                                          ", " + kK + R"(, {"value": [{"dtype": "int64", "shape": [5]}]}]}]})",
       {}, I, "{F}: samples[1]: its tensors (x, ys[0]) differ from samples[0]'s (x, ys[0], ys[1]); every sample needs "
              "the same structure"},
      {"samples differ in dtype", schema_v1 + R"(, "samples": [{"args": [)" + kGood +
                                      R"(]}, {"args": [{"dtype": "float64", "shape": [8, 64]}, )" + kK + ", " + kYs + "]}]}",
       {}, I, "{F}: samples[1].args[0]: x is float64 [8, 64] here but float32 [8, 64] in samples[0]; samples may "
              "differ in sizes only"},
      {"static but varying", schema_v1 + R"(, "samples": [{"args": [{"dtype": "float32", "shape": [8], "dims": ["static"]}, )" +
                                 kK + ", " + kYs + R"(]}, {"args": [{"dtype": "float32", "shape": [16]}, )" + kK + ", " +
                                 kYs + "]}]}",
       {}, U, "{F}: samples[0].args[0].dims[0]: x.0 is marked static, but its size differs between samples (8, 16)"},
      {"marked differently", schema_v1 + R"(, "samples": [{"args": [{"dtype": "float32", "shape": [8], "dims": ["a"]}, )" +
                                 kK + ", " + kYs + R"(]}, {"args": [{"dtype": "float32", "shape": [8], "dims": ["b"]}, )" +
                                 kK + ", " + kYs + "]}]}",
       {}, U, "{F}: samples[1].args[0].dims[0]: x.0 is marked 'b' here and 'a' in {F}: samples[0].args[0].dims[0]; "
              "samples must mark a dimension alike"},
  }));
  INFO(c.what);
  TempDir t;
  std::filesystem::create_directory_symlink(kData, t.dir / "data");
  const auto file = c.json.empty() ? t.dir / "inputs.json" : t.write("inputs.json", c.json);
  const std::string want = replace_all(replace_all(c.message, "{F}", file.string()), "{D}", t.dir.string());
  try {
    (void)load_inputs(file, c.flags, script_schema(kParams));
    FAIL("no error; expected: " << want);
  } catch (const UserError& e) {
    REQUIRE(std::string(e.what()) == want);
    REQUIRE(static_cast<int>(e.code()) == static_cast<int>(c.code));
  }
}
