// cmd/stages.h: the one stage runner of the commands, and the stages that export, check and verify
// share (load model, load inputs, trace).
//
// A stage is named and timed: the observer hears when it begins and ends (progress lines, the stage
// logs) and its time is kept, also when it fails (a failed stage is not announced as finished: the
// error message says what happened).
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "lib/frontend.h"
#include "lib/inputs.h"
#include "lib/method.h"
#include "lib/model.h"

namespace ptx::cmd {

/// Stage notifications for progress output: begin(index, total, name), end(index, seconds, detail).
struct StageObserver {
  std::function<void(int, int, const std::string&)> begin;
  std::function<void(int, double, const std::string&)> end;
};

struct StageTiming {
  std::string name;
  double seconds = 0;
};

class StageRunner {
 public:
  StageRunner(StageObserver observer, int total) : obs_(std::move(observer)), total_(total) {}

  /// Runs stage `name`: `body(detail)` does the work and may set the detail shown when it ends.
  /// Returns what `body` returns.
  template <typename F>
  auto run(const std::string& name, F&& body) {
    ++index_;
    if (obs_.begin) obs_.begin(index_, total_, name);
    const auto t0 = std::chrono::steady_clock::now();
    std::string detail;
    auto finish = [&](bool ok) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      timings_.push_back({name, s});
      if (ok && obs_.end) obs_.end(index_, s, detail);
    };
    try {
      if constexpr (std::is_void_v<decltype(body(detail))>) {
        body(detail);
        finish(true);
      } else {
        auto result = body(detail);
        finish(true);
        return result;
      }
    } catch (...) {
      finish(false);
      throw;
    }
  }

  /// Every stage run so far (finished or failed), in order.
  const std::vector<StageTiming>& timings() const { return timings_; }

 private:
  StageObserver obs_;
  int total_;
  int index_ = 0;
  std::vector<StageTiming> timings_;
};

/// The model, its inputs and its trace: what export, check and verify start from.
struct Traced {
  LoadedModel model;
  Inputs inputs;
  TraceResult trace;
};

struct LoadAndTraceOptions {
  TraceOptions trace;
  std::string method;             // --method; empty: inputs.json's, forward or its overload (lib/method.h)
  bool allow_unsafe_ops = false;  // --allow-unsafe-ops: trace a model calling ops outside lib/op_policy.h's list
  /// Called once the inputs are loaded (bound to the chosen method), before tracing.
  std::function<void(const MethodChoice&)> loaded = {};
};

/// The stages "load model", "load inputs" (bound to the schema of the method chosen, lib/method.h) and
/// "trace". Tracing runs every op of the method on the sample: a model that calls an op outside the
/// allowlist (lib/op_policy.h) is refused before it, naming the op, unless allowed.
Traced load_and_trace(StageRunner& stages, const std::filesystem::path& model, const std::filesystem::path& inputs,
                      const std::vector<std::string>& dynamic, const LoadAndTraceOptions& options = {});

}  // namespace ptx::cmd
