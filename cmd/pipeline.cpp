// cmd/pipeline.cpp: the stages of export/check. See cmd/pipeline.h.
#include "cmd/pipeline.h"

#include <c10/util/ScopeExit.h>
#include <torch/csrc/jit/api/function_impl.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include "cmd/report.h"
#include "lib/custom_ops.h"
#include "lib/interpreter.h"
#include "lib/teardown.h"
#include "lib/verify.h"
#include "passes/pipeline.h"
#include "serialize/pt2_reader.h"
#include "serialize/pt2_writer.h"
#include "serialize/temp_file.h"
#include "shapes/checker.h"
#include "shapes/error.h"

namespace ptx::cmd {
namespace {

std::map<std::string, int> op_histogram(const ir::Graph& g) {
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

/// What the trace read from data and branched on: the run's unbacked symbols, cond subgraphs and
/// the decisions --draft took, and the problems --draft goes on after.
void record_data_dependent(const TraceResult& trace, ExportRun& run) {
  run.unbacked = trace.env.unbacked();
  for (const auto& n : trace.program.graph->nodes()) {
    for (const ir::NamedArg& a : n->inputs()) {
      if (const auto* ga = std::get_if<ir::GraphArg>(&a.value)) {
        int calls = 0;
        for (const auto& sn : ga->graph->nodes()) calls += sn->kind() == ir::NodeKind::kCall;
        run.cond_subgraphs.push_back({ga->name, n->name(), n->target(), n->meta().stack_trace, calls});
      }
    }
  }
  run.decisions = trace.env.data_dependent_problems();
  for (const shapes::DataDependentProblem& p : run.decisions) {
    run.draft.push_back({"data_dependent", p.where.source, p.message});
  }
  for (const std::string& m : trace.missing_rules) run.draft.push_back({"missing_shape_rule", "", m});
}

/// The symbols that the values of `g` and of its subgraphs (cond branches, loop bodies) hold.
void symbols_used(const ir::Graph& g, std::set<std::string>& used) {
  for (const auto& n : g.nodes()) {
    for (const ir::Value* v : n->outputs()) {
      std::vector<shapes::SymExpr> exprs;
      if (v->type() == ir::ValueType::kTensor && v->has_meta()) exprs = v->meta().sizes;
      if (v->has_sym()) exprs.push_back(v->sym());
      for (const shapes::SymExpr& e : exprs) {
        for (const shapes::SymExpr& s : shapes::free_symbols(e)) used.insert(s.symbol_name());
      }
    }
    for (const ir::NamedArg& a : n->inputs()) {
      if (const auto* ga = std::get_if<ir::GraphArg>(&a.value); ga && ga->graph) symbols_used(*ga->graph, used);
    }
  }
}

/// Removes the range of each unbacked symbol the final graph does not compute (an item() read only
/// by a decision that needed no assertion, removed as dead code). A symbol a subgraph makes (nms's
/// count in a cond branch) keeps its range: torch.export.load needs it to read the branch.
void drop_unused_unbacked_ranges(ir::ExportedProgram& program, const shapes::ShapeEnv& env) {
  std::set<std::string> used;
  symbols_used(*program.graph, used);
  for (const shapes::UnbackedInfo& u : env.unbacked()) {
    if (!used.count(u.sym.str())) program.range_constraints.erase(u.sym.str());
  }
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

[[noreturn]] void fail(ExitCode code, const char* diag, const std::string& message) {
  PTX_USER_FAIL(code, diag) << message;
}

}  // namespace

void run_export(const ExportOptions& opts, const StageObserver& observer, ExportRun& run) {
  const int total = (opts.write_artifact ? 5 : 4) + (opts.verify ? 1 : 0);  // stages that will run
  StageRunner stages(observer, total);
  try {
    if (opts.write_artifact) check_output_path(opts.out ? *opts.out : default_output(opts.model), opts);
    // [1-3] the model, the inputs bound to the method's schema, the trace
    LoadAndTraceOptions lo;
    lo.trace.draft = opts.draft;
    lo.trace.concrete = opts.trace_on_data;
    lo.allow_unsafe_ops = opts.allow_unsafe_ops;
    lo.method = opts.method;
    lo.loaded = [&](const MethodChoice& c) {
      run.inputs.emplace();
      for (const TensorLeaf& l : c.inputs.sets.at(0).tensors) run.inputs->push_back({l.path, l.shape});
      run.method.emplace(c);
      run.method->inputs = {};
    };
    // Custom operators' --op-rules entries apply while this trace runs (lib/custom_ops.h).
    OpRules op_rules;
    for (const std::string& file : opts.op_rules) op_rules.load(file);
    const ScopedOpRules scoped(&op_rules);
    auto traced = std::make_shared<Traced>(load_and_trace(stages, opts.model, opts.inputs, opts.dynamic, lo));
    Traced& t = *traced;
    // The model, the trace and the program read back outlive the command when it runs in ptexport's own
    // process, which exits without freeing them (lib/teardown.h).
    const auto keep_traced = c10::make_scope_exit([&] { keep_until_exit(std::shared_ptr<const void>(std::move(traced))); });
    run.timings = stages.timings();
    run.warnings = t.trace.warnings;
    run.op_histogram = op_histogram(*t.trace.program.graph);
    record_data_dependent(t.trace, run);

    // [4] solve
    shapes::CheckOptions check_opts;
    // A step budget (shapes::solver_budget); any positive timeout gets at least 1 ms worth of steps
    // (0 would mean the default budget).
    check_opts.timeout_ms = std::max(1u, static_cast<unsigned>(std::ceil(opts.solver_timeout_s * 1000)));
    run.check = stages.run("solve", [&](std::string& detail) {
      shapes::CheckResult c = shapes::check_constraints(t.trace.env, check_opts);
      log_verdicts(c);
      detail = c.ok ? "all guards hold" : (c.unknown ? "inconclusive" : "constraints violated");
      return c;
    });
    run.timings = stages.timings();
    const shapes::CheckResult& check = *run.check;
    if (!check.suggestions.empty()) {
      run.fixes = apply_fixes(check.suggestions, opts.dynamic, opts.command_line, t.inputs.sets.at(0).tensors);
    }
    const AppliedFixes* fixes = run.fixes ? &*run.fixes : nullptr;
    if (!check.ok && opts.draft) {
      run.draft.push_back({check.unknown ? "solver_unknown" : "constraint_violation", "", check_message(check, fixes)});
    }
    if (!check.ok) {
      fail(check.unknown ? ExitCode::kSolverUnknown : ExitCode::kConstraintViolation,
           check.unknown ? "E_SOLVER_UNKNOWN" : "E_CONSTRAINT_VIOLATION", check_message(check, fixes));
    }
    // The artifact's ranges are the proven ones.
    ir::ExportedProgram& program = t.trace.program;
    program.range_constraints.clear();
    for (const auto& [name, range] : check.final_ranges) program.range_constraints[name] = range;
    // Values read from data (u0, ...) keep the ranges their ops and checks give them.
    for (const shapes::UnbackedInfo& u : t.trace.env.unbacked()) program.range_constraints[u.sym.str()] = u.range;
    // The IR level asked for (--ir): decompositions run first among the passes.
    passes::IrLevel level = passes::IrLevel::kTraining;
    PTX_USER_CHECK(passes::ir_level_from_name(opts.ir, level), ExitCode::kUsage, "E_BAD_IR")
        << "--ir " << opts.ir << ": not one of training, inference, core";
    // The passes: decompositions to the level; dead code goes; guards the ranges do not imply become runtime asserts in the
    // graph, and so do the unbacked symbols' ranges, the checks on them and the draft decisions.
    auto run_passes = [&] {
      passes::PipelineOptions po;
      po.runtime_asserts = check.runtime_asserts;
      po.decompose.level = level;
      po.decompose.keep = opts.keep;
      const auto deferred = t.trace.env.deferred_asserts();
      po.runtime_asserts.insert(po.runtime_asserts.end(), deferred.begin(), deferred.end());
      passes::run_pipeline(program, po);
      drop_unused_unbacked_ranges(program, t.trace.env);
      if (level == passes::IrLevel::kTraining) return;
      // The default level adds nothing to the report (its fields and golden files stay as they were).
      run.ir = passes::ir_level_name(level);
      run.ir_op_histogram = op_histogram(*program.graph);
      if (level == passes::IrLevel::kCore) {
        // Ops ptexport has no decomposition for (or that --keep keeps) stay as they are: said, not hidden.
        const std::vector<std::string> left = passes::non_core_targets(*program.graph);
        if (!left.empty()) {
          std::string list;
          for (const std::string& target : left) list += (list.empty() ? "" : ", ") + target;
          run.warnings->push_back("--ir core: the graph still calls ops outside the core ATen opset: " + list);
        }
      }
    };

    // [5] the passes, then the artifact under a temporary name; [6] verify what was written (read back)
    // against the eager model. Only a verified artifact is renamed into place (a mismatch, an error
    // or ^C leaves the destination untouched).
    std::optional<std::filesystem::path> out;
    std::optional<serialize::TempFile> tmp;
    std::shared_ptr<ir::ExportedProgram> written;
    const auto keep_written = c10::make_scope_exit([&] { keep_until_exit(std::shared_ptr<const void>(std::move(written))); });
    if (opts.write_artifact) {
      out = opts.out ? *opts.out : default_output(opts.model);
      tmp.emplace(*out);
      stages.run("write artifact", [&](std::string& detail) {
        run_passes();
        serialize::WriteOptions wo;
        wo.dialect = passes::ir_level_dialect(level);
        for (const shapes::SymbolInfo& s : t.trace.env.symbols()) wo.symbol_hints[s.sym.str()] = s.hint;
        wo.digests = opts.verify;  // only a file read back is checked against them
        const serialize::WrittenEntries entries = serialize::write_pt2_uncommitted(program, *tmp, wo);
        detail = out->string() + " (" + std::to_string(std::filesystem::file_size(tmp->path())) + " bytes)";
        if (opts.verify) {
          // The graph and metadata are read from the file (verification runs that program); the
          // weights are checked against the writer's digests without being read into memory, and
          // the program read back takes the written program's tensors (held once).
          written = std::make_shared<ir::ExportedProgram>(serialize::read_pt2_written(tmp->path(), program, entries, *out));
          detail += ", read back";
        }
      });
      run.timings = stages.timings();
    } else {
      run_passes();  // check: the program verified is the one export would write
    }
    if (opts.verify) {
      run.verification = stages.run("verify", [&](std::string& detail) {
        VerifyOptions vo;
        vo.atol = opts.atol;
        vo.rtol = opts.rtol;
        vo.element_budget = opts.verify_element_budget;
        vo.time_budget_s = opts.verify_budget_s;
        vo.draft = opts.draft;
        const VerifyMode mode = opts.verify_full ? VerifyMode::kFull : VerifyMode::kBounded;
        const auto points =
            choose_points(t.trace.env, program.range_constraints, program, opts.verify_element_budget, mode);
        VerifyResult r = verify_program(program, t.model, t.inputs, t.trace.env, points, vo, written.get());
        detail = verify_detail(r);
        return r;
      });
      run.timings = stages.timings();
      if (!run.verification->ok()) {
        std::string first;
        for (const auto& c : run.verification->cases) {
          if (!c.ok && !c.skipped) {
            first = c.point.label + ": " + c.note;
            break;
          }
        }
        fail(ExitCode::kVerifyMismatch, "E_VERIFY_MISMATCH",
             "the exported program differs from the eager model (" + first +
                 "); --atol/--rtol set the tolerances, the report lists every point" +
                 (out ? "; " + out->string() + " was not written" : std::string()));
      }
    }
    if (tmp) {
      tmp->commit();
      run.artifact = *out;
    }
    run.finished = true;
  } catch (const Error& e) {
    run.timings = stages.timings();
    run.error = RunError{static_cast<int>(e.code()), e.diag_code(), e.what()};
    throw;
  } catch (...) {
    run.timings = stages.timings();
    throw;
  }
}

}  // namespace ptx::cmd
