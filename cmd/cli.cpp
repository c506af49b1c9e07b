// cmd/cli.cpp: the command line of docs/cli.md: parsing (CLI11), help, version, the streams
// contract (results on stdout, the rest on stderr, one JSON document under --json), exit codes,
// and the mapping of every exception to one of them.
#include "cmd/cli.h"

#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>
#include <torch/csrc/jit/runtime/print_handler.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <new>
#include <optional>
#include <set>
#include <sstream>

#include "cmd/cli_app.h"
#include "cmd/commands.h"
#include "cmd/logging.h"
#include "cmd/progress.h"
#include "cmd/signals.h"
#include "cmd/term.h"
#include "lib/custom_ops.h"
#include "lib/did_you_mean.h"
#include "lib/teardown.h"
#include "serialize/temp_file.h"
#include "shapes/error.h"

namespace ptx::cmd {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;


// ---- documents and errors --------------------------------------------------------------------------

std::string schema_of(const std::string& command) {
  if (command == "export" || command == "check") return "ptexport.report/v1";
  if (command == "inspect") return "ptexport.inspect/v1";
  if (command == "run") return "ptexport.run/v1";
  if (command == "verify") return "ptexport.verify/v1";
  return "ptexport.result/v1";
}

struct Failure {
  int exit_code = 0;
  std::string code;     // stable diagnostic code
  std::string message;  // without the "error: " prefix
  bool internal = false;
};

constexpr const char* kReportOutOfMemory =
    "ptexport ran out of memory; if the model and inputs should fit, please report this at the project's issue "
    "tracker with the command line";
constexpr const char* kReportBug =
    "this is a bug in ptexport; please report this at the project's issue tracker with the command line";

/// Runs `fn`, mapping every exception to a Failure (never lets one escape).
template <typename Fn>
std::optional<Failure> capture(Fn&& fn) {
  try {
    fn();
    return std::nullopt;
  } catch (const UserError& e) {
    return Failure{static_cast<int>(e.code()), e.diag_code(), e.what(), false};
  } catch (const InternalError& e) {
    return Failure{1, "E_INTERNAL", e.what(), true};
  } catch (const c10::Error& e) {
    const std::string what = e.what_without_backtrace();
    if (what.find("can't allocate memory") != std::string::npos || what.find("out of memory") != std::string::npos) {
      return Failure{1, "E_OUT_OF_MEMORY", "out of memory: LibTorch: " + what, true};
    }
    return Failure{1, "E_INTERNAL", "LibTorch: " + what, true};
  } catch (const std::bad_alloc&) {
    return Failure{1, "E_OUT_OF_MEMORY", "out of memory", true};
  } catch (const std::exception& e) {
    return Failure{1, "E_INTERNAL", e.what(), true};
  } catch (...) {
    return Failure{1, "E_INTERNAL", "unknown exception", true};
  }
}

/// Adds status, exit_code and the failure's diagnostic to `doc` (kept as the command made it).
void finish_document(json& doc, const std::string& command, int exit_code, const std::optional<Failure>& failure,
                     const std::vector<std::string>& warnings) {
  if (!doc.is_object()) doc = json::object();
  if (!doc.contains("schema")) doc["schema"] = schema_of(command);
  if (!command.empty()) doc["command"] = command;
  doc["status"] = exit_code == 0 ? "ok" : exit_code == static_cast<int>(ExitCode::kDraftWritten) ? "draft" : "error";
  doc["exit_code"] = exit_code;
  json& diags = doc["diagnostics"];
  if (!diags.is_array()) diags = json::array();
  auto present = [&](const std::string& message) {
    return std::any_of(diags.begin(), diags.end(), [&](const json& d) {
      return d.is_object() && d.value("message", std::string()) == message;
    });
  };
  for (const std::string& w : warnings) {
    if (!present(w)) diags.push_back({{"code", "W_WARNING"}, {"severity", "warning"}, {"message", w}});
  }
  if (failure && !present(failure->message)) {
    diags.push_back({{"code", failure->code}, {"severity", "error"}, {"message", failure->message}});
  }
}

/// Writes `text` to `path` atomically (temporary + rename). UserError(kOutput) on failure.
void write_file_atomically(const fs::path& path, const std::string& text, const char* what) {
  serialize::TempFile tmp(path);
  {
    std::ofstream f(tmp.path(), std::ios::binary | std::ios::trunc);
    PTX_USER_CHECK(f.good(), ExitCode::kOutput, "E_OUTPUT_REPORT")
        << what << " " << path.string() << ": cannot write (" << std::strerror(errno) << ")";
    f << text;
    f.flush();
    PTX_USER_CHECK(f.good(), ExitCode::kOutput, "E_OUTPUT_REPORT")
        << what << " " << path.string() << ": write failed (" << std::strerror(errno) << ")";
  }
  tmp.commit();
}

/// Prints the failure on stderr ("error: ..."), straight to the console (never filtered by -q).
void print_failure(Console& console, Failure f) {
  const Style st = console.style();
  f.message.erase(f.message.find_last_not_of(" \n") + 1);
  f.message = escape_controls(f.message);
  if (f.internal) {
    console.write_line(st.red("internal error") + ": " + f.message);
    console.write_line(f.code == "E_OUT_OF_MEMORY" ? kReportOutOfMemory : kReportBug);
  } else {
    console.write_line(st.red("error") + ": " + f.message);
  }
}

bool wants_json(const std::vector<std::string>& args) {
  for (const std::string& a : args) {
    if (a == "--") return false;
    if (a == "--json") return true;
  }
  return false;
}

/// The --color value among the raw arguments (for errors before parsing), kAuto if none is valid.
ColorMode early_color(const std::vector<std::string>& args) {
  std::optional<ColorMode> mode;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--") break;
    if (args[i] == "--color" && i + 1 < args.size()) {
      if (auto m = parse_color_mode(args[i + 1])) mode = m;
    } else if (args[i].rfind("--color=", 0) == 0) {
      if (auto m = parse_color_mode(args[i].substr(8))) mode = m;
    }
  }
  return mode.value_or(ColorMode::kAuto);
}

/// The name of the subcommand the arguments are for (after shorthand expansion), or "".
std::string command_of(const std::vector<std::string>& args) {
  for (const std::string& a : args) {
    if (std::find(command_names().begin(), command_names().end(), a) != command_names().end()) return a;
  }
  return "";
}

int emit(CliIo& io, Console& console, bool as_json, const std::string& command, int exit_code,
         const std::optional<Failure>& failure, CommandOutput& out) {
  if (failure) print_failure(console, *failure);
  mark_stdout_started();
  if (as_json) {
    finish_document(out.document, command, exit_code, failure, out.warnings);
    io.out << out.document.dump(2) << '\n';
  } else {
    io.out << escape_controls(out.text);  // a failed command's partial results (verify's points) are results too
  }
  io.out.flush();
  return exit_code;
}

std::string getenv_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}


}  // namespace

std::vector<std::string> expand_shorthand(const std::vector<std::string>& args) {
  static const std::set<std::string> kValueOptions = value_options();
  if (!args.empty() && args.front() == "help") {
    std::vector<std::string> r(args.begin() + 1, args.end());
    r.push_back("--help");
    return r;
  }
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") break;
    if (a.size() > 1 && a[0] == '-') {
      if (a.find('=') == std::string::npos && kValueOptions.count(a)) ++i;  // skip its value
      continue;
    }
    if (std::find(command_names().begin(), command_names().end(), a) != command_names().end()) return args;
    std::error_code ec;
    if (!fs::exists(a, ec) && a.find('.') == std::string::npos && a.find('/') == std::string::npos) {
      if (auto c = closest_name(a, command_names())) {
        PTX_USER_FAIL(ExitCode::kUsage, "E_USAGE")
            << "unknown command '" << a << "'; did you mean '" << *c << "'? (commands: " << join_names(command_names())
            << "; a model file path starts the shorthand `ptexport MODEL INPUTS`)";
      }
    }
    std::vector<std::string> r;
    r.reserve(args.size() + 1);
    r.push_back("export");
    r.insert(r.end(), args.begin(), args.end());
    return r;
  }
  return args;
}

int run_cli(const std::vector<std::string>& raw_args, CliIo& io) {
  const bool early_json = wants_json(raw_args);
  // Until the options are parsed, stderr uses the --color found by a plain scan of the arguments.
  auto early_console = std::make_unique<Console>(
      io.err, decide_term_caps(io.err_is_tty, early_color(raw_args), io.env, io.err_columns));
  CommandOutput out;

  auto usage_failure = [&](const std::string& command, const std::string& message, const std::string& hint) {
    Failure f{static_cast<int>(ExitCode::kUsage), "E_USAGE", message, false};
    if (!hint.empty() && !early_json) f.message += "\n" + hint;
    return emit(io, *early_console, early_json, command, f.exit_code, f, out);
  };

  std::vector<std::string> args;
  if (auto f = capture([&] { args = expand_shorthand(raw_args); })) {
    return usage_failure("", f->message, "run `ptexport --help` for the commands");
  }
  const std::string command = command_of(args);
  const std::string help_hint =
      command.empty() ? "run `ptexport --help` for usage" : "run `ptexport " + command + " --help` for usage";

  ParsedArgs a;
  std::unique_ptr<CLI::App> app = make_app(a);
  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them reversed
    app->parse(reversed);
  } catch (const CLI::CallForHelp& e) {
    mark_stdout_started();
    app->exit(e, io.out, io.err);
    return 0;
  } catch (const CLI::CallForAllHelp& e) {
    mark_stdout_started();
    app->exit(e, io.out, io.err);
    return 0;
  } catch (const CLI::ParseError& e) {
    return usage_failure(command, e.what(), help_hint);
  }

  // Arguments nobody took: an unknown option (with a did-you-mean) or a surplus argument.
  CLI::App* sub = app->get_subcommands().empty() ? app.get() : app->get_subcommands().front();
  std::vector<std::string> extras = app->remaining(/*recurse=*/true);
  for (const std::string& x : extras) {
    if (x.size() > 1 && x[0] == '-') {
      const std::string name = x.substr(0, x.find('='));
      std::string message = "unknown option '" + name + "'" + (command.empty() ? "" : " for " + command) +
                            did_you_mean(name, option_names(*sub));
      std::vector<std::string> owners;
      for (const CLI::App* other : app->get_subcommands({})) {
        const auto names = option_names(*other);
        if (other != sub && std::find(names.begin(), names.end(), name) != names.end()) owners.push_back(other->get_name());
      }
      if (!owners.empty()) message += " (it is an option of " + join_names(owners) + ")";
      return usage_failure(command, message, help_hint);
    }
  }
  if (!extras.empty()) {
    return usage_failure(command, "unexpected argument '" + extras.front() + "'", help_hint);
  }

  const GlobalArgs g = merged_global(a);
  if (a.version) {
    mark_stdout_started();
    if (g.json) {
      json doc = version_document();
      doc["status"] = "ok";
      doc["exit_code"] = 0;
      io.out << doc.dump(2) << '\n';
    } else {
      io.out << version_text();
    }
    io.out.flush();
    return 0;
  }
  if (command.empty()) {
    return usage_failure("", "no command given (commands: " + join_names(command_names()) +
                                 "; or the shorthand `ptexport MODEL INPUTS`)",
                         help_hint);
  }

  // The real console, logging and signal handling.
  const ColorMode color = parse_color_mode(g.color).value_or(ColorMode::kAuto);
  early_console.reset();
  Console console(io.err, decide_term_caps(io.err_is_tty, color, io.env, io.err_columns));
  const spdlog::level::level_enum level = stderr_level(g.verbose, g.quiet, g.log_level);
  std::optional<Failure> failure;
  int exit_code = 0;

  // The document first: a signal pending since start-up is taken as soon as the handler thread runs.
  set_interrupt_live_terminal(console.caps().live);
  if (g.json) {
    json doc = json::object();
    finish_document(doc, command, static_cast<int>(ExitCode::kInterrupted),
                    Failure{static_cast<int>(ExitCode::kInterrupted), "E_INTERRUPTED", "interrupted", false}, {});
    doc["status"] = "interrupted";
    set_interrupt_stdout_document(doc.dump(2) + "\n");
  }
  install_interrupt_handlers();

  failure = capture([&] {
    LogConfig config;
    config.level = level;
    std::string spec = io.logs_from_process ? getenv_or_empty("PTEXPORT_LOGS") : io.ptexport_logs;
    std::vector<std::string> ignored;
    if (!spec.empty()) {
      config.stage_levels = parse_log_spec(spec, /*strict=*/true);
    } else {
      const std::string torch_spec = io.logs_from_process ? getenv_or_empty("TORCH_LOGS") : io.torch_logs;
      if (!torch_spec.empty()) config.stage_levels = parse_log_spec(torch_spec, /*strict=*/false, &ignored, "TORCH_LOGS");
    }
    if (!g.log_file.empty()) config.file = fs::path(g.log_file);
    setup_logging(config, console);
    for (const std::string& name : ignored) {
      log().debug("TORCH_LOGS: '{}' has no ptexport counterpart; ignored", name);
    }
    log().debug("ptexport {}: command {}", version_document().value("ptexport", std::string()), command);
  });

  if (!failure) {
    const bool progress_on = level <= spdlog::level::warn;
    Progress progress(console, progress_on);
    Context ctx{progress};
    failure = capture([&] {
      for (const std::string& library : g.load_library) load_op_library(library);
      if (command == "export" || command == "check") {
        ExportOptions opts = a.exp;
        opts.command_line = {io.program};
        opts.command_line.insert(opts.command_line.end(), raw_args.begin(), raw_args.end());
        opts.write_artifact = command == "export";
        opts.verify = command == "export" && !a.no_verify;
        opts.verify_full = a.verify_mode == "full";
        if (a.output_option != nullptr && a.output_option->count() > 0) {
          PTX_USER_CHECK(!a.output.empty(), ExitCode::kUsage, "E_USAGE") << "-o: an empty file name";
          opts.out = fs::path(a.output);
        }
        run_export_command(opts, ctx, out);
      } else if (command == "inspect") {
        a.inspect.graph = !a.no_graph;
        run_inspect_command(a.inspect, ctx, out);
      } else if (command == "run") {
        run_run_command(a.run, ctx, out);
      } else if (command == "verify") {
        run_verify_command(a.verify, ctx, out);
      }
    });
    progress.fail();  // a stage still in flight after an exception
  }
  exit_code = failure ? failure->exit_code : out.exit_code;
  for (const std::string& w : out.warnings) log().warn("{}", escape_controls(w));

  // --report: the same document as --json, written also on failure.
  if (!a.report.empty()) {
    json doc = out.document;
    finish_document(doc, command, exit_code, failure, out.warnings);
    if (auto f = capture([&] {
          std::error_code ec;
          for (const fs::path& in : {a.exp.model, a.exp.inputs}) {
            PTX_USER_CHECK(in.empty() || !fs::equivalent(a.report, in, ec), ExitCode::kOutput, "E_OUTPUT_REPORT")
                << "--report " << a.report << ": it is the input file " << in.string() << "; name another file";
          }
          write_file_atomically(a.report, doc.dump(2) + "\n", "--report");
        })) {
      if (!failure) {
        failure = f;
        exit_code = f->exit_code;
      } else {
        print_failure(console, *f);  // the first failure decides the exit code
      }
    }
  }
  const int rc = emit(io, console, g.json, command, exit_code, failure, out);
  shutdown_logging();
  return rc;
}

int run_cli(int argc, char** argv) {
  block_interrupt_signals();  // first, before any thread starts; taken once the command runs (cmd/signals.h)
  // A model's print() (prim::Print, run while tracing and verifying) goes to stderr: stdout carries
  // results only, and one JSON document under --json.
  torch::jit::setPrintHandler([](const std::string& text) { std::cerr << text << std::flush; });
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  CliIo io{std::cout, std::cerr};
  if (argc > 0 && argv[0] != nullptr && argv[0][0] != '\0') io.program = argv[0];
  io.err_is_tty = fd_is_tty(2);
  io.err_columns = io.err_is_tty ? fd_columns(2) : 0;
  io.env = TermEnv::from_process();
  std::ios::sync_with_stdio(true);
  // The process ends with std::_Exit: no destructor runs, so the model, its graphs and the programs
  // are not freed one by one on the way out (lib/teardown.h). Output is flushed first.
  keep_objects_until_exit();
  const int rc = run_cli(args, io);
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  std::_Exit(rc);
}

}  // namespace ptx::cmd
