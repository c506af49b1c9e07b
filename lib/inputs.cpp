// lib/inputs.cpp: inputs.json loading, `--dynamic` flags, binding to forward's schema, sample
// tensors. See lib/inputs.h and docs/inputs.md (the user-facing contract, with every default).
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
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/jit_type.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "ir/graph.h"
#include "lib/did_you_mean.h"
#include "lib/dim_spec.h"
#include "lib/json_text.h"
#include "lib/npy.h"
#include "shapes/error.h"

namespace ptx {
namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kSchemaId = "ptexport.inputs/v1";
constexpr const char* kDiagJson = "E_INPUT_JSON";      // malformed or mismatching inputs.json (exit 3)
constexpr const char* kDiagNpy = "E_INPUT_NPY";        // .npy data not matching the input (exit 3)
constexpr const char* kDiagName = "E_INPUT_NAME";      // unknown/missing input or argument names (exit 2)
constexpr const char* kDiagSpec = "E_DYNAMIC_SPEC";    // dims / --dynamic problems (exit 2)
/// Sample tensors larger than this are refused (they would exhaust memory, never a real sample).
constexpr int64_t kMaxElements = int64_t{1} << 32;
/// No tensor holds more elements than this at its symbols' maxima (8 bytes each fill 2^63 bytes).
constexpr int64_t kMaxTensorElements = int64_t{1} << 60;
/// inputs.json is read whole; tensor data beyond this belongs in .npy files.
constexpr size_t kMaxJsonBytes = size_t{256} << 20;
/// Deeper JSON is refused (every walk over it recurses once per level).
constexpr int kMaxJsonDepth = 64;
/// Default `int` distribution range [low, high).
constexpr int64_t kDefaultIntLow = 0, kDefaultIntHigh = 10;

const std::vector<std::string> kSupportedDTypes = {"float32", "float64", "float16", "bfloat16", "int64",
                                                   "int32",   "int16",   "int8",    "uint8",    "bool"};

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

// ---- step 3: binding and conversion --------------------------------------------------------------

BoundSet Loader::bind(const Json* args, const Json* kwargs, const std::string& base) {
  const auto& all = schema_.arguments();
  const size_t first = (!all.empty() && all[0].name() == "self") ? 1 : 0;
  std::vector<const c10::Argument*> params;
  for (size_t i = first; i < all.size(); ++i) params.push_back(&all[i]);
  std::vector<std::string> names;
  for (const auto* p : params) names.push_back(p->name());
  const std::string signature = [&] {
    std::string s = schema_.name() + "(";
    for (size_t i = 0; i < params.size(); ++i) {
      s += (i ? ", " : "") + params[i]->name();
      if (params[i]->default_value()) {
        std::ostringstream os;
        os << *params[i]->default_value();
        s += "=" + os.str();
      }
    }
    return s + ")";
  }();
  auto name_fail = [&](const std::string& jpath, const std::string& msg) {
    fail(ExitCode::kUsage, kDiagName, jpath, msg);
  };

  // Which JSON entry gives each parameter.
  std::vector<const Json*> given(params.size(), nullptr);
  std::vector<std::string> given_path(params.size());
  std::vector<ArgSource> source(params.size(), ArgSource::kDefault);
  const std::string args_path = member_path(base, "args");
  if (args) {
    if (!args->is_array()) input_fail(args_path, "expected a list of arguments, got " + json_kind(*args));
    size_t positional = 0;
    while (positional < params.size() && !params[positional]->kwarg_only()) ++positional;
    if (args->size() > positional) {
      name_fail(args_path, schema_.name() + " takes " + std::to_string(positional) + " positional argument" +
                               (positional == 1 ? "" : "s") + " (" +
                               join_names(std::vector<std::string>(names.begin(), names.begin() + positional)) +
                               "), got " + std::to_string(args->size()));
    }
    for (size_t i = 0; i < args->size(); ++i) {
      const Json& e = (*args)[i];
      const std::string jpath = index_path(args_path, i);
      if (!e.is_object()) {
        input_fail(jpath, "expected an object (a tensor {\"name\", \"dtype\", \"shape\", ...} or {\"name\", "
                          "\"value\"}), got " + json_kind(e));
      }
      if (e.contains("name")) {
        if (!e["name"].is_string()) input_fail(member_path(jpath, "name"), "expected a string, got " + json_kind(e["name"]));
        const std::string n = e["name"].get<std::string>();
        if (n != names[i]) {
          const bool elsewhere = std::find(names.begin(), names.end(), n) != names.end();
          name_fail(member_path(jpath, "name"),
                    "'" + n + "' does not match " + schema_.name() + "'s argument " + std::to_string(i) + ", '" +
                        names[i] + "'" +
                        (elsewhere ? " (args bind by position; pass '" + n + "' in kwargs to give it by name); " +
                                         schema_.name() + "'s arguments are: " + join_names(names)
                                   : suggest_and_list(n, names, schema_.name() + "'s arguments")));
        }
      }
      given[i] = &e;
      given_path[i] = jpath;
      source[i] = ArgSource::kPositional;
    }
  }
  const std::string kwargs_path = member_path(base, "kwargs");
  if (kwargs) {
    if (!kwargs->is_object()) input_fail(kwargs_path, "expected an object {\"name\": argument}, got " + json_kind(*kwargs));
    for (const auto& [key, e] : kwargs->items()) {
      const std::string jpath = member_path(kwargs_path, key);
      const auto it = std::find(names.begin(), names.end(), key);
      if (it == names.end()) {
        name_fail(jpath, schema_.name() + " has no argument '" + key + "'" +
                             suggest_and_list(key, names, schema_.name() + "'s arguments"));
      }
      const size_t i = static_cast<size_t>(it - names.begin());
      if (given[i]) name_fail(jpath, "argument '" + key + "' is already given by position (" + given_path[i] + ")");
      if (!e.is_object()) {
        input_fail(jpath, "expected an object (a tensor {\"dtype\", \"shape\", ...} or {\"value\": ...}), got " +
                              json_kind(e));
      }
      if (e.contains("name") && !(e["name"].is_string() && e["name"].get<std::string>() == key)) {
        name_fail(member_path(jpath, "name"), "expected \"" + key + "\" (the key) or no name, got " + e["name"].dump());
      }
      given[i] = &e;
      given_path[i] = jpath;
      source[i] = ArgSource::kKeyword;
    }
  }

  BoundSet out;
  out.jpath = base;
  for (size_t i = 0; i < params.size(); ++i) {
    const c10::Argument& p = *params[i];
    out.set.names.push_back(p.name());
    out.set.sources.push_back(source[i]);
    const std::string context = "argument '" + p.name() + "' is " + p.type()->annotation_str();
    if (!given[i]) {
      if (!p.default_value()) {
        name_fail(base, "missing argument '" + p.name() + "' of " + signature + "; give it in " +
                            member_path(base, "args") + " or " + member_path(base, "kwargs"));
      }
      const c10::IValue v = *p.default_value();
      // A default tensor (rare) still is a tensor leaf; its dims are static.
      std::function<void(const c10::IValue&, const std::string&)> walk = [&](const c10::IValue& x,
                                                                               const std::string& path) {
        if (x.isTensor()) {
          TensorLeaf leaf{path, x.toTensor().sizes().vec(), {}};
          leaf.dims.resize(leaf.shape.size());
          out.set.tensors.push_back(leaf);
          out.info.push_back({"", std::vector<std::string>(leaf.shape.size()), std::vector<bool>(leaf.shape.size()),
                              std::vector<bool>(leaf.shape.size())});
        } else if (x.isList()) {
          const auto l = x.toListRef();
          for (size_t k = 0; k < l.size(); ++k) walk(l[k], path + "[" + std::to_string(k) + "]");
        } else if (x.isTuple()) {
          const auto& e = x.toTupleRef().elements();
          for (size_t k = 0; k < e.size(); ++k) walk(e[k], path + "[" + std::to_string(k) + "]");
        }
      };
      walk(v, p.name());
      out.set.args.push_back(v);
      continue;
    }
    const Json& e = *given[i];
    if (e.contains("value")) {
      check_keys(e, given_path[i], {"name", "value"});
      out.set.args.push_back(convert(e["value"], p.type(), member_path(given_path[i], "value"), p.name(), context, out));
    } else if (e.contains("dtype") || e.contains("shape")) {
      const c10::TypePtr& t = p.type();
      const bool tensor_ok = t->kind() == c10::TypeKind::TensorType ||
                             (t->kind() == c10::TypeKind::OptionalType &&
                              t->expectRef<c10::OptionalType>().getElementType()->kind() == c10::TypeKind::TensorType);
      if (!tensor_ok) input_fail(given_path[i], "expected a value ({\"value\": ...}), got a tensor (" + context + ")");
      out.set.args.push_back(make_tensor(e, given_path[i], p.name(), out, /*top_level=*/true));
    } else {
      input_fail(given_path[i], "expected a tensor (fields dtype, shape, dims, data) or a value (field value)");
    }
  }
  return out;
}

c10::IValue Loader::convert(const Json& j, const c10::TypePtr& type, const std::string& jpath,
                            const std::string& leaf_path, const std::string& context, BoundSet& out) {
  auto mismatch = [&](const std::string& expected) {
    input_fail(jpath, "expected " + expected + ", got " + json_kind(j) + " (" + context + ")");
  };
  switch (type->kind()) {
    case c10::TypeKind::OptionalType:
      if (j.is_null()) return c10::IValue();
      return convert(j, type->expectRef<c10::OptionalType>().getElementType(), jpath, leaf_path, context, out);
    case c10::TypeKind::NoneType:
      if (!j.is_null()) mismatch("null");
      return c10::IValue();
    case c10::TypeKind::TensorType:
      if (!j.is_object() || !(j.contains("dtype") || j.contains("shape"))) {
        mismatch("a tensor (an object with dtype and shape)");
      }
      return make_tensor(j, jpath, leaf_path, out, /*top_level=*/false);
    case c10::TypeKind::IntType: {
      if (!j.is_number_integer()) mismatch("an integer");
      const auto v = as_int(j);
      if (!v) input_fail(jpath, "integer " + j.dump() + " does not fit in int64");
      return *v;
    }
    case c10::TypeKind::FloatType:
      if (!j.is_number()) mismatch("a number");
      return j.get<double>();
    case c10::TypeKind::NumberType:
      if (j.is_number_integer()) {
        const auto v = as_int(j);
        if (!v) input_fail(jpath, "integer " + j.dump() + " does not fit in int64");
        return *v;
      }
      if (!j.is_number()) mismatch("a number");
      return j.get<double>();
    case c10::TypeKind::BoolType:
      if (!j.is_boolean()) mismatch("true or false");
      return j.get<bool>();
    case c10::TypeKind::StringType:
      if (!j.is_string()) mismatch("a string");
      return j.get<std::string>();
    case c10::TypeKind::ListType: {
      if (!j.is_array()) mismatch("a list");
      const c10::TypePtr elem = type->expectRef<c10::ListType>().getElementType();
      c10::impl::GenericList list(elem);
      for (size_t i = 0; i < j.size(); ++i) {
        list.push_back(convert(j[i], elem, index_path(jpath, i), index_path(leaf_path, i), context, out));
      }
      return list;
    }
    case c10::TypeKind::TupleType: {
      const auto& elems = type->expectRef<c10::TupleType>().elements();
      if (!j.is_array()) mismatch("a list of " + std::to_string(elems.size()) + " entries (a tuple)");
      if (j.size() != elems.size()) {
        input_fail(jpath, "expected " + std::to_string(elems.size()) + " entries (a tuple), got " +
                              std::to_string(j.size()) + " (" + context + ")");
      }
      std::vector<c10::IValue> values;
      for (size_t i = 0; i < elems.size(); ++i) {
        values.push_back(convert(j[i], elems[i], index_path(jpath, i), index_path(leaf_path, i), context, out));
      }
      return c10::ivalue::Tuple::create(std::move(values));
    }
    case c10::TypeKind::DictType: {
      const auto& dt = type->expectRef<c10::DictType>();
      if (dt.getKeyType()->kind() != c10::TypeKind::StringType) {
        input_fail(jpath, "dictionaries with " + dt.getKeyType()->annotation_str() +
                              " keys cannot be written in inputs.json (only str keys) (" + context + ")");
      }
      if (!j.is_object()) mismatch("an object (a dict)");
      c10::impl::GenericDict dict(dt.getKeyType(), dt.getValueType());
      for (const auto& [key, value] : j.items()) {
        dict.insert(key, convert(value, dt.getValueType(), member_path(jpath, key), leaf_path + "['" + key + "']",
                                 context, out));
      }
      return dict;
    }
    default:
      input_fail(jpath, "arguments of type " + type->annotation_str() + " cannot be written in inputs.json (" +
                            context + ")");
  }
}

at::Tensor Loader::make_tensor(const Json& obj, const std::string& jpath, const std::string& leaf_path, BoundSet& out,
                               bool top_level) {
  if (top_level) {
    check_keys(obj, jpath, {"name", "dtype", "shape", "dims", "data"});
  } else {
    check_keys(obj, jpath, {"dtype", "shape", "dims", "data"});
  }
  // dtype
  if (!obj.contains("dtype")) input_fail(jpath, "missing field 'dtype' (one of " + join_names(kSupportedDTypes) + ")");
  if (!obj["dtype"].is_string()) input_fail(member_path(jpath, "dtype"), "expected a string, got " + json_kind(obj["dtype"]));
  const std::string dname = obj["dtype"].get<std::string>();
  const auto dt = ir::dtype_from_name(dname);
  if (!dt || std::find(kSupportedDTypes.begin(), kSupportedDTypes.end(), dname) == kSupportedDTypes.end()) {
    input_fail(member_path(jpath, "dtype"), std::string(dt ? "unsupported" : "unknown") + " dtype '" + dname + "'" +
                                                suggest_and_list(dname, kSupportedDTypes, "dtypes"));
  }
  const auto dtype = static_cast<at::ScalarType>(*dt);
  // shape
  if (!obj.contains("shape")) input_fail(jpath, "missing field 'shape' (a list of sizes, [] for a scalar)");
  const Json& js = obj["shape"];
  if (!js.is_array()) input_fail(member_path(jpath, "shape"), "expected a list of sizes, got " + json_kind(js));
  std::vector<int64_t> shape;
  int64_t numel = 1;
  for (size_t i = 0; i < js.size(); ++i) {
    const auto v = as_int(js[i]);
    if (!v || *v < 0) {
      input_fail(index_path(member_path(jpath, "shape"), i), "expected a non-negative integer, got " + js[i].dump());
    }
    shape.push_back(*v);
    if (numel != 0 && *v != 0 && numel > kMaxElements / *v) {
      input_fail(member_path(jpath, "shape"), shape_str(shape) + "... has more than 2^32 elements; sample inputs "
                                                                 "this large are refused");
    }
    numel *= *v;
  }
  // dims
  TensorLeaf leaf{leaf_path, shape, std::vector<DimMark>(shape.size())};
  LeafInfo info{jpath, std::vector<std::string>(shape.size()), std::vector<bool>(shape.size()),
                std::vector<bool>(shape.size())};
  if (obj.contains("dims") && !obj["dims"].is_null()) {
    const Json& jd = obj["dims"];
    const std::string dpath = member_path(jpath, "dims");
    if (!jd.is_array()) input_fail(dpath, "expected a list (one entry per dimension), got " + json_kind(jd));
    if (jd.size() != shape.size()) {
      input_fail(dpath, "expected " + std::to_string(shape.size()) + " entr" + (shape.size() == 1 ? "y" : "ies") +
                            " (one per dimension of shape " + shape_str(shape) + "), got " + std::to_string(jd.size()));
    }
    for (size_t i = 0; i < jd.size(); ++i) {
      const std::string ipath = index_path(dpath, i);
      if (jd[i].is_null()) continue;
      if (!jd[i].is_string()) {
        input_fail(ipath, "expected null or a string (a symbol, A*SYM+B, auto, dynamic or static), got " + jd[i].dump());
      }
      leaf.dims[i] = parse_dim_mark(jd[i].get<std::string>(), where_ + ": " + ipath);
      info.origin[i] = where_ + ": " + ipath;
      info.marked[i] = true;
      info.explicit_static[i] = leaf.dims[i].kind == DimMark::Kind::kStatic;
    }
  }
  // data
  at::Tensor t = make_data(obj.contains("data") ? &obj["data"] : nullptr, member_path(jpath, "data"), dtype, shape);
  out.set.tensors.push_back(std::move(leaf));
  out.info.push_back(std::move(info));
  return t;
}

c10::Scalar Loader::scalar_of(const Json& j, const std::string& jpath, at::ScalarType dtype) const {
  const std::string dn = dtype_str(dtype);
  if (dtype == at::kBool) {
    if (j.is_boolean()) return j.get<bool>();
    const auto v = as_int(j);
    if (v && (*v == 0 || *v == 1)) return *v == 1;
    input_fail(jpath, "expected true, false, 0 or 1 for a bool tensor, got " + j.dump());
  }
  if (is_floating(dtype)) {
    if (!j.is_number()) input_fail(jpath, "expected a number for " + article(dn) + " tensor, got " + j.dump());
    return j.get<double>();
  }
  const auto v = as_int(j);
  if (!v) input_fail(jpath, "expected an integer for " + article(dn) + " tensor, got " + j.dump());
  const auto [lo, hi] = int_range(dtype);
  if (*v < lo || *v > hi) {
    input_fail(jpath, std::to_string(*v) + " is out of range for " + dn + " [" + std::to_string(lo) + ", " +
                          std::to_string(hi) + "]");
  }
  return *v;
}

at::Tensor Loader::make_data(const Json* data, const std::string& jpath, at::ScalarType dtype,
                             const std::vector<int64_t>& shape) {
  const int64_t seed_default = next_seed_++;
  const auto opts = at::TensorOptions().dtype(dtype);
  if (!data || data->is_null()) return random_data(Json::object({{"seed", seed_default}}), jpath, dtype, shape);
  if (!data->is_object()) {
    input_fail(jpath, "expected an object with one of random, fill, value, npy; got " + json_kind(*data));
  }
  const std::vector<std::string> kinds = {"random", "fill", "value", "npy"};
  std::vector<std::string> present;
  for (const auto& k : kinds) {
    if (data->contains(k)) present.push_back(k);
  }
  if (present.size() != 1) {
    if (present.empty()) check_keys(*data, jpath, {"random", "fill", "value", "npy", "key"});
    input_fail(jpath, present.empty() ? "expected one of random, fill, value, npy"
                                      : "give only one of random, fill, value, npy (got " + join_names(present) + ")");
  }
  const std::string& kind = present[0];
  check_keys(*data, jpath, kind == "npy" ? std::vector<std::string>{"npy", "key"} : std::vector<std::string>{kind});
  const Json& spec = (*data)[kind];
  const std::string spath = member_path(jpath, kind);
  try {
    if (kind == "random") {
      if (spec.is_null()) return random_data(Json::object({{"seed", seed_default}}), spath, dtype, shape);
      if (!spec.is_object()) input_fail(spath, "expected an object {\"dist\": ..., \"seed\": ...}, got " + json_kind(spec));
      Json s = spec;
      if (!s.contains("seed")) s["seed"] = seed_default;
      return random_data(s, spath, dtype, shape);
    }
    if (kind == "fill") {
      return at::full(shape, scalar_of(spec, spath, dtype), opts);
    }
    if (kind == "value") {
      // Walk the nested list against the shape, collecting the scalars.
      std::vector<double> flat_f;
      std::vector<int64_t> flat_i;
      std::function<void(const Json&, size_t, const std::string&)> walk = [&](const Json& j, size_t depth,
                                                                              const std::string& p) {
        if (depth == shape.size()) {
          const c10::Scalar v = scalar_of(j, p, dtype);
          if (is_floating(dtype)) {
            flat_f.push_back(v.toDouble());
          } else {
            flat_i.push_back(v.toLong());
          }
          return;
        }
        if (!j.is_array() || j.size() != static_cast<size_t>(shape[depth])) {
          input_fail(p, "expected a list of " + std::to_string(shape[depth]) + " entries (dimension " +
                            std::to_string(depth) + " of shape " + shape_str(shape) + "), got " +
                            (j.is_array() ? std::to_string(j.size()) + " entries" : json_kind(j)));
        }
        for (size_t i = 0; i < j.size(); ++i) walk(j[i], depth + 1, index_path(p, i));
      };
      walk(spec, 0, spath);
      at::Tensor t = is_floating(dtype) ? at::tensor(flat_f, at::TensorOptions().dtype(at::kDouble))
                                        : at::tensor(flat_i, at::TensorOptions().dtype(at::kLong));
      return t.reshape(shape).to(dtype).contiguous();
    }
    return npy_data(*data, jpath, dtype, shape);
  } catch (const std::bad_alloc&) {
    input_fail(jpath, "out of memory making a " + dtype_str(dtype) + " tensor of shape " + shape_str(shape));
  } catch (const c10::Error& e) {
    // ATen refusing the request (e.g. a random int range it cannot draw from).
    input_fail(jpath, "cannot make the " + dtype_str(dtype) + " tensor: " + e.what_without_backtrace());
  }
}

at::Tensor Loader::random_data(const Json& spec, const std::string& jpath, at::ScalarType dtype,
                               const std::vector<int64_t>& shape) {
  check_keys(spec, jpath, {"dist", "seed", "low", "high", "mean", "std"});
  const std::string dn = dtype_str(dtype);
  std::string dist = is_floating(dtype) ? "normal" : "int";
  if (spec.contains("dist")) {
    if (!spec["dist"].is_string()) input_fail(member_path(jpath, "dist"), "expected \"normal\", \"uniform\" or \"int\"");
    dist = spec["dist"].get<std::string>();
  }
  const std::vector<std::string> dists = {"normal", "uniform", "int"};
  if (std::find(dists.begin(), dists.end(), dist) == dists.end()) {
    input_fail(member_path(jpath, "dist"),
               "unknown distribution '" + dist + "'" + suggest_and_list(dist, dists, "distributions"));
  }
  const auto seed = as_int(spec["seed"]);
  if (!seed || *seed < 0) input_fail(member_path(jpath, "seed"), "expected a non-negative integer, got " + spec["seed"].dump());
  auto allowed_only = [&](const std::vector<std::string>& keys) {
    for (const char* k : {"low", "high", "mean", "std"}) {
      if (spec.contains(k) && std::find(keys.begin(), keys.end(), k) == keys.end()) {
        input_fail(member_path(jpath, k), std::string("'") + k + "' does not apply to dist '" + dist + "'");
      }
    }
  };
  auto number = [&](const char* key, double dflt) {
    if (!spec.contains(key)) return dflt;
    if (!spec[key].is_number()) input_fail(member_path(jpath, key), "expected a number, got " + spec[key].dump());
    return spec[key].get<double>();
  };
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(*seed));
  // Floating samples are drawn in float32 (float64 for float64 tensors) and then cast, so that a
  // float16 / bfloat16 tensor holds the rounded float32 draw of the same seed.
  const at::ScalarType draw = dtype == at::kDouble ? at::kDouble : at::kFloat;
  if (dist == "normal" || dist == "uniform") {
    if (!is_floating(dtype)) {
      input_fail(member_path(jpath, "dist"),
                 "'" + dist + "' needs a floating dtype; use \"int\" (with low/high) for " + article(dn) + " tensor");
    }
    at::Tensor t = at::empty(shape, at::TensorOptions().dtype(draw));
    if (dist == "normal") {
      allowed_only({"mean", "std"});
      const double mean = number("mean", 0.0), stdev = number("std", 1.0);
      if (!(stdev >= 0) || !std::isfinite(stdev) || !std::isfinite(mean)) {
        input_fail(member_path(jpath, "std"), "expected a finite, non-negative std and a finite mean");
      }
      t.normal_(mean, stdev, gen);
    } else {
      allowed_only({"low", "high"});
      const double low = number("low", 0.0), high = number("high", 1.0);
      if (!(low < high) || !std::isfinite(low) || !std::isfinite(high)) {
        input_fail(jpath, "expected finite low < high, got [" + std::to_string(low) + ", " + std::to_string(high) + ")");
      }
      t.uniform_(low, high, gen);
    }
    return t.to(dtype);
  }
  // int: integers uniform in [low, high).
  allowed_only({"low", "high"});
  const auto [lo, hi] = int_range(dtype);
  auto bound = [&](const char* key, int64_t dflt) {
    if (!spec.contains(key)) return dflt;
    const auto v = as_int(spec[key]);
    if (!v) input_fail(member_path(jpath, key), "expected an integer, got " + spec[key].dump());
    return *v;
  };
  const int64_t low = bound("low", dtype == at::kBool ? 0 : kDefaultIntLow);
  const int64_t high = bound("high", dtype == at::kBool ? 2 : kDefaultIntHigh);
  if (low >= high) {
    input_fail(jpath, "expected low < high (high is exclusive), got low " + std::to_string(low) + ", high " +
                          std::to_string(high));
  }
  if (!is_floating(dtype) && (low < lo || high - 1 > hi)) {
    input_fail(jpath, "[" + std::to_string(low) + ", " + std::to_string(high) + ") does not fit in " + dn + " [" +
                          std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return at::randint(low, high, shape, gen, at::TensorOptions().dtype(at::kLong)).to(dtype);
}

at::Tensor Loader::npy_data(const Json& data, const std::string& jpath, at::ScalarType dtype,
                            const std::vector<int64_t>& shape) {
  const std::string npath = member_path(jpath, "npy");
  if (!data["npy"].is_string()) input_fail(npath, "expected a path (relative to this file), got " + json_kind(data["npy"]));
  const std::filesystem::path rel = data["npy"].get<std::string>();
  const std::filesystem::path path = rel.is_absolute() ? rel : file_.parent_path() / rel;
  const bool npz = path.extension() == ".npz";
  at::Tensor t;
  try {
    if (!npz) {
      if (data.contains("key")) {
        input_fail(member_path(jpath, "key"), "'key' names an array inside a .npz archive; " + path.string() +
                                                  " is not a .npz file");
      }
      t = read_npy(path);
    } else {
      std::string key;
      if (data.contains("key")) {
        if (!data["key"].is_string()) input_fail(member_path(jpath, "key"), "expected a string, got " + json_kind(data["key"]));
        key = data["key"].get<std::string>();
      } else {
        const std::vector<std::string> keys = npz_keys(path);
        if (keys.size() != 1) {
          input_fail(jpath, path.string() + " holds " + std::to_string(keys.size()) +
                                " arrays; name one with \"key\" (keys: " + join_names(keys) + ")");
        }
        key = keys[0];
      }
      t = read_npz(path, key);
    }
  } catch (const UserError& e) {
    if (e.diag_code() != kDiagNpy) throw;
    fail(ExitCode::kInput, kDiagNpy, npath, e.what());
  }
  // numpy has no bfloat16: a bfloat16 input reads float32 data.
  const bool bf16_from_f32 = dtype == at::kBFloat16 && t.scalar_type() == at::kFloat;
  if ((t.scalar_type() != dtype && !bf16_from_f32) || t.sizes().vec() != shape) {
    fail(ExitCode::kInput, kDiagNpy, npath,
         path.string() + " holds " + dtype_str(t.scalar_type()) + " " + shape_str(t.sizes().vec()) +
             ", but the input is " + dtype_str(dtype) + " " + shape_str(shape) +
             (dtype == at::kBFloat16 ? " (bfloat16 inputs read float32 arrays)" : ""));
  }
  return bf16_from_f32 ? t.to(at::kBFloat16) : t;
}

// ---- step 4: the structure of every sample set ---------------------------------------------------

/// The first non-tensor difference between two argument values: "k: 3 vs 4" style, or "".
std::string constant_difference(const c10::IValue& a, const c10::IValue& b, const std::string& path) {
  auto show = [](const c10::IValue& v) {
    std::ostringstream os;
    if (v.isString()) {
      os << Json(v.toStringRef()).dump();
    } else if (v.isTensor()) {
      os << "a tensor";
    } else if (v.isList() || v.isTuple() || v.isGenericDict()) {
      os << "a container";
    } else {
      os << v;
    }
    return os.str();
  };
  const std::string whole = path + " is " + show(b) + " here and " + show(a) + " in the first sample";
  if (a.isTensor() || b.isTensor()) return a.isTensor() == b.isTensor() ? "" : whole;
  if (a.isList() && b.isList()) {
    const auto la = a.toListRef(), lb = b.toListRef();
    if (la.size() != lb.size()) {
      return path + " has " + std::to_string(lb.size()) + " entries here and " + std::to_string(la.size()) +
             " in the first sample";
    }
    for (size_t i = 0; i < la.size(); ++i) {
      if (auto d = constant_difference(la[i], lb[i], path + "[" + std::to_string(i) + "]"); !d.empty()) return d;
    }
    return "";
  }
  if (a.isTuple() && b.isTuple()) {
    const auto& ea = a.toTupleRef().elements();
    const auto& eb = b.toTupleRef().elements();
    for (size_t i = 0; i < std::min(ea.size(), eb.size()); ++i) {
      if (auto d = constant_difference(ea[i], eb[i], path + "[" + std::to_string(i) + "]"); !d.empty()) return d;
    }
    return "";
  }
  if (a.isGenericDict() && b.isGenericDict()) {
    const auto da = a.toGenericDict(), db = b.toGenericDict();
    std::vector<std::string> ka, kb;
    for (const auto& e : da) ka.push_back(show(e.key()));
    for (const auto& e : db) kb.push_back(show(e.key()));
    if (ka != kb) {
      return path + " has keys (" + join_names(kb) + ") here and (" + join_names(ka) + ") in the first sample";
    }
    for (const auto& e : da) {
      const std::string k = e.key().isString() ? "'" + e.key().toStringRef() + "'" : show(e.key());
      if (auto d = constant_difference(e.value(), db.at(e.key()), path + "[" + k + "]"); !d.empty()) return d;
    }
    return "";
  }
  if (a.isNone() && b.isNone()) return "";
  if (a.isInt() && b.isInt()) return a.toInt() == b.toInt() ? "" : whole;
  if (a.isDouble() && b.isDouble()) return a.toDouble() == b.toDouble() ? "" : whole;
  if (a.isBool() && b.isBool()) return a.toBool() == b.toBool() ? "" : whole;
  if (a.isString() && b.isString()) return a.toStringRef() == b.toStringRef() ? "" : whole;
  return whole;
}

void Loader::check_same_structure(const BoundSet& first, const BoundSet& other) const {
  auto paths = [](const BoundSet& s) {
    std::vector<std::string> p;
    for (const auto& t : s.set.tensors) p.push_back(t.path);
    return p;
  };
  if (paths(first) != paths(other)) {
    input_fail(other.jpath, "its tensors (" + join_names(paths(other)) + ") differ from " + first.jpath + "'s (" +
                                join_names(paths(first)) + "); every sample needs the same structure");
  }
  for (size_t i = 0; i < first.set.args.size(); ++i) {
    const std::string d = constant_difference(first.set.args[i], other.set.args[i], first.set.names[i]);
    if (!d.empty()) {
      input_fail(other.jpath, d + "; non-tensor inputs are specialized (constants of the exported program), so "
                                  "they must be equal in every sample");
    }
  }
  size_t leaf = 0;
  std::function<void(const c10::IValue&, const c10::IValue&)> walk = [&](const c10::IValue& a, const c10::IValue& b) {
    if (a.isTensor()) {
      const at::Tensor &ta = a.toTensor(), &tb = b.toTensor();
      const TensorLeaf& l = other.set.tensors[leaf];
      if (ta.scalar_type() != tb.scalar_type() || ta.dim() != tb.dim()) {
        input_fail(other.info[leaf].jpath, l.path + " is " + dtype_str(tb.scalar_type()) + " " +
                                               shape_str(tb.sizes().vec()) + " here but " +
                                               dtype_str(ta.scalar_type()) + " " + shape_str(ta.sizes().vec()) +
                                               " in " + first.jpath + "; samples may differ in sizes only");
      }
      ++leaf;
    } else if (a.isList()) {
      const auto la = a.toListRef(), lb = b.toListRef();
      for (size_t i = 0; i < la.size(); ++i) walk(la[i], lb[i]);
    } else if (a.isTuple()) {
      const auto& ea = a.toTupleRef().elements();
      const auto& eb = b.toTupleRef().elements();
      for (size_t i = 0; i < ea.size(); ++i) walk(ea[i], eb[i]);
    } else if (a.isGenericDict()) {
      const auto db = b.toGenericDict();
      for (const auto& e : a.toGenericDict()) walk(e.value(), db.at(e.key()));
    }
  };
  for (size_t i = 0; i < first.set.args.size(); ++i) walk(first.set.args[i], other.set.args[i]);
}

// ---- step 5: --dynamic TARGET=MARK ---------------------------------------------------------------

void Loader::apply_flag(const DynamicFlag& f, std::vector<BoundSet>& sets) const {
  const std::string where = "--dynamic '" + f.text + "'";
  const SampleSet& s0 = sets[0].set;
  std::vector<std::string> paths;
  size_t index = s0.tensors.size();
  for (size_t i = 0; i < s0.tensors.size(); ++i) {
    paths.push_back(s0.tensors[i].path);
    if (s0.tensors[i].path == f.input) index = i;
  }
  auto spec_fail = [&](const std::string& msg) { PTX_USER_FAIL(ExitCode::kUsage, kDiagName) << where << ": " << msg; };
  if (index == s0.tensors.size()) {
    std::vector<std::string> inside;
    for (const auto& p : paths) {
      if (p.starts_with(f.input + "[")) inside.push_back(p);
    }
    if (!inside.empty()) {
      spec_fail("'" + f.input + "' is not a tensor; name a tensor inside it: " + join_names(inside));
    }
    const auto arg = std::find(s0.names.begin(), s0.names.end(), f.input);
    if (arg != s0.names.end()) {
      const auto& all = schema_.arguments();
      const auto p = std::find_if(all.begin(), all.end(), [&](const c10::Argument& a) { return a.name() == f.input; });
      const std::string type = p == all.end() ? "" : " (" + p->type()->annotation_str() + ")";
      spec_fail("'" + f.input + "' is not a tensor" + type + "; inputs are: " + join_names(paths));
    }
    spec_fail("unknown input '" + f.input + "'" + suggest_and_list(f.input, paths, "inputs"));
  }
  for (BoundSet& b : sets) {
    TensorLeaf& leaf = b.set.tensors[index];
    LeafInfo& info = b.info[index];
    const auto rank = static_cast<int64_t>(leaf.shape.size());
    if (f.dim < -rank || f.dim >= rank) {
      spec_fail(leaf.path + " has " + std::to_string(rank) + " dimension" + (rank == 1 ? "" : "s") + " (shape " +
                shape_str(leaf.shape) + ")" +
                (rank ? "; DIM must be in [" + std::to_string(-rank) + ", " + std::to_string(rank - 1) + "]" : ""));
    }
    const auto d = static_cast<size_t>(f.dim < 0 ? f.dim + rank : f.dim);
    leaf.dims[d] = f.mark;
    info.origin[d] = where;
    info.marked[d] = true;
    info.explicit_static[d] = f.mark.kind == DimMark::Kind::kStatic;
  }
}

// ---- step 6: samples -----------------------------------------------------------------------------

void Loader::infer_from_samples(std::vector<BoundSet>& sets) const {
  BoundSet& first = sets[0];
  for (size_t i = 0; i < first.set.tensors.size(); ++i) {
    for (size_t d = 0; d < first.set.tensors[i].shape.size(); ++d) {
      // Merge the marks: the sets must agree where they mark a dimension.
      const BoundSet* marker = nullptr;
      for (const BoundSet& b : sets) {
        if (!b.info[i].marked[d]) continue;
        if (!marker) {
          marker = &b;
          continue;
        }
        const DimMark &x = marker->set.tensors[i].dims[d], &y = b.set.tensors[i].dims[d];
        if (x.kind != y.kind || x.symbol != y.symbol || x.a != y.a || x.b != y.b) {
          PTX_USER_FAIL(ExitCode::kUsage, kDiagSpec)
              << b.info[i].origin[d] << ": " << b.set.tensors[i].path << "." << d << " is marked '" << to_string(y)
              << "' here and '" << to_string(x) << "' in " << marker->info[i].origin[d]
              << "; samples must mark a dimension alike";
        }
      }
      std::set<int64_t> sizes;
      for (const BoundSet& b : sets) sizes.insert(b.set.tensors[i].shape[d]);
      DimMark mark = marker ? marker->set.tensors[i].dims[d] : DimMark{};
      const std::string origin = marker ? marker->info[i].origin[d] : "";
      const bool explicit_static = marker && marker->info[i].explicit_static[d];
      if (sizes.size() > 1) {
        std::string seen;
        for (const BoundSet& b : sets) {
          seen += (seen.empty() ? "" : ", ") + std::to_string(b.set.tensors[i].shape[d]);
        }
        if (explicit_static) {
          PTX_USER_FAIL(ExitCode::kUsage, kDiagSpec)
              << origin << ": " << first.set.tensors[i].path << "." << d
              << " is marked static, but its size differs between samples (" << seen << ")";
        }
        if (mark.kind == DimMark::Kind::kStatic || mark.kind == DimMark::Kind::kAuto) {
          mark = DimMark{};
          mark.kind = DimMark::Kind::kDynamic;
          mark.from_samples = true;
        }
      }
      for (BoundSet& b : sets) {
        b.set.tensors[i].dims[d] = mark;
        b.info[i].origin[d] = origin;
        b.info[i].marked[d] = marker != nullptr;
        b.info[i].explicit_static[d] = explicit_static;
      }
    }
  }
}

// ---- steps 7 and 8: symbols ----------------------------------------------------------------------

/// The symbols the marks of `sets` use, in order of first use.
std::vector<std::string> used_symbols(const std::vector<BoundSet>& sets) {
  std::vector<std::string> used;
  for (const BoundSet& b : sets) {
    for (const TensorLeaf& t : b.set.tensors) {
      for (const DimMark& m : t.dims) {
        if (m.kind == DimMark::Kind::kSymbol && std::find(used.begin(), used.end(), m.symbol) == used.end()) {
          used.push_back(m.symbol);
        }
      }
    }
  }
  return used;
}

void Loader::check_json_ranges(const std::vector<BoundSet>& sets) const {
  const std::vector<std::string> used = used_symbols(sets);
  for (const auto& [name, spec] : json_ranges_) {
    if (std::find(used.begin(), used.end(), name) != used.end()) continue;
    PTX_USER_FAIL(ExitCode::kUsage, kDiagName)
        << range_origin_.at(name) << ": symbol '" << name << "' is not used by any input"
        << (used.empty() ? std::string("; no input dimension uses a symbol (mark one with dims)")
                         : suggest_and_list(name, used, "symbols in use"));
  }
}

void Loader::collect_symbols(const std::vector<BoundSet>& sets, const std::vector<DynamicFlag>& flags, Inputs& out) {
  const std::vector<std::string> used = used_symbols(sets);
  auto unused = [&](const std::string& where, const std::string& name) {
    PTX_USER_FAIL(ExitCode::kUsage, kDiagName)
        << where << ": symbol '" << name << "' is not used by any input"
        << (used.empty() ? std::string("; no input dimension uses a symbol (mark one with dims or --dynamic INPUT.DIM=SYM)")
                         : suggest_and_list(name, used, "symbols in use"));
  };
  // A JSON range whose symbol only flags made unused (x.0=dynamic replacing x.0's "batch") is dropped.
  std::map<std::string, SymbolSpec> ranges = json_ranges_;
  for (const DynamicFlag& f : flags) {
    if (f.kind != DynamicFlag::Kind::kRange) continue;
    if (std::find(used.begin(), used.end(), f.range.name) == used.end()) unused("--dynamic '" + f.text + "'", f.range.name);
    ranges[f.range.name] = f.range;  // a flag replaces the JSON's range (both sides); the last flag wins
    range_origin_[f.range.name] = "--dynamic '" + f.text + "'";
  }
  for (const std::string& name : used) {
    SymbolSpec s = ranges.count(name) ? ranges.at(name) : SymbolSpec{name, std::nullopt, std::nullopt};
    out.symbols[name] = s;
  }
}

void Loader::check_sizes(const BoundSet& b, const Inputs& in) const {
  struct Use {
    const TensorLeaf* leaf;
    size_t dim;
    const std::string* origin;
  };
  std::map<std::string, std::vector<Use>> uses;
  for (size_t i = 0; i < b.set.tensors.size(); ++i) {
    const TensorLeaf& t = b.set.tensors[i];
    for (size_t d = 0; d < t.dims.size(); ++d) {
      if (t.dims[d].kind == DimMark::Kind::kSymbol) uses[t.dims[d].symbol].push_back({&t, d, &b.info[i].origin[d]});
    }
  }
  const std::string in_set = b.jpath.empty() ? "" : " (in " + b.jpath + ")";
  for (const auto& [name, list] : uses) {
    // The symbol's value: from a plain use if there is one (as torch does), else the first use.
    const Use* root_use = &list[0];
    for (const Use& u : list) {
      if (u.leaf->dims[u.dim].a == 1 && u.leaf->dims[u.dim].b == 0) {
        root_use = &u;
        break;
      }
    }
    auto desc = [](const Use& u) {
      return u.leaf->path + "." + std::to_string(u.dim) + " = " + std::to_string(u.leaf->shape[u.dim]);
    };
    const DimMark& rm = root_use->leaf->dims[root_use->dim];
    const int64_t rsize = root_use->leaf->shape[root_use->dim];
    if ((rsize - rm.b) % rm.a != 0 || rsize - rm.b < 0) {
      PTX_USER_FAIL(ExitCode::kUsage, kDiagSpec)
          << *root_use->origin << ": " << desc(*root_use) << " cannot be " << to_string(rm) << " for a whole "
          << name << " >= 0" << in_set;
    }
    const int64_t value = (rsize - rm.b) / rm.a;
    for (const Use& u : list) {
      const DimMark& m = u.leaf->dims[u.dim];
      const __int128 want = static_cast<__int128>(m.a) * value + m.b;
      if (u.leaf->shape[u.dim] != want) {
        PTX_USER_FAIL(ExitCode::kUsage, kDiagSpec)
            << *u.origin << ": " << desc(u) << " does not fit " << to_string(m) << ": " << name << " = " << value
            << " (from " << desc(*root_use) << ") gives " << std::to_string(static_cast<long long>(want)) << in_set
            << "; dimensions that share a symbol must have matching sample sizes";
      }
    }
    const SymbolSpec& spec = in.symbols.at(name);
    if ((spec.min && value < *spec.min) || (spec.max && value > *spec.max)) {
      const auto o = range_origin_.find(name);
      PTX_USER_FAIL(ExitCode::kUsage, kDiagSpec)
          << (o != range_origin_.end() ? o->second : std::string("--dynamic")) << ": the sample has " << name
          << " = " << value << " (" << desc(*root_use) << ")" << in_set << ", outside " << name << "'s range ["
          << (spec.min ? std::to_string(*spec.min) : "0") << ", " << (spec.max ? std::to_string(*spec.max) : "inf")
          << "]";
    }
    // A derived dimension must not go negative anywhere in the range (torch refuses that too).
    const int64_t lo = spec.min.value_or(0);
    for (const Use& u : list) {
      const DimMark& m = u.leaf->dims[u.dim];
      if (static_cast<__int128>(m.a) * lo + m.b < 0) {
        const int64_t need = (-m.b + m.a - 1) / m.a;
        PTX_USER_FAIL(ExitCode::kUsage, kDiagSpec)
            << *u.origin << ": " << u.leaf->path << "." << u.dim << " = " << to_string(m) << " is negative for "
            << name << " = " << lo << "; give " << name << " a min of at least " << need << " (--dynamic " << name
            << "=" << need << ":" << (spec.max ? std::to_string(*spec.max) : "") << ")";
      }
    }
  }
  check_max_sizes_exist(b, in);
}

void Loader::check_max_sizes_exist(const BoundSet& b, const Inputs& in) const {
  // Every symbol at its max: a tensor past kMaxTensorElements cannot exist (its bytes would not fit
  // in 64 bits), so such a range is a spec error, not something to verify or write into an artifact.
  for (const TensorLeaf& t : b.set.tensors) {
    __int128 numel = 1;
    std::string at;
    for (size_t d = 0; d < t.dims.size(); ++d) {
      const DimMark& m = t.dims[d];
      __int128 size = t.shape[d];
      if (m.kind == DimMark::Kind::kSymbol) {
        const SymbolSpec& spec = in.symbols.at(m.symbol);
        if (!spec.max) continue;  // unbounded: nothing to check
        size = static_cast<__int128>(m.a) * *spec.max + m.b;
        at += (at.empty() ? "" : ", ") + m.symbol + " = " + std::to_string(*spec.max);
      }
      numel = std::min<__int128>(numel * size, static_cast<__int128>(1) << 100);
    }
    if (numel > kMaxTensorElements) {
      PTX_USER_FAIL(ExitCode::kUsage, kDiagSpec)
          << "at " << at << ", input " << t.path << " would hold more than 2^60 elements: a range whose sizes "
          << "cannot exist (no tensor's bytes fit in 64 bits); give a smaller max";
    }
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

}  // namespace

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
