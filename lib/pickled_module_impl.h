// lib/pickled_module_impl.h: the private header of lib/pickled_module.cpp: one pickled layer
// (Layer: typed access to its __dict__) and the table of layer templates (Note [Generated forwards]
// in lib/pickled_module.cpp). Split by job:
//   pickled_module.cpp         the module tree built from the pickle, the entry points
//   pickled_module_layers.cpp  the template of each supported layer, their sorted table
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "lib/pickled_module.h"
#include "lib/unpickler.h"
#include "shapes/error.h"

namespace ptx::pickled {

using K = PickleValue::Kind;

inline constexpr const char* kDiagLayer = "E_MODEL_LAYER";
inline constexpr std::string_view kNnPrefix = "torch.nn.modules.";

// "torch.nn.modules.linear.Linear" -> "torch.nn.Linear" (how the docs name it).
std::string public_name(const std::string& qualified);

// ---------------------------------------------------------------------------------------------------
// One layer of the pickle: typed access to its __dict__ with messages naming the layer.

class Layer {
 public:
  Layer(const PickleValue& obj, std::string path, const std::string& what)
      : obj_(obj), path_(std::move(path)), what_(what), cls_(obj.qualified_name()) {
    if (!obj.state() || !obj.state()->is(K::kDict)) fail("has no attribute dict (the pickle never built it)");
    state_ = obj.state().get();
  }

  const std::string& cls() const { return cls_; }
  const std::string& path() const { return path_; }
  std::string label() const {
    return "layer '" + (path_.empty() ? std::string("<root>") : path_) + "' (" + public_name(cls_) + ")";
  }

  template <typename... Args>
  [[noreturn]] void fail(const Args&... parts) const {
    std::ostringstream os;
    (os << ... << parts);
    PTX_USER_FAIL(ExitCode::kInput, kDiagLayer) << what_ << ": " << label() << " " << os.str();
  }

  const PickleValue* find(const std::string& name) const {
    PickleValuePtr v = state_->get(name);
    return v.get();
  }
  const PickleValue& attr(const std::string& name) const {
    const PickleValue* v = find(name);
    if (!v) fail("has no attribute '", name, "'");
    return *v;
  }
  bool is_none(const std::string& name) const { return attr(name).is_none(); }
  bool get_bool(const std::string& name) const {
    const PickleValue& v = attr(name);
    if (!v.is(K::kBool)) fail("attribute '", name, "' is ", v.repr(60), ", not a bool");
    return v.as_bool();
  }
  int64_t get_int(const std::string& name) const { return as_int(attr(name), name); }
  double get_float(const std::string& name) const {
    const PickleValue& v = attr(name);
    if (!v.is(K::kFloat) && !v.is(K::kInt)) fail("attribute '", name, "' is ", v.repr(60), ", not a number");
    return v.as_float();
  }
  std::optional<double> get_opt_float(const std::string& name) const {
    if (attr(name).is_none()) return std::nullopt;
    return get_float(name);
  }
  std::optional<int64_t> get_opt_int(const std::string& name) const {
    if (attr(name).is_none()) return std::nullopt;
    return get_int(name);
  }
  std::string get_str(const std::string& name, std::initializer_list<std::string_view> allowed) const {
    const PickleValue& v = attr(name);
    if (!v.is(K::kStr)) fail("attribute '", name, "' is ", v.repr(60), ", not a string");
    if (std::find(allowed.begin(), allowed.end(), v.as_str()) == allowed.end()) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "'" : ", '") + std::string(a) + "'";
      fail("attribute '", name, "' is ", v.repr(60), ", not one of ", list);
    }
    return v.as_str();
  }
  // An int, or a tuple/list of ints; an int is repeated `n` times (torch's _single/_pair/_triple).
  // n == 0: any length.
  std::vector<int64_t> get_ints(const std::string& name, size_t n) const {
    const PickleValue& v = attr(name);
    if (v.is(K::kInt)) return std::vector<int64_t>(n == 0 ? 1 : n, as_int(v, name));
    if (!v.is(K::kTuple) && !v.is(K::kList)) fail("attribute '", name, "' is ", v.repr(60), ", not an int or a tuple of ints");
    if (n != 0 && v.items().size() != n) fail("attribute '", name, "' is ", v.repr(60), ", not ", n, " ints");
    if (v.items().size() > 64) fail("attribute '", name, "' has more than 64 entries");
    std::vector<int64_t> out;
    for (const auto& item : v.items()) out.push_back(as_int(*item, name));
    return out;
  }

  // A tensor from `_parameters` or `_buffers`; nullptr when absent or None.
  const PickleValue* tensor(const char* dict, const std::string& name) const {
    const PickleValue& d = attr(dict);
    if (!d.is(K::kDict)) fail("attribute '", dict, "' is a ", d.type_name(), ", not a dict");
    PickleValuePtr t = d.get(name);
    if (!t || t->is_none()) return nullptr;
    if (!t->is(K::kTensor)) fail(dict == std::string("_parameters") ? "parameter '" : "buffer '", name, "' is a ", t->type_name());
    return t.get();
  }
  // `self.<name>` if the layer has that parameter, else None; `required` makes a missing one an error.
  std::string param_ref(const std::string& name, bool required, int64_t rank = -1) const {
    const PickleValue* t = tensor("_parameters", name);
    if (!t) {
      if (required) fail("has no parameter '", name, "'");
      return "None";
    }
    if (rank >= 0 && t->tensor().dim() != rank) {
      fail("parameter '", name, "' has ", t->tensor().dim(), " dimensions, expected ", rank);
    }
    return "self." + name;
  }
  std::string buffer_ref(const std::string& name) const {
    return tensor("_buffers", name) ? "self." + name : "None";
  }

 private:
  int64_t as_int(const PickleValue& v, const std::string& name) const {
    if (!v.is(K::kInt)) fail("attribute '", name, "' is ", v.repr(60), ", not an int");
    const int64_t x = v.as_int();
    if (x > (int64_t{1} << 62) || x < -(int64_t{1} << 62)) fail("attribute '", name, "' is out of range: ", x);
    return x;
  }

  const PickleValue& obj_;
  std::string path_;
  const std::string& what_;
  std::string cls_;
  const PickleValue* state_ = nullptr;
};

// ---- the layer templates (pickled_module_layers.cpp) ----------------------------------------------

using Generator = std::string (*)(const Layer&);
struct LayerTemplate {
  std::string_view cls;
  Generator gen;
};

const LayerTemplate* find_template(std::string_view cls);
std::string supported_list();

}  // namespace ptx::pickled
