// cmd/commands.cpp: `export`, `check` and --version. See cmd/commands.h; inspect, run and verify
// live in cmd/inspect_cmd.cpp, cmd/run_cmd.cpp and cmd/verify_cmd.cpp.
#include "cmd/commands.h"

#include "cmd/version.h"

namespace ptx::cmd {

void run_export_command(const ExportOptions& opts, Context& ctx, CommandOutput& out) {
  nlohmann::json partial;
  try {
    ExportOutcome outcome = run_export(opts, ctx.progress.observer(), &partial);
    out.document = std::move(outcome.report);
    out.warnings = std::move(outcome.warnings);
    out.exit_code = outcome.exit_code;
    out.text = outcome.summary;
    if (out.text.empty() && !outcome.artifact.empty()) out.text = "wrote " + outcome.artifact.string();
    if (!out.text.empty() && out.text.back() != '\n') out.text += '\n';
  } catch (...) {
    if (partial.is_object()) out.document = std::move(partial);
    throw;
  }
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
