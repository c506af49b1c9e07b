// lib/inputs.cpp: inputs.json loading, `--dynamic` flags, binding to forward's schema, sample
// tensors. See lib/inputs.h and docs/inputs.md (the user-facing contract, with every default). This
// file holds the small helpers, steps 1 and 2, Loader::load and the entry points; the other steps
// are in lib/inputs_*.cpp (lib/inputs_impl.h).
//
// Steps of load_inputs, in order (so that errors come in a predictable order):
//   1. parse every `--dynamic` flag (syntax only; exit 2)
//   2. read and parse the JSON, check the top-level fields and the `dims` ranges
//   3. for each sample set: bind args/kwargs to the schema, converting JSON to IValues by the
//      schema's types and making the sample tensors (TensorLeaf per tensor, depth first)
//   4. check that every sample set has the structure of the first one (`samples` only)
//   5. apply the TARGET=MARK flags to every set
//   6. `samples`: mark dimensions whose sizes differ between sets kDynamic
//   7. collect the symbols, check the ranges name used symbols (the JSON's ranges against the JSON's
//      marks, before step 5; the flags' ranges against the final marks), fill Inputs::symbols
//   8. check the sample sizes against the symbols (one root value per symbol and set, derived
//      dims integral, inside the ranges, derived minimum not negative)
#include "lib/inputs.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include "ir/graph.h"
#include "lib/did_you_mean.h"
#include "lib/dim_spec.h"
#include "lib/inputs_impl.h"
#include "lib/json_text.h"
#include "shapes/error.h"

namespace ptx {
namespace inputs {

// ---- small helpers -------------------------------------------------------------------------------

std::string member_path(const std::string& base, const std::string& key) { return json_member_path(base, key); }
std::string index_path(const std::string& base, size_t i) { return json_index_path(base, i); }

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string json_kind(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::boolean: return "a bool";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "an integer";
    case Json::value_t::number_float: return "a float";
    case Json::value_t::string: return "a string";
    case Json::value_t::array: return "a list";
    case Json::value_t::object: return "an object";
    default: return "an unsupported JSON value";
  }
}

/// `j` as an int64 if it is a JSON integer that fits.
std::optional<int64_t> as_int(const Json& j) {
  if (j.is_number_unsigned()) {
    const uint64_t v = j.get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(v);
  }
  if (j.is_number_integer()) return j.get<int64_t>();
  return std::nullopt;
}

bool is_floating(at::ScalarType t) { return at::isFloatingType(t); }

/// Inclusive value range of an integral (or bool) dtype.
std::pair<int64_t, int64_t> int_range(at::ScalarType t) {
  switch (t) {
    case at::kBool: return {0, 1};
    case at::kByte: return {0, 255};
    case at::kChar: return {-128, 127};
    case at::kShort: return {-32768, 32767};
    case at::kInt: return {std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()};
    default: return {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()};
  }
}

std::string dtype_str(at::ScalarType t) { return ir::dtype_name(static_cast<ir::DType>(t)); }

/// "an int64", "a float32".
std::string article(const std::string& dtype) { return (dtype.starts_with("int") ? "an " : "a ") + dtype; }

// ---- step 2: the JSON and its `dims` ranges --------------------------------------------------------

void Loader::check_keys(const Json& obj, const std::string& jpath, const std::vector<std::string>& allowed) const {
  for (const auto& [key, value] : obj.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    input_fail(member_path(jpath, key), "unknown field '" + key + "'" + suggest_and_list(key, allowed, "fields"));
  }
}

Json Loader::read_json() {
  // A FIFO would block and /dev/zero never end: only regular files, and not past kMaxJsonBytes.
  std::error_code ec;
  const auto status = std::filesystem::status(file_, ec);
  if (ec || !std::filesystem::exists(status)) fail(ExitCode::kInput, kDiagJson, "", "cannot read: No such file or directory");
  if (!std::filesystem::is_regular_file(status)) fail(ExitCode::kInput, kDiagJson, "", "not a regular file");
  if (std::filesystem::file_size(file_, ec) > kMaxJsonBytes) {
    input_fail("", "larger than " + std::to_string(kMaxJsonBytes >> 20) + " MiB; put large tensors in .npy files");
  }
  std::ifstream in(file_, std::ios::binary);
  if (!in) fail(ExitCode::kInput, kDiagJson, "", std::string("cannot read: ") + std::strerror(errno));
  std::ostringstream os;
  os << in.rdbuf();
  if (in.bad()) fail(ExitCode::kInput, kDiagJson, "", std::string("cannot read: ") + std::strerror(errno));
  const std::string text = std::move(os).str();
  Json j;
  try {
    j = parse_json_text(text, kMaxJsonDepth);
  } catch (const JsonTextError& e) {
    input_fail(e.path, e.message);
  }
  if (!j.is_object()) input_fail("", "expected a JSON object at the top level, got " + json_kind(j));
  check_keys(j, "", {"schema", "method", "args", "kwargs", "dims", "samples"});
  if (!j.contains("schema")) input_fail("", std::string("missing field 'schema' (\"") + kSchemaId + "\")");
  if (!j["schema"].is_string() || j["schema"].get<std::string>() != kSchemaId) {
    input_fail("schema", std::string("expected \"") + kSchemaId + "\", got " + j["schema"].dump());
  }
  if (j.contains("method") && !j["method"].is_string()) {
    input_fail("method", "expected a string (a method name such as \"forward\"), got " + json_kind(j["method"]));
  }
  return j;
}

void Loader::read_symbol_ranges(const Json& dims) {
  if (!dims.is_object()) input_fail("dims", "expected an object {\"SYM\": {\"min\": MIN, \"max\": MAX}}, got " + json_kind(dims));
  for (const auto& [name, spec] : dims.items()) {
    const std::string jpath = member_path("dims", name);
    if (!is_symbol_name(name)) {
      fail(ExitCode::kUsage, kDiagSpec, jpath,
           "'" + name + "' is not a valid symbol name (letters, digits and _, not starting with a digit; not auto, "
                        "dynamic or static)");
    }
    if (!spec.is_object()) input_fail(jpath, "expected an object {\"min\": MIN, \"max\": MAX}, got " + json_kind(spec));
    check_keys(spec, jpath, {"min", "max"});
    SymbolSpec s;
    s.name = name;
    for (const char* side : {"min", "max"}) {
      if (!spec.contains(side) || spec[side].is_null()) continue;
      const auto v = as_int(spec[side]);
      if (!v || *v < 0) {
        fail(ExitCode::kUsage, kDiagSpec, member_path(jpath, side),
             "expected a non-negative integer or null, got " + spec[side].dump());
      }
      (std::string_view(side) == "min" ? s.min : s.max) = *v;
    }
    if (s.min && s.max && *s.min > *s.max) {
      fail(ExitCode::kUsage, kDiagSpec, jpath,
           "min " + std::to_string(*s.min) + " is greater than max " + std::to_string(*s.max));
    }
    json_ranges_[name] = s;
    range_origin_[name] = where_ + ": " + jpath;
  }
}

Inputs Loader::load(const std::vector<std::string>& dynamic_flags) {
  // 1.
  std::vector<DynamicFlag> flags;
  for (const std::string& f : dynamic_flags) flags.push_back(parse_dynamic_flag(f));
  // 2.
  const Json j = read_json();
  Inputs out;
  out.file = file_;
  if (j.contains("method")) out.method = j["method"].get<std::string>();
  if (j.contains("dims")) read_symbol_ranges(j["dims"]);
  // 3.
  std::vector<BoundSet> sets;
  if (j.contains("samples")) {
    for (const char* k : {"args", "kwargs"}) {
      if (j.contains(k)) {
        input_fail(k, std::string("give either samples or top-level args/kwargs, not both (each sample has its own "
                                  "args and kwargs)"));
      }
    }
    const Json& samples = j["samples"];
    if (!samples.is_array() || samples.empty()) {
      input_fail("samples", "expected a non-empty list of {\"args\": [...], \"kwargs\": {...}}, got " +
                                (samples.is_array() ? std::string("an empty list") : json_kind(samples)));
    }
    for (size_t i = 0; i < samples.size(); ++i) {
      const std::string sp = index_path("samples", i);
      if (!samples[i].is_object()) input_fail(sp, "expected an object {\"args\": [...], \"kwargs\": {...}}, got " + json_kind(samples[i]));
      check_keys(samples[i], sp, {"args", "kwargs"});
      sets.push_back(bind(samples[i].contains("args") ? &samples[i]["args"] : nullptr,
                          samples[i].contains("kwargs") ? &samples[i]["kwargs"] : nullptr, sp));
    }
  } else {
    sets.push_back(bind(j.contains("args") ? &j["args"] : nullptr, j.contains("kwargs") ? &j["kwargs"] : nullptr, ""));
  }
  // 4.
  for (size_t i = 1; i < sets.size(); ++i) check_same_structure(sets[0], sets[i]);
  check_json_ranges(sets);
  // 5.
  for (const DynamicFlag& f : flags) {
    if (f.kind == DynamicFlag::Kind::kMark) apply_flag(f, sets);
  }
  // 6.
  if (sets.size() > 1) infer_from_samples(sets);
  // 7.
  collect_symbols(sets, flags, out);
  // 8.
  for (const BoundSet& b : sets) check_sizes(b, out);
  for (BoundSet& b : sets) out.sets.push_back(std::move(b.set));
  return out;
}

}  // namespace inputs

using inputs::Json;
using inputs::Loader;

std::string read_inputs_method(const std::filesystem::path& json_file) {
  const c10::FunctionSchema none("", "", {}, {});
  Loader loader(json_file, none);
  const Json j = loader.read_json();
  return j.contains("method") ? j["method"].get<std::string>() : "forward";
}

Inputs load_inputs(const std::filesystem::path& json_file, const std::vector<std::string>& dynamic_flags,
                   const c10::FunctionSchema& schema) {
  Loader loader(json_file, schema);
  return loader.load(dynamic_flags);
}

}  // namespace ptx
