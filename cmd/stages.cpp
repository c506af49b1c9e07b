// cmd/stages.cpp: see stages.h.
#include "cmd/stages.h"

#include "cmd/report.h"
#include "lib/method.h"
#include "lib/op_policy.h"

namespace ptx::cmd {

Traced load_and_trace(StageRunner& stages, const std::filesystem::path& model, const std::filesystem::path& inputs,
                      const std::vector<std::string>& dynamic, const LoadAndTraceOptions& options) {
  LoadedModel m = stages.run("load model", [&](std::string& detail) {
    LoadedModel lm = load_model(model);
    detail = lm.kind;
    for (const auto& lib : lm.loaded_libraries) detail += ", operators from " + lib.string();
    return lm;
  });
  MethodChoice chosen = stages.run("load inputs", [&](std::string& detail) {
    MethodChoice c = choose_method(m.module, model, inputs, dynamic,
                                   options.method.empty() ? std::nullopt : std::optional<std::string>(options.method));
    detail = std::to_string(c.inputs.sets.at(0).tensors.size()) + " tensors, " +
             std::to_string(c.inputs.symbols.size()) + " symbols" + (c.name == "forward" ? "" : ", method " + c.name);
    return c;
  });
  if (options.loaded) options.loaded(chosen);
  Inputs in = std::move(chosen.inputs);
  TraceResult trace = stages.run("trace", [&](std::string& detail) {
    // One inlined graph (lib/method.h) for the allowlist and the trace.
    TraceOptions to = options.trace;
    to.graph = inlined_graph(find_method(m.module, model, in.method, inputs.string()));
    if (!options.allow_unsafe_ops) refuse_ops(refused_ops(*to.graph), model.string(), "--allow-unsafe-ops");
    TraceResult r = trace_module(m, in, to);
    size_t calls = 0;
    for (const auto& n : r.program.graph->nodes()) calls += n->kind() == ir::NodeKind::kCall;
    detail = std::to_string(r.script_nodes) + " TorchScript nodes -> " + std::to_string(calls) + " ATen nodes, " +
             std::to_string(r.env.symbols().size()) + " symbols, " + std::to_string(r.env.guards().size()) + " guards";
    // The trace on meta tensors met a read of data and ran again on the sample's values (one line).
    if (!r.needed_data.empty()) detail += "; traced on the sample's values: " + r.needed_data;
    log_trace(r.env);  // inside the stage, before its line: the log follows the work
    return r;
  });
  return Traced{std::move(m), std::move(in), std::move(trace)};
}

}  // namespace ptx::cmd
