// cmd/commands.cpp: `export`, `check` and --version. See cmd/commands.h; inspect, run and verify
// live in cmd/inspect_cmd.cpp, cmd/run_cmd.cpp and cmd/verify_cmd.cpp.
#include "cmd/commands.h"

#include "cmd/logging.h"
#include "cmd/version.h"

#include <map>
#include <memory>

namespace ptx::cmd {

namespace {

std::string range_text(const nlohmann::json& r) {
  if (!r.is_object()) return "?";
  const auto side = [&](const char* k, const char* none) {
    return r.contains(k) && r[k].is_number_integer() ? std::to_string(r[k].get<int64_t>()) : std::string(none);
  };
  return "[" + side("min", "0") + ", " + side("max", "int_oo") + "]";
}

/// The stdout summary when the pipeline gives none: the verdict, each symbol's requested and
/// proven range, the verification and the artifact.
std::string default_summary(const nlohmann::json& report, const ExportOptions& opts, const ExportOutcome& outcome) {
  size_t asserts = 0;
  if (report.contains("constraints") && report["constraints"].is_object() &&
      report["constraints"].contains("runtime_asserts") && report["constraints"]["runtime_asserts"].is_array()) {
    asserts = report["constraints"]["runtime_asserts"].size();
  }
  std::string s = "ok: " + opts.model.string() +
                  (asserts == 0 ? ": every guard holds over the requested ranges\n"
                                : ": the requested ranges hold; some guards are checked at run time\n");
  if (!outcome.method_note.empty()) s += "  " + outcome.method_note + "\n";
  const nlohmann::json* symbols = nullptr;
  if (report.contains("constraints") && report["constraints"].is_object() && report["constraints"].contains("symbols")) {
    symbols = &report["constraints"]["symbols"];
  }
  if (symbols && symbols->is_array()) {
    for (const nlohmann::json& sym : *symbols) {
      if (!sym.is_object()) continue;
      std::string sources;
      if (sym.contains("sources") && sym["sources"].is_array()) {
        for (const auto& src : sym["sources"]) sources += (sources.empty() ? "" : ", ") + src.get<std::string>();
      }
      // A symbol without a user-given name (a dynamic/auto hint) is named by its source: show s0 = x.size()[0].
      std::string name = sym.value("name", std::string("?"));
      if (name == sources) name = sym.value("symbol", name);
      std::string except;
      for (const auto& k : sym.value("excluded", nlohmann::json::array())) {
        except += (except.empty() ? ", " : " and ") + k.dump();
      }
      if (!except.empty()) except += " refused at run time (a guard fails there)";
      s += "  " + name + (sources.empty() ? "" : " = " + sources) + ": requested " +
           range_text(sym.value("requested", nlohmann::json())) + ", proven " +
           range_text(sym.value("proven", nlohmann::json())) + except + "\n";
    }
  }
  if (report.contains("constraints") && report["constraints"].is_object() &&
      report["constraints"].contains("runtime_asserts") && report["constraints"]["runtime_asserts"].is_array()) {
    const nlohmann::json& asserts = report["constraints"]["runtime_asserts"];
    if (!asserts.empty()) {
      s += std::to_string(asserts.size()) + (asserts.size() == 1 ? " guard" : " guards") +
           " the ranges do not imply " + (asserts.size() == 1 ? "is" : "are") +
           " checked when the artifact runs (inputs that break it are rejected):\n";
      for (const nlohmann::json& a : asserts) {
        if (!a.is_object()) continue;
        const std::string op = a.value("op", std::string()), source = a.value("source", std::string());
        s += "  " + a.value("guard", std::string("?")) + (op.empty() ? "" : "  (" + op) +
             (source.empty() ? "" : (op.empty() ? "  (" : " at ") + source) + (op.empty() && source.empty() ? "" : ")") +
             "\n";
      }
    }
  }
  if (report.contains("verification") && report["verification"].is_array()) {
    int ok = 0, skipped = 0, shapes = 0;
    for (const auto& c : report["verification"]) {
      ok += c.value("ok", false);
      skipped += c.value("skipped", false);
      shapes += !c.value("skipped", false) && c.value("check", std::string()) == "shapes";
    }
    const int values = static_cast<int>(report["verification"].size()) - skipped - shapes;
    s += "verified at " + std::to_string(ok) + " of " + std::to_string(report["verification"].size()) +
         " points: values against the eager model at " + std::to_string(values) + ", shapes only at " +
         std::to_string(shapes) + (skipped ? " (" + std::to_string(skipped) + " skipped)" : "") + "\n";
  }
  if (!outcome.artifact.empty()) s += "wrote " + outcome.artifact.string() + "\n";
  return s;
}

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

std::string str_or(const nlohmann::json& j, const char* key, const char* fallback = "") {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : fallback;
}

/// The symbols and guards of the report on the shapes logger, the verdicts on the solver logger
/// (what torch's TORCH_LOGS=+dynamic shows). Written when the analysis is over, from the report.
void log_symbols_and_guards(const nlohmann::json& report) {
  if (!report.is_object() || !report.contains("constraints") || !report["constraints"].is_object()) return;
  const nlohmann::json& symbols = report["constraints"].value("symbols", nlohmann::json::array());
  if (!symbols.is_array()) return;
  spdlog::logger& shapes = stage_log("shapes");
  spdlog::logger& solver = stage_log("solver");
  for (const nlohmann::json& sym : symbols) {
    if (!sym.is_object()) continue;
    std::string sources;
    for (const auto& src : sym.value("sources", nlohmann::json::array())) {
      if (src.is_string()) sources += (sources.empty() ? "" : ", ") + src.get<std::string>();
    }
    shapes.debug("symbol {} = {} ({}): sample {}, requested {}", str_or(sym, "symbol", "?"), str_or(sym, "name", "?"),
                 sources, sym.contains("hint") ? sym["hint"].dump() : "?",
                 range_text(sym.value("requested", nlohmann::json())));
    for (const auto& g : sym.value("guards", nlohmann::json::array())) {
      std::string code = str_or(g, "code");
      while (!code.empty() && (code.back() == '\n' || code.back() == ' ')) code.pop_back();
      shapes.debug("guard {} on {}: {} at {} ({}){}", str_or(g, "guard", "?"), str_or(sym, "name", "?"),
                   str_or(g, "op", "?"), str_or(g, "source", "unknown source"), str_or(g, "reason"),
                   code.empty() ? "" : ": " + code);
    }
    solver.info("{}: {}, proven {}{}", str_or(sym, "name", "?"), str_or(sym, "verdict", "?"),
                range_text(sym.value("proven", nlohmann::json())),
                sym.contains("counterexample") && !sym["counterexample"].is_null()
                    ? ", counterexample " + sym["counterexample"].dump()
                    : "");
  }
}

}  // namespace

void run_export_command(const ExportOptions& opts, Context& ctx, CommandOutput& out) {
  nlohmann::json partial;
  try {
    ExportOutcome outcome = run_export(opts, logged(ctx.progress.observer()), &partial);
    log_symbols_and_guards(outcome.report);
    out.document = std::move(outcome.report);
    out.warnings = std::move(outcome.warnings);
    out.exit_code = outcome.exit_code;
    out.text = outcome.summary.empty() ? default_summary(out.document, opts, outcome) : outcome.summary;
    if (!out.text.empty() && out.text.back() != '\n') out.text += '\n';
  } catch (...) {
    if (partial.is_object()) {
      log_symbols_and_guards(partial);
      out.document = std::move(partial);
    }
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
