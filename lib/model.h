// lib/model.h: loading a model file: a TorchScript archive (torch.jit.script / trace + save) or a
// torch.save'd nn.Module made of standard layers (lib/pickled_module.h). Never runs code from the file.
#pragma once

#include <torch/csrc/jit/api/module.h>

#include <filesystem>
#include <vector>
#include <string>

namespace ptx {

struct LoadedModel {
  torch::jit::Module module;   // in eval mode
  std::filesystem::path file;
  std::string kind;            // "torchscript" or "pickled-module"
  /// Operator libraries loaded because the archive calls their ops (torchvision's, found beside
  /// LibTorch: lib/custom_ops.h find_torchvision_library).
  std::vector<std::filesystem::path> loaded_libraries;
};

/// Loads `file`. UserError ExitCode::kInput naming the file and what is wrong when it is missing,
/// not a zip, truncated, or neither a TorchScript archive nor a loadable pickled module.
LoadedModel load_model(const std::filesystem::path& file);

}  // namespace ptx
