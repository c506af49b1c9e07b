// cmd/cli_app.cpp: the command line's definition (see cmd/cli_app.h): commands, options, help texts.
#include "cmd/cli_app.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <initializer_list>
#include <sstream>
#include <utility>

#include "lib/did_you_mean.h"

namespace ptx::cmd {

const std::vector<std::string>& command_names() {
  static const std::vector<std::string> names = {"export", "check", "inspect", "run", "verify"};
  return names;
}

namespace {

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

}  // namespace

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

}  // namespace ptx::cmd
