// lib/inputs_bind.cpp: step 3 of load_inputs: a sample set's args and kwargs bound to forward's
// schema (positional, keyword, default), each JSON value converted to an IValue by the schema's
// type. See lib/inputs_impl.h.
#include <ATen/ATen.h>
#include <ATen/core/jit_type.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>
#include <sstream>

#include "lib/did_you_mean.h"
#include "lib/inputs_impl.h"
#include "shapes/error.h"

namespace ptx::inputs {

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

}  // namespace ptx::inputs
