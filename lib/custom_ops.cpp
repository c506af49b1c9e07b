// lib/custom_ops.cpp: custom operators: loading libraries, --op-rules files, Meta-kernel shapes.
// See lib/custom_ops.h.
#include "lib/custom_ops.h"

#include <ATen/ATen.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <dlfcn.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <regex>
#include <set>

#include "ir/graph.h"
#include "lib/op_policy.h"
#include "shapes/error.h"
#include "shapes/sym_parse.h"

namespace ptx {
namespace {

using shapes::SymExpr;
using shapes::SymShape;

// ---- --op-rules: expressions over the arguments --------------------------------------------------

/// `x.shape[1]`, `x.size(1)`, `x.shape[-1]` -> an identifier the expression parser reads.
std::string rewrite_size_refs(const std::string& text) {
  static const std::regex ref(R"re((\w+)\s*\.\s*(?:shape\s*\[\s*(-?\d+)\s*\]|size\s*\(\s*(-?\d+)\s*\)))re");
  std::string out;
  auto begin = std::sregex_iterator(text.begin(), text.end(), ref);
  size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    const std::smatch& m = *it;
    std::string dim = m[2].matched ? m[2].str() : m[3].str();
    if (dim[0] == '-') dim = "m" + dim.substr(1);
    out += text.substr(last, static_cast<size_t>(m.position(0)) - last) + "SIZEOF__" + m[1].str() + "__" + dim;
    last = static_cast<size_t>(m.position(0) + m.length(0));
  }
  return out + text.substr(last);
}

struct RuleScope {
  const c10::FunctionSchema& schema;
  std::span<const shapes::RuleArg> args;
  std::string where;  // "rules.json: mylib::op"

  SymExpr lookup(const std::string& name) const {
    if (name.rfind("SIZEOF__", 0) == 0) {
      const std::string rest = name.substr(8);
      const auto sep = rest.rfind("__");
      const std::string arg = rest.substr(0, sep);
      std::string dim = rest.substr(sep + 2);
      const int64_t d = dim[0] == 'm' ? -std::stoll(dim.substr(1)) : std::stoll(dim);
      const shapes::RuleArg& a = by_name(arg);
      PTX_USER_CHECK(a.kind == shapes::RuleArg::Kind::kTensor, ExitCode::kInput, "E_OP_RULES")
          << where << ": " << arg << ".shape: '" << arg << "' is not a tensor argument";
      const int64_t rank = static_cast<int64_t>(a.shape.size());
      PTX_USER_CHECK(d >= -rank && d < rank, ExitCode::kInput, "E_OP_RULES")
          << where << ": " << arg << ".shape[" << d << "]: the argument has " << rank << " dimensions";
      return a.shape[static_cast<size_t>(d < 0 ? d + rank : d)];
    }
    const shapes::RuleArg& a = by_name(name);
    PTX_USER_CHECK(a.kind == shapes::RuleArg::Kind::kInt, ExitCode::kInput, "E_OP_RULES")
        << where << ": '" << name << "' is not an int argument (write " << name << ".shape[i] for a tensor's size)";
    return a.i;
  }

  const shapes::RuleArg& by_name(const std::string& name) const {
    const auto& params = schema.arguments();
    for (size_t i = 0; i < params.size() && i < args.size(); ++i) {
      if (params[i].name() == name) return args[i];
    }
    std::string known;
    for (const auto& p : params) known += (known.empty() ? "" : ", ") + p.name();
    PTX_USER_FAIL(ExitCode::kInput, "E_OP_RULES") << where << ": no argument named '" << name << "' (" << schema.name()
                                                  << " has: " << known << ")";
  }
};

shapes::RuleResult apply_rule(shapes::RuleContext& ctx, const OpRule& rule, std::span<const shapes::RuleArg> args,
                              const c10::FunctionSchema& schema, const std::vector<at::Tensor>& outputs) {
  const RuleScope scope{schema, args, "--op-rules entry " + rule.op};
  const auto var = [&](const std::string& n) { return scope.lookup(n); };
  for (const std::string& g : rule.guards) {
    const shapes::SymBool cond = shapes::parse_sym_bool(rewrite_size_refs(g), var);
    PTX_USER_CHECK(ctx.env.guard_bool(cond, ctx.why), ExitCode::kExportFailed, "E_OP_RULE_GUARD")
        << ctx.why.source << ": " << scope.where << ": its guard " << g << " does not hold on the sample inputs";
  }
  PTX_USER_CHECK(rule.outputs.size() == outputs.size(), ExitCode::kInput, "E_OP_RULES")
      << scope.where << ": " << rule.outputs.size() << " outputs, but the op returns " << outputs.size() << " tensors";
  shapes::RuleResult r;
  for (size_t o = 0; o < outputs.size(); ++o) {
    const OpRule::Output& spec = rule.outputs[o];
    SymShape shape;
    for (const std::string& e : spec.sizes) shape.push_back(shapes::parse_sym(rewrite_size_refs(e), var));
    std::vector<int64_t> at_sample;
    for (const SymExpr& e : shape) at_sample.push_back(ctx.env.hint_of(e));
    PTX_USER_CHECK(at_sample == outputs[o].sizes().vec(), ExitCode::kInput, "E_OP_RULES")
        << ctx.why.source << ": " << scope.where << ": output " << o << " has sizes " << shapes::to_string(shape)
        << " = " << c10::IntArrayRef(at_sample) << " on the sample, but the kernel returned " << outputs[o].sizes();
    if (!spec.dtype.empty()) {
      std::optional<ir::DType> want = ir::dtype_from_name(spec.dtype);
      if (!want) {
        const shapes::RuleArg& a = scope.by_name(spec.dtype);
        PTX_USER_CHECK(a.kind == shapes::RuleArg::Kind::kTensor, ExitCode::kInput, "E_OP_RULES")
            << scope.where << ": dtype '" << spec.dtype << "' is neither a dtype name nor a tensor argument";
        want = static_cast<ir::DType>(a.dtype);
      }
      const auto got = static_cast<ir::DType>(static_cast<int>(outputs[o].scalar_type()));
      PTX_USER_CHECK(*want == got, ExitCode::kInput, "E_OP_RULES")
          << ctx.why.source << ": " << scope.where << ": output " << o << " has dtype " << ir::dtype_name(*want)
          << " by the rule, but the kernel returned " << ir::dtype_name(got);
    }
    r.shapes.push_back(std::move(shape));
  }
  return r;
}

// ---- Meta kernels ---------------------------------------------------------------------------------

/// The output sizes of the op's Meta kernel on meta tensors with the symbols at `values`; nullopt if
/// the kernel throws there.
std::optional<std::vector<std::vector<int64_t>>> run_meta(const c10::OperatorHandle& op,
                                                          std::span<const shapes::RuleArg> args,
                                                          const std::vector<c10::IValue>& inputs,
                                                          const shapes::Assignment& values) {
  const auto eval = [&](const SymShape& s) {
    std::vector<int64_t> out;
    for (const SymExpr& e : s) out.push_back(*shapes::evaluate(e, values));
    return out;
  };
  torch::jit::Stack stack;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const c10::IValue& v = inputs[i];
    const shapes::RuleArg* a = i < args.size() ? &args[i] : nullptr;
    if (v.isTensor() && a && a->kind == shapes::RuleArg::Kind::kTensor) {
      stack.emplace_back(at::empty(eval(a->shape), v.toTensor().options().device(at::kMeta)));
    } else if (v.isInt() && a && a->kind == shapes::RuleArg::Kind::kInt) {
      stack.emplace_back(*shapes::evaluate(a->i, values));
    } else {
      stack.push_back(v);
    }
  }
  try {
    op.callBoxed(stack);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  std::vector<std::vector<int64_t>> out;
  for (const c10::IValue& v : stack) {
    if (v.isTensor()) out.push_back(v.toTensor().sizes().vec());
    if (v.isTensorList()) {
      for (const at::Tensor& t : v.toTensorVector()) out.push_back(t.sizes().vec());
    }
  }
  return out;
}

std::vector<SymExpr> symbols_of(std::span<const shapes::RuleArg> args) {
  std::set<int> seen;
  std::vector<SymExpr> out;
  const auto add = [&](const SymExpr& e) {
    for (const SymExpr& s : shapes::free_symbols(e)) {
      if (seen.insert(s.symbol_id()).second) out.push_back(s);
    }
  };
  for (const shapes::RuleArg& a : args) {
    if (a.kind == shapes::RuleArg::Kind::kTensor) {
      for (const SymExpr& e : a.shape) add(e);
    }
    if (a.kind == shapes::RuleArg::Kind::kInt) add(a.i);
  }
  return out;
}

shapes::RuleResult meta_shapes(shapes::RuleContext& ctx, const c10::OperatorHandle& op,
                               std::span<const shapes::RuleArg> args, const std::vector<c10::IValue>& inputs,
                               const std::vector<at::Tensor>& outputs) {
  shapes::RuleResult r;
  const shapes::Assignment& hints = ctx.env.hints();
  const auto base = run_meta(op, args, inputs, hints);
  std::vector<std::vector<int64_t>> concrete;
  for (const at::Tensor& t : outputs) concrete.push_back(t.sizes().vec());
  if (!base || *base != concrete) {
    r.error = "its Meta kernel " + std::string(base ? "gives other sizes than its kernel" : "fails") + " on the sample";
    return r;
  }
  const std::vector<SymExpr> syms = symbols_of(args);
  // coeff[k][o][d]: how output o's dim d moves per unit of symbol k.
  std::vector<std::vector<std::vector<int64_t>>> coeff;
  bool affine = true;
  shapes::Assignment all_moved = hints;
  for (const SymExpr& s : syms) {
    shapes::Assignment at1 = hints, at2 = hints;
    at1[s.symbol_id()] += 1;
    at2[s.symbol_id()] += 2;
    all_moved[s.symbol_id()] += 3;
    const auto r1 = run_meta(op, args, inputs, at1), r2 = run_meta(op, args, inputs, at2);
    std::vector<std::vector<int64_t>> c = *base;
    for (size_t o = 0; affine && o < base->size(); ++o) {
      affine = r1 && r2 && (*r1)[o].size() == (*base)[o].size() && (*r2)[o].size() == (*base)[o].size();
      for (size_t d = 0; affine && d < (*base)[o].size(); ++d) {
        c[o][d] = (*r1)[o][d] - (*base)[o][d];
        affine = (*r2)[o][d] - (*r1)[o][d] == c[o][d];
      }
    }
    coeff.push_back(std::move(c));
  }
  for (size_t o = 0; o < base->size(); ++o) {
    SymShape shape;
    for (size_t d = 0; d < (*base)[o].size(); ++d) {
      SymExpr e((*base)[o][d]);
      for (size_t k = 0; k < syms.size() && affine; ++k) {
        e = e + SymExpr(coeff[k][o][d]) * (syms[k] - SymExpr(hints.at(syms[k].symbol_id())));
      }
      shape.push_back(e);
    }
    r.shapes.push_back(std::move(shape));
  }
  if (affine && !syms.empty()) {
    const auto moved = run_meta(op, args, inputs, all_moved);
    for (size_t o = 0; affine && moved && o < r.shapes.size(); ++o) {
      for (size_t d = 0; affine && d < r.shapes[o].size(); ++d) {
        affine = o < moved->size() && d < (*moved)[o].size() &&
                 shapes::evaluate(r.shapes[o][d], all_moved) == (*moved)[o][d];
      }
    }
    affine = affine && moved.has_value();
  }
  if (!affine) {
    // Not an affine function of the symbols: the sample's sizes, valid only where the symbols the
    // op reads keep their sample values (guards say so).
    for (const SymExpr& s : syms) ctx.env.guard_int(s, ctx.why);
    r.shapes.clear();
    for (const auto& sizes : *base) r.shapes.emplace_back(sizes.begin(), sizes.end());
  }
  return r;
}

}  // namespace

namespace {
const OpRules* g_active_rules = nullptr;
}  // namespace

const OpRules* active_op_rules() { return g_active_rules; }
ScopedOpRules::ScopedOpRules(const OpRules* rules) : previous_(g_active_rules) { g_active_rules = rules; }
ScopedOpRules::~ScopedOpRules() { g_active_rules = previous_; }

namespace {

/// The namespaces of every operator registered with the dispatcher ("aten", "mylib", ...).
std::set<std::string> op_namespaces() {
  std::set<std::string> out;
  for (const c10::OperatorName& op : c10::Dispatcher::singleton().getAllOpNames()) {
    const auto sep = op.name.find("::");
    if (sep != std::string::npos) out.insert(op.name.substr(0, sep));
  }
  return out;
}

}  // namespace

void load_op_library(const std::filesystem::path& path) {
  PTX_USER_CHECK(std::filesystem::exists(path), ExitCode::kInput, "E_LOAD_LIBRARY")
      << "--load-library " << path.string() << ": no such file";
  // An absolute path, or dlopen would search the library path instead of the current folder.
  const std::string abs = std::filesystem::absolute(path).string();
  const std::set<std::string> before = op_namespaces();
  void* handle = dlopen(abs.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    PTX_USER_FAIL(ExitCode::kInput, "E_LOAD_LIBRARY")
        << "--load-library " << path.string() << ": cannot load it: " << (why ? why : "unknown error");
  }
  // The user loaded the library, so its code already ran: its operators may run too
  // (lib/op_policy.h, rule 1). Only namespaces it registered; not aten's, even if it adds to them.
  for (const std::string& ns : op_namespaces()) {
    if (!before.count(ns)) allow_op_namespace(ns);
  }
}

namespace {

/// The torchvision/_C*.so directly in `packages/torchvision`, if any.
std::optional<std::filesystem::path> torchvision_in(const std::filesystem::path& packages) {
  std::error_code ec;
  const std::filesystem::path dir = packages / "torchvision";
  if (!std::filesystem::is_directory(dir, ec)) return std::nullopt;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("_C", 0) == 0 && name.size() > 3 && name.compare(name.size() - 3, 3, ".so") == 0 &&
        (name == "_C.so" || name[2] == '.')) {
      return e.path();
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::filesystem::path> find_torchvision_library() {
  if (const char* env = std::getenv("PTEXPORT_TORCHVISION_LIBRARY")) {
    if (*env == '\0') return std::nullopt;
    return std::filesystem::path(env);
  }
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&at::_ops::add_Tensor::call), &info) == 0 || info.dli_fname == nullptr) {
    return std::nullopt;
  }
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::weakly_canonical(info.dli_fname, ec).parent_path();
  for (int up = 0; up <= 4 && !dir.empty(); ++up, dir = dir.parent_path()) {
    std::vector<std::filesystem::path> places = {dir, dir / "python3" / "dist-packages"};
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      const std::string name = e.path().filename().string();
      if (name.rfind("python3.", 0) == 0) {
        places.push_back(e.path() / "dist-packages");
        places.push_back(e.path() / "site-packages");
      }
    }
    for (const std::filesystem::path& p : places) {
      if (auto found = torchvision_in(p)) return found;
    }
    if (dir == dir.root_path()) break;
  }
  return std::nullopt;
}

bool is_custom_op(const std::string& name) {
  static const std::set<std::string> kTorch = {"aten", "prim", "_operator", "profiler", "quantized", "_quantized",
                                               "cuda", "onnx", "_caffe2", "attr", "scope", "user", "namespaces",
                                               "_c10d_functional", "c10d", "mkldnn", "_test", "torchvision",
                                               "torchaudio", "inductor", "higher_order", "_prims", "prims"};
  const auto sep = name.find("::");
  return sep != std::string::npos && !kTorch.count(name.substr(0, sep));
}

void OpRules::load(const std::filesystem::path& path) {
  std::ifstream in(path);
  PTX_USER_CHECK(in.good(), ExitCode::kInput, "E_OP_RULES") << "--op-rules " << path.string() << ": cannot read it";
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    PTX_USER_FAIL(ExitCode::kInput, "E_OP_RULES") << path.string() << ": not JSON: " << e.what();
  }
  const auto bad = [&](const std::string& where, const std::string& what) {
    PTX_USER_FAIL(ExitCode::kInput, "E_OP_RULES") << path.string() << ": " << where << ": " << what
                                                  << " (format: docs/op-rules.md)";
  };
  if (!doc.is_object() || doc.value("schema", "") != "ptexport.op_rules/v1" || !doc.contains("ops") ||
      !doc["ops"].is_object()) {
    bad("top level", "expected {\"schema\": \"ptexport.op_rules/v1\", \"ops\": {...}}");
  }
  for (const auto& [op, entry] : doc["ops"].items()) {
    if (op.find("::") == std::string::npos) bad(op, "an op is named namespace::name[.overload]");
    if (!entry.is_object() || !entry.contains("outputs") || !entry["outputs"].is_array()) bad(op, "no \"outputs\" list");
    OpRule rule;
    rule.op = op;
    for (const auto& o : entry["outputs"]) {
      if (!o.is_object() || !o.contains("sizes") || !o["sizes"].is_array()) bad(op, "an output needs \"sizes\": [...]");
      OpRule::Output out;
      if (o.contains("dtype")) {
        if (!o["dtype"].is_string()) bad(op, "\"dtype\" is a string");
        out.dtype = o["dtype"];
      }
      for (const auto& s : o["sizes"]) {
        if (s.is_number_integer()) {
          out.sizes.push_back(std::to_string(s.get<int64_t>()));
        } else if (s.is_string()) {
          out.sizes.push_back(s);
        } else {
          bad(op, "a size is an int or an expression string");
        }
      }
      rule.outputs.push_back(std::move(out));
    }
    if (entry.contains("guards")) {
      if (!entry["guards"].is_array()) bad(op, "\"guards\" is a list of strings");
      for (const auto& g : entry["guards"]) {
        if (!g.is_string()) bad(op, "\"guards\" is a list of strings");
        rule.guards.push_back(g);
      }
    }
    // Syntax errors show now, not at the op's first call.
    try {
      const auto any = [](const std::string&) { return SymExpr(1); };
      for (const auto& o : rule.outputs) {
        for (const auto& s : o.sizes) (void)shapes::parse_sym(rewrite_size_refs(s), any);
      }
      for (const auto& g : rule.guards) (void)shapes::parse_sym_bool(rewrite_size_refs(g), any);
    } catch (const UserError& e) {
      bad(op, e.what());
    }
    files_[op] = path.string();
    rules_[op] = std::move(rule);
  }
}

const OpRule* OpRules::find(const std::string& name, const std::string& overload) const {
  auto it = rules_.find(name + "." + overload);
  if (it == rules_.end()) it = rules_.find(name);
  return it == rules_.end() ? nullptr : &it->second;
}

shapes::RuleResult custom_op_shapes(shapes::RuleContext& ctx, std::span<const shapes::RuleArg> args,
                                    const c10::FunctionSchema& schema, const std::vector<c10::IValue>& inputs,
                                    const std::vector<at::Tensor>& outputs, const OpRules* rules) {
  const std::string overload = schema.overload_name().empty() ? "default" : schema.overload_name();
  if (rules != nullptr) {
    if (const OpRule* rule = rules->find(schema.name(), overload)) return apply_rule(ctx, *rule, args, schema, outputs);
  }
  const auto op = c10::Dispatcher::singleton().findSchema({schema.name(), schema.overload_name()});
  if (op && (op->hasKernelForDispatchKey(c10::DispatchKey::Meta) ||
             op->hasKernelForDispatchKey(c10::DispatchKey::CompositeImplicitAutograd))) {
    shapes::RuleResult r = meta_shapes(ctx, *op, args, inputs, outputs);
    if (r.error.empty()) return r;
    r.error = "custom operator " + schema.name() + ": " + r.error;
    return r;
  }
  shapes::RuleResult r;
  r.error = "custom operator " + schema.name() + "." + overload +
            " has no Meta kernel and no --op-rules entry: register a Meta kernel in its library "
            "(TORCH_LIBRARY_IMPL(" + schema.name().substr(0, schema.name().find("::")) +
            ", Meta, m) { m.impl(...); }) or give its output sizes in a file passed with --op-rules FILE "
            "(format: docs/op-rules.md)";
  return r;
}

}  // namespace ptx
