// cmd/commands.cpp: `export`, `check` (their report: cmd/report.h) and --version. See cmd/commands.h;
// inspect, run and verify live in cmd/inspect_cmd.cpp, cmd/run_cmd.cpp and cmd/verify_cmd.cpp.
#include "cmd/commands.h"

#include "cmd/logging.h"
#include "cmd/report.h"
#include "cmd/version.h"

#include <map>
#include <memory>

namespace ptx::cmd {

namespace {

/// The logger of a pipeline stage ("load model" -> load, "solve" -> solver, ...).
std::string logger_of(const std::string& stage) {
  if (stage.rfind("load", 0) == 0) return "load";
  if (stage == "trace") return "trace";
  if (stage == "solve") return "solver";
  if (stage == "verify") return "verify";
  if (stage.rfind("write", 0) == 0) return "serialize";
  return "ptexport";
}

/// `inner` plus a record per stage on the stage's logger (info when it ends, debug when it starts).
StageObserver logged(StageObserver inner) {
  auto names = std::make_shared<std::map<int, std::string>>();
  StageObserver o;
  o.begin = [inner, names](int index, int total, const std::string& name) {
    (*names)[index] = name;
    stage_log(logger_of(name)).debug("[{}/{}] {} started", index, total, name);
    if (inner.begin) inner.begin(index, total, name);
  };
  o.end = [inner, names](int index, double seconds, const std::string& detail) {
    const std::string name = (*names)[index];
    stage_log(logger_of(name)).info("{} done in {}{}", name, format_seconds(seconds), detail.empty() ? "" : ": " + detail);
    if (inner.end) inner.end(index, seconds, detail);
  };
  return o;
}

}  // namespace

StageObserver stage_observer(Context& ctx) { return logged(ctx.progress.observer()); }

void run_export_command(const ExportOptions& opts, Context& ctx, CommandOutput& out) {
  ExportRun run;
  try {
    run_export(opts, stage_observer(ctx), run);
  } catch (...) {
    if (run.error) out.document = report_json(opts, run);  // a ptexport error keeps the report so far
    throw;
  }
  out.document = report_json(opts, run);
  out.warnings = run.warnings.value_or(std::vector<std::string>{});
  out.exit_code = exit_code(run);
  out.text = summary_text(opts, run);
}

nlohmann::json version_document() {
  const Versions v = versions();
  return {{"schema", "ptexport.version/v1"},
          {"ptexport", v.ptexport},
          {"libtorch", v.libtorch},
          {"z3", v.z3},
          {"pt2_schema", v.pt2_schema},
          {"report_schema", "ptexport.report/v1"},
          {"inputs_schema", "ptexport.inputs/v1"}};
}

std::string version_text() {
  const Versions v = versions();
  return "ptexport " + v.ptexport + "\nLibTorch " + v.libtorch + "\nZ3 " + v.z3 + "\npt2 schema " + v.pt2_schema +
         "\nreport schema ptexport.report/v1\ninputs schema ptexport.inputs/v1\n";
}

}  // namespace ptx::cmd
