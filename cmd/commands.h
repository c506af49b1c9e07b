// cmd/commands.h: the commands of ptexport (docs/commands/*.md), behind the parser of cmd/cli.cpp.
//
// A command fills a CommandOutput: the human-readable results (printed on stdout) and the JSON
// document (printed on stdout instead under --json; cmd/cli.cpp adds "status", "exit_code" and
// "diagnostics"). Errors are thrown (shapes/error.h); whatever the command put in `document`
// before throwing is kept as the partial document (e.g. the report of a constraint violation).
// Logs and progress go to stderr through cmd/logging.h and the Progress in the Context.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cmd/pipeline.h"
#include "cmd/progress.h"
#include "shapes/sym.h"

namespace ptx::cmd {

struct Context {
  Progress& progress;
};

struct CommandOutput {
  nlohmann::json document = nlohmann::json::object();
  std::string text;               // for stdout (without --json); ends with a newline when not empty
  int exit_code = 0;              // a result that is not an exception but not success either
  std::vector<std::string> warnings;  // printed as "warning: ..." on stderr and kept in the document
};

/// The observer of a command's stages: progress lines and the stage logs.
StageObserver stage_observer(Context& ctx);

/// `ptexport export` and `ptexport check` (opts.write_artifact false).
void run_export_command(const ExportOptions& opts, Context& ctx, CommandOutput& out);

struct InspectArgs {
  std::filesystem::path artifact;
  bool graph = true;  // --no-graph leaves the graph out of the text
};
void run_inspect_command(const InspectArgs& opts, Context& ctx, CommandOutput& out);

struct RunArgs {
  std::filesystem::path artifact;
  std::filesystem::path inputs;
  bool values = false;  // --values: print every output tensor in full
  bool allow_unsafe_ops = false;  // --allow-unsafe-ops (lib/op_policy.h)
};
void run_run_command(const RunArgs& opts, Context& ctx, CommandOutput& out);

struct VerifyArgs {
  std::filesystem::path artifact, model, inputs;
  std::vector<std::string> dynamic;  // the --dynamic flags the artifact was exported with
  std::string method;                // --method (lib/method.h), empty when not given
  double atol = 1e-4, rtol = 1e-4;
  int64_t element_budget = 1 << 24;
  bool allow_unsafe_ops = false;  // --allow-unsafe-ops (lib/op_policy.h)
};
void run_verify_command(const VerifyArgs& opts, Context& ctx, CommandOutput& out);

/// A shape for JSON documents: static dims as numbers, symbolic ones as text ("s0", "2*s0 + 1").
nlohmann::json shape_json(const shapes::SymShape& shape);

/// The --version document: {"ptexport", "libtorch", "z3", "pt2_schema", "report_schema", ...}.
nlohmann::json version_document();
/// The --version text, one "name version" per line.
std::string version_text();

}  // namespace ptx::cmd
