// tests/lib/inputs_test.cpp: inputs.json loading (lib/inputs.h): every data kind, binding to a real
// TorchScript function schema, `--dynamic` flags, `samples` (the errors: inputs_errors_test.cpp).
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/frontend/function_schema_parser.h>

#include <filesystem>

#include "lib/inputs.h"
#include "lib/npy.h"
#include "shapes/error.h"
#include "tests/lib/inputs_fixtures.h"

// Torch (c10/util/logging) defines a glog-style CHECK that aborts; Catch2's CHECK must win.
#undef CHECK
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_exception.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

using namespace ptx;
using Catch::Matchers::Message;

namespace {

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
  REQUIRE(in.method == "forward");
  REQUIRE(in.sets.size() == 1);
  const SampleSet& s = in.sets[0];
  REQUIRE(s.names == std::vector<std::string>({"x", "k", "ys"}));
  REQUIRE(sources(s) == "PPP");
  REQUIRE(s.args.size() == 3);
  REQUIRE(s.args[0].isTensor());
  REQUIRE(at::equal(s.args[0].toTensor(), at::full({8, 64}, 1.5, at::kFloat)));
  REQUIRE(s.args[1].isInt());
  REQUIRE(s.args[1].toInt() == 4);
  REQUIRE(s.args[2].isTensorList());
  const auto ys = s.args[2].toTensorVector();
  REQUIRE(ys.size() == 2);
  REQUIRE(at::equal(ys[0], at::tensor({1, 2, 3, 4, 5}, at::kLong)));
  REQUIRE(ys[1].scalar_type() == at::kFloat);
  REQUIRE(ys[1].sizes() == at::IntArrayRef({11, 2}));

  REQUIRE(s.tensors.size() == 3);
  REQUIRE(s.tensors[0].path == "x");
  REQUIRE(s.tensors[0].shape == std::vector<int64_t>({8, 64}));
  REQUIRE(describe(s.tensors[0].dims) == std::vector<std::string>({"1*batch+0", "static"}));
  REQUIRE(s.tensors[1].path == "ys[0]");
  REQUIRE(describe(s.tensors[1].dims) == std::vector<std::string>({"1*n+0"}));
  REQUIRE(s.tensors[2].path == "ys[1]");
  REQUIRE(describe(s.tensors[2].dims) == std::vector<std::string>({"2*n+1", "static"}));

  // Every used symbol is listed; only batch has a range.
  REQUIRE(in.symbols.size() == 2);
  REQUIRE(in.symbols.at("batch").min == 1);
  REQUIRE(in.symbols.at("batch").max == 1024);
  CHECK_FALSE(in.symbols.at("n").min);
  CHECK_FALSE(in.symbols.at("n").max);
}

TEST_CASE("inputs: defaults, kwargs and the binding order", "[lib][inputs]") {
  SECTION("a missing argument with a default takes it") {
    const Inputs in = load(R"({"schema": "ptexport.inputs/v1",
      "args": [{"name": "x", "dtype": "float32", "shape": [2]}],
      "kwargs": {"ys": {"value": []}}})");
    const SampleSet& s = in.sets[0];
    REQUIRE(sources(s) == "PDK");
    REQUIRE(s.args[1].toInt() == 3);
    REQUIRE(s.args[2].toTensorVector().empty());
    REQUIRE(in.symbols.empty());
  }
  SECTION("kwargs are placed by name, tensors listed in schema order") {
    const Inputs in = load(R"({"schema": "ptexport.inputs/v1",
      "kwargs": {"ys": {"value": [{"dtype": "float32", "shape": [1]}]}, "k": {"value": 9},
                 "x": {"name": "x", "dtype": "float64", "shape": [3, 1]}}})");
    const SampleSet& s = in.sets[0];
    REQUIRE(sources(s) == "KKK");
    REQUIRE(s.args[0].toTensor().scalar_type() == at::kDouble);
    REQUIRE(s.args[1].toInt() == 9);
    REQUIRE(s.tensors.size() == 2);
    REQUIRE(s.tensors[0].path == "x");
    REQUIRE(s.tensors[1].path == "ys[0]");
  }
  SECTION("names are optional in args") {
    const Inputs in = load(R"({"schema": "ptexport.inputs/v1",
      "args": [{"dtype": "float32", "shape": []}, {"value": 1}, {"value": []}], "method": "forward"})");
    REQUIRE(in.sets[0].args[0].toTensor().dim() == 0);
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
  REQUIRE(s.args[0].isTensor());
  REQUIRE(s.args[1].toIntVector() == std::vector<int64_t>({1, 2, 3}));
  REQUIRE(s.args[2].isDouble());
  REQUIRE(s.args[2].toDouble() == 2.0);
  REQUIRE(s.args[3].toBool());
  REQUIRE(s.args[4].toStringRef() == "mean");
  REQUIRE(s.args[5].isTuple());
  REQUIRE(s.args[5].toTupleRef().elements()[1].toInt() == 7);
  REQUIRE(s.args[6].isGenericDict());
  const auto d = s.args[6].toGenericDict();
  std::vector<std::string> keys;
  for (const auto& e : d) keys.push_back(e.key().toStringRef());
  REQUIRE(keys == std::vector<std::string>({"zeta", "alpha"}));  // file order, like a Python dict
  REQUIRE(d.at("zeta").toTensor().scalar_type() == at::kInt);
  REQUIRE(s.args[7].isNone());
  REQUIRE(s.args[8].toTensor().scalar_type() == at::kHalf);
  REQUIRE(s.args[9].isDouble());
  REQUIRE(s.args[10].toDoubleVector() == std::vector<double>({1.0, 2.5}));
  REQUIRE(s.args[11].isList());
  REQUIRE(s.args[11].toListRef()[0].isNone());
  REQUIRE(s.args[11].toListRef()[1].toTensor().scalar_type() == at::kByte);
  REQUIRE(s.args[12].toInt() == -1);
  std::vector<std::string> paths;
  for (const auto& t : s.tensors) paths.push_back(t.path);
  REQUIRE(paths == std::vector<std::string>({"x", "t[0]", "d['zeta']", "d['alpha']", "o2", "maybe[1]"}));
  REQUIRE(in.symbols.count("m") == 1);
}

TEST_CASE("inputs: a parsed operator-style schema (Scalar, no class type for self)", "[lib][inputs]") {
  TempDir t;
  const auto file = t.write("inputs.json", R"({"schema": "ptexport.inputs/v1", "args": [
      {"name": "n", "value": 2}, {"name": "m", "value": 0.25}, {"name": "x", "dtype": "float32", "shape": [2]}]})");
  const Inputs in =
      load_inputs(file, {}, torch::jit::parseSchema("forward(Tensor self, Scalar n, Scalar m, Tensor x) -> Tensor"));
  const SampleSet& s = in.sets[0];
  REQUIRE(s.args.size() == 3);
  REQUIRE(s.args[0].isInt());
  REQUIRE(s.args[0].toInt() == 2);
  REQUIRE(s.args[1].isDouble());
  REQUIRE(s.names == std::vector<std::string>({"n", "m", "x"}));
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
  REQUIRE(at::equal(a[0].toTensor(), at::full({2, 2}, -7, at::kLong)));
  REQUIRE(at::equal(a[1].toTensor(), at::ones({3}, at::kBool)));
  REQUIRE(at::equal(a[2].toTensor(),
                  at::tensor({1.0, 2.5, 3.0, 4.0, 5.0, -6.0}, at::kDouble).reshape({2, 3})));
  REQUIRE(at::equal(a[3].toTensor(), at::tensor({1, 0}, at::kLong).to(at::kBool)));
  REQUIRE(a[4].toTensor().dim() == 0);
  REQUIRE(a[4].toTensor().scalar_type() == at::kByte);
  REQUIRE(a[4].toTensor().item<int64_t>() == 255);
  REQUIRE(a[5].toTensor().sizes() == at::IntArrayRef({0, 2}));
  REQUIRE(a[5].toTensor().scalar_type() == at::kBFloat16);
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
  REQUIRE(at::equal(a[0].toTensor(), npy_expected(at::kFloat, {17, 32})));
  REQUIRE(at::equal(a[1].toTensor(), npy_expected(at::kFloat, {2, 3})));
  REQUIRE(at::equal(a[2].toTensor(), npy_expected(at::kLong, {4})));
  REQUIRE(at::equal(a[3].toTensor(), npy_expected(at::kFloat, {17, 32})));
  REQUIRE(at::equal(a[4].toTensor(), npy_expected(at::kFloat, {2, 3}).to(at::kBFloat16)));
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
    REQUIRE(at::equal(one.sets[0].args[i].toTensor(), two.sets[0].args[i].toTensor()));
  }
  const auto& t = one.sets[0].args;
  // seed 7, normal: the draws of a CPUGeneratorImpl seeded with 7.
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(7);
  REQUIRE(at::equal(t[0].toTensor(), at::empty({64, 64}, at::kFloat).normal_(0, 1, gen)));
  // b has no data: normal with the default seed (its position, 1), so it differs from a.
  CHECK_FALSE(at::equal(t[0].toTensor(), t[1].toTensor()));
  REQUIRE(t[1].toTensor().mean().abs().item<double>() < 0.1);
  REQUIRE(std::abs(t[1].toTensor().std().item<double>() - 1.0) < 0.1);
  // uniform in [-2, 3)
  REQUIRE(t[2].toTensor().min().item<double>() >= -2.0);
  REQUIRE(t[2].toTensor().max().item<double>() < 3.0);
  REQUIRE(t[2].toTensor().max().item<double>() > 2.5);
  // int in [-5, 5), and the default int range [0, 10)
  REQUIRE(t[3].toTensor().scalar_type() == at::kInt);
  REQUIRE(t[3].toTensor().min().item<int64_t>() == -5);
  REQUIRE(t[3].toTensor().max().item<int64_t>() == 4);
  REQUIRE(t[4].toTensor().min().item<int64_t>() == 0);
  REQUIRE(t[4].toTensor().max().item<int64_t>() == 9);
  // float16: the float32 draw of the same seed, rounded; mean and std applied.
  at::Generator gen2 = at::make_generator<at::CPUGeneratorImpl>(7);
  REQUIRE(at::equal(t[5].toTensor(), at::empty({64, 64}, at::kFloat).normal_(10, 0.5, gen2).to(at::kHalf)));
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
  REQUIRE(at::equal(t[0].toTensor(), read_npy(kData / "torch_normal_seed7.npy")));
  REQUIRE(at::equal(t[1].toTensor(), read_npy(kData / "torch_uniform_seed3.npy")));
  REQUIRE(at::equal(t[2].toTensor(), read_npy(kData / "torch_randint_seed5.npy")));
}

TEST_CASE("inputs: --dynamic flags mark dimensions and set ranges", "[lib][inputs]") {
  SECTION("flags add to and override the JSON's dims") {
    const Inputs in = load(kBasic, {"x.1=seq", "x.0=dynamic", "ys[1].-1=auto", "seq=1:512",
                                    "ys[0].0=n"});
    const SampleSet& s = in.sets[0];
    REQUIRE(describe(s.tensors[0].dims) == std::vector<std::string>({"dynamic", "1*seq+0"}));
    REQUIRE(describe(s.tensors[2].dims) == std::vector<std::string>({"2*n+1", "auto"}));
    // batch is no longer used by any input (x.0 became dynamic): its JSON range is dropped.
    REQUIRE(in.symbols.count("batch") == 0);
    REQUIRE(in.symbols.at("seq").min == 1);
    REQUIRE(in.symbols.at("seq").max == 512);
  }
  SECTION("a range flag replaces the JSON's range, the last flag wins") {
    const Inputs in = load(kBasic, {"batch=4:", "batch=:64"});
    CHECK_FALSE(in.symbols.at("batch").min);
    REQUIRE(in.symbols.at("batch").max == 64);
  }
  SECTION("the mission's line: ptexport model.pt inputs.json --dynamic batch=0:1024") {
    const Inputs in = load(kBasic, {"batch=0:1024"});
    REQUIRE(in.symbols.at("batch").min == 0);
    REQUIRE(in.symbols.at("batch").max == 1024);
  }
  SECTION("nested targets use the TensorLeaf path, with either quote") {
    const char* schema = "d: Dict[str, Tensor]";
    const Inputs in = load(R"({"schema": "ptexport.inputs/v1", "args": [
        {"name": "d", "value": {"k": {"dtype": "float32", "shape": [3, 4]}}}]})",
                           {"d[\"k\"].0=rows", "d['k'].-1=3*rows-5", "rows=2:"}, schema);
    REQUIRE(describe(in.sets[0].tensors[0].dims) == std::vector<std::string>({"1*rows+0", "3*rows+-5"}));
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
    REQUIRE(describe(s.tensors[0].dims) == std::vector<std::string>({"dynamic(samples)", "static", "1*c+0"}));
    // ys[0].0 never differs: auto as marked.
    REQUIRE(describe(s.tensors[1].dims) == std::vector<std::string>({"auto"}));
  }
  REQUIRE(in.sets[1].tensors[0].shape == std::vector<int64_t>({16, 64, 4}));
  REQUIRE(in.sets[1].args[1].toInt() == 3);  // the default equals sample 0's explicit 3
  REQUIRE(in.symbols.count("c") == 1);
}

TEST_CASE("inputs: read_inputs_method", "[lib][inputs]") {
  TempDir t;
  REQUIRE(read_inputs_method(t.write("a.json", R"({"schema": "ptexport.inputs/v1", "args": []})")) == "forward");
  REQUIRE(read_inputs_method(t.write("b.json", R"({"schema": "ptexport.inputs/v1", "method": "forward__1"})")) ==
        "forward__1");
  CHECK_THROWS_AS(read_inputs_method(t.write("c.json", "{")), UserError);
}
