// cmd/logging.h: spdlog loggers of ptexport, one per stage, and how their levels are chosen.
//
// Loggers: "ptexport" (the driver) and one per stage: load, trace, shapes, solver, passes,
// serialize, verify. They are registered in spdlog's registry, so code in lower folders (which
// cannot include cmd/) reaches them with `if (auto log = spdlog::get("shapes")) log->debug(...)`.
//
// Levels (docs/cli.md, "Logging"):
//   stderr: warning by default; -v info, -vv debug, -vvv trace; -q error; --log-level LEVEL overrides
//     -v/-q. PTEXPORT_LOGS (or, when it is unset, TORCH_LOGS) sets levels per stage:
//       "+shapes"       debug          "shapes"  info          "-shapes"  error only
//       "shapes=trace"  any level      "all" / "export": every stage
//     torch's component names are accepted: dynamic (shapes, solver; torch's symbolic_shapes log of
//     symbols created and guards added), guards (shapes), dynamo / graph / graph_code (trace),
//     aot / aot_graphs (passes); "+dynamic" is torch's own example.
//   --log-file FILE: every logger at debug (or finer, if asked) into FILE, whatever stderr shows.
//
// Lines on stderr: "warning: ...", "error: ...", and for stage loggers "debug[shapes]: ...".
#pragma once

#include <spdlog/common.h>
#include <spdlog/logger.h>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cmd/term.h"

namespace ptx::cmd {

/// The stage logger names, in pipeline order.
const std::vector<std::string>& stage_names();

/// Parses a level name: trace, debug, info, warning (or warn), error, off. nullopt otherwise.
std::optional<spdlog::level::level_enum> parse_level(std::string_view text);

/// The level of stderr from -v (count), -q (count) and --log-level (empty: unset).
spdlog::level::level_enum stderr_level(int verbose, int quiet, const std::string& log_level);

/// Per-stage levels from a PTEXPORT_LOGS / TORCH_LOGS text (comma or space separated).
/// `strict`: an unknown name is a UserError(kUsage) with a did-you-mean (PTEXPORT_LOGS);
/// otherwise it is skipped and named in `ignored` (TORCH_LOGS, whose names ptexport may not have).
std::map<std::string, spdlog::level::level_enum> parse_log_spec(std::string_view spec, bool strict,
                                                                std::vector<std::string>* ignored = nullptr,
                                                                std::string_view source = "PTEXPORT_LOGS");

struct LogConfig {
  spdlog::level::level_enum level = spdlog::level::warn;                 // stderr, every logger
  std::map<std::string, spdlog::level::level_enum> stage_levels;        // stderr overrides per stage
  std::optional<std::filesystem::path> file;                            // --log-file
};

/// Creates the loggers (replacing any earlier ones) writing to `console` (and the file).
/// Throws UserError(kOutput) when the log file cannot be opened. `console` must outlive the loggers
/// (call shutdown_logging() before it dies).
void setup_logging(const LogConfig& config, Console& console);

/// Flushes and drops every ptexport logger (spdlog's registry is emptied of them).
void shutdown_logging();

/// The driver's logger, or a given stage's; a logger that drops everything when none is set up.
spdlog::logger& log();
spdlog::logger& stage_log(std::string_view stage);

/// How a record is shown on stderr: "warning: msg", "debug[shapes]: msg" (the driver's logger
/// "ptexport" has no bracket).
std::string format_record(spdlog::level::level_enum level, std::string_view logger, std::string_view message,
                          const Style& style);

}  // namespace ptx::cmd
