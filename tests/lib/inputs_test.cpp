// tests/lib/inputs_test.cpp: inputs.json loading (lib/inputs.h): every data kind, binding to a real
// TorchScript function schema, `--dynamic` flags, `samples`, and every error with its exact text
// and exit code.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/frontend/function_schema_parser.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "lib/inputs.h"
#include "lib/npy.h"
#include "shapes/error.h"

// Torch (c10/util/logging) defines a glog-style CHECK that aborts; Catch2's CHECK must win.
#undef CHECK
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/matchers/catch_matchers_exception.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

using namespace ptx;
using Catch::Matchers::Message;

namespace {

const std::filesystem::path kData = std::filesystem::path(PTX_SOURCE_DIR) / "tests/lib/data";
/// forward's schema of a real TorchScript module compiled from `def forward(self, <params>)`
/// (torch::jit::parseSchema does not resolve a class type such as __torch__.M for self).
c10::FunctionSchema script_schema(const std::string& params) {
  torch::jit::Module m("__torch__.M");
  m.define("def forward(self, " + params + "):\n    return 0\n");
  return m.get_method("forward").function().getSchema();
}

const char* kParams = "x: Tensor, k: int = 3, ys: List[Tensor]";

/// A scratch folder with an inputs.json (and whatever else a test writes), removed at scope exit.
struct TempDir {
  TempDir() {
    static int n = 0;
    dir = std::filesystem::temp_directory_path() /
          ("ptx_inputs_test_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    std::filesystem::create_directories(dir);
  }
  ~TempDir() { std::filesystem::remove_all(dir); }
  std::filesystem::path write(const std::string& name, const std::string& text) const {
    std::ofstream(dir / name, std::ios::binary) << text;
    return dir / name;
  }
  std::filesystem::path dir;
};

Inputs load(const std::string& json, const std::vector<std::string>& flags = {}, const char* params = kParams) {
  TempDir t;
  return load_inputs(t.write("inputs.json", json), flags, script_schema(params));
}

/// Loads with the npy data folder next to the JSON (copies nothing: the JSON names ../data files).
Inputs load_near_data(const std::string& json, const char* params) {
  TempDir t;
  const auto file = t.write("inputs.json", json);
  // npy paths in these JSONs are absolute-free and relative to the file: link the data folder.
  std::filesystem::create_directory_symlink(kData, t.dir / "data");
  return load_inputs(file, {}, script_schema(params));
}

std::string describe(const DimMark& m) {
  switch (m.kind) {
    case DimMark::Kind::kStatic: return "static";
    case DimMark::Kind::kAuto: return "auto";
    case DimMark::Kind::kDynamic: return m.from_samples ? "dynamic(samples)" : "dynamic";
    case DimMark::Kind::kSymbol: break;
  }
  return std::to_string(m.a) + "*" + m.symbol + "+" + std::to_string(m.b);
}

std::vector<std::string> describe(const std::vector<DimMark>& dims) {
  std::vector<std::string> out;
  for (const auto& d : dims) out.push_back(describe(d));
  return out;
}

std::string sources(const SampleSet& s) {
  std::string out;
  for (ArgSource a : s.sources) {
    out += a == ArgSource::kPositional ? "P" : a == ArgSource::kKeyword ? "K" : "D";
  }
  return out;
}

/// make_data.py's formula (see tests/lib/npy_test.cpp).
at::Tensor npy_expected(at::ScalarType t, std::vector<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  const at::Tensor i = at::arange(n, at::kLong);
  at::Tensor v = at::isFloatingType(t) ? (i - 3).to(at::kDouble) * 0.5 : i - 3;
  return v.to(t).reshape(shape);
}

const char* kBasic = R"({
  "schema": "ptexport.inputs/v1",
  "args": [
    {"name": "x", "dtype": "float32", "shape": [8, 64], "dims": ["batch", null], "data": {"fill": 1.5}},
    {"name": "k", "value": 4},
    {"name": "ys", "value": [{"dtype": "int64", "shape": [5], "dims": ["n"], "data": {"value": [1, 2, 3, 4, 5]}},
                            {"dtype": "float32", "shape": [11, 2], "dims": ["2*n+1", "static"]}]}
  ],
  "dims": {"batch": {"min": 1, "max": 1024}}
})";

}  // namespace

TEST_CASE("inputs: a basic file binds to forward's schema", "[lib][inputs]") {
  const Inputs in = load(kBasic);
  CHECK(in.method == "forward");
  REQUIRE(in.sets.size() == 1);
  const SampleSet& s = in.sets[0];
  CHECK(s.names == std::vector<std::string>({"x", "k", "ys"}));
  CHECK(sources(s) == "PPP");
  REQUIRE(s.args.size() == 3);
  REQUIRE(s.args[0].isTensor());
  CHECK(at::equal(s.args[0].toTensor(), at::full({8, 64}, 1.5, at::kFloat)));
  CHECK(s.args[1].isInt());
  CHECK(s.args[1].toInt() == 4);
  REQUIRE(s.args[2].isTensorList());
  const auto ys = s.args[2].toTensorVector();
  REQUIRE(ys.size() == 2);
  CHECK(at::equal(ys[0], at::tensor({1, 2, 3, 4, 5}, at::kLong)));
  CHECK(ys[1].scalar_type() == at::kFloat);
  CHECK(ys[1].sizes() == at::IntArrayRef({11, 2}));

  REQUIRE(s.tensors.size() == 3);
  CHECK(s.tensors[0].path == "x");
  CHECK(s.tensors[0].shape == std::vector<int64_t>({8, 64}));
  CHECK(describe(s.tensors[0].dims) == std::vector<std::string>({"1*batch+0", "static"}));
  CHECK(s.tensors[1].path == "ys[0]");
  CHECK(describe(s.tensors[1].dims) == std::vector<std::string>({"1*n+0"}));
  CHECK(s.tensors[2].path == "ys[1]");
  CHECK(describe(s.tensors[2].dims) == std::vector<std::string>({"2*n+1", "static"}));

  // Every used symbol is listed; only batch has a range.
  REQUIRE(in.symbols.size() == 2);
  CHECK(in.symbols.at("batch").min == 1);
  CHECK(in.symbols.at("batch").max == 1024);
  CHECK_FALSE(in.symbols.at("n").min);
  CHECK_FALSE(in.symbols.at("n").max);
}

TEST_CASE("inputs: defaults, kwargs and the binding order", "[lib][inputs]") {
  SECTION("a missing argument with a default takes it") {
    const Inputs in = load(R"({"schema": "ptexport.inputs/v1",
      "args": [{"name": "x", "dtype": "float32", "shape": [2]}],
      "kwargs": {"ys": {"value": []}}})");
    const SampleSet& s = in.sets[0];
    CHECK(sources(s) == "PDK");
    CHECK(s.args[1].toInt() == 3);
    CHECK(s.args[2].toTensorVector().empty());
    CHECK(in.symbols.empty());
  }
  SECTION("kwargs are placed by name, tensors listed in schema order") {
    const Inputs in = load(R"({"schema": "ptexport.inputs/v1",
      "kwargs": {"ys": {"value": [{"dtype": "float32", "shape": [1]}]}, "k": {"value": 9},
                 "x": {"name": "x", "dtype": "float64", "shape": [3, 1]}}})");
    const SampleSet& s = in.sets[0];
    CHECK(sources(s) == "KKK");
    CHECK(s.args[0].toTensor().scalar_type() == at::kDouble);
    CHECK(s.args[1].toInt() == 9);
    REQUIRE(s.tensors.size() == 2);
    CHECK(s.tensors[0].path == "x");
    CHECK(s.tensors[1].path == "ys[0]");
  }
  SECTION("names are optional in args") {
    const Inputs in = load(R"({"schema": "ptexport.inputs/v1",
      "args": [{"dtype": "float32", "shape": []}, {"value": 1}, {"value": []}], "method": "forward"})");
    CHECK(in.sets[0].args[0].toTensor().dim() == 0);
  }
}

TEST_CASE("inputs: every argument type of a TorchScript schema", "[lib][inputs]") {
  const char* schema =
      "x: Tensor, sizes: List[int], f: float, b: bool, s: str, t: Tuple[Tensor, int], d: Dict[str, Tensor], "
      "o: Optional[Tensor], o2: Optional[Tensor], n: float, fs: List[float], maybe: List[Optional[Tensor]], "
      "g: int = -1";
  const Inputs in = load(R"({"schema": "ptexport.inputs/v1", "args": [
      {"name": "x", "dtype": "float32", "shape": [2, 3]},
      {"name": "sizes", "value": [1, 2, 3]},
      {"name": "f", "value": 2},
      {"name": "b", "value": true},
      {"name": "s", "value": "mean"},
      {"name": "t", "value": [{"dtype": "float32", "shape": [4], "dims": ["m"]}, 7]},
      {"name": "d", "value": {"zeta": {"dtype": "int32", "shape": [2]}, "alpha": {"dtype": "bool", "shape": [1]}}},
      {"name": "o", "value": null},
      {"name": "o2", "dtype": "float16", "shape": [1]},
      {"name": "n", "value": 0.5},
      {"name": "fs", "value": [1, 2.5]},
      {"name": "maybe", "value": [null, {"dtype": "uint8", "shape": [3]}]}
    ]})",
                         {}, schema);
  const SampleSet& s = in.sets[0];
  REQUIRE(s.args.size() == 13);
  CHECK(s.args[0].isTensor());
  CHECK(s.args[1].toIntVector() == std::vector<int64_t>({1, 2, 3}));
  CHECK(s.args[2].isDouble());
  CHECK(s.args[2].toDouble() == 2.0);
  CHECK(s.args[3].toBool());
  CHECK(s.args[4].toStringRef() == "mean");
  REQUIRE(s.args[5].isTuple());
  CHECK(s.args[5].toTupleRef().elements()[1].toInt() == 7);
  REQUIRE(s.args[6].isGenericDict());
  const auto d = s.args[6].toGenericDict();
  std::vector<std::string> keys;
  for (const auto& e : d) keys.push_back(e.key().toStringRef());
  CHECK(keys == std::vector<std::string>({"zeta", "alpha"}));  // file order, like a Python dict
  CHECK(d.at("zeta").toTensor().scalar_type() == at::kInt);
  CHECK(s.args[7].isNone());
  CHECK(s.args[8].toTensor().scalar_type() == at::kHalf);
  CHECK(s.args[9].isDouble());
  CHECK(s.args[10].toDoubleVector() == std::vector<double>({1.0, 2.5}));
  REQUIRE(s.args[11].isList());
  CHECK(s.args[11].toListRef()[0].isNone());
  CHECK(s.args[11].toListRef()[1].toTensor().scalar_type() == at::kByte);
  CHECK(s.args[12].toInt() == -1);
  std::vector<std::string> paths;
  for (const auto& t : s.tensors) paths.push_back(t.path);
  CHECK(paths == std::vector<std::string>({"x", "t[0]", "d['zeta']", "d['alpha']", "o2", "maybe[1]"}));
  CHECK(in.symbols.count("m") == 1);
}

TEST_CASE("inputs: a parsed operator-style schema (Scalar, no class type for self)", "[lib][inputs]") {
  TempDir t;
  const auto file = t.write("inputs.json", R"({"schema": "ptexport.inputs/v1", "args": [
      {"name": "n", "value": 2}, {"name": "m", "value": 0.25}, {"name": "x", "dtype": "float32", "shape": [2]}]})");
  const Inputs in =
      load_inputs(file, {}, torch::jit::parseSchema("forward(Tensor self, Scalar n, Scalar m, Tensor x) -> Tensor"));
  const SampleSet& s = in.sets[0];
  REQUIRE(s.args.size() == 3);
  CHECK(s.args[0].isInt());
  CHECK(s.args[0].toInt() == 2);
  CHECK(s.args[1].isDouble());
  CHECK(s.names == std::vector<std::string>({"n", "m", "x"}));
}

TEST_CASE("inputs: fill and value data", "[lib][inputs]") {
  const char* schema = "a: Tensor, b: Tensor, c: Tensor, d: Tensor, e: Tensor, f: Tensor";
  const Inputs in = load(R"({"schema": "ptexport.inputs/v1", "args": [
      {"name": "a", "dtype": "int64", "shape": [2, 2], "data": {"fill": -7}},
      {"name": "b", "dtype": "bool", "shape": [3], "data": {"fill": true}},
      {"name": "c", "dtype": "float64", "shape": [2, 3], "data": {"value": [[1, 2.5, 3], [4, 5, -6]]}},
      {"name": "d", "dtype": "bool", "shape": [2], "data": {"value": [true, 0]}},
      {"name": "e", "dtype": "uint8", "shape": [], "data": {"value": 255}},
      {"name": "f", "dtype": "bfloat16", "shape": [0, 2], "data": {"value": []}}
    ]})",
                         {}, schema);
  const auto& a = in.sets[0].args;
  CHECK(at::equal(a[0].toTensor(), at::full({2, 2}, -7, at::kLong)));
  CHECK(at::equal(a[1].toTensor(), at::ones({3}, at::kBool)));
  CHECK(at::equal(a[2].toTensor(),
                  at::tensor({1.0, 2.5, 3.0, 4.0, 5.0, -6.0}, at::kDouble).reshape({2, 3})));
  CHECK(at::equal(a[3].toTensor(), at::tensor({1, 0}, at::kLong).to(at::kBool)));
  CHECK(a[4].toTensor().dim() == 0);
  CHECK(a[4].toTensor().scalar_type() == at::kByte);
  CHECK(a[4].toTensor().item<int64_t>() == 255);
  CHECK(a[5].toTensor().sizes() == at::IntArrayRef({0, 2}));
  CHECK(a[5].toTensor().scalar_type() == at::kBFloat16);
}

TEST_CASE("inputs: npy and npz data, relative to the JSON file", "[lib][inputs]") {
  const char* schema = "y: Tensor, a: Tensor, b: Tensor, only: Tensor, bf: Tensor";
  const Inputs in = load_near_data(R"({"schema": "ptexport.inputs/v1", "args": [
      {"name": "y", "dtype": "float32", "shape": [17, 32], "dims": ["2*batch+1", null], "data": {"npy": "data/y.npy"}},
      {"name": "a", "dtype": "float32", "shape": [2, 3], "data": {"npy": "data/compressed.npz", "key": "a"}},
      {"name": "b", "dtype": "int64", "shape": [4], "data": {"npy": "data/arrays.npz", "key": "b"}},
      {"name": "only", "dtype": "float32", "shape": [17, 32], "data": {"npy": "data/single.npz"}},
      {"name": "bf", "dtype": "bfloat16", "shape": [2, 3], "data": {"npy": "data/float32.npy"}}
    ]})",
                                   schema);
  const auto& a = in.sets[0].args;
  CHECK(at::equal(a[0].toTensor(), npy_expected(at::kFloat, {17, 32})));
  CHECK(at::equal(a[1].toTensor(), npy_expected(at::kFloat, {2, 3})));
  CHECK(at::equal(a[2].toTensor(), npy_expected(at::kLong, {4})));
  CHECK(at::equal(a[3].toTensor(), npy_expected(at::kFloat, {17, 32})));
  CHECK(at::equal(a[4].toTensor(), npy_expected(at::kFloat, {2, 3}).to(at::kBFloat16)));
}

TEST_CASE("inputs: random data is seeded, repeatable and independent of torch's global seed", "[lib][inputs]") {
  const char* schema = "a: Tensor, b: Tensor, c: Tensor, d: Tensor, e: Tensor, f: Tensor";
  const std::string json = R"({"schema": "ptexport.inputs/v1", "args": [
      {"name": "a", "dtype": "float32", "shape": [64, 64], "data": {"random": {"dist": "normal", "seed": 7}}},
      {"name": "b", "dtype": "float32", "shape": [64, 64]},
      {"name": "c", "dtype": "float64", "shape": [1000], "data": {"random": {"dist": "uniform", "low": -2, "high": 3}}},
      {"name": "d", "dtype": "int32", "shape": [1000], "data": {"random": {"dist": "int", "low": -5, "high": 5}}},
      {"name": "e", "dtype": "int64", "shape": [1000]},
      {"name": "f", "dtype": "float16", "shape": [64, 64], "data": {"random": {"seed": 7, "mean": 10, "std": 0.5}}}
    ]})";
  at::manual_seed(1);
  const Inputs one = load(json, {}, schema);
  at::manual_seed(2);
  (void)at::randn({10});
  const Inputs two = load(json, {}, schema);
  for (size_t i = 0; i < 6; ++i) {
    INFO("argument " << i);
    CHECK(at::equal(one.sets[0].args[i].toTensor(), two.sets[0].args[i].toTensor()));
  }
  const auto& t = one.sets[0].args;
  // seed 7, normal: the draws of a CPUGeneratorImpl seeded with 7.
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(7);
  CHECK(at::equal(t[0].toTensor(), at::empty({64, 64}, at::kFloat).normal_(0, 1, gen)));
  // b has no data: normal with the default seed (its position, 1), so it differs from a.
  CHECK_FALSE(at::equal(t[0].toTensor(), t[1].toTensor()));
  CHECK(t[1].toTensor().mean().abs().item<double>() < 0.1);
  CHECK(std::abs(t[1].toTensor().std().item<double>() - 1.0) < 0.1);
  // uniform in [-2, 3)
  CHECK(t[2].toTensor().min().item<double>() >= -2.0);
  CHECK(t[2].toTensor().max().item<double>() < 3.0);
  CHECK(t[2].toTensor().max().item<double>() > 2.5);
  // int in [-5, 5), and the default int range [0, 10)
  CHECK(t[3].toTensor().scalar_type() == at::kInt);
  CHECK(t[3].toTensor().min().item<int64_t>() == -5);
  CHECK(t[3].toTensor().max().item<int64_t>() == 4);
  CHECK(t[4].toTensor().min().item<int64_t>() == 0);
  CHECK(t[4].toTensor().max().item<int64_t>() == 9);
  // float16: the float32 draw of the same seed, rounded; mean and std applied.
  at::Generator gen2 = at::make_generator<at::CPUGeneratorImpl>(7);
  CHECK(at::equal(t[5].toTensor(), at::empty({64, 64}, at::kFloat).normal_(10, 0.5, gen2).to(at::kHalf)));
}

TEST_CASE("inputs: random data equals python torch's draws from torch.Generator().manual_seed(seed)",
          "[lib][inputs]") {
  // tests/lib/data/torch_*.npy were written by make_data.py with python torch.
  const Inputs in = load(R"({"schema": "ptexport.inputs/v1", "args": [
      {"name": "a", "dtype": "float32", "shape": [64, 64], "data": {"random": {"seed": 7}}},
      {"name": "b", "dtype": "float64", "shape": [1000], "data": {"random": {"dist": "uniform", "low": -2, "high": 3, "seed": 3}}},
      {"name": "c", "dtype": "int64", "shape": [1000], "data": {"random": {"low": -5, "high": 5, "seed": 5}}}
    ]})",
                         {}, "a: Tensor, b: Tensor, c: Tensor");
  const auto& t = in.sets[0].args;
  CHECK(at::equal(t[0].toTensor(), read_npy(kData / "torch_normal_seed7.npy")));
  CHECK(at::equal(t[1].toTensor(), read_npy(kData / "torch_uniform_seed3.npy")));
  CHECK(at::equal(t[2].toTensor(), read_npy(kData / "torch_randint_seed5.npy")));
}

TEST_CASE("inputs: --dynamic flags mark dimensions and set ranges", "[lib][inputs]") {
  SECTION("flags add to and override the JSON's dims") {
    const Inputs in = load(kBasic, {"x.1=seq", "x.0=dynamic", "ys[1].-1=auto", "seq=1:512",
                                    "ys[0].0=n"});
    const SampleSet& s = in.sets[0];
    CHECK(describe(s.tensors[0].dims) == std::vector<std::string>({"dynamic", "1*seq+0"}));
    CHECK(describe(s.tensors[2].dims) == std::vector<std::string>({"2*n+1", "auto"}));
    // batch is no longer used by any input (x.0 became dynamic): its JSON range is dropped.
    CHECK(in.symbols.count("batch") == 0);
    CHECK(in.symbols.at("seq").min == 1);
    CHECK(in.symbols.at("seq").max == 512);
  }
  SECTION("a range flag replaces the JSON's range, the last flag wins") {
    const Inputs in = load(kBasic, {"batch=4:", "batch=:64"});
    CHECK_FALSE(in.symbols.at("batch").min);
    CHECK(in.symbols.at("batch").max == 64);
  }
  SECTION("the mission's line: ptexport model.pt inputs.json --dynamic batch=0:1024") {
    const Inputs in = load(kBasic, {"batch=0:1024"});
    CHECK(in.symbols.at("batch").min == 0);
    CHECK(in.symbols.at("batch").max == 1024);
  }
  SECTION("nested targets use the TensorLeaf path, with either quote") {
    const char* schema = "d: Dict[str, Tensor]";
    const Inputs in = load(R"({"schema": "ptexport.inputs/v1", "args": [
        {"name": "d", "value": {"k": {"dtype": "float32", "shape": [3, 4]}}}]})",
                           {"d[\"k\"].0=rows", "d['k'].-1=3*rows-5", "rows=2:"}, schema);
    CHECK(describe(in.sets[0].tensors[0].dims) == std::vector<std::string>({"1*rows+0", "3*rows+-5"}));
  }
}

TEST_CASE("inputs: samples infer dynamic dimensions like torch's AdditionalInputs", "[lib][inputs]") {
  const Inputs in = load(R"({"schema": "ptexport.inputs/v1", "samples": [
      {"args": [{"name": "x", "dtype": "float32", "shape": [8, 64, 3], "dims": [null, null, "c"]}, {"value": 3},
                {"value": [{"dtype": "float32", "shape": [5]}]}]},
      {"args": [{"name": "x", "dtype": "float32", "shape": [16, 64, 4]}],
       "kwargs": {"ys": {"value": [{"dtype": "float32", "shape": [5], "dims": ["auto"]}]}}},
      {"args": [{"name": "x", "dtype": "float32", "shape": [8, 64, 5], "dims": ["auto", null, null]}],
       "kwargs": {"ys": {"value": [{"dtype": "float32", "shape": [5]}]}}}
    ]})");
  REQUIRE(in.sets.size() == 3);
  for (const SampleSet& s : in.sets) {
    // x.0 differs (8, 16, 8): dynamic, inferred (auto in one sample becomes dynamic); x.1 never
    // differs: static; x.2 is a symbol in one sample: it stays that symbol in all.
    CHECK(describe(s.tensors[0].dims) == std::vector<std::string>({"dynamic(samples)", "static", "1*c+0"}));
    // ys[0].0 never differs: auto as marked.
    CHECK(describe(s.tensors[1].dims) == std::vector<std::string>({"auto"}));
  }
  CHECK(in.sets[1].tensors[0].shape == std::vector<int64_t>({16, 64, 4}));
  CHECK(in.sets[1].args[1].toInt() == 3);  // the default equals sample 0's explicit 3
  CHECK(in.symbols.count("c") == 1);
}

TEST_CASE("inputs: read_inputs_method", "[lib][inputs]") {
  TempDir t;
  CHECK(read_inputs_method(t.write("a.json", R"({"schema": "ptexport.inputs/v1", "args": []})")) == "forward");
  CHECK(read_inputs_method(t.write("b.json", R"({"schema": "ptexport.inputs/v1", "method": "forward__1"})")) ==
        "forward__1");
  CHECK_THROWS_AS(read_inputs_method(t.write("c.json", "{")), UserError);
}

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
    CHECK(std::string(e.what()) == want);
    CHECK(static_cast<int>(e.code()) == static_cast<int>(c.code));
  }
}
