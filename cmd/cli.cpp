// cmd/cli.cpp: the command line of docs/cli.md (export and check; the other commands follow).
#include "cmd/cli.h"

#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>

#include <cstring>
#include <fstream>
#include <iostream>

#include "cmd/pipeline.h"
#include "cmd/version.h"
#include "shapes/error.h"

namespace ptx::cmd {
namespace {

constexpr const char* kFooter =
    "Commands:\n"
    "  ptexport MODEL INPUTS [options]            shorthand for `ptexport export`\n"
    "  export  MODEL INPUTS [-o OUT.pt2]         trace, check shapes with Z3, verify, write .pt2 + report\n"
    "  check   MODEL INPUTS                      the same analysis, no artifact\n"
    "\n"
    "Examples:\n"
    "  ptexport model.pt inputs.json --dynamic batch=1:1024 -o model.pt2\n"
    "  ptexport check model.pt inputs.json --dynamic x.0=batch --dynamic batch=1:64 --json\n"
    "\n"
    "Exit codes: 0 ok, 1 internal error, 2 usage, 3 input, 4 export failed, 5 constraint violation,\n"
    "            6 verification mismatch, 7 solver inconclusive, 8 output error, 130 interrupted\n";

struct Flags {
  ExportOptions opts;
  bool json = false;
  std::string report_file;
  std::string out;
};

void add_export_flags(CLI::App* app, Flags& f, bool with_output) {
  app->add_option("MODEL", f.opts.model, "TorchScript archive (.pt) or torch.save'd module")->required();
  app->add_option("INPUTS", f.opts.inputs, "inputs.json (ptexport.inputs/v1)")->required();
  app->add_option("--dynamic", f.opts.dynamic,
                  "SYM=[MIN]:[MAX], INPUT.DIM=SYM, INPUT.DIM=A*SYM+B, INPUT.DIM=auto|dynamic|static (repeatable)");
  if (with_output) app->add_option("-o,--output", f.out, "artifact path (default: MODEL with .pt2)");
  app->add_flag("--no-verify{false}", f.opts.verify, "skip the comparison with the eager model");
  app->add_option("--atol", f.opts.atol, "absolute tolerance of verification")->capture_default_str();
  app->add_option("--rtol", f.opts.rtol, "relative tolerance of verification")->capture_default_str();
  app->add_option("--solver-timeout", f.opts.solver_timeout_s, "seconds per Z3 query")->capture_default_str();
  app->add_option("--verify-elements", f.opts.verify_element_budget,
                  "largest input (elements) built for verification")
      ->capture_default_str();
  app->add_option("--report", f.report_file, "write the JSON report to FILE");
  app->add_flag("--json", f.json, "stdout is exactly one JSON document (the report)");
}

int run_export_command(Flags& f, bool write) {
  f.opts.write_artifact = write;
  if (!f.out.empty()) f.opts.out = f.out;
  StageObserver obs;
  obs.begin = [](int, int, const std::string&) {};
  obs.end = [&](int i, double s, const std::string& detail) {
    static const char* names[] = {"", "load model", "load inputs", "trace", "solve", "verify", "write artifact"};
    std::fprintf(stderr, "[%d/%d] %s%s%s %.2fs\n", i, write ? (f.opts.verify ? 6 : 5) : (f.opts.verify ? 5 : 4),
                 (i < 7) ? names[i] : "", detail.empty() ? "" : " (", (detail + (detail.empty() ? "" : ")")).c_str(), s);
  };
  nlohmann::json report;
  int code = 0;
  std::string error;
  try {
    ExportOutcome out = run_export(f.opts, obs, &report);
    report = out.report;
    for (const std::string& w : out.warnings) std::cerr << "warning: " << w << "\n";
    if (!f.json) {
      if (write) std::cout << "wrote " << out.artifact.string() << "\n";
      if (report.contains("constraints")) {
        for (const auto& s : report["constraints"].value("symbols", nlohmann::json::array())) {
          auto bound = [](const nlohmann::json& v) { return v.is_null() ? std::string("inf") : v.dump(); };
          const auto& r = s.value("proven", nlohmann::json::object());
          std::cout << "  " << s.value("name", std::string()) << " (" << s.value("symbol", std::string())
                    << "): " << s.value("verdict", std::string()) << ", range [" << bound(r.value("min", nlohmann::json()))
                    << ", " << bound(r.value("max", nlohmann::json())) << "]\n";
        }
      }
    }
  } catch (const UserError& e) {
    code = static_cast<int>(e.code());
    error = e.what();
  } catch (const InternalError& e) {
    code = 1;
    error = std::string("internal error: ") + e.what() + "\nplease report this with the command line and files";
  } catch (const c10::Error& e) {
    code = 1;
    error = std::string("internal error: ") + e.what_without_backtrace() + "\nplease report this";
  } catch (const std::exception& e) {
    code = 1;
    error = std::string("internal error: ") + e.what() + "\nplease report this";
  }
  if (code != 0) {
    if (report.is_null()) report = {{"schema", "ptexport.report/v1"}};
    report["status"] = "error";
    report["exit_code"] = code;
    if (!report.contains("diagnostics")) report["diagnostics"] = nlohmann::json::array();
    std::cerr << "error: " << error << "\n";
  }
  if (!f.report_file.empty()) {
    std::ofstream rf(f.report_file);
    rf << report.dump(2) << "\n";
    if (!rf) {
      std::cerr << "error: cannot write report " << f.report_file << "\n";
      if (code == 0) code = static_cast<int>(ExitCode::kOutput);
    }
  }
  if (f.json) std::cout << report.dump(2) << "\n";
  return code;
}

}  // namespace

int run_cli(int argc, char** argv) {
  // `ptexport MODEL INPUTS ...` is `ptexport export MODEL INPUTS ...`.
  std::vector<std::string> args(argv + 1, argv + argc);
  static const char* kCommands[] = {"export", "check", "inspect", "run", "verify"};
  if (!args.empty() && args[0][0] != '-' &&
      std::none_of(std::begin(kCommands), std::end(kCommands), [&](const char* c) { return args[0] == c; })) {
    args.insert(args.begin(), "export");
  }
  CLI::App app{"ptexport: export TorchScript models to torch.export .pt2 artifacts, with sound dynamic shapes"};
  app.set_version_flag("--version", [] {
    const Versions v = versions();
    return "ptexport " + v.ptexport + "\nLibTorch " + v.libtorch + "\nZ3 " + v.z3 + "\npt2 schema " + v.pt2_schema;
  });
  app.require_subcommand(0, 1);
  app.footer(kFooter);
  Flags export_flags, check_flags;
  CLI::App* exp = app.add_subcommand("export", "trace, check shapes, verify, write .pt2 + report");
  add_export_flags(exp, export_flags, true);
  CLI::App* chk = app.add_subcommand("check", "the same analysis as export, no artifact");
  add_export_flags(chk, check_flags, false);
  try {
    std::vector<std::string> rev(args.rbegin(), args.rend());
    app.parse(rev);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : static_cast<int>(ExitCode::kUsage);
  }
  if (exp->parsed()) return run_export_command(export_flags, true);
  if (chk->parsed()) return run_export_command(check_flags, false);
  std::cout << app.help();
  return 0;
}

}  // namespace ptx::cmd
