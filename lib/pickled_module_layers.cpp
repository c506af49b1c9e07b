// lib/pickled_module_layers.cpp: the template of each supported torch.nn layer, the TorchScript
// of its forward with its hyper-parameters written as literals (Note [Generated forwards] in
// lib/pickled_module.cpp), and their sorted table. See lib/pickled_module_impl.h.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "lib/pickled_module.h"
#include "lib/pickled_module_impl.h"

namespace ptx {
namespace pickled {
namespace {

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

}  // namespace

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

}  // namespace pickled

using pickled::kLayerTemplates;
using pickled::LayerTemplate;

std::vector<std::string_view> supported_layer_classes() {
  std::vector<std::string_view> out;
  for (const LayerTemplate& t : kLayerTemplates) out.push_back(t.cls);
  return out;
}

}  // namespace ptx
