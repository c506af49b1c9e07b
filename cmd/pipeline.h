// cmd/pipeline.h: the stages of `ptexport export` / `check` / `verify`, callable in-process.
//
//   [1/6] load model      lib/model.h
//   [2/6] load inputs     lib/inputs.h
//   [3/6] trace           lib/frontend.h (symbolic shapes, guards)
//   [4/6] solve           shapes/checker.h (Z3: does the spec imply every guard?)
//   [5/6] write artifact  passes/ then serialize/ (atomic)
//   [6/6] verify          lib/verify.h: values (the program vs the eager model) at the sample and
//                         small points, shapes (the program on meta tensors) at each max
//
// The CLI (cmd/cli.cpp) parses flags into ExportOptions, renders progress from the StageObserver
// callbacks, and prints the report. Errors are thrown as UserError / InternalError (shapes/error.h);
// a constraint violation is a UserError with ExitCode::kConstraintViolation whose message is the
// full torch-style text, and the partial report is still available through `report` on the outcome.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ptx::cmd {

struct ExportOptions {
  std::filesystem::path model;
  std::filesystem::path inputs;
  std::vector<std::string> dynamic;        // --dynamic flags, as given
  std::string method;                      // --method; empty: inputs.json's, forward or its overload (lib/method.h)
  std::optional<std::filesystem::path> out;  // -o; default: MODEL with extension .pt2 (export only)
  bool write_artifact = true;              // false for `check`
  bool verify = true;                      // --no-verify
  bool verify_full = false;                // --verify=full: values at every point (VerifyMode::kFull)
  double verify_budget_s = 0;              // --verify-budget: seconds for values checks (0: none)
  double atol = 1e-4, rtol = 1e-4;         // --atol / --rtol
  double solver_timeout_s = 10;            // --solver-timeout (a deterministic rlimit derived from it)
  int64_t verify_element_budget = 1 << 24; // largest input (elements) built for verification
  bool draft = false;                      // --draft: collect every problem, write what can be written
  bool allow_unsafe_ops = false;           // --allow-unsafe-ops: run ops outside lib/op_policy.h's allowlist
};

/// Stage notifications for progress output: begin(index, total, name), end(index, seconds, detail).
struct StageObserver {
  std::function<void(int, int, const std::string&)> begin;
  std::function<void(int, double, const std::string&)> end;
};

struct ExportOutcome {
  int exit_code = 0;
  std::filesystem::path artifact;  // empty when none was written
  nlohmann::json report;           // `ptexport.report/v1` (docs/cli.md)
  std::vector<std::string> warnings;
  std::string summary;             // a few human lines for stdout
  std::string method_note;         // MethodChoice::describe(): which method, when not a plain forward
};

/// Runs export (or check, with write_artifact = false). Throws on error; on a constraint
/// violation or verification mismatch the thrown UserError carries the exit code, and
/// `partial_report` (when given) receives the report so far.
ExportOutcome run_export(const ExportOptions& opts, const StageObserver& observer,
                         nlohmann::json* partial_report = nullptr);

}  // namespace ptx::cmd
