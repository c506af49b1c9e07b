// cmd/pipeline.cpp: the stages of export/check. See cmd/pipeline.h.
#include "cmd/pipeline.h"

#include <torch/csrc/jit/api/function_impl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include "cmd/version.h"
#include "lib/frontend.h"
#include "lib/inputs.h"
#include "lib/interpreter.h"
#include "lib/method.h"
#include "lib/model.h"
#include "lib/op_policy.h"
#include "lib/verify.h"
#include "passes/pipeline.h"
#include "serialize/pt2_reader.h"
#include "serialize/pt2_writer.h"
#include "serialize/temp_file.h"
#include "shapes/checker.h"
#include "shapes/error.h"

namespace ptx::cmd {
namespace {

// The parameters, buffers and constants of the archive read back are those of the program written,
// bit for bit (verification then runs the read-back program, so its graph is checked at every
// point; a weight changed within the tolerances would not be). Once equal, the read-back program
// shares the written program's tensors, so that the weights are not held twice while verifying
// (the full vit_b_16: 330 MB).
void check_same_state(const ir::ExportedProgram& program, ir::ExportedProgram& back, const std::filesystem::path& out) {
  const auto same = [&](const char* what, const auto& a, auto& b) {
    bool ok = a.size() == b.size();
    std::string which;
    for (const auto& [name, t] : a) {
      if (!ok) break;
      auto it = b.find(name);
      ok = it != b.end() && it->second.sizes() == t.sizes() && it->second.dtype() == t.dtype() &&
           at::equal(it->second, t);
      if (!ok) which = name;
    }
    PTX_USER_CHECK(ok, ExitCode::kVerifyMismatch, "E_ROUNDTRIP")
        << out.string() << ": the archive read back has other " << what << (which.empty() ? "" : " (" + which + ")")
        << " than the program written; it was not written (this is a bug: please report it)";
    for (const auto& [name, t] : a) b[name] = t;
  };
  same("parameters", program.parameters, back.parameters);
  same("buffers", program.buffers, back.buffers);
  same("constants", program.constants, back.constants);
}

using Clock = std::chrono::steady_clock;

/// Times one stage and reports it to the observer and the report.
class StageRunner {
 public:
  StageRunner(const StageObserver& obs, nlohmann::json& report, int total)
      : obs_(obs), report_(report), total_(total) {}

  template <typename F>
  auto run(const std::string& name, F&& body) {
    ++index_;
    if (obs_.begin) obs_.begin(index_, total_, name);
    const auto t0 = Clock::now();
    std::string detail;
    // A failed stage keeps its timing in the report but is not announced as finished: the
    // error message says what happened.
    auto finish = [&](bool ok) {
      const double s = std::chrono::duration<double>(Clock::now() - t0).count();
      report_["timings"][name] = s;
      if (ok && obs_.end) obs_.end(index_, s, detail);
    };
    try {
      if constexpr (std::is_void_v<decltype(body(detail))>) {
        body(detail);
        finish(true);
      } else {
        auto result = body(detail);
        finish(true);
        return result;
      }
    } catch (...) {
      finish(false);
      throw;
    }
  }

 private:
  const StageObserver& obs_;
  nlohmann::json& report_;
  int total_;
  int index_ = 0;
};


nlohmann::json op_histogram(const ir::Graph& g) {
  std::map<std::string, int> counts;
  for (const auto& n : g.nodes()) {
    if (n->kind() == ir::NodeKind::kCall) ++counts[n->target()];
  }
  return counts;
}

/// "4/4 points match (values at 3, shapes at 1)", "..., 1 skipped".
std::string verify_detail(const VerifyResult& r) {
  int ok = 0, skipped = 0, shapes = 0;
  for (const auto& c : r.cases) {
    (c.skipped ? skipped : ok) += (c.ok || c.skipped);
    shapes += !c.skipped && c.check == VerifyCheck::kShapes;
  }
  const int values = static_cast<int>(r.cases.size()) - skipped - shapes;
  return std::to_string(ok) + "/" + std::to_string(r.cases.size()) + " points match (values at " +
         std::to_string(values) + ", shapes at " + std::to_string(shapes) + ")" +
         (skipped ? ", " + std::to_string(skipped) + " skipped" : "");
}

/// The report's "data_dependent" object: values read from data (unbacked symbols) with their
/// ranges and origin, cond subgraphs, and the data-dependent decisions (--draft).
nlohmann::json data_dependent_json(const TraceResult& trace) {
  nlohmann::json unbacked = nlohmann::json::array();
  for (const shapes::UnbackedInfo& u : trace.env.unbacked()) {
    unbacked.push_back({{"name", u.sym.str()},
                        {"min", u.range.min == shapes::Range::kNoMin ? nlohmann::json(nullptr) : nlohmann::json(u.range.min)},
                        {"max", u.range.max ? nlohmann::json(*u.range.max) : nlohmann::json(nullptr)},
                        {"sample", u.hint},
                        {"what", u.what},
                        {"op", u.origin.op},
                        {"source", u.origin.source}});
  }
  nlohmann::json subgraphs = nlohmann::json::array();
  for (const auto& n : trace.program.graph->nodes()) {
    for (const ir::NamedArg& a : n->inputs()) {
      if (const auto* ga = std::get_if<ir::GraphArg>(&a.value)) {
        int calls = 0;
        for (const auto& sn : ga->graph->nodes()) calls += sn->kind() == ir::NodeKind::kCall;
        subgraphs.push_back({{"name", ga->name}, {"node", n->name()}, {"op", n->target()}, {"nodes", calls},
                             {"source", n->meta().stack_trace}});
      }
    }
  }
  nlohmann::json decisions = nlohmann::json::array();
  for (const shapes::DataDependentProblem& p : trace.env.data_dependent_problems()) {
    decisions.push_back({{"condition", p.cond.str()}, {"taken", p.taken}, {"source", p.where.source},
                         {"message", p.message}});
  }
  return {{"unbacked_symbols", unbacked}, {"cond_subgraphs", subgraphs}, {"decisions", decisions}};
}

/// Removes the range of each unbacked symbol the final graph does not compute (an item() read only
/// by a decision that needed no assertion, removed as dead code).
void drop_unused_unbacked_ranges(ir::ExportedProgram& program, const shapes::ShapeEnv& env) {
  std::set<std::string> used;
  for (const auto& n : program.graph->nodes()) {
    for (const ir::Value* v : n->outputs()) {
      std::vector<shapes::SymExpr> exprs;
      if (v->type() == ir::ValueType::kTensor && v->has_meta()) exprs = v->meta().sizes;
      if (v->has_sym()) exprs.push_back(v->sym());
      for (const shapes::SymExpr& e : exprs) {
        for (const shapes::SymExpr& s : shapes::free_symbols(e)) used.insert(s.symbol_name());
      }
    }
  }
  for (const shapes::UnbackedInfo& u : env.unbacked()) {
    if (!used.count(u.sym.str())) program.range_constraints.erase(u.sym.str());
  }
}

/// One problem --draft went on after (torch's draft_export report entry).
struct DraftProblem {
  std::string kind;  // data_dependent, missing_shape_rule, constraint_violation, solver_unknown
  std::string source;
  std::string message;
};

nlohmann::json draft_json(const std::vector<DraftProblem>& problems) {
  nlohmann::json list = nlohmann::json::array();
  std::map<std::string, int> counts;
  for (const DraftProblem& p : problems) {
    list.push_back({{"kind", p.kind}, {"source", p.source}, {"message", p.message}});
    ++counts[p.kind];
  }
  return {{"problems", list}, {"counts", counts}};
}

std::filesystem::path default_output(const std::filesystem::path& model) {
  std::filesystem::path out = model;
  out.replace_extension(".pt2");
  return out;
}

/// Refuses, before any work, an output that is one of the command's own input files or that a
/// rename may not replace (serialize::check_destination).
void check_output_path(const std::filesystem::path& out, const ExportOptions& opts) {
  serialize::check_destination(out);
  std::error_code ec;
  for (const std::filesystem::path& in : {opts.model, opts.inputs}) {
    PTX_USER_CHECK(!std::filesystem::equivalent(out, in, ec), ExitCode::kOutput, "E_OUTPUT")
        << "cannot write " << out.string() << ": it is " << (in == opts.model ? "the model" : "the inputs file")
        << " " << in.string() << "; name another file with -o";
  }
}

}  // namespace

ExportOutcome run_export(const ExportOptions& opts, const StageObserver& observer, nlohmann::json* partial_report) {
  ExportOutcome outcome;
  nlohmann::json& report = outcome.report;
  const Versions v = versions();
  report = {{"schema", "ptexport.report/v1"},
            {"status", "running"},
            {"exit_code", nullptr},
            {"command", opts.write_artifact ? "export" : "check"},
            {"tool_versions", {{"ptexport", v.ptexport}, {"libtorch", v.libtorch}, {"z3", v.z3}, {"pt2_schema", v.pt2_schema}}},
            {"model", opts.model.string()},
            {"inputs_file", opts.inputs.string()},
            {"dynamic_flags", opts.dynamic},
            {"timings", nlohmann::json::object()},
            {"diagnostics", nlohmann::json::array()}};
  auto publish = [&] {
    if (partial_report != nullptr) *partial_report = report;
  };
  const int total = (opts.write_artifact ? 5 : 4) + (opts.verify ? 1 : 0);  // stages that will run
  std::vector<DraftProblem> draft;  // --draft: every problem found, in order
  StageRunner stages(observer, report, total);
  try {
    if (opts.write_artifact) check_output_path(opts.out ? *opts.out : default_output(opts.model), opts);
    // [1] the model
    LoadedModel model = stages.run("load model", [&](std::string& detail) {
      LoadedModel m = load_model(opts.model);
      detail = m.kind;
      return m;
    });

    // [2] the inputs, bound to the method's schema
    MethodChoice chosen = stages.run("load inputs", [&](std::string& detail) {
      MethodChoice c = choose_method(model.module, opts.model, opts.inputs, opts.dynamic,
                                     opts.method.empty() ? std::nullopt : std::optional<std::string>(opts.method));
      detail = std::to_string(c.inputs.sets.at(0).tensors.size()) + " tensors, " +
               std::to_string(c.inputs.symbols.size()) + " symbols" + (c.name == "forward" ? "" : ", method " + c.name);
      return c;
    });
    Inputs& inputs = chosen.inputs;
    if (chosen.name != "forward") {  // absent for the plain forward (docs/cli.md)
      report["method"] = {{"name", chosen.name}, {"chosen_by", chosen.chosen_by}};
      if (chosen.chosen_by == "overload") report["method"]["overloads"] = chosen.overloads;
    }
    outcome.method_note = chosen.describe();
    {
      nlohmann::json leaves = nlohmann::json::array();
      for (const TensorLeaf& l : inputs.sets.at(0).tensors) leaves.push_back({{"path", l.path}, {"shape", l.shape}});
      report["inputs"] = leaves;
    }

    // [3] trace
    TraceResult trace = stages.run("trace", [&](std::string& detail) {
      // Tracing runs every op of the method on the sample: only ops known to stay in the process.
      if (!opts.allow_unsafe_ops) {
        refuse_ops(refused_ops(model.module, inputs.method), opts.model.string(), "--allow-unsafe-ops");
      }
      TraceResult r = trace_module(model, inputs, TraceOptions{opts.draft});
      size_t calls = 0;
      for (const auto& n : r.program.graph->nodes()) calls += n->kind() == ir::NodeKind::kCall;
      detail = std::to_string(r.script_nodes) + " TorchScript nodes -> " + std::to_string(calls) + " ATen nodes, " +
               std::to_string(r.env.symbols().size()) + " symbols, " + std::to_string(r.env.guards().size()) +
               " guards";
      return r;
    });
    outcome.warnings = trace.warnings;
    report["warnings"] = trace.warnings;
    for (const shapes::DataDependentProblem& p : trace.env.data_dependent_problems()) {
      draft.push_back({"data_dependent", p.where.source, p.message});
    }
    for (const std::string& m : trace.missing_rules) draft.push_back({"missing_shape_rule", "", m});
    // Only for programs that read sizes or branch on data (the report of other models is unchanged).
    if (const nlohmann::json dd = data_dependent_json(trace);
        !dd["unbacked_symbols"].empty() || !dd["cond_subgraphs"].empty() || !dd["decisions"].empty()) {
      report["data_dependent"] = dd;
    }
    report["op_histogram"] = op_histogram(*trace.program.graph);

    // [4] solve
    shapes::CheckOptions check_opts;
    // A step budget (shapes::solver_budget); any positive timeout gets at least 1 ms worth of steps
    // (0 would mean the default budget).
    check_opts.timeout_ms = std::max(1u, static_cast<unsigned>(std::ceil(opts.solver_timeout_s * 1000)));
    const shapes::CheckResult check = stages.run("solve", [&](std::string& detail) {
      shapes::CheckResult c = shapes::check_constraints(trace.env, check_opts);
      detail = c.ok ? "all guards hold" : (c.unknown ? "inconclusive" : "constraints violated");
      return c;
    });
    report["constraints"] = check.to_json();
    if (!check.ok && opts.draft) draft.push_back({check.unknown ? "solver_unknown" : "constraint_violation", "", check.message});
    if (!check.ok) {
      if (opts.draft) report["draft"] = draft_json(draft);
      const ExitCode code = check.unknown ? ExitCode::kSolverUnknown : ExitCode::kConstraintViolation;
      report["status"] = "error";
      report["exit_code"] = static_cast<int>(code);
      publish();
      PTX_USER_FAIL(code, check.unknown ? "E_SOLVER_UNKNOWN" : "E_CONSTRAINT_VIOLATION") << check.message;
    }
    // The artifact's ranges are the proven ones.
    ir::ExportedProgram& program = trace.program;
    program.range_constraints.clear();
    for (const auto& [name, range] : check.final_ranges) program.range_constraints[name] = range;
    // Values read from data (u0, ...) keep the ranges their ops and checks give them.
    for (const shapes::UnbackedInfo& u : trace.env.unbacked()) program.range_constraints[u.sym.str()] = u.range;
    // Dead code goes; guards the ranges do not imply become runtime asserts in the graph, and so
    // do the unbacked symbols' ranges, the checks on them and the draft decisions.
    {
      passes::PipelineOptions po;
      po.runtime_asserts = check.runtime_asserts;
      const auto deferred = trace.env.deferred_asserts();
      po.runtime_asserts.insert(po.runtime_asserts.end(), deferred.begin(), deferred.end());
      passes::run_pipeline(program, po);
      drop_unused_unbacked_ranges(program, trace.env);
    }

    // [5] write the artifact under a temporary name, [6] verify what was written (read back)
    // against the eager model; only a verified artifact is renamed into place (a mismatch, an
    // error or ^C leaves the destination untouched).
    std::optional<std::filesystem::path> out;
    std::optional<serialize::TempFile> tmp;
    std::optional<ir::ExportedProgram> written;
    if (opts.write_artifact) {
      out = opts.out ? *opts.out : default_output(opts.model);
      tmp.emplace(*out);
      stages.run("write artifact", [&](std::string& detail) {
        serialize::WriteOptions wo;
        for (const shapes::SymbolInfo& s : trace.env.symbols()) wo.symbol_hints[s.sym.str()] = s.hint;
        serialize::write_pt2_uncommitted(program, *tmp, wo);
        detail = out->string() + " (" + std::to_string(std::filesystem::file_size(tmp->path())) + " bytes)";
        if (opts.verify) {
          written = serialize::read_pt2(tmp->path());
          check_same_state(program, *written, *out);
          detail += ", read back";
        }
      });
    }
    if (opts.verify) {
      const VerifyResult vr = stages.run("verify", [&](std::string& detail) {
        VerifyOptions vo;
        vo.atol = opts.atol;
        vo.rtol = opts.rtol;
        vo.element_budget = opts.verify_element_budget;
        vo.time_budget_s = opts.verify_budget_s;
        vo.draft = opts.draft;
        const VerifyMode mode = opts.verify_full ? VerifyMode::kFull : VerifyMode::kBounded;
        const auto points =
            choose_points(trace.env, program.range_constraints, program, opts.verify_element_budget, mode);
        VerifyResult r = verify_program(program, model, inputs, trace.env, points, vo, written ? &*written : nullptr);
        detail = verify_detail(r);
        return r;
      });
      report["verification"] = vr.to_json();
      if (!vr.ok()) {
        std::string first;
        for (const auto& c : vr.cases) {
          if (!c.ok && !c.skipped) {
            first = c.point.label + ": " + c.note;
            break;
          }
        }
        report["status"] = "error";
        report["exit_code"] = static_cast<int>(ExitCode::kVerifyMismatch);
        publish();
        PTX_USER_FAIL(ExitCode::kVerifyMismatch, "E_VERIFY_MISMATCH")
            << "the exported program differs from the eager model (" << first
            << "); --atol/--rtol set the tolerances, the report lists every point"
            << (out ? "; " + out->string() + " was not written" : std::string());
      }
    }
    if (tmp) {
      tmp->commit();
      outcome.artifact = *out;
      report["artifact"] = out->string();
    }
    const bool drafted = opts.draft && !draft.empty();
    if (opts.draft) report["draft"] = draft_json(draft);
    outcome.exit_code = drafted ? static_cast<int>(ExitCode::kDraftWritten) : 0;
    report["status"] = drafted ? "draft" : "ok";
    report["exit_code"] = outcome.exit_code;
    publish();
    return outcome;
  } catch (const Error& e) {
    report["status"] = "error";
    report["exit_code"] = static_cast<int>(e.code());
    report["diagnostics"].push_back({{"code", e.diag_code()}, {"message", e.what()}});
    publish();
    throw;
  }
}

}  // namespace ptx::cmd
