// cmd/pipeline.h: the stages of `ptexport export` / `check`, callable in-process.
//
//   [1/6] load model      lib/model.h                                      } cmd/stages.h,
//   [2/6] load inputs     lib/inputs.h                                     } shared with verify
//   [3/6] trace           lib/frontend.h (symbolic shapes, guards)         }
//   [4/6] solve           shapes/checker.h (Z3: does the spec imply every guard?)
//   [5/6] write artifact  passes/ then serialize/ (atomic)
//   [6/6] verify          lib/verify.h: values (the program vs the eager model) at the sample and
//                         small points, shapes (the program on meta tensors) at each max
//
// Each stage's typed result goes into an ExportRun; cmd/report.h makes the report, the summary and
// the logs from it, once. Errors are thrown as UserError / InternalError (shapes/error.h) after they
// are recorded in the run; a constraint violation is a UserError with ExitCode::kConstraintViolation
// whose message is the full torch-style text (cmd/report.h check_message).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cmd/fixes.h"
#include "cmd/stages.h"
#include "lib/verify.h"
#include "shapes/checker.h"

namespace ptx::cmd {

struct ExportOptions {
  std::filesystem::path model;
  std::filesystem::path inputs;
  std::vector<std::string> dynamic;        // --dynamic flags, as given
  std::vector<std::string> command_line;   // the whole argv, program first (empty in-process): the
                                           // command line with suggested fixes applied (cmd/fixes.h)
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
  bool trace_on_data = false;              // --trace-on-data: the trace computes on the sample (TraceOptions::concrete)
  bool allow_unsafe_ops = false;           // --allow-unsafe-ops: run ops outside lib/op_policy.h's allowlist
  std::string ir = "training";             // --ir training|inference|core (passes/decompose)
  std::vector<std::string> keep;           // --keep OP (repeatable): ops left undecomposed
  std::vector<std::string> op_rules;       // --op-rules FILE (repeatable): custom ops' shapes
};

struct InputShape {
  std::string path;             // "x", "ys[0]"
  std::vector<int64_t> shape;   // the sample's
};

/// An error that ended the run (a ptexport Error: the exit code and diagnostic it carries).
struct RunError {
  int exit_code = 1;
  std::string code;     // "E_CONSTRAINT_VIOLATION"
  std::string message;
};

/// A torch.cond branch: the graph argument `name` of node `node` (op `op`), its call count.
struct CondSubgraph {
  std::string name, node, op, source;
  int nodes = 0;
};

/// One problem --draft went on after (torch's draft_export report entry).
struct DraftProblem {
  std::string kind;  // data_dependent, missing_shape_rule, constraint_violation, solver_unknown
  std::string source;
  std::string message;
};

/// What an export or check computed, stage by stage; what did not run is empty.
struct ExportRun {
  std::vector<StageTiming> timings;              // every stage that ran, failed ones too
  std::optional<std::vector<InputShape>> inputs;  // load inputs
  std::optional<MethodChoice> method;             // load inputs: the method chosen (its `inputs` left empty)
  std::optional<std::vector<std::string>> warnings;  // trace
  std::map<std::string, int> op_histogram;       // trace: call targets -> count
  std::optional<shapes::CheckResult> check;      // solve
  std::optional<AppliedFixes> fixes;             // solve, when it suggests fixes: in the command line's terms
  std::optional<VerifyResult> verification;      // verify
  std::filesystem::path artifact;                // written (empty when none was)
  std::optional<RunError> error;
  bool finished = false;                         // every stage ran and succeeded

  // Data-dependent programs (issue 15): what the trace read from data, the torch.cond subgraphs,
  // the decisions --draft took on the sample, and every problem --draft went on after.
  std::vector<shapes::UnbackedInfo> unbacked;
  std::vector<CondSubgraph> cond_subgraphs;
  std::vector<shapes::DataDependentProblem> decisions;
  std::vector<DraftProblem> draft;

  // --ir inference|core: the level's name and the op histogram of the graph written (empty for
  // the default level, whose report stays as it was).
  std::string ir;
  std::map<std::string, int> ir_op_histogram;
  /// Finished under --draft with problems: the artifact is a draft (exit 9).
  bool drafted() const { return finished && !draft.empty(); }
};

/// Runs export (or check, with write_artifact = false), filling `run`. Throws on error (after
/// recording it in run.error when it is a ptexport Error); on a constraint violation or
/// verification mismatch the thrown UserError carries the exit code.
void run_export(const ExportOptions& opts, const StageObserver& observer, ExportRun& run);

}  // namespace ptx::cmd
