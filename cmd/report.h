// cmd/report.h: what the user sees of an export or check, made once from the typed results of its
// stages (cmd/pipeline.h ExportRun): the `ptexport.report/v1` JSON document (docs/cli.md), the stdout
// summary, and the logs of the symbols, guards and verdicts; the command line's form of suggested
// fixes and the message of a failed check. The stages know neither the command line nor the report:
// nothing here reads JSON back.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "cmd/fixes.h"
#include "cmd/pipeline.h"
#include "lib/verify.h"
#include "shapes/checker.h"

namespace ptx::cmd {

/// The explanation of a failed check: torch's violation text, then "Suggested fixes:" in torch's
/// form and as flags (or that there is none), with the user's flags each fix replaces and the
/// corrected command line when `fixes` has them (cmd/fixes.h); when the solver gave up, the
/// undecided guards and their origin. Empty when the check passed.
std::string check_message(const shapes::CheckResult& check, const AppliedFixes* fixes = nullptr);

/// The report's "constraints" object (with each suggestion's `replaces` and the corrected command
/// line when `fixes` is given).
nlohmann::json constraints_json(const shapes::CheckResult& check, const AppliedFixes* fixes = nullptr);

/// The "verification" array (export's report, verify's document): one entry per point.
nlohmann::json verification_json(const VerifyResult& result);

/// The "timings" object: seconds per stage.
nlohmann::json timings_json(const std::vector<StageTiming>& timings);

/// The exit code of a finished run: 0, or 9 (kDraftWritten) for a draft with problems.
int exit_code(const ExportRun& run);

/// The whole report of an export or check, as far as it ran (a failed run keeps everything computed
/// before the failure).
nlohmann::json report_json(const ExportOptions& opts, const ExportRun& run);

/// The stdout summary of a finished run: the verdict, each symbol's requested and proven range, the
/// runtime asserts, the verification and the artifact.
std::string summary_text(const ExportOptions& opts, const ExportRun& run);

/// The symbols and guards of a trace on the shapes logger (debug), logged as the trace stage ends
/// (inside it): what torch's TORCH_LOGS=+dynamic shows while it traces.
void log_trace(const shapes::ShapeEnv& env);

/// Each symbol's verdict on the solver logger (info), logged inside the solve stage.
void log_verdicts(const shapes::CheckResult& check);

}  // namespace ptx::cmd
