// lib/inputs_impl.h: the private header of load_inputs (see lib/inputs.h for the API).
//
// One Loader reads one inputs.json and the `--dynamic` flags into Inputs, in the steps listed in
// lib/inputs.cpp. Its work is split by job:
//   inputs.cpp          the small helpers, reading the JSON and its `dims` ranges (steps 1, 2),
//                       Loader::load and the entry points
//   inputs_bind.cpp     binding args/kwargs to the schema and converting JSON to IValues (step 3)
//   inputs_tensors.cpp  the sample tensors: shapes, dtypes, data, random data, .npy files (step 3)
//   inputs_dims.cpp     the sample sets' structure, the --dynamic marks, `samples`, the symbols and
//                       the sample sizes checked against them (steps 4 to 8)
#pragma once

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lib/dim_spec.h"
#include "lib/inputs.h"
#include "shapes/error.h"

namespace ptx::inputs {

using Json = nlohmann::ordered_json;

inline constexpr const char* kSchemaId = "ptexport.inputs/v1";
inline constexpr const char* kDiagJson = "E_INPUT_JSON";      // malformed or mismatching inputs.json (exit 3)
inline constexpr const char* kDiagNpy = "E_INPUT_NPY";        // .npy data not matching the input (exit 3)
inline constexpr const char* kDiagName = "E_INPUT_NAME";      // unknown/missing input or argument names (exit 2)
inline constexpr const char* kDiagSpec = "E_DYNAMIC_SPEC";    // dims / --dynamic problems (exit 2)
/// Sample tensors larger than this are refused (they would exhaust memory, never a real sample).
inline constexpr int64_t kMaxElements = int64_t{1} << 32;
/// No tensor holds more elements than this at its symbols' maxima (8 bytes each fill 2^63 bytes).
inline constexpr int64_t kMaxTensorElements = int64_t{1} << 60;
/// inputs.json is read whole; tensor data beyond this belongs in .npy files.
inline constexpr size_t kMaxJsonBytes = size_t{256} << 20;
/// Deeper JSON is refused (every walk over it recurses once per level).
inline constexpr int kMaxJsonDepth = 64;
/// Default `int` distribution range [low, high).
inline constexpr int64_t kDefaultIntLow = 0, kDefaultIntHigh = 10;

inline const std::vector<std::string> kSupportedDTypes = {"float32", "float64", "float16", "bfloat16", "int64",
                                                          "int32",   "int16",   "int8",    "uint8",    "bool"};

// ---- small helpers (inputs.cpp) ----------------------------------------------------------------

std::string member_path(const std::string& base, const std::string& key);
std::string index_path(const std::string& base, size_t i);
std::string shape_str(const std::vector<int64_t>& shape);
std::string json_kind(const Json& j);
/// `j` as an int64 if it is a JSON integer that fits.
std::optional<int64_t> as_int(const Json& j);
bool is_floating(at::ScalarType t);
/// Inclusive value range of an integral (or bool) dtype.
std::pair<int64_t, int64_t> int_range(at::ScalarType t);
std::string dtype_str(at::ScalarType t);
/// "an int64", "a float32".
std::string article(const std::string& dtype);

// ---- per-set bookkeeping -------------------------------------------------------------------------

/// What load_inputs knows about a tensor beyond its TensorLeaf (for messages and merging).
struct LeafInfo {
  std::string jpath;                // JSON path of the tensor's object ("args[0]", "args[2].value[1]")
  std::vector<std::string> origin;  // per dim: where its mark came from; "" when not marked
  std::vector<bool> marked;         // per dim: a string in `dims`, or a flag (null / absent: false)
  std::vector<bool> explicit_static;  // per dim: marked "static" explicitly
};

struct BoundSet {
  SampleSet set;
  std::vector<LeafInfo> info;  // parallel to set.tensors
  std::string jpath;           // "" for top-level args, "samples[1]"
};

/// The loader: one per load_inputs call.
class Loader {
 public:
  Loader(const std::filesystem::path& file, const c10::FunctionSchema& schema)
      : file_(file), where_(file.string()), schema_(schema) {}

  Inputs load(const std::vector<std::string>& dynamic_flags);
  Json read_json();

 private:
  // Errors. `jpath` may be empty ("file: message").
  [[noreturn]] void fail(ExitCode code, const char* diag, const std::string& jpath, const std::string& msg) const {
    PTX_USER_FAIL(code, diag) << where_ << ": " << (jpath.empty() ? "" : jpath + ": ") << msg;
  }
  [[noreturn]] void input_fail(const std::string& jpath, const std::string& msg) const {
    fail(ExitCode::kInput, kDiagJson, jpath, msg);
  }
  void check_keys(const Json& obj, const std::string& jpath, const std::vector<std::string>& allowed) const;

  // Step 2.
  void read_symbol_ranges(const Json& dims);
  // Step 3.
  BoundSet bind(const Json* args, const Json* kwargs, const std::string& jpath);
  c10::IValue convert(const Json& j, const c10::TypePtr& type, const std::string& jpath,
                      const std::string& leaf_path, const std::string& context, BoundSet& out);
  at::Tensor make_tensor(const Json& obj, const std::string& jpath, const std::string& leaf_path, BoundSet& out,
                         bool top_level);
  at::Tensor make_data(const Json* data, const std::string& jpath, at::ScalarType dtype,
                       const std::vector<int64_t>& shape);
  at::Tensor random_data(const Json& spec, const std::string& jpath, at::ScalarType dtype,
                         const std::vector<int64_t>& shape);
  at::Tensor npy_data(const Json& data, const std::string& jpath, at::ScalarType dtype,
                      const std::vector<int64_t>& shape);
  c10::Scalar scalar_of(const Json& j, const std::string& jpath, at::ScalarType dtype) const;
  // Step 4.
  void check_same_structure(const BoundSet& first, const BoundSet& other) const;
  // Step 5.
  void apply_flag(const DynamicFlag& f, std::vector<BoundSet>& sets) const;
  // Step 6.
  void infer_from_samples(std::vector<BoundSet>& sets) const;
  // Steps 7 and 8.
  void check_json_ranges(const std::vector<BoundSet>& sets) const;
  void collect_symbols(const std::vector<BoundSet>& sets, const std::vector<DynamicFlag>& flags, Inputs& out);
  void check_sizes(const BoundSet& set, const Inputs& in) const;
  void check_max_sizes_exist(const BoundSet& set, const Inputs& in) const;

  std::filesystem::path file_;
  std::string where_;  // the file as the user named it
  const c10::FunctionSchema& schema_;
  int64_t next_seed_ = 0;  // default seeds: the tensor's position in the file
  std::map<std::string, SymbolSpec> json_ranges_;
  std::map<std::string, std::string> range_origin_;  // symbol -> where its range was given
};

}  // namespace ptx::inputs
