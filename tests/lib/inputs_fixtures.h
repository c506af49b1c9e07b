// tests/lib/inputs_fixtures.h: what tests/lib/inputs_test.cpp and inputs_errors_test.cpp share: the
// data folder, forward's schema of a real TorchScript module, and a scratch folder for inputs.json.
#pragma once

#include <ATen/core/function_schema.h>
#include <torch/csrc/jit/api/module.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

inline const std::filesystem::path kData = std::filesystem::path(PTX_SOURCE_DIR) / "tests/lib/data";
/// forward's schema of a real TorchScript module compiled from `def forward(self, <params>)`
/// (torch::jit::parseSchema does not resolve a class type such as __torch__.M for self).
inline c10::FunctionSchema script_schema(const std::string& params) {
  torch::jit::Module m("__torch__.M");
  m.define("def forward(self, " + params + "):\n    return 0\n");
  return m.get_method("forward").function().getSchema();
}

inline const char* kParams = "x: Tensor, k: int = 3, ys: List[Tensor]";

/// A scratch folder with an inputs.json (and whatever else a test writes), removed at scope exit.
struct TempDir {
  TempDir() {
    static int n = 0;
    dir = std::filesystem::temp_directory_path() /
          ("ptx_inputs_test_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    std::filesystem::create_directories(dir);
  }
  ~TempDir() { std::filesystem::remove_all(dir); }
  std::filesystem::path write(const std::string& name, const std::string& text) const {
    std::ofstream(dir / name, std::ios::binary) << text;
    return dir / name;
  }
  std::filesystem::path dir;
};
