// lib/pickled_module.cpp: torch.save'd Sequential models as TorchScript modules (lib/pickled_module.h).
// This file builds the module tree; the layer templates are in lib/pickled_module_layers.cpp
// (lib/pickled_module_impl.h).
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

#include "lib/pickled_module_impl.h"

namespace ptx {
namespace pickled {
namespace {

constexpr const char* kDiagUnsupported = "E_MODEL_UNSUPPORTED_LAYER";
constexpr const char* kDiagUserClass = "E_MODEL_USER_CLASS";

constexpr const char* kTorchScriptHint =
    "save the model as TorchScript instead, e.g. torch.jit.script(model).save(\"model.pt\") or "
    "torch.jit.trace(model, example_inputs).save(\"model.pt\"), and export that file";

}  // namespace

// "torch.nn.modules.linear.Linear" -> "torch.nn.Linear" (how the docs name it).
std::string public_name(const std::string& qualified) {
  if (!std::string_view(qualified).starts_with(kNnPrefix)) return qualified;
  return "torch.nn." + qualified.substr(qualified.rfind('.') + 1);
}

namespace {

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
}  // namespace pickled

using pickled::kTorchScriptHint;
using pickled::ModuleBuilder;

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
