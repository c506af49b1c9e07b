// passes/pipeline.cpp: the post-trace passes in order. See passes/pipeline.h.
#include "passes/pipeline.h"

#include <algorithm>
#include <functional>
#include <iostream>

#include "ir/printer.h"
#include "ir/verify.h"
#include "passes/eliminate_dead_code.h"
#include "passes/insert_runtime_asserts.h"
#include "shapes/error.h"

namespace ptx::passes {
namespace {

struct PassEntry {
  const char* name;
  std::function<bool(ir::ExportedProgram&, const PipelineOptions&)> run;
};

const std::vector<PassEntry>& passes() {
  static const std::vector<PassEntry> kPasses = {
      {"eliminate_dead_code", [](ir::ExportedProgram& p, const PipelineOptions&) { return eliminate_dead_code(*p.graph); }},
      {"insert_runtime_asserts",
       [](ir::ExportedProgram& p, const PipelineOptions& o) { return insert_runtime_asserts(*p.graph, o.runtime_asserts); }},
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
