// bench/frontend_bench.cpp: times the frontend (trace + shape propagation, lib/frontend.h
// trace_module) in-process on TorchScript models made by tests/models/make_models.py (not a test;
// docs/status.md records the figures). Loading the model and inputs.json is timed separately and
// once; the trace runs `runs` times on the same loaded model and the median is reported.
// Usage: frontend_bench MODELS_DIR [runs] [model...]
//   (default models: resnet50 resnet50_traced vit_b_16_full vit_b_16_full_traced, from
//   `make_models.py --group zoo`: the full-size torchvision models)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "lib/frontend.h"
#include "lib/inputs.h"
#include "lib/method.h"
#include "lib/model.h"
#include "shapes/error.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: frontend_bench MODELS_DIR [runs] [model...]\n");
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  const int runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
  std::vector<std::string> names;
  for (int i = 3; i < argc; ++i) names.emplace_back(argv[i]);
  if (names.empty()) names = {"resnet50", "resnet50_traced", "vit_b_16_full", "vit_b_16_full_traced"};

  std::printf("%-22s %8s %8s %8s %8s %10s %10s %10s\n", "model", "load_s", "ts_nodes", "ir_nodes", "guards",
              "median_s", "min_s", "max_s");
  int status = 0;
  for (const std::string& name : names) {
    const std::filesystem::path model_file = dir / name / "model.pt";
    const std::filesystem::path inputs_file = dir / name / "inputs.json";
    try {
      auto t0 = std::chrono::steady_clock::now();
      const ptx::LoadedModel model = ptx::load_model(model_file);
      const ptx::Inputs inputs = ptx::choose_method(model.module, model_file, inputs_file, {}).inputs;
      const double load_s = seconds_since(t0);
      std::vector<double> times;
      int ts_nodes = 0;
      size_t ir_nodes = 0, guards = 0;
      for (int r = 0; r < runs; ++r) {
        t0 = std::chrono::steady_clock::now();
        const ptx::TraceResult result = ptx::trace_module(model, inputs);
        times.push_back(seconds_since(t0));
        ts_nodes = result.script_nodes;
        ir_nodes = result.program.graph->nodes().size();
        guards = result.env.guards().size();
      }
      std::sort(times.begin(), times.end());
      std::printf("%-22s %8.3f %8d %8zu %8zu %10.4f %10.4f %10.4f\n", name.c_str(), load_s, ts_nodes, ir_nodes, guards,
                  times[times.size() / 2], times.front(), times.back());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: %s\n", name.c_str(), e.what());
      status = 1;
    }
  }
  return status;
}
