// cmd/cli_app.h: the command line's definition (cmd/cli.cpp's private half): the commands, their
// options and help texts (CLI11), the values they are parsed into, and the lists did-you-mean reads.
// cmd/cli.cpp runs it: parsing, the streams contract, exit codes.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cmd/commands.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace ptx::cmd {

/// The command names, in help order: export, check, inspect, run, verify.
const std::vector<std::string>& command_names();

struct GlobalArgs {
  int verbose = 0, quiet = 0;
  std::string log_level;
  std::string log_file;
  std::string color = "auto";
  bool json = false;
  std::vector<std::string> load_library;
};

struct ParsedArgs {
  // The global options, once per app (CLI11 resets a flag's variable when another app that shares
  // it does not see the flag), merged by merged_global().
  GlobalArgs main_global, export_global, check_global, inspect_global, run_global, verify_global;
  bool version = false;
  ExportOptions exp;
  std::string output, report;
  const CLI::Option* output_option = nullptr;  // -o, to tell `-o ''` from no -o
  bool no_verify = false;
  std::string verify_mode = "bounded";
  bool no_graph = false;
  InspectArgs inspect;
  RunArgs run;
  VerifyArgs verify;
};

/// The global options given before and after the command, together: counts add up, the
/// command's own values win over the ones before it.
GlobalArgs merged_global(const ParsedArgs& a);

/// The app and its subcommands; `a` receives the values.
std::unique_ptr<CLI::App> make_app(ParsedArgs& a);

/// Every option name of `app` ("--dynamic", "-o"), for did-you-mean.
std::vector<std::string> option_names(const CLI::App& app);

/// The options (of any command) that take a value as the next argument: "-o", "--dynamic", ...
std::set<std::string> value_options();

}  // namespace ptx::cmd
