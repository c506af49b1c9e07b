// passes/pipeline.cpp: the post-trace passes in order. See passes/pipeline.h.
#include "passes/pipeline.h"

#include <algorithm>
#include <functional>
#include <iostream>
#include <set>

#include "ir/printer.h"
#include "ir/verify.h"
#include "passes/eliminate_dead_code.h"
#include "passes/insert_runtime_asserts.h"
#include "passes/lower_script_overloads.h"
#include "shapes/error.h"

namespace ptx::passes {
namespace {

/// decompose, then the output specs name the graph outputs that replaced the decomposed ones.
bool decompose_program(ir::ExportedProgram& p, const DecomposeOptions& o) {
  if (!decompose(p, o)) return false;
  const auto& outs = p.graph->outputs();
  for (size_t i = 0; i < outs.size() && i < p.output_specs.size(); ++i) p.output_specs[i].arg = outs[i]->name();
  return true;
}

struct PassEntry {
  const char* name;
  std::function<bool(ir::ExportedProgram&, const PipelineOptions&)> run;
};

const std::vector<PassEntry>& passes() {
  static const std::vector<PassEntry> kPasses = {
      {"lower_script_overloads", [](ir::ExportedProgram& p, const PipelineOptions&) { return lower_script_overloads(*p.graph); }},
      {"decompose", [](ir::ExportedProgram& p, const PipelineOptions& o) { return decompose_program(p, o.decompose); }},
      {"eliminate_dead_code",
       [](ir::ExportedProgram& p, const PipelineOptions& o) {
         // Keep what makes the values the runtime assertions read (an item() used by nothing else).
         std::set<int> keep;
         for (const shapes::Guard& g : o.runtime_asserts) {
           for (const shapes::SymExpr& s : g.cond.free_symbols()) keep.insert(s.symbol_id());
         }
         return eliminate_dead_code(*p.graph, keep);
       }},
      {"insert_runtime_asserts",
       [](ir::ExportedProgram& p, const PipelineOptions& o) {
         std::vector<shapes::Guard> guards = lower_bound_guards(*p.graph, p.range_constraints);
         guards.insert(guards.end(), o.runtime_asserts.begin(), o.runtime_asserts.end());
         return insert_runtime_asserts(*p.graph, guards);
       }},
  };
  return kPasses;
}

}  // namespace

const std::vector<std::string>& pipeline_pass_names() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> out;
    for (const PassEntry& p : passes()) out.emplace_back(p.name);
    return out;
  }();
  return kNames;
}

std::vector<PassRun> run_pipeline(ir::ExportedProgram& program, const PipelineOptions& options) {
  const auto& names = pipeline_pass_names();
  if (!options.print_after.empty() && options.print_after != "all" &&
      std::find(names.begin(), names.end(), options.print_after) == names.end()) {
    std::string known;
    for (const std::string& n : names) known += (known.empty() ? "" : ", ") + n;
    PTX_USER_FAIL(ExitCode::kUsage, "E_UNKNOWN_PASS")
        << "print-after: no pass named '" << options.print_after << "' (passes: " << known << ", all)";
  }
  std::ostream& out = options.print_to ? *options.print_to : std::cerr;
  std::vector<PassRun> runs;
  for (const PassEntry& pass : passes()) {
    const bool changed = pass.run(program, options);
    runs.push_back({pass.name, changed});
    if (changed) {
      try {
        ir::verify(program);
      } catch (const InternalError& e) {
        throw InternalError(std::string("after pass ") + pass.name + ": " + e.what());
      }
    }
    if (options.print_after == "all" || options.print_after == pass.name) {
      out << "# after " << pass.name << (changed ? "" : " (unchanged)") << "\n" << ir::to_string(program);
    }
  }
  return runs;
}

}  // namespace ptx::passes
