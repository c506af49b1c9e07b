// cmd/cli.h: the command line of docs/cli.md. Returns the process exit code (never throws).
//
// Streams: results on `out` (stdout), everything else (errors, warnings, logs, progress) on `err`
// (stderr). Under --json, `out` receives exactly one JSON document, also on failure.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "cmd/term.h"

namespace ptx::cmd {

/// The process's streams and environment, as run_cli sees them (tests substitute their own).
struct CliIo {
  std::ostream& out;
  std::ostream& err;
  bool err_is_tty = false;
  int err_columns = 0;
  TermEnv env;
  /// Read PTEXPORT_LOGS / TORCH_LOGS from here (tests) instead of the process environment.
  std::string ptexport_logs, torch_logs;
  bool logs_from_process = true;
  /// The program as invoked (argv[0]): the first word of the command line with fixes applied.
  std::string program = "ptexport";
};

/// Runs ptexport with `args` (without the program name).
int run_cli(const std::vector<std::string>& args, CliIo& io);

/// The executable's entry: stdout, stderr and the process environment.
int run_cli(int argc, char** argv);

/// Rewrites `ptexport MODEL INPUTS ...` to `ptexport export MODEL INPUTS ...`: when the first
/// argument that is neither an option nor an option's value is not a command name, "export" is
/// inserted in front. A first argument that looks like a misspelled command (and is not an existing
/// file) is a UserError(kUsage) with a did-you-mean instead.
std::vector<std::string> expand_shorthand(const std::vector<std::string>& args);

}  // namespace ptx::cmd
