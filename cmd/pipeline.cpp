// cmd/pipeline.cpp: the stages of export/check. See cmd/pipeline.h.
#include "cmd/pipeline.h"

#include <torch/csrc/jit/api/function_impl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>

#include "cmd/version.h"
#include "lib/frontend.h"
#include "lib/inputs.h"
#include "lib/interpreter.h"
#include "lib/model.h"
#include "lib/verify.h"
#include "passes/pipeline.h"
#include "serialize/pt2_reader.h"
#include "serialize/pt2_writer.h"
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

std::filesystem::path default_output(const std::filesystem::path& model) {
  std::filesystem::path out = model;
  out.replace_extension(".pt2");
  return out;
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
  StageRunner stages(observer, report, total);
  try {
    // [1] the model
    LoadedModel model = stages.run("load model", [&](std::string& detail) {
      LoadedModel m = load_model(opts.model);
      detail = m.kind;
      return m;
    });

    // [2] the inputs, bound to the method's schema
    Inputs inputs = stages.run("load inputs", [&](std::string& detail) {
      const std::string method_name = read_inputs_method(opts.inputs);
      auto method = model.module.find_method(method_name);
      std::string methods;
      for (const auto& m : model.module.get_methods()) methods += (methods.empty() ? "" : ", ") + m.name();
      PTX_USER_CHECK(method.has_value(), ExitCode::kUsage, "E_NO_METHOD")
          << opts.inputs.string() << ": method '" << method_name << "' is not in " << opts.model.string()
          << " (it has: " << methods << ")";
      Inputs in = load_inputs(opts.inputs, opts.dynamic, method->function().getSchema());
      detail = std::to_string(in.sets.at(0).tensors.size()) + " tensors, " + std::to_string(in.symbols.size()) +
               " symbols";
      return in;
    });
    {
      nlohmann::json leaves = nlohmann::json::array();
      for (const TensorLeaf& l : inputs.sets.at(0).tensors) leaves.push_back({{"path", l.path}, {"shape", l.shape}});
      report["inputs"] = leaves;
    }

    // [3] trace
    TraceResult trace = stages.run("trace", [&](std::string& detail) {
      TraceResult r = trace_module(model, inputs);
      size_t calls = 0;
      for (const auto& n : r.program.graph->nodes()) calls += n->kind() == ir::NodeKind::kCall;
      detail = std::to_string(r.script_nodes) + " TorchScript nodes -> " + std::to_string(calls) + " ATen nodes, " +
               std::to_string(r.env.symbols().size()) + " symbols, " + std::to_string(r.env.guards().size()) +
               " guards";
      return r;
    });
    outcome.warnings = trace.warnings;
    report["warnings"] = trace.warnings;
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
    if (!check.ok) {
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
    // Dead code goes; guards the ranges do not imply become runtime asserts in the graph.
    {
      passes::PipelineOptions po;
      po.runtime_asserts = check.runtime_asserts;
      passes::run_pipeline(program, po);
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
    report["status"] = "ok";
    report["exit_code"] = 0;
    outcome.exit_code = 0;
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
