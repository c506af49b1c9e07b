// lib/frontend/trace.cpp: the frontend's entry point (lib/frontend.h): trace_module and the order
// of a trace (Tracer::run). See lib/frontend/tracer.h for how the work is split.
#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/passes/inliner.h>

#include "lib/frontend/tracer.h"
#include "lib/method.h"
#include "shapes/error.h"

namespace ptx {
namespace frontend {

void Tracer::run() {
  const torch::jit::Method method = find_method(model_.module, model_.file, inputs_.method, model_.file.string());
  auto graph = torch::jit::toGraphFunction(method.function()).graph()->copy();
  torch::jit::Inline(*graph);

  lift_state();
  bind_inputs(graph);
  warn_small_dynamic_samples();
  out_.program.module_type = model_.module.type()->name() ? model_.module.type()->name()->qualifiedName() : "";

  run_block(graph->block());

  report_missing_rules();
  PTX_INTERNAL_CHECK(graph->outputs().size() == 1) << "method returns " << graph->outputs().size() << " values";
  collect_outputs(get(graph->outputs()[0]));
}

}  // namespace frontend

TraceResult trace_module(const LoadedModel& model, const Inputs& inputs, const TraceOptions& options) {
  PTX_INTERNAL_CHECK(!inputs.sets.empty()) << "no sample set";
  TraceResult out;
  // The concrete run updates buffers in place (BatchNorm statistics, a counter): trace a copy so
  // that the caller's module keeps its state for verification.
  LoadedModel copy = model;
  copy.module = model.module.clone();
  copy.module.eval();
  out.env.set_draft(options.draft);
  frontend::Tracer tracer(copy, inputs, out);
  tracer.run();
  // Range constraints: every symbol that the graph uses, with the range the user asked for; the
  // constraint checker narrows them (cmd/ applies its result).
  for (const shapes::SymbolInfo& s : out.env.symbols()) {
    out.program.range_constraints[s.sym.str()] = s.requested;
  }
  return out;
}

}  // namespace ptx
