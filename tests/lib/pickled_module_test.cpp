// tests/lib/pickled_module_test.cpp: torch.save'd models loaded as TorchScript modules
// (lib/pickled_module.h), run with torch::jit and compared with eager PyTorch's outputs, and with the
// graph torch.jit.script makes of the same model. Test files: tests/lib/pickles/make_pickles.py.
#include "lib/pickled_module.h"

#include "lib/frontend.h"
#include "lib/interpreter.h"
#include "lib/model.h"

#include "shapes/error.h"

#include <ATen/ATen.h>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/freeze_module.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/csrc/jit/serialization/import.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

using Catch::Matchers::ContainsSubstring;
using ptx::ExitCode;

namespace {

const std::filesystem::path kPickles = std::filesystem::path(PTX_BINARY_DIR) / "pickles";

// Tensor-producing aten ops of forward after freezing, inlining and constant propagation, in order
// (through the blocks of prim::If): what the frontend will interpret.
std::vector<std::string> frozen_tensor_ops(const torch::jit::Module& module) {
  torch::jit::Module frozen = torch::jit::freeze_module(module);
  std::shared_ptr<torch::jit::Graph> graph = frozen.get_method("forward").graph();
  torch::jit::Inline(*graph);
  torch::jit::ConstantPropagation(graph);
  std::vector<std::string> ops;
  std::function<void(torch::jit::Block*)> walk = [&](torch::jit::Block* block) {
    for (torch::jit::Node* node : block->nodes()) {
      for (torch::jit::Block* sub : node->blocks()) walk(sub);
      if (node->kind().is_aten() && !node->outputs().empty() &&
          node->output(0)->type()->kind() == c10::TypeKind::TensorType) {
        ops.push_back(node->kind().toQualString());
      }
    }
  };
  walk(graph->block());
  return ops;
}

std::string user_error(const std::filesystem::path& file, ExitCode want) {
  try {
    ptx::load_pickled_module(file);
  } catch (const ptx::UserError& e) {
    REQUIRE(e.code() == want);
    return e.what();
  }
  FAIL("loaded " << file);
  return "";
}

}  // namespace

TEST_CASE("torch.save'd Sequential models run like eager PyTorch", "[lib][pickled_module][torch]") {
  const std::string name = GENERATE("mlp", "cnn", "emb", "zoo1d", "zoo2d", "nested", "single");
  INFO(name);
  const auto file = kPickles / (name + ".pt");
  REQUIRE(ptx::is_torch_save_archive(file));
  CHECK_FALSE(ptx::is_torchscript_archive(file));
  torch::jit::Module module = ptx::load_pickled_module(file);
  CHECK_FALSE(module.is_training());
  for (const auto& m : module.modules()) CHECK_FALSE(m.is_training());

  ptx::PickleValuePtr ref = ptx::load_torch_save(kPickles / (name + ".ref.pt"));
  const at::Tensor input = ref->get("input")->tensor();
  const at::Tensor want = ref->get("output")->tensor();
  at::Tensor got = module.forward({input.clone()}).toTensor();
  REQUIRE(got.sizes() == want.sizes());
  REQUIRE(got.scalar_type() == want.scalar_type());
  REQUIRE(at::allclose(got, want, 1e-5, 1e-6));

  // The TorchScript path (torch.jit.script of the same model, when torch can script it) has the same
  // parameters and buffers under the same names, and the same tensor ops once frozen.
  const auto scripted_file = kPickles / (name + ".script.pt");
  if (std::filesystem::exists(scripted_file)) {
    torch::jit::Module scripted = torch::jit::load(scripted_file.string());
    std::map<std::string, at::Tensor> ours, theirs;
    for (const auto& p : module.named_parameters()) ours[p.name] = p.value;
    for (const auto& p : scripted.named_parameters()) theirs[p.name] = p.value;
    for (const auto& b : module.named_buffers()) ours["buffer " + b.name] = b.value;
    for (const auto& b : scripted.named_buffers()) theirs["buffer " + b.name] = b.value;
    REQUIRE(ours.size() == theirs.size());
    for (const auto& [key, value] : theirs) {
      INFO(key);
      REQUIRE(ours.count(key));
      REQUIRE(at::equal(ours[key], value));
    }
    REQUIRE(frozen_tensor_ops(module) == frozen_tensor_ops(scripted));
    REQUIRE(at::allclose(scripted.forward({input.clone()}).toTensor(), want, 1e-5, 1e-6));
  } else {
    REQUIRE(name == "zoo2d");  // AdaptiveAvgPool2d((None, 2)) cannot be scripted; eager is the reference
  }
}

TEST_CASE("pickled modules keep torch's names and tensors", "[lib][pickled_module][torch]") {
  torch::jit::Module cnn = ptx::load_pickled_module(kPickles / "cnn.pt");
  std::set<std::string> names;
  for (const auto& p : cnn.named_parameters()) names.insert(p.name);
  REQUIRE(names == std::set<std::string>{"0.weight", "0.bias", "1.weight", "1.bias", "4.weight", "4.bias", "5.weight",
                                       "5.bias", "9.weight", "9.bias"});
  std::set<std::string> buffers;
  for (const auto& b : cnn.named_buffers()) buffers.insert(b.name);
  REQUIRE(buffers.count("1.running_mean"));
  REQUIRE(buffers.count("5.num_batches_tracked"));
  REQUIRE(cnn.type()->name()->qualifiedName().find("__torch__.torch.nn.modules.container") == 0);

  torch::jit::Module nested = ptx::load_pickled_module(kPickles / "nested.pt");
  names.clear();
  for (const auto& p : nested.named_parameters()) names.insert(p.name);
  REQUIRE(names == std::set<std::string>{"fc1.weight", "conv.weight", "conv.bias", "bn3.weight", "bn3.bias", "fc2.weight",
                                       "fc2.bias"});
  buffers.clear();
  for (const auto& b : nested.named_buffers()) buffers.insert(b.name);
  REQUIRE(buffers.count("block.norm.running_var"));
}

TEST_CASE("pickled modules name their origin in the generated code", "[lib][pickled_module]") {
  torch::jit::Module mlp = ptx::load_pickled_module(kPickles / "mlp.pt");
  torch::jit::Module linear = mlp.attr("0").toModule();
  std::ostringstream graph;
  graph << *linear.get_method("forward").graph();
  CHECK_THAT(graph.str(), ContainsSubstring("aten::linear"));
  const torch::jit::Node* node = nullptr;
  for (const torch::jit::Node* n : linear.get_method("forward").graph()->nodes()) {
    if (n->kind() == c10::Symbol::fromQualString("aten::linear")) node = n;
  }
  REQUIRE(node);
  const auto range = node->sourceRange();
  REQUIRE(range.source());
  REQUIRE(range.source()->filename());
  CHECK_THAT(*range.source()->filename(), ContainsSubstring("mlp.pt: layer '0' (torch.nn.Linear)"));
}

TEST_CASE("a user class is refused with the way to TorchScript", "[lib][pickled_module][security]") {
  std::string msg = user_error(kPickles / "user_class.pt", ExitCode::kInput);
  CHECK_THAT(msg, ContainsSubstring("class '__main__.Net' is not a standard torch.nn layer"));
  CHECK_THAT(msg, ContainsSubstring("forward is Python code that the file does not contain"));
  CHECK_THAT(msg, ContainsSubstring("torch.jit.script(model).save(\"model.pt\")"));
  msg = user_error(kPickles / "user_block.pt", ExitCode::kInput);
  CHECK_THAT(msg, ContainsSubstring("'__main__.Block'"));
}

TEST_CASE("files that are not a loadable module are explained", "[lib][pickled_module]") {
  CHECK_THAT(user_error(kPickles / "state_dict.pt", ExitCode::kInput),
             ContainsSubstring("holds a OrderedDict, not a torch.nn module: a state_dict has no forward"));
  CHECK_THAT(user_error(kPickles / "module_list.pt", ExitCode::kInput),
             ContainsSubstring("is a torch.nn.ModuleList, which has no forward of its own"));
  const std::string lstm = user_error(kPickles / "lstm.pt", ExitCode::kExportFailed);
  CHECK_THAT(lstm, ContainsSubstring("layer '1' is a torch.nn.LSTM, which ptexport cannot rebuild"));
  CHECK_THAT(lstm, ContainsSubstring("torch.nn.Conv2d"));
  CHECK_THAT(user_error(kPickles / "legacy.pt", ExitCode::kInput), ContainsSubstring("legacy format"));
  CHECK_THAT(user_error(kPickles / "torchscript.pt", ExitCode::kInput), ContainsSubstring("a TorchScript archive"));
  CHECK_THAT(user_error(kPickles / "os_system.pt", ExitCode::kInput), ContainsSubstring("global 'os.system' is refused"));
  CHECK_FALSE(std::filesystem::exists(kPickles / "MARKER.os_system"));
}

TEST_CASE("archive kinds are told apart without throwing", "[lib][pickled_module]") {
  REQUIRE(ptx::is_torchscript_archive(kPickles / "torchscript.pt"));
  CHECK_FALSE(ptx::is_torch_save_archive(kPickles / "torchscript.pt"));
  REQUIRE(ptx::is_torch_save_archive(kPickles / "state_dict.pt"));
  CHECK_FALSE(ptx::is_torch_save_archive(kPickles / "legacy.pt"));
  CHECK_FALSE(ptx::is_torchscript_archive(kPickles / "legacy.pt"));
  CHECK_FALSE(ptx::is_torch_save_archive(kPickles / "does_not_exist.pt"));
  CHECK_FALSE(ptx::is_torchscript_archive(std::filesystem::path(PTX_SOURCE_DIR) / "CMakeLists.txt"));
}

TEST_CASE("the model loader dispatches torch.save files to the pickled-module loader", "[lib][pickled_module]") {
  ptx::LoadedModel loaded = ptx::load_model(kPickles / "mlp.pt");
  REQUIRE(loaded.kind == "pickled-module");
  CHECK_FALSE(loaded.module.is_training());
  ptx::PickleValuePtr ref = ptx::load_torch_save(kPickles / "mlp.ref.pt");
  REQUIRE(at::allclose(loaded.module.forward({ref->get("input")->tensor()}).toTensor(), ref->get("output")->tensor(),
                     1e-5, 1e-6));
  REQUIRE(ptx::load_model(kPickles / "torchscript.pt").kind == "torchscript");
  try {
    ptx::load_model(kPickles / "user_class.pt");
    FAIL("loaded a user class");
  } catch (const ptx::UserError& e) {
    REQUIRE(e.code() == ExitCode::kInput);
    CHECK_THAT(std::string(e.what()), ContainsSubstring("torch.jit.script(model).save"));
  }
}

// zoo2d is left out until shapes/rules has aten::prelu (the frontend reports it as the one op without a rule).
TEST_CASE("the frontend traces pickled models with a dynamic batch", "[lib][pickled_module][frontend]") {
  const std::string name = GENERATE("mlp", "cnn", "emb", "zoo1d", "nested", "single");
  INFO(name);
  ptx::LoadedModel model = ptx::load_model(kPickles / (name + ".pt"));
  ptx::PickleValuePtr ref = ptx::load_torch_save(kPickles / (name + ".ref.pt"));
  const at::Tensor sample = ref->get("input")->tensor();
  ptx::Inputs inputs;
  inputs.file = "inputs.json";
  ptx::SampleSet set;
  set.args.emplace_back(sample);
  set.names.push_back("input");
  std::vector<ptx::DimMark> dims(static_cast<size_t>(sample.dim()));
  dims[0].kind = ptx::DimMark::Kind::kSymbol;
  dims[0].symbol = "batch";
  set.tensors.push_back({"input", sample.sizes().vec(), dims});
  inputs.sets.push_back(set);
  inputs.symbols["batch"] = {"batch", 2, 64};
  const ptx::TraceResult traced = ptx::trace_module(model, inputs);
  // The program equals the eager reference on the sample, and the module at other batch sizes.
  const std::vector<at::Tensor> got = ptx::run_program(traced.program, {sample.clone()});
  REQUIRE(got.size() == 1);
  REQUIRE(at::allclose(got[0], ref->get("output")->tensor(), 1e-5, 1e-6));
  for (int64_t batch : {2, 9, 64}) {
    INFO("batch " << batch);
    std::vector<int64_t> shape = sample.sizes().vec();
    shape[0] = batch;
    const at::Tensor x = sample.is_floating_point() ? at::randn(shape) : at::randint(0, 50, shape, at::kLong);
    const std::vector<at::Tensor> y = ptx::run_program(traced.program, {x.clone()});
    REQUIRE(at::allclose(y[0], model.module.forward({x.clone()}).toTensor(), 1e-5, 1e-6));
  }
}

TEST_CASE("supported layer classes are sorted and named as torch names them", "[lib][pickled_module]") {
  const auto classes = ptx::supported_layer_classes();
  REQUIRE(std::is_sorted(classes.begin(), classes.end()));
  REQUIRE(std::find(classes.begin(), classes.end(), "torch.nn.modules.conv.Conv2d") != classes.end());
  for (auto c : classes) CHECK(c.starts_with("torch.nn.modules."));
}

// Prints the generated forward of every layer of every test model (for reading, not a check):
//   lib_tests "[.dump]"
TEST_CASE("dump generated forwards", "[.dump]") {
  for (const char* name : {"mlp", "cnn", "emb", "zoo1d", "zoo2d", "nested"}) {
    torch::jit::Module m = ptx::load_pickled_module(kPickles / (std::string(name) + ".pt"));
    for (const auto& sub : m.named_modules()) {
      std::cout << "# " << name << " " << (sub.name.empty() ? "<root>" : sub.name) << " "
                << sub.value.type()->name()->qualifiedName() << "\n"
                << sub.value.get_method("forward").function().qualname().qualifiedName() << "\n";
      auto* fn = dynamic_cast<torch::jit::GraphFunction*>(&sub.value.get_method("forward").function());
      if (fn) std::cout << fn->graph()->toString(false) << "\n";
    }
  }
}
