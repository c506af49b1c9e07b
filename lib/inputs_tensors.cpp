// lib/inputs_tensors.cpp: step 3 of load_inputs, the sample tensors: a tensor object's dtype,
// shape and dims, and its data (given values, seeded random draws, .npy files). See
// lib/inputs_impl.h.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "ir/graph.h"
#include "lib/did_you_mean.h"
#include "lib/dim_spec.h"
#include "lib/inputs_impl.h"
#include "lib/npy.h"
#include "shapes/error.h"

namespace ptx::inputs {

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

}  // namespace ptx::inputs
