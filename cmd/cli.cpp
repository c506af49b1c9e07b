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

#include "cmd/commands.h"
#include "cmd/logging.h"
#include "cmd/progress.h"
#include "cmd/signals.h"
#include "cmd/term.h"
#include "lib/custom_ops.h"
#include "lib/did_you_mean.h"
#include "serialize/temp_file.h"
#include "shapes/error.h"

namespace ptx::cmd {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::vector<std::string> kCommands = {"export", "check", "inspect", "run", "verify"};


// ---- help texts ------------------------------------------------------------------------------------

struct ExitCodeLine {
  int code;
  const char* meaning;
};
constexpr ExitCodeLine kExitCodes[] = {
    {0, "success (warnings allowed)"},
    {1, "internal error (a bug in ptexport: please report it)"},
    {2, "usage error: bad flag, bad spec syntax, unknown input or symbol"},
    {3, "input error: unreadable or malformed model, inputs.json, npy, artifact; dtype/shape mismatch"},
    {4, "export failed: unsupported op or construct, data-dependent control flow, missing shape rule"},
    {5, "constraint violation: the requested dynamic spec does not hold"},
    {6, "verification mismatch: exported program differs from eager beyond tolerance"},
    {7, "solver inconclusive (Z3 unknown / timeout)"},
    {8, "output error: cannot write the artifact, report or log file"},
    {9, "draft written (--draft): the artifact was written; its problems are listed in the report"},
    {130, "interrupted (Ctrl-C); no partial artifact left"},
};

std::string exit_codes_text(std::initializer_list<int> codes) {
  std::string s = "Exit codes:\n";
  for (const ExitCodeLine& line : kExitCodes) {
    if (std::find(codes.begin(), codes.end(), line.code) == codes.end()) continue;
    std::string code = std::to_string(line.code);
    s += "  " + code + std::string(5 - code.size(), ' ') + line.meaning + "\n";
  }
  return s;
}

std::string examples_text(std::initializer_list<std::pair<const char*, const char*>> examples) {
  std::string s = "Examples:\n";
  for (const auto& [comment, line] : examples) {
    s += std::string("  # ") + comment + "\n  " + line + "\n";
  }
  return s;
}

const char* kMainDescription =
    "ptexport: export TorchScript models to torch.export .pt2 artifacts, with dynamic shapes proved by Z3.\n"
    "Results go to stdout, logs and progress to stderr; --json makes stdout one JSON document.";

/// CLI11's formatter, with the option column showing only what option_text() says ("SPEC",
/// "FILE"), no default values or validator descriptions (the descriptions say them in words),
/// and footers and descriptions printed as written.
class HelpFormatter : public CLI::Formatter {
 public:
  HelpFormatter() {
    column_width(30);
    right_column_width(70);
    long_option_alignment_ratio(0.2F);  // "  -h, --help" and "      --json" align
    enable_footer_formatting(false);
    enable_description_formatting(false);
    label("SUBCOMMANDS", "COMMANDS");
    label("POSITIONALS", "ARGUMENTS");
  }
  /// CLI11's text without trailing spaces and without runs of blank lines.
  std::string make_help(const CLI::App* app, std::string name, CLI::AppFormatMode mode) const override {
    const std::string raw = CLI::Formatter::make_help(app, std::move(name), mode);
    std::string out, line;
    int blank = 0;
    std::istringstream in(raw);
    while (std::getline(in, line)) {
      line.erase(line.find_last_not_of(' ') == std::string::npos ? 0 : line.find_last_not_of(' ') + 1);
      blank = line.empty() ? blank + 1 : 0;
      if (blank > 1) continue;
      out += line + "\n";
    }
    while (out.size() > 1 && out.ends_with("\n\n")) out.pop_back();
    return out;
  }
  std::string make_option_opts(const CLI::Option* opt) const override {
    if (!opt->nonpositional() || opt->get_option_text().empty()) return "";
    return " " + opt->get_option_text();
  }
};

// ---- parsed options --------------------------------------------------------------------------------

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

CLI::Validator one_of(std::vector<std::string> choices) {
  std::string desc;
  for (const auto& c : choices) desc += (desc.empty() ? "" : "|") + c;
  return CLI::Validator(
      [choices](std::string& value) -> std::string {
        if (std::find(choices.begin(), choices.end(), value) != choices.end()) return "";
        return "'" + value + "' is not one of " + join_names(choices) + did_you_mean(value, choices);
      },
      "{" + desc + "}", "one_of");
}

const CLI::Validator kNonNegative(
    [](std::string& value) -> std::string {
      try {
        size_t pos = 0;
        const double v = std::stod(value, &pos);
        if (pos == value.size() && v >= 0) return "";
      } catch (const std::exception&) {
      }
      return "'" + value + "' is not a number >= 0";
    },
    "NUMBER >= 0", "non_negative");

const CLI::Validator kPositive(
    [](std::string& value) -> std::string {
      try {
        size_t pos = 0;
        const double v = std::stod(value, &pos);
        if (pos == value.size() && v > 0) return "";
      } catch (const std::exception&) {
      }
      return "'" + value + "' is not a number > 0";
    },
    "NUMBER > 0", "positive");

constexpr const char* kAllowUnsafeOpsHelp =
    "also run ops that may act outside the process (aten::from_file, aten::save, other namespaces): only for "
    "files you trust as a program (docs/security.md)";

void add_global_options(CLI::App& app, GlobalArgs& g) {
  const char* group = "Global options";
  app.add_flag("-v,--verbose", g.verbose, "more log output on stderr: -v info, -vv debug, -vvv trace")->group(group);
  app.add_flag("-q,--quiet", g.quiet, "only errors on stderr, no progress")->group(group);
  app.add_option("--log-level", g.log_level, "stderr log level, overrides -v/-q: trace, debug, info, warning, error, off")
      ->option_text("LEVEL")
      ->check(one_of({"trace", "debug", "info", "warning", "error", "off"}))
      ->group(group);
  app.add_option("--log-file", g.log_file, "also write every log record at debug level to FILE")
      ->option_text("FILE")
      ->group(group);
  app.add_option("--color", g.color,
                 "ANSI colors on stderr: auto (default: only on a terminal, without NO_COLOR or TERM=dumb), "
                 "always, never")
      ->option_text("WHEN")
      ->check(one_of({"auto", "always", "never"}))
      ->group(group);
  app.add_flag("--json", g.json, "print exactly one JSON document on stdout (also on failure)")->group(group);
  app.add_option("--load-library", g.load_library,
                 "load an operator library (.so, TORCH_LIBRARY) before anything else, as torch.ops.load_library "
                 "does (repeatable)")
      ->option_text("FILE")
      ->allow_extra_args(false)
      ->group(group);
}

void add_export_options(CLI::App& sub, ParsedArgs& a, bool is_check) {
  sub.add_option("MODEL", a.exp.model, "TorchScript archive (torch.jit.script/trace + save) or torch.save'd nn.Module")
      ->required();
  sub.add_option("INPUTS", a.exp.inputs, "sample inputs: inputs.json (ptexport.inputs/v1)")->required();
  sub.add_option("--dynamic", a.exp.dynamic,
                 "dynamic dimension spec (repeatable): SYM=[MIN]:[MAX], INPUT.DIM=SYM, INPUT.DIM=A*SYM+B, "
                 "INPUT.DIM=auto|dynamic|static")
      ->option_text("SPEC")
      ->allow_extra_args(false);
  sub.add_flag("--draft", a.exp.draft,
               "draft export (torch's draft_export): report every problem in one run, decide data-dependent "
               "conditions on the sample (kept as runtime assertions) and still write the artifact; exit 9 "
               "when it has problems");
  sub.add_flag("--trace-on-data", a.exp.trace_on_data,
               "trace on the sample's values (every op computed, each shape rule checked against ATen's sizes; "
               "a debug mode): by default the trace runs on meta tensors and reads values only when the model "
               "does");
  sub.add_option("--method", a.exp.method,
                 "the method to export (default: inputs.json's \"method\", else forward, else the overload "
                 "of forward the inputs match)")
      ->option_text("NAME");
  if (!is_check) {
    a.output_option = sub.add_option("-o,--output", a.output, "the artifact to write (default: MODEL with extension .pt2)")
                          ->option_text("OUT.pt2");
    sub.add_flag("--no-verify", a.no_verify, "skip comparing the exported program with the eager model");
    sub.add_option("--verify", a.verify_mode,
                   "bounded (default): values at the sample and small sizes, shapes only at each max; full: "
                   "values at every point")
        ->check(one_of({"bounded", "full"}))
        ->option_text("MODE");
    sub.add_option("--verify-budget", a.exp.verify_budget_s,
                   "verification: seconds for the value comparisons, then shapes only (default: no limit)")
        ->check(kPositive)
        ->option_text("SECONDS");
    sub.add_option("--atol", a.exp.atol, "verification: absolute tolerance (default 1e-4)")
        ->check(kNonNegative)
        ->option_text("ATOL");
    sub.add_option("--rtol", a.exp.rtol, "verification: relative tolerance (default 1e-4)")
        ->check(kNonNegative)
        ->option_text("RTOL");
    sub.add_option("--verify-elements", a.exp.verify_element_budget,
                   "verification: the largest input (in elements) built at a symbol's max (default 16777216)")
        ->check(kPositive)
        ->option_text("N");
    sub.add_option("--ir", a.exp.ir,
                   "IR level of the artifact: training (default: as traced), inference (torch's "
                   "run_decompositions({})), core (run_decompositions(): core ATen ops only)")
        ->check(one_of({"training", "inference", "core"}))
        ->option_text("LEVEL");
    sub.add_option("--keep", a.exp.keep, "with --ir inference|core: leave this op undecomposed (repeatable), "
                                         "e.g. aten::linear or aten.linear.default")
        ->option_text("OP")
        ->allow_extra_args(false);
  }
  sub.add_option("--op-rules", a.exp.op_rules,
                 "output sizes of custom operators without a Meta kernel (repeatable; format: docs/op-rules.md)")
      ->option_text("FILE")
      ->allow_extra_args(false);
  sub.add_option("--solver-timeout", a.exp.solver_timeout_s,
                 "Z3 budget per query in seconds (default 10), turned into a deterministic resource limit")
      ->check(kPositive)
      ->option_text("SECONDS");
  sub.add_option("--report", a.report, "also write the report (ptexport.report/v1 JSON) to FILE, also on failure")
      ->option_text("FILE");
  sub.add_flag("--allow-unsafe-ops", a.exp.allow_unsafe_ops, kAllowUnsafeOpsHelp);
}

/// The global options given before and after the command, together: counts add up, the
/// command's own values win over the ones before it.
GlobalArgs merged_global(const ParsedArgs& a) {
  GlobalArgs g = a.main_global;
  for (const GlobalArgs* sub : {&a.export_global, &a.check_global, &a.inspect_global, &a.run_global, &a.verify_global}) {
    g.verbose += sub->verbose;
    g.quiet += sub->quiet;
    if (!sub->log_level.empty()) g.log_level = sub->log_level;
    if (!sub->log_file.empty()) g.log_file = sub->log_file;
    if (sub->color != "auto") g.color = sub->color;
    g.json = g.json || sub->json;
    g.load_library.insert(g.load_library.end(), sub->load_library.begin(), sub->load_library.end());
  }
  return g;
}

/// The app and its subcommands; `a` receives the values.
std::unique_ptr<CLI::App> make_app(ParsedArgs& a) {
  auto app = std::make_unique<CLI::App>(kMainDescription, "ptexport");
  app->usage(
      "Usage: ptexport [OPTIONS] COMMAND ARGS...\n"
      "       ptexport MODEL INPUTS [OPTIONS]   (shorthand for `ptexport export MODEL INPUTS`)");
  app->allow_extras();
  app->require_subcommand(0, 1);
  app->formatter(std::make_shared<HelpFormatter>());
  app->set_help_flag("-h,--help", "print this help and exit");
  add_global_options(*app, a.main_global);
  app->add_flag("--version", a.version, "print the versions of ptexport, LibTorch, Z3 and the schemas");
  app->footer(
      examples_text({{"export with a dynamic batch dimension (the artifact is model.pt2)",
                      "ptexport model.pt inputs.json --dynamic batch=1:1024"},
                     {"a CI gate: analyse only, write the JSON report to a file",
                      "ptexport check model.pt inputs.json --dynamic batch=1:1024 --json > report.json"}}) +
      "\n" + exit_codes_text({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 130}) +
      "\nRun `ptexport COMMAND --help` for a command's options. Logs per stage: PTEXPORT_LOGS=+shapes,solver\n"
      "(torch's TORCH_LOGS names work too, e.g. +dynamic). Documentation: docs/cli.md.");

  CLI::App* exp = app->add_subcommand(
      "export", "trace MODEL on INPUTS, check the dynamic shapes with Z3, write OUT.pt2, verify it against eager");
  exp->usage("Usage: ptexport export MODEL INPUTS [OPTIONS]\n       ptexport MODEL INPUTS [OPTIONS]");
  add_export_options(*exp, a, /*is_check=*/false);
  add_global_options(*exp, a.export_global);
  exp->footer(examples_text({{"a dynamic batch dimension named in --dynamic, the artifact written to model.pt2",
                              "ptexport export model.pt inputs.json --dynamic x.0=batch --dynamic batch=1:1024 -o model.pt2"},
                             {"dynamic height and width, the report kept for CI",
                              "ptexport export resnet.pt inputs.json --dynamic x.2=h --dynamic x.3=w --dynamic h=32:1024 "
                              "--dynamic w=32:1024 --report report.json"}}) +
              "\n" + exit_codes_text({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 130}));

  CLI::App* check = app->add_subcommand(
      "check", "the analysis of export (trace, shapes, Z3) without writing an artifact: the fast CI gate");
  check->usage("Usage: ptexport check MODEL INPUTS [OPTIONS]");
  add_export_options(*check, a, /*is_check=*/true);
  add_global_options(*check, a.check_global);
  check->footer(examples_text({{"does batch in [1, 1024] hold for this model?",
                                "ptexport check model.pt inputs.json --dynamic batch=1:1024"},
                               {"keep the report for the CI job's artifacts, whatever the outcome",
                                "ptexport check model.pt inputs.json --dynamic batch=1:1024 --report check-report.json"}}) +
                "\n" + exit_codes_text({0, 1, 2, 3, 4, 5, 7, 8, 9, 130}));

  CLI::App* inspect = app->add_subcommand(
      "inspect", "describe ARTIFACT.pt2: signature, symbols and ranges, guards, graph, op histogram, provenance");
  inspect->usage("Usage: ptexport inspect ARTIFACT.pt2 [OPTIONS]");
  inspect->add_option("ARTIFACT", a.inspect.artifact, "a .pt2 file (ours or torch.export.save's)")->required();
  inspect->add_flag("--no-graph", a.no_graph, "leave the graph out of the text output");
  add_global_options(*inspect, a.inspect_global);
  inspect->footer(examples_text({{"everything, as print(ep) shows it, plus symbols and an op histogram",
                                  "ptexport inspect model.pt2"},
                                 {"the symbol ranges only, through the JSON description",
                                  "ptexport inspect model.pt2 --json | jq '.symbols'"}}) +
                  "\n" + exit_codes_text({0, 1, 2, 3, 130}));

  CLI::App* run = app->add_subcommand(
      "run", "execute ARTIFACT.pt2 on INPUTS (checked against its recorded ranges) and summarize the outputs");
  run->usage("Usage: ptexport run ARTIFACT.pt2 INPUTS [OPTIONS]");
  run->add_option("ARTIFACT", a.run.artifact, "a .pt2 file")->required();
  run->add_option("INPUTS", a.run.inputs, "inputs.json (ptexport.inputs/v1) in forward's argument order")->required();
  run->add_flag("--values", a.run.values, "print every output tensor in full");
  run->add_flag("--allow-unsafe-ops", a.run.allow_unsafe_ops, kAllowUnsafeOpsHelp);
  add_global_options(*run, a.run_global);
  run->footer(examples_text({{"run the artifact on new sizes", "ptexport run model.pt2 inputs_batch64.json"},
                             {"output shapes and statistics as JSON", "ptexport run model.pt2 inputs.json --json"}}) +
              "\n" + exit_codes_text({0, 1, 2, 3, 4, 130}));

  CLI::App* verify = app->add_subcommand(
      "verify", "compare ARTIFACT.pt2 with the eager MODEL on the sample and on each symbol's min, max and interior");
  verify->usage("Usage: ptexport verify ARTIFACT.pt2 MODEL INPUTS [OPTIONS]");
  verify->add_option("ARTIFACT", a.verify.artifact, "a .pt2 file")->required();
  verify->add_option("MODEL", a.verify.model, "the model it was exported from")->required();
  verify->add_option("INPUTS", a.verify.inputs, "inputs.json (ptexport.inputs/v1)")->required();
  verify->add_option("--dynamic", a.verify.dynamic,
                     "the --dynamic specs the artifact was exported with (repeatable), as for export")
      ->option_text("SPEC")
      ->allow_extra_args(false);
  verify->add_option("--method", a.verify.method, "the method the artifact was exported from, as for export")
      ->option_text("NAME");
  verify->add_option("--atol", a.verify.atol, "absolute tolerance (default 1e-4)")
      ->check(kNonNegative)
      ->option_text("ATOL");
  verify->add_option("--rtol", a.verify.rtol, "relative tolerance (default 1e-4)")
      ->check(kNonNegative)
      ->option_text("RTOL");
  verify->add_option("--verify-elements", a.verify.element_budget,
                     "the largest input (in elements) built at a symbol's max (default 16777216)")
      ->check(kPositive)
      ->option_text("N");
  verify->add_flag("--allow-unsafe-ops", a.verify.allow_unsafe_ops, kAllowUnsafeOpsHelp);
  add_global_options(*verify, a.verify_global);
  verify->footer(examples_text({{"check an artifact exported with --dynamic batch=1:1024 against its model",
                                 "ptexport verify model.pt2 model.pt inputs.json --dynamic batch=1:1024"},
                                {"with looser tolerances, as JSON",
                                 "ptexport verify model.pt2 model.pt inputs.json --atol 1e-3 --rtol 1e-3 --json"}}) +
                 "\n" + exit_codes_text({0, 1, 2, 3, 4, 6, 130}));

  for (CLI::App* sub : app->get_subcommands({})) {
    sub->allow_extras();
  }
  return app;
}

/// Every option name of `app` ("--dynamic", "-o"), for did-you-mean.
std::vector<std::string> option_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::Option* opt : app.get_options()) {
    for (const std::string& l : opt->get_lnames()) names.push_back("--" + l);
    for (const std::string& s : opt->get_snames()) names.push_back("-" + s);
  }
  return names;
}

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
    if (std::find(kCommands.begin(), kCommands.end(), a) != kCommands.end()) return a;
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

/// The options (of any command) that take a value as the next argument: "-o", "--dynamic", ...
std::set<std::string> value_options() {
  ParsedArgs scratch;
  const std::unique_ptr<CLI::App> app = make_app(scratch);
  std::set<std::string> names;
  std::vector<const CLI::App*> apps = {app.get()};
  for (const CLI::App* sub : app->get_subcommands({})) apps.push_back(sub);
  for (const CLI::App* a : apps) {
    for (const CLI::Option* opt : a->get_options()) {
      if (!opt->nonpositional() || opt->get_type_size() == 0) continue;  // positionals and flags
      for (const std::string& l : opt->get_lnames()) names.insert("--" + l);
      for (const std::string& n : opt->get_snames()) names.insert("-" + n);
    }
  }
  return names;
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
    if (std::find(kCommands.begin(), kCommands.end(), a) != kCommands.end()) return args;
    std::error_code ec;
    if (!fs::exists(a, ec) && a.find('.') == std::string::npos && a.find('/') == std::string::npos) {
      if (auto c = closest_name(a, kCommands)) {
        PTX_USER_FAIL(ExitCode::kUsage, "E_USAGE")
            << "unknown command '" << a << "'; did you mean '" << *c << "'? (commands: " << join_names(kCommands)
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
    return usage_failure("", "no command given (commands: " + join_names(kCommands) +
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
  return run_cli(args, io);
}

}  // namespace ptx::cmd
