// lib/pickled_module.cpp: torch.save'd Sequential models as TorchScript modules (lib/pickled_module.h).
//
// Note [Generated forwards]
// ~~~~~~~~~~~~~~~~~~~~~~~~~
// Each supported layer has a template: the TorchScript that torch.jit.script emits for the layer's
// forward in torch 2.14 (read from the code/ of scripted, saved layers), with what depends only on
// the layer's hyper-parameters already decided, as freezing would decide it: `self.training` is
// False, `inplace` picks `relu_` or `relu`, a None bias becomes the literal None. What depends on the
// input (its rank, its sizes) stays in the code exactly as the scripted forward checks it, so the
// frontend records the same guards and raises the same errors: BatchNorm's rank check, the batch-size
// check of batch statistics, Softmax's implicit dim, AdaptiveAvgPool2d's None sizes. Hyper-parameters
// are written as literals (floats with 17 significant digits, so they round-trip exactly).
#include "lib/pickled_module.h"

#include "shapes/error.h"

#include <torch/csrc/jit/frontend/parser.h>
#include <torch/csrc/jit/frontend/resolver.h>
#include <torch/csrc/jit/frontend/source_range.h>
#include <torch/csrc/jit/frontend/sugared_value.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

namespace ptx {
namespace {

using K = PickleValue::Kind;

constexpr const char* kDiagLayer = "E_MODEL_LAYER";
constexpr const char* kDiagUnsupported = "E_MODEL_UNSUPPORTED_LAYER";
constexpr const char* kDiagUserClass = "E_MODEL_USER_CLASS";
constexpr std::string_view kNnPrefix = "torch.nn.modules.";

constexpr const char* kTorchScriptHint =
    "save the model as TorchScript instead, e.g. torch.jit.script(model).save(\"model.pt\") or "
    "torch.jit.trace(model, example_inputs).save(\"model.pt\"), and export that file";

// "torch.nn.modules.linear.Linear" -> "torch.nn.Linear" (how the docs name it).
std::string public_name(const std::string& qualified) {
  if (!std::string_view(qualified).starts_with(kNnPrefix)) return qualified;
  return "torch.nn." + qualified.substr(qualified.rfind('.') + 1);
}

// Resolves `torch.*` to aten operators and `ops.<ns>.*` to operators of that namespace, as the
// TorchScript importer does for code/ files (import_source.cpp). Nothing else is visible.
struct OpsNamespace : torch::jit::SugaredValue {
  std::string kind() const override { return "ops"; }
  std::shared_ptr<torch::jit::SugaredValue> attr(const torch::jit::SourceRange&, torch::jit::GraphFunction&,
                                                 const std::string& field) override {
    return std::make_shared<torch::jit::BuiltinModule>(field);
  }
};
struct GeneratedCodeResolver : torch::jit::Resolver {
  std::shared_ptr<torch::jit::SugaredValue> resolveValue(const std::string& name, torch::jit::GraphFunction&,
                                                         const torch::jit::SourceRange&) override {
    if (name == "torch") return std::make_shared<torch::jit::BuiltinModule>("aten");
    if (name == "ops") return std::make_shared<OpsNamespace>();
    return nullptr;
  }
  c10::TypePtr resolveType(const std::string&, const torch::jit::SourceRange&) override { return nullptr; }
};

// ---------------------------------------------------------------------------------------------------
// Literals

std::string lit(int64_t v) { return std::to_string(v); }
std::string lit(bool v) { return v ? "True" : "False"; }
std::string lit(double v) {
  if (std::isnan(v)) return "float(\"nan\")";
  if (std::isinf(v)) return v > 0 ? "float(\"inf\")" : "float(\"-inf\")";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  std::string s = buf;
  if (s.find_first_of(".en") == std::string::npos) s += ".";
  return s;
}
std::string lit(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + lit(v[i]);
  return s + "]";
}
// An empty int list needs its type spelled out (an untyped [] is a List[Tensor]).
std::string lit_int_list(const std::vector<int64_t>& v) { return v.empty() ? "annotate(List[int], [])" : lit(v); }
std::string lit_str(const std::string& s) { return "\"" + s + "\""; }  // only our own constants

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

// ---------------------------------------------------------------------------------------------------
// Templates. Each returns the body of `def forward(self, input: Tensor) -> Tensor:` (2-space indent).

std::string ret(const std::string& expr) { return "  return " + expr + "\n"; }

// F._verify_batch_size(size): batch statistics need more than one value per channel.
std::string verify_batch_size(const std::string& size_var) {
  return "  _prods = " + size_var + "[0]\n"
         "  for _i in range(len(" + size_var + ") - 2):\n"
         "    _prods = _prods * " + size_var + "[_i + 2]\n"
         "  if _prods == 1:\n"
         "    ops.prim.RaiseException(torch.format(\"Expected more than 1 value per channel when training, "
         "got input size {}\", " + size_var + "), \"builtins.ValueError\")\n";
}

std::string gen_linear(const Layer& l) {
  return ret("torch.linear(input, " + l.param_ref("weight", true) + ", " + l.param_ref("bias", false) + ")");
}

std::string gen_identity(const Layer&) { return ret("input"); }

// _ConvNd._conv_forward: zeros padding goes to the conv; other modes pad first (F.pad).
std::string gen_conv(const Layer& l, int n) {
  if (l.get_bool("transposed")) l.fail("is marked transposed");
  const std::string w = l.param_ref("weight", true, n + 2), b = l.param_ref("bias", false);
  const std::vector<int64_t> stride = l.get_ints("stride", n), dilation = l.get_ints("dilation", n);
  const int64_t groups = l.get_int("groups");
  if (groups <= 0) l.fail("has groups = ", groups);
  const std::string mode = l.get_str("padding_mode", {"zeros", "reflect", "replicate", "circular"});
  const std::string op = "torch.conv" + std::to_string(n) + "d";
  std::string padding;
  if (l.attr("padding").is(K::kStr)) {
    padding = lit_str(l.get_str("padding", {"same", "valid"}));
  } else {
    padding = lit(l.get_ints("padding", n));
  }
  if (mode == "zeros") {
    return ret(op + "(input, " + w + ", " + b + ", " + lit(stride) + ", " + padding + ", " + lit(dilation) + ", " + lit(groups) + ")");
  }
  const std::vector<int64_t> pad = l.get_ints("_reversed_padding_repeated_twice", 2 * n);
  return ret(op + "(torch.pad(input, " + lit(pad) + ", " + lit_str(mode) + ", None), " + w + ", " + b + ", " +
             lit(stride) + ", " + lit(std::vector<int64_t>(n, 0)) + ", " + lit(dilation) + ", " + lit(groups) + ")");
}

// _ConvTransposeNd.forward with output_size=None: output_padding is the attribute.
std::string gen_conv_transpose(const Layer& l, int n) {
  l.get_str("padding_mode", {"zeros"});  // eager raises for any other mode
  const std::string w = l.param_ref("weight", true, n + 2), b = l.param_ref("bias", false);
  const int64_t groups = l.get_int("groups");
  if (groups <= 0) l.fail("has groups = ", groups);
  return ret("torch.conv_transpose" + std::to_string(n) + "d(input, " + w + ", " + b + ", " +
             lit(l.get_ints("stride", n)) + ", " + lit(l.get_ints("padding", n)) + ", " +
             lit(l.get_ints("output_padding", n)) + ", " + lit(groups) + ", " + lit(l.get_ints("dilation", n)) + ")");
}

// _BatchNorm.forward in eval mode (see the file comment) plus the subclass's _check_input_dim.
std::string gen_batch_norm(const Layer& l, int n) {
  std::string body;
  if (n == 1) {
    body = "  if torch.dim(input) != 2 and torch.dim(input) != 3:\n"
           "    ops.prim.RaiseException(torch.format(\"expected 2D or 3D input (got {}D input)\", torch.dim(input)), "
           "\"builtins.ValueError\")\n";
  } else {
    const std::string want = std::to_string(n + 2);
    body = "  if torch.dim(input) != " + want + ":\n"
           "    ops.prim.RaiseException(torch.format(\"expected " + want + "D input (got {}D input)\", torch.dim(input)), "
           "\"builtins.ValueError\")\n";
  }
  const double eps = l.get_float("eps");
  const double momentum = l.get_opt_float("momentum").value_or(0.0);
  const std::string w = l.param_ref("weight", false, 1), b = l.param_ref("bias", false, 1);
  const std::string mean = l.buffer_ref("running_mean"), var = l.buffer_ref("running_var");
  const bool batch_stats = mean == "None" && var == "None";
  if (!batch_stats && (mean == "None" || var == "None")) l.fail("has only one of running_mean and running_var");
  if (eps < 0 || (batch_stats && eps <= 0)) l.fail("has eps = ", eps, ", which batch_norm refuses");
  if (batch_stats) body += "  _size = torch.size(input)\n" + verify_batch_size("_size");
  return body + ret("torch.batch_norm(input, " + w + ", " + b + ", " + mean + ", " + var + ", " + lit(batch_stats) +
                    ", " + lit(momentum) + ", " + lit(eps) + ", True)");
}

std::string gen_layer_norm(const Layer& l) {
  return ret("torch.layer_norm(input, " + lit(l.get_ints("normalized_shape", 0)) + ", " + l.param_ref("weight", false) +
             ", " + l.param_ref("bias", false) + ", " + lit(l.get_float("eps")) + ")");
}

std::string gen_group_norm(const Layer& l) {
  const int64_t groups = l.get_int("num_groups");
  if (groups <= 0) l.fail("has num_groups = ", groups);
  const std::string g = lit(groups);
  return "  if torch.dim(input) < 2:\n"
         "    ops.prim.RaiseException(torch.format(\"Expected at least 2 dimensions for input tensor but received {}\", "
         "torch.dim(input)), \"builtins.RuntimeError\")\n"
         "  _size = [torch.size(input, 0) * torch.size(input, 1) // " + g + ", " + g + "] + torch.size(input)[2:]\n" +
         verify_batch_size("_size") +
         ret("torch.group_norm(input, " + g + ", " + l.param_ref("weight", false) + ", " + l.param_ref("bias", false) +
             ", " + lit(l.get_float("eps")) + ")");
}

// F.<name>(input, inplace): `name_` when inplace.
std::string gen_inplace_unary(const Layer& l, const std::string& name, const std::string& extra = "") {
  const bool inplace = l.get_bool("inplace");
  return ret("torch." + name + (inplace ? "_" : "") + "(input" + extra + ")");
}

std::string gen_hardtanh(const Layer& l) {
  const double lo = l.get_float("min_val"), hi = l.get_float("max_val");
  if (lo > hi) l.fail("has min_val ", lo, " greater than max_val ", hi);
  return gen_inplace_unary(l, "hardtanh", ", " + lit(lo) + ", " + lit(hi));
}

std::string gen_gelu(const Layer& l) {
  return ret("torch.gelu(input, approximate=" + lit_str(l.get_str("approximate", {"none", "tanh"})) + ")");
}

// F.softmax / F.log_softmax; dim None picks 0 for inputs of rank 0, 1 and 3, else 1 (_get_softmax_dim).
std::string gen_softmax(const Layer& l, const std::string& op) {
  const std::optional<int64_t> dim = l.get_opt_int("dim");
  if (dim) return ret("torch." + op + "(input, " + lit(*dim) + ")");
  return "  if torch.dim(input) == 0 or torch.dim(input) == 1 or torch.dim(input) == 3:\n"
         "    _dim = 0\n"
         "  else:\n"
         "    _dim = 1\n" +
         ret("torch." + op + "(input, _dim)");
}

std::string gen_dropout(const Layer& l) {
  const double p = l.get_float("p");
  if (p < 0 || p > 1) l.fail("has p = ", p, ", not a probability");
  return gen_inplace_unary(l, "dropout", ", " + lit(p) + ", False");
}

std::string gen_flatten(const Layer& l) {
  return ret("torch.flatten(input, " + lit(l.get_int("start_dim")) + ", " + lit(l.get_int("end_dim")) + ")");
}

std::string gen_unflatten(const Layer& l) {
  return ret("torch.unflatten(input, " + lit(l.get_int("dim")) + ", " + lit(l.get_ints("unflattened_size", 0)) + ")");
}

std::string gen_max_pool(const Layer& l, int n) {
  if (l.get_bool("return_indices")) l.fail("returns indices (a tuple), which a Sequential cannot pass on");
  const std::vector<int64_t> stride = l.is_none("stride") ? std::vector<int64_t>{} : l.get_ints("stride", n);
  return ret("torch.max_pool" + std::to_string(n) + "d(input, " + lit(l.get_ints("kernel_size", n)) + ", " +
             lit_int_list(stride) + ", " + lit(l.get_ints("padding", n)) + ", " + lit(l.get_ints("dilation", n)) + ", " +
             lit(l.get_bool("ceil_mode")) + ")");
}

std::string gen_avg_pool(const Layer& l, int n) {
  const std::vector<int64_t> stride = l.is_none("stride") ? std::vector<int64_t>{} : l.get_ints("stride", n);
  std::string args = "input, " + lit(l.get_ints("kernel_size", n)) + ", " + lit_int_list(stride) + ", " +
                     lit(l.get_ints("padding", n)) + ", " + lit(l.get_bool("ceil_mode")) + ", " +
                     lit(l.get_bool("count_include_pad"));
  if (n == 2) {
    const std::optional<int64_t> divisor = l.get_opt_int("divisor_override");
    if (divisor && *divisor == 0) l.fail("has divisor_override = 0");
    args += ", " + (divisor ? lit(*divisor) : std::string("None"));
  }
  return ret("torch.avg_pool" + std::to_string(n) + "d(" + args + ")");
}

std::string gen_adaptive_avg_pool1d(const Layer& l) {
  return ret("torch.adaptive_avg_pool1d(input, " + lit(l.get_ints("output_size", 1)) + ")");
}

// F.adaptive_avg_pool2d: an int is used as is; a tuple goes through _list_with_default, where None
// takes the input's size and the input needs more dims than the tuple has entries.
std::string gen_adaptive_avg_pool2d(const Layer& l) {
  const PickleValue& size = l.attr("output_size");
  if (size.is(K::kInt)) return ret("torch.adaptive_avg_pool2d(input, " + lit(l.get_ints("output_size", 2)) + ")");
  if ((!size.is(K::kTuple) && !size.is(K::kList)) || size.items().size() != 2) {
    l.fail("attribute 'output_size' is ", size.repr(60), ", not an int or a pair");
  }
  std::string list = "[";
  for (size_t i = 0; i < 2; ++i) {
    const PickleValue& v = *size.items()[i];
    if (i) list += ", ";
    if (v.is_none()) {
      list += "torch.size(input, " + lit(static_cast<int64_t>(i) - 2) + ")";
    } else if (v.is(K::kInt) && v.as_int() >= 0 && v.as_int() < (int64_t{1} << 40)) {
      list += lit(v.as_int());
    } else {
      l.fail("attribute 'output_size' is ", size.repr(60), ", not a pair of sizes or None");
    }
  }
  list += "]";
  return "  if torch.dim(input) <= 2:\n"
         "    ops.prim.RaiseException(\"Input dimension should be at least 3\", \"builtins.ValueError\")\n" +
         ret("torch.adaptive_avg_pool2d(input, " + list + ")");
}

// F.embedding without max_norm (max_norm renormalizes the weight in place at every call).
std::string gen_embedding(const Layer& l) {
  const std::string w = l.param_ref("weight", true, 2);
  if (!l.is_none("max_norm")) l.fail("has max_norm set: it rewrites the weight during forward, which is not supported");
  const int64_t rows = l.tensor("_parameters", "weight")->tensor().size(0);
  int64_t padding_idx = -1;
  if (std::optional<int64_t> p = l.get_opt_int("padding_idx")) {
    if (*p >= rows || *p < -rows) l.fail("has padding_idx ", *p, " outside its ", rows, " embeddings");
    padding_idx = *p < 0 ? rows + *p : *p;
  }
  return ret("torch.embedding(" + w + ", input, " + lit(padding_idx) + ", " + lit(l.get_bool("scale_grad_by_freq")) + ", " +
             lit(l.get_bool("sparse")) + ")");
}

std::string gen_constant_pad(const Layer& l, int n) {
  return ret("torch.pad(input, " + lit(l.get_ints("padding", 2 * n)) + ", \"constant\", " + lit(l.get_float("value")) + ")");
}

using Generator = std::string (*)(const Layer&);
struct LayerTemplate {
  std::string_view cls;
  Generator gen;
};

// Keep sorted by class (binary search; a static_assert checks the order).
constexpr LayerTemplate kLayerTemplates[] = {
    {"torch.nn.modules.activation.ELU", [](const Layer& l) { return gen_inplace_unary(l, "elu", ", " + lit(l.get_float("alpha"))); }},
    {"torch.nn.modules.activation.GELU", gen_gelu},
    {"torch.nn.modules.activation.Hardsigmoid", [](const Layer& l) { return gen_inplace_unary(l, "hardsigmoid"); }},
    {"torch.nn.modules.activation.Hardswish", [](const Layer& l) { return gen_inplace_unary(l, "hardswish"); }},
    {"torch.nn.modules.activation.Hardtanh", gen_hardtanh},
    {"torch.nn.modules.activation.LeakyReLU", [](const Layer& l) { return gen_inplace_unary(l, "leaky_relu", ", " + lit(l.get_float("negative_slope"))); }},
    {"torch.nn.modules.activation.LogSoftmax", [](const Layer& l) { return gen_softmax(l, "log_softmax"); }},
    {"torch.nn.modules.activation.Mish", [](const Layer& l) { return gen_inplace_unary(l, "mish"); }},
    {"torch.nn.modules.activation.PReLU", [](const Layer& l) { return ret("torch.prelu(input, " + l.param_ref("weight", true) + ")"); }},
    {"torch.nn.modules.activation.ReLU", [](const Layer& l) { return gen_inplace_unary(l, "relu"); }},
    {"torch.nn.modules.activation.ReLU6", gen_hardtanh},
    {"torch.nn.modules.activation.SiLU", [](const Layer& l) { return gen_inplace_unary(l, "silu"); }},
    {"torch.nn.modules.activation.Sigmoid", [](const Layer&) { return ret("torch.sigmoid(input)"); }},
    {"torch.nn.modules.activation.Softmax", [](const Layer& l) { return gen_softmax(l, "softmax"); }},
    {"torch.nn.modules.activation.Softplus", [](const Layer& l) { return ret("torch.softplus(input, " + lit(l.get_float("beta")) + ", " + lit(l.get_float("threshold")) + ")"); }},
    {"torch.nn.modules.activation.Tanh", [](const Layer&) { return ret("torch.tanh(input)"); }},
    {"torch.nn.modules.batchnorm.BatchNorm1d", [](const Layer& l) { return gen_batch_norm(l, 1); }},
    {"torch.nn.modules.batchnorm.BatchNorm2d", [](const Layer& l) { return gen_batch_norm(l, 2); }},
    {"torch.nn.modules.batchnorm.BatchNorm3d", [](const Layer& l) { return gen_batch_norm(l, 3); }},
    {"torch.nn.modules.container.Sequential", nullptr},  // built from its children
    {"torch.nn.modules.conv.Conv1d", [](const Layer& l) { return gen_conv(l, 1); }},
    {"torch.nn.modules.conv.Conv2d", [](const Layer& l) { return gen_conv(l, 2); }},
    {"torch.nn.modules.conv.Conv3d", [](const Layer& l) { return gen_conv(l, 3); }},
    {"torch.nn.modules.conv.ConvTranspose1d", [](const Layer& l) { return gen_conv_transpose(l, 1); }},
    {"torch.nn.modules.conv.ConvTranspose2d", [](const Layer& l) { return gen_conv_transpose(l, 2); }},
    {"torch.nn.modules.dropout.Dropout", gen_dropout},
    {"torch.nn.modules.flatten.Flatten", gen_flatten},
    {"torch.nn.modules.flatten.Unflatten", gen_unflatten},
    {"torch.nn.modules.linear.Identity", gen_identity},
    {"torch.nn.modules.linear.Linear", gen_linear},
    {"torch.nn.modules.normalization.GroupNorm", gen_group_norm},
    {"torch.nn.modules.normalization.LayerNorm", gen_layer_norm},
    {"torch.nn.modules.padding.ConstantPad1d", [](const Layer& l) { return gen_constant_pad(l, 1); }},
    {"torch.nn.modules.padding.ConstantPad2d", [](const Layer& l) { return gen_constant_pad(l, 2); }},
    {"torch.nn.modules.padding.ZeroPad1d", [](const Layer& l) { return gen_constant_pad(l, 1); }},
    {"torch.nn.modules.padding.ZeroPad2d", [](const Layer& l) { return gen_constant_pad(l, 2); }},
    {"torch.nn.modules.pooling.AdaptiveAvgPool1d", gen_adaptive_avg_pool1d},
    {"torch.nn.modules.pooling.AdaptiveAvgPool2d", gen_adaptive_avg_pool2d},
    {"torch.nn.modules.pooling.AvgPool1d", [](const Layer& l) { return gen_avg_pool(l, 1); }},
    {"torch.nn.modules.pooling.AvgPool2d", [](const Layer& l) { return gen_avg_pool(l, 2); }},
    {"torch.nn.modules.pooling.MaxPool1d", [](const Layer& l) { return gen_max_pool(l, 1); }},
    {"torch.nn.modules.pooling.MaxPool2d", [](const Layer& l) { return gen_max_pool(l, 2); }},
    {"torch.nn.modules.sparse.Embedding", gen_embedding},
};

constexpr bool templates_sorted() {
  for (size_t i = 1; i < std::size(kLayerTemplates); ++i) {
    if (!(kLayerTemplates[i - 1].cls < kLayerTemplates[i].cls)) return false;
  }
  return true;
}
static_assert(templates_sorted(), "kLayerTemplates must stay sorted by class");

const LayerTemplate* find_template(std::string_view cls) {
  auto it = std::lower_bound(std::begin(kLayerTemplates), std::end(kLayerTemplates), cls,
                             [](const LayerTemplate& t, std::string_view c) { return t.cls < c; });
  return it != std::end(kLayerTemplates) && it->cls == cls ? &*it : nullptr;
}

std::string supported_list() {
  std::string out;
  for (const LayerTemplate& t : kLayerTemplates) {
    out += (out.empty() ? "" : ", ") + public_name(std::string(t.cls));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Building the module tree.

// Submodule, parameter and buffer names become attribute names (and appear in generated source as
// getattr(self, "<name>")): torch allows any name without a dot; we take the common safe subset.
bool safe_attribute_name(const std::string& name) {
  if (name.empty() || name.size() > 200 || name == "training" || name == "forward") return false;
  if (name.starts_with("__")) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

class ModuleBuilder {
 public:
  explicit ModuleBuilder(const std::string& what)
      : what_(what), cu_(std::make_shared<torch::jit::CompilationUnit>()),
        resolver_(std::make_shared<GeneratedCodeResolver>()) {}

  torch::jit::Module build(const PickleValue& obj, const std::string& path, uint32_t depth);

 private:
  void check_module_object(const PickleValue& obj, const std::string& path) const;
  void register_tensors(torch::jit::Module& m, const Layer& layer);
  void define_forward(torch::jit::Module& m, const Layer& layer, const std::string& body);

  const std::string& what_;
  std::shared_ptr<torch::jit::CompilationUnit> cu_;
  std::shared_ptr<torch::jit::Resolver> resolver_;
  std::map<const PickleValue*, at::Tensor> tensors_;  // one at::Tensor per pickled tensor (tied weights stay tied)
  size_t layers_built_ = 0;
};

void ModuleBuilder::check_module_object(const PickleValue& obj, const std::string& path) const {
  const std::string where = path.empty() ? "the file" : "layer '" + path + "'";
  if (!obj.is(K::kObject)) {
    std::string hint;
    if (obj.is(K::kDict)) {
      hint = ": a state_dict has no forward, ptexport needs the model itself; " + std::string(kTorchScriptHint);
    }
    PTX_USER_FAIL(ExitCode::kInput, kDiagLayer)
        << what_ << ": " << where << " holds a " << obj.type_name() << ", not a torch.nn module" << hint;
  }
  const std::string& cls = obj.qualified_name();
  if (!std::string_view(cls).starts_with(kNnPrefix)) {
    PTX_USER_FAIL(ExitCode::kInput, kDiagUserClass)
        << what_ << ": " << where << " is a " << cls << ", not a torch.nn module";
  }
}

torch::jit::Module ModuleBuilder::build(const PickleValue& obj, const std::string& path, uint32_t depth) {
  check_module_object(obj, path);
  PTX_USER_CHECK(++layers_built_ <= 100000 && depth <= 200, ExitCode::kInput, kDiagLayer)
      << what_ << ": the module tree is deeper than 200 levels or has more than 100000 layers";
  const std::string& cls = obj.qualified_name();
  const LayerTemplate* tmpl = find_template(cls);
  if (!tmpl) {
    if (cls == "torch.nn.modules.container.ModuleList" || cls == "torch.nn.modules.container.ModuleDict") {
      PTX_USER_FAIL(ExitCode::kInput, kDiagUserClass)
          << what_ << ": " << (path.empty() ? "the file" : "layer '" + path + "'") << " is a " << public_name(cls)
          << ", which has no forward of its own: the forward that uses it belongs to a parent module whose Python "
          << "code a torch.save file does not contain; " << kTorchScriptHint;
    }
    PTX_USER_FAIL(ExitCode::kExportFailed, kDiagUnsupported)
        << what_ << ": " << (path.empty() ? "the file" : "layer '" + path + "'") << " is a " << public_name(cls)
        << ", which ptexport cannot rebuild from a torch.save file (supported: " << supported_list() << "); "
        << kTorchScriptHint;
  }
  Layer layer(obj, path, what_);
  // Hooks are Python callables: a module with any would not run as its class's forward alone.
  for (const char* hooks : {"_forward_hooks", "_forward_pre_hooks", "_forward_hooks_with_kwargs",
                            "_forward_pre_hooks_with_kwargs", "_forward_hooks_always_called"}) {
    const PickleValue* h = layer.find(hooks);
    if (h && !(h->is(K::kDict) && h->entries().empty())) layer.fail("has forward hooks (", hooks, "), which are Python code");
  }
  const PickleValue& children = layer.attr("_modules");
  if (!children.is(K::kDict)) layer.fail("attribute '_modules' is a ", children.type_name(), ", not a dict");

  // "torch.nn.modules.linear.Linear" -> "__torch__.torch.nn.modules.linear.Linear", as scripting names it.
  torch::jit::Module m(c10::QualifiedName("__torch__." + cls), cu_, /*shouldMangle=*/true);
  m.register_attribute("training", c10::BoolType::get(), false);

  std::string body;
  if (!tmpl->gen) {  // Sequential: call the children in order, as torch.jit.script unrolls it
    for (const auto& [key, child] : children.entries()) {
      if (!key->is(K::kStr) || !safe_attribute_name(key->as_str())) {
        layer.fail("has a submodule named ", key->repr(60), " (names must be letters, digits and _)");
      }
      const std::string& name = key->as_str();
      const std::string child_path = path.empty() ? name : path + "." + name;
      if (child->is_none()) continue;  // torch skips None entries of _modules
      m.register_module(name, build(*child, child_path, depth + 1));
      body += "  input = getattr(self, \"" + name + "\").forward(input)\n";
    }
    body += "  return input\n";
  } else {
    for (const auto& entry : children.entries()) {
      if (!entry.second->is_none()) layer.fail("has submodules, which its standard forward does not use");
    }
    body = tmpl->gen(layer);
  }
  register_tensors(m, layer);
  define_forward(m, layer, body);
  return m;
}

void ModuleBuilder::register_tensors(torch::jit::Module& m, const Layer& layer) {
  for (const char* dict : {"_parameters", "_buffers"}) {
    const PickleValue& d = layer.attr(dict);
    if (!d.is(K::kDict)) layer.fail("attribute '", dict, "' is a ", d.type_name(), ", not a dict");
    for (const auto& [key, value] : d.entries()) {
      if (!key->is(K::kStr) || !safe_attribute_name(key->as_str())) {
        layer.fail("has a tensor named ", key->repr(60), " (names must be letters, digits and _)");
      }
      if (value->is_none()) continue;  // e.g. bias=False: scripting makes it a None attribute, not a tensor
      const std::string& name = key->as_str();
      if (m.type()->hasAttribute(name)) layer.fail("has two tensors or a tensor and a submodule named '", name, "'");
      const at::Tensor& t = layer.tensor(dict, name)->tensor();
      auto [it, fresh] = tensors_.try_emplace(value.get());
      if (fresh) it->second = t.detach().requires_grad_(value->requires_grad() && t.is_floating_point());
      m.register_parameter(name, it->second, /*is_buffer=*/dict == std::string("_buffers"));
    }
  }
}

void ModuleBuilder::define_forward(torch::jit::Module& m, const Layer& layer, const std::string& body) {
  const std::string source = "def forward(self, input: Tensor) -> Tensor:\n" + body;
  // The file name of the generated source says where it came from, for stack traces and guards.
  const std::string origin = what_ + ": " + layer.label();
  try {
    torch::jit::Parser parser(std::make_shared<torch::jit::Source>(source, origin, 1));
    std::vector<torch::jit::Def> defs{torch::jit::Def(parser.parseFunction(/*is_method=*/true))};
    const auto self = torch::jit::SimpleSelf(m.type());
    cu_->define(m.type()->name(), {}, {}, defs, {resolver_}, &self);
  } catch (const std::exception& e) {
    PTX_INTERNAL_CHECK(false) << "generated TorchScript for " << layer.label() << " does not compile: " << e.what()
                              << "\nsource:\n" << source;
  }
}

}  // namespace

std::vector<std::string_view> supported_layer_classes() {
  std::vector<std::string_view> out;
  for (const LayerTemplate& t : kLayerTemplates) out.push_back(t.cls);
  return out;
}

torch::jit::Module module_from_pickle(const PickleValue& root, const std::string& what) {
  ModuleBuilder builder(what);
  torch::jit::Module m = builder.build(root, "", 0);
  m.eval();
  return m;
}

torch::jit::Module load_pickled_module(const std::filesystem::path& file) {
  if (!is_torch_save_archive(file)) {
    std::ifstream in(file, std::ios::binary);
    char head[2] = {0, 0};
    in.read(head, 2);
    PTX_USER_CHECK(!(in && static_cast<unsigned char>(head[0]) == 0x80), ExitCode::kInput, "E_MODEL_ZIP")
        << file.string() << ": a torch.save file in the legacy format (before torch 1.6, or "
        << "_use_new_zipfile_serialization=False), which is not supported; save it again with a current torch, "
        << "or " << kTorchScriptHint;
    PTX_USER_CHECK(!is_torchscript_archive(file), ExitCode::kInput, "E_MODEL_ZIP")
        << file.string() << ": a TorchScript archive, not a torch.save file (load it with torch::jit::load)";
  }
  PickleValuePtr root = load_torch_save(file);
  return module_from_pickle(*root, file.string());
}

namespace {
std::unique_ptr<TorchZipArchive> try_open(const std::filesystem::path& file) {
  try {
    return std::make_unique<TorchZipArchive>(file);
  } catch (const Error&) {
    return nullptr;
  }
}
bool has_code_folder(const TorchZipArchive& zip) {
  return std::any_of(zip.records().begin(), zip.records().end(),
                     [](const std::string& r) { return r.starts_with("code/"); });
}
}  // namespace

bool is_torchscript_archive(const std::filesystem::path& file) {
  std::unique_ptr<TorchZipArchive> zip = try_open(file);
  return zip && zip->has_record("constants.pkl") && has_code_folder(*zip);
}

bool is_torch_save_archive(const std::filesystem::path& file) {
  std::unique_ptr<TorchZipArchive> zip = try_open(file);
  return zip && zip->has_record("data.pkl") && !has_code_folder(*zip);
}

}  // namespace ptx
