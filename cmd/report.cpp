// cmd/report.cpp: see report.h.
#include "cmd/report.h"

#include <map>
#include <optional>

#include "cmd/logging.h"
#include "cmd/version.h"
#include "shapes/error.h"

namespace ptx::cmd {
namespace {

/// 0 and 1 where they lie in the proven range but a guard fails there (refused at run time).
std::vector<int64_t> excluded(const shapes::SymbolVerdict& v) {
  std::vector<int64_t> out;
  for (int64_t k : {0, 1}) {
    if (v.proven.contains(k) && !(k == 0 ? v.allowed_at_0 : v.allowed_at_1)) out.push_back(k);
  }
  return out;
}

using nlohmann::json;
using shapes::Suggestion;

/// "0", "0 and 1", "0 to 4", "65 to int_oo": the sizes from lo to hi (nullopt: unbounded).
std::string sizes_text(int64_t lo, std::optional<int64_t> hi) {
  if (hi && *hi == lo) return std::to_string(lo);
  if (hi && *hi == lo + 1) return std::to_string(lo) + " and " + std::to_string(*hi);
  return std::to_string(lo) + " to " + (hi ? std::to_string(*hi) : std::string("int_oo"));
}

/// Why a symbol's proven range is narrower than its requested one although no guard is violated:
/// "zero_one" (a named range is held to the guards from 2 up; sizes 0 and 1 where they fail leave
/// the range), "dim_hint" (a Dim.DYNAMIC/AUTO dim takes the range its guards allow); empty when the
/// range is as requested (or the check failed on it: the violation says why).
std::string narrowed_reason(const shapes::SymbolVerdict& v) {
  if (v.verdict != shapes::Verdict::kOk || v.requested == v.proven) return "";
  return v.kind == shapes::DimHint::kNamed ? "zero_one" : "dim_hint";
}

/// The note on a narrowed range: the sizes cut off, the guards failing there, and why that is no
/// violation. Empty when the range is not narrowed.
std::string narrowed_note(const shapes::SymbolVerdict& v) {
  const std::string reason = narrowed_reason(v);
  if (reason.empty()) return "";
  std::vector<std::string> cut;
  if (v.proven.min > v.requested.min) cut.push_back(sizes_text(v.requested.min, v.proven.min - 1));
  if (v.proven.max && (!v.requested.max || *v.requested.max > *v.proven.max)) {
    cut.push_back(sizes_text(*v.proven.max + 1, v.requested.max));
  }
  const bool one = cut.size() == 1 && cut[0].find(' ') == std::string::npos;
  std::string note = "narrowed from the requested " + v.requested.str() + (one ? ": size " : ": sizes ");
  for (size_t i = 0; i < cut.size(); ++i) note += (i ? " and " : "") + cut[i];
  if (v.narrowed_by.empty()) {
    note += one ? " breaks the guards" : " break the guards";
  } else {
    note += one ? " breaks " : " break ";
    for (size_t i = 0; i < v.narrowed_by.size(); ++i) {
      const shapes::Guard& g = v.narrowed_by[i];
      note += (i ? ", " : "") + g.cond.str() + (g.origin.op.empty() ? "" : " (" + g.origin.op) +
              (g.origin.source.empty() ? "" : (g.origin.op.empty() ? " (" : " at ") + g.origin.source) +
              (g.origin.op.empty() && g.origin.source.empty() ? "" : ")");
    }
  }
  if (reason == "zero_one") {
    return note + "; sizes 0 and 1 are not held to the guards (torch.export's 0/1 specialization rule: a "
                  "dynamic dim is checked from 2 up), so where they break one they leave the range instead of "
                  "failing the export";
  }
  return note + "; a " + std::string(v.kind == shapes::DimHint::kAuto ? "Dim.AUTO" : "Dim.DYNAMIC") +
         " dim takes the range its guards allow";
}

const char* kind_name(shapes::DimHint k) {
  return k == shapes::DimHint::kNamed ? "named" : k == shapes::DimHint::kDynamic ? "dynamic" : "auto";
}

json range_json(const shapes::Range& r) { return json{{"min", r.min}, {"max", r.max ? json(*r.max) : json(nullptr)}}; }

json guard_json(const shapes::Guard& g) {
  return json{{"guard", g.cond.str()}, {"op", g.origin.op},     {"node", g.origin.node},
              {"source", g.origin.source}, {"code", g.origin.code}, {"reason", g.origin.reason}};
}

}  // namespace

std::string check_message(const shapes::CheckResult& check, const AppliedFixes* fixes) {
  std::string message;
  if (!check.violation_text.empty()) {
    message = check.violation_text;
    if (!check.suggestions.empty()) {
      message += "\nSuggested fixes:";
      for (const Suggestion& s : check.suggestions) {
        if (!s.torch_form.empty()) message += "\n  " + s.torch_form;
      }
      for (size_t i = 0; i < check.suggestions.size(); ++i) {
        message += "\n  " + flag_form(check.suggestions[i]);
        const std::vector<std::string> none;
        const std::vector<std::string>& replaced = fixes ? fixes->replaces.at(i) : none;
        for (size_t r = 0; r < replaced.size(); ++r) message += (r == 0 ? "  (replaces " : ", ") + replaced[r];
        if (!replaced.empty()) message += ")";
      }
      if (fixes && !fixes->argv.empty()) message += "\nThe command line with these fixes:\n  " + shell_join(fixes->argv);
    } else {
      message += "\nNo suggested fix: no dynamic range implies every guard above";
    }
  }
  if (check.unknown || (!check.ok && check.violation_text.empty())) {
    message = "the solver could not decide, within its budget, whether the dynamic shape spec implies:";
    for (const shapes::SymbolVerdict& v : check.symbols) {
      if (v.verdict != shapes::Verdict::kUnknown) continue;
      for (const shapes::Guard& g : v.violated) message += "\n  - " + g.cond.str() + "\n" + shapes::required_by(g);
    }
  }
  return message;
}

json constraints_json(const shapes::CheckResult& check, const AppliedFixes* fixes) {
  json j;
  j["ok"] = check.ok;
  j["unknown"] = check.unknown;
  j["symbols"] = json::array();
  for (const shapes::SymbolVerdict& v : check.symbols) {
    json s{{"name", v.name},
           {"symbol", v.symbol.str()},
           {"kind", kind_name(v.kind)},
           {"hint", v.hint},
           {"sources", v.sources},
           {"requested", range_json(v.requested)},
           {"proven", range_json(v.proven)},
           {"verdict", to_string(v.verdict)},
           {"counterexample", v.counterexample ? json(*v.counterexample) : json(nullptr)},
           {"allowed_at_0", v.allowed_at_0},
           {"allowed_at_1", v.allowed_at_1}};
    // 0 or 1 inside the proven range where the guards fail: the artifact refuses them at run time
    // (a runtime assert), so the range alone would overstate it. Present only when non-empty.
    if (const std::vector<int64_t> ex = excluded(v); !ex.empty()) s["excluded"] = ex;
    // The proven range is narrower than the requested one without a violation: what was cut and
    // why. Present only then.
    if (const std::string reason = narrowed_reason(v); !reason.empty()) {
      json by = json::array();
      for (const shapes::Guard& g : v.narrowed_by) by.push_back(guard_json(g));
      s["narrowed"] = {{"reason", reason}, {"note", narrowed_note(v)}, {"guards", by}};
    }
    s["guards"] = json::array();
    for (const shapes::Guard& g : v.guards) s["guards"].push_back(guard_json(g));
    s["violated"] = json::array();
    for (const shapes::Guard& g : v.violated) s["violated"].push_back(guard_json(g));
    j["symbols"].push_back(std::move(s));
  }
  j["violation_text"] = check.violation_text;
  j["suggestions"] = json::array();
  for (size_t i = 0; i < check.suggestions.size(); ++i) {
    const Suggestion& s = check.suggestions[i];
    json entry = {{"symbol", s.symbol}, {"torch", s.torch_form}, {"flag", flag_form(s)}};
    if (fixes) entry["replaces"] = fixes->replaces.at(i);  // the user's --dynamic flags this fix replaces
    j["suggestions"].push_back(std::move(entry));
  }
  // The user's command line with every fix applied (absent when there is no fix or no command line).
  if (fixes && !fixes->argv.empty()) {
    j["corrected_command"] = shell_join(fixes->argv);
    j["corrected_argv"] = fixes->argv;
  }
  j["runtime_asserts"] = json::array();
  for (const shapes::Guard& g : check.runtime_asserts) j["runtime_asserts"].push_back(guard_json(g));
  j["specializations"] = check.specializations;
  j["final_ranges"] = json::object();
  for (const auto& [name, r] : check.final_ranges) j["final_ranges"][name] = range_json(r);
  return j;
}

json verification_json(const VerifyResult& result) {
  json out = json::array();
  for (const VerifyCase& c : result.cases) {
    out.push_back({{"label", c.point.label},
                   {"sizes", c.point.values},
                   {"ok", c.ok},
                   {"skipped", c.skipped},
                   {"check", to_string(c.check)},
                   {"note", c.note},
                   {"max_abs_err", c.max_abs_err},
                   {"max_rel_err", c.max_rel_err},
                   {"needed_atol", c.needed_atol}});
  }
  return out;
}

json timings_json(const std::vector<StageTiming>& timings) {
  json out = json::object();
  for (const StageTiming& t : timings) out[t.name] = t.seconds;
  return out;
}

namespace {

/// The report's "data_dependent" object: values read from data (unbacked symbols) with their
/// ranges and origin, cond subgraphs, and the data-dependent decisions (--draft).
json data_dependent_json(const ExportRun& run) {
  json unbacked = json::array();
  for (const shapes::UnbackedInfo& u : run.unbacked) {
    unbacked.push_back({{"name", u.sym.str()},
                        {"min", u.range.min == shapes::Range::kNoMin ? json(nullptr) : json(u.range.min)},
                        {"max", u.range.max ? json(*u.range.max) : json(nullptr)},
                        {"sample", u.hint},
                        {"what", u.what},
                        {"op", u.origin.op},
                        {"source", u.origin.source}});
  }
  json subgraphs = json::array();
  for (const CondSubgraph& g : run.cond_subgraphs) {
    subgraphs.push_back({{"name", g.name}, {"node", g.node}, {"op", g.op}, {"nodes", g.nodes}, {"source", g.source}});
  }
  json decisions = json::array();
  for (const shapes::DataDependentProblem& p : run.decisions) {
    decisions.push_back({{"condition", p.cond.str()}, {"taken", p.taken}, {"source", p.where.source},
                         {"message", p.message}});
  }
  return {{"unbacked_symbols", unbacked}, {"cond_subgraphs", subgraphs}, {"decisions", decisions}};
}

/// The report's "draft" object (--draft): every problem with its kind, and the count per kind.
json draft_json(const std::vector<DraftProblem>& problems) {
  json list = json::array();
  std::map<std::string, int> counts;
  for (const DraftProblem& p : problems) {
    list.push_back({{"kind", p.kind}, {"source", p.source}, {"message", p.message}});
    ++counts[p.kind];
  }
  return {{"problems", list}, {"counts", counts}};
}

}  // namespace

int exit_code(const ExportRun& run) { return run.drafted() ? static_cast<int>(ExitCode::kDraftWritten) : 0; }

json report_json(const ExportOptions& opts, const ExportRun& run) {
  const Versions v = versions();
  json report = {{"schema", "ptexport.report/v1"},
                 {"status", run.finished ? (run.drafted() ? "draft" : "ok") : run.error ? "error" : "running"},
                 {"exit_code", run.finished ? json(exit_code(run)) : run.error ? json(run.error->exit_code) : json(nullptr)},
                 {"command", opts.write_artifact ? "export" : "check"},
                 {"tool_versions", {{"ptexport", v.ptexport}, {"libtorch", v.libtorch}, {"z3", v.z3}, {"pt2_schema", v.pt2_schema}}},
                 {"model", opts.model.string()},
                 {"inputs_file", opts.inputs.string()},
                 {"dynamic_flags", opts.dynamic},
                 {"timings", timings_json(run.timings)},
                 {"diagnostics", json::array()}};
  if (run.error) report["diagnostics"].push_back({{"code", run.error->code}, {"message", run.error->message}});
  if (run.method && run.method->name != "forward") {  // absent for the plain forward (docs/cli.md)
    report["method"] = {{"name", run.method->name}, {"chosen_by", run.method->chosen_by}};
    if (run.method->chosen_by == "overload") report["method"]["overloads"] = run.method->overloads;
  }
  if (run.inputs) {
    json leaves = json::array();
    for (const InputShape& l : *run.inputs) leaves.push_back({{"path", l.path}, {"shape", l.shape}});
    report["inputs"] = leaves;
  }
  if (run.warnings) {
    report["warnings"] = *run.warnings;
    report["op_histogram"] = run.op_histogram;
  }
  if (!run.ir.empty()) {
    report["ir"] = run.ir;
    report["ir_op_histogram"] = run.ir_op_histogram;
  }
  // Only for programs that read sizes or branch on data (the report of other models is unchanged).
  if (!run.unbacked.empty() || !run.cond_subgraphs.empty() || !run.decisions.empty()) {
    report["data_dependent"] = data_dependent_json(run);
  }
  if (opts.draft) report["draft"] = draft_json(run.draft);
  if (run.check) report["constraints"] = constraints_json(*run.check, run.fixes ? &*run.fixes : nullptr);
  if (run.verification) report["verification"] = verification_json(*run.verification);
  if (!run.artifact.empty()) report["artifact"] = run.artifact.string();
  return report;
}

std::string summary_text(const ExportOptions& opts, const ExportRun& run) {
  const std::vector<shapes::Guard> none;
  const std::vector<shapes::Guard>& asserts = run.check ? run.check->runtime_asserts : none;
  bool narrowed = false;
  if (run.check) {
    for (const shapes::SymbolVerdict& v : run.check->symbols) narrowed = narrowed || !narrowed_reason(v).empty();
  }
  const std::string ranges = narrowed ? "the proven ranges (narrower than requested where noted)" : "the requested ranges";
  std::string s = "ok: " + opts.model.string() +
                  (asserts.empty() ? ": every guard holds over " + ranges + "\n"
                                   : ": " + ranges + " hold; some guards are checked at run time\n");
  if (run.method && !run.method->describe().empty()) s += "  " + run.method->describe() + "\n";
  if (run.check) {
    for (const shapes::SymbolVerdict& sym : run.check->symbols) {
      std::string sources;
      for (const std::string& src : sym.sources) sources += (sources.empty() ? "" : ", ") + src;
      // A symbol without a user-given name (a dynamic/auto hint) is named by its source: s0 = x.size()[0].
      const std::string name = sym.name == sources ? sym.symbol.str() : sym.name;
      std::string except;
      for (int64_t k : excluded(sym)) except += (except.empty() ? ", " : " and ") + std::to_string(k);
      if (!except.empty()) except += " refused at run time (a guard fails there)";
      s += "  " + name + (sources.empty() ? "" : " = " + sources) + ": requested " + sym.requested.str() +
           ", proven " + sym.proven.str() + except + "\n";
      if (const std::string note = narrowed_note(sym); !note.empty()) s += "    " + note + "\n";
    }
  }
  if (!asserts.empty()) {
    s += std::to_string(asserts.size()) + (asserts.size() == 1 ? " guard" : " guards") + " the ranges do not imply " +
         (asserts.size() == 1 ? "is" : "are") + " checked when the artifact runs (inputs that break it are rejected):\n";
    for (const shapes::Guard& a : asserts) {
      const std::string& op = a.origin.op;
      const std::string& source = a.origin.source;
      s += "  " + a.cond.str() + (op.empty() ? "" : "  (" + op) +
           (source.empty() ? "" : (op.empty() ? "  (" : " at ") + source) + (op.empty() && source.empty() ? "" : ")") +
           "\n";
    }
  }
  if (run.verification) {
    const auto& cases = run.verification->cases;
    int ok = 0, skipped = 0, shapes = 0;
    for (const VerifyCase& c : cases) {
      ok += c.ok;
      skipped += c.skipped;
      shapes += !c.skipped && c.check == VerifyCheck::kShapes;
    }
    const int values = static_cast<int>(cases.size()) - skipped - shapes;
    s += "verified at " + std::to_string(ok) + " of " + std::to_string(cases.size()) +
         " points: values against the eager model at " + std::to_string(values) + ", shapes only at " +
         std::to_string(shapes) + (skipped ? " (" + std::to_string(skipped) + " skipped)" : "") + "\n";
  }
  if (!run.artifact.empty()) s += "wrote " + run.artifact.string() + "\n";
  return s;
}

void log_trace(const shapes::ShapeEnv& env) {
  spdlog::logger& shapes_log = stage_log("shapes");
  std::map<int, std::string> names;  // symbol id -> the user's name
  for (const shapes::SymbolInfo& sym : env.symbols()) {
    names[sym.sym.symbol_id()] = sym.user_name;
    std::string sources;
    for (const std::string& src : sym.sources) sources += (sources.empty() ? "" : ", ") + src;
    shapes_log.debug("symbol {} = {} ({}): sample {}, requested {}", sym.sym.str(), sym.user_name, sources, sym.hint,
                     sym.requested.str());
  }
  for (const shapes::Guard& g : env.guards()) {
    std::string on;
    for (const shapes::SymExpr& s : g.cond.free_symbols()) {
      auto it = names.find(s.symbol_id());
      on += (on.empty() ? "" : ", ") + (it == names.end() ? s.str() : it->second);
    }
    std::string code = g.origin.code;
    while (!code.empty() && (code.back() == '\n' || code.back() == ' ')) code.pop_back();
    shapes_log.debug("guard {} on {}: {} at {} ({}){}", g.cond.str(), on, g.origin.op, g.origin.source, g.origin.reason,
                     code.empty() ? "" : ": " + code);
  }
}

void log_verdicts(const shapes::CheckResult& check) {
  spdlog::logger& solver = stage_log("solver");
  for (const shapes::SymbolVerdict& sym : check.symbols) {
    solver.info("{}: {}, proven {}{}", sym.name, to_string(sym.verdict), sym.proven.str(),
                sym.counterexample ? ", counterexample " + std::to_string(*sym.counterexample) : "");
  }
}

}  // namespace ptx::cmd
