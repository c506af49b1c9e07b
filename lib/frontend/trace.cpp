// lib/frontend/trace.cpp: the frontend's entry point (lib/frontend.h): trace_module and the order
// of a trace (Tracer::run). See lib/frontend/tracer.h for how the work is split.
#include <torch/csrc/jit/api/function_impl.h>
#include <spdlog/spdlog.h>

#include "lib/frontend/tracer.h"
#include "lib/method.h"
#include "lib/teardown.h"
#include "lib/torch_convert.h"
#include "shapes/error.h"

namespace ptx {
namespace frontend {

void Tracer::run(std::shared_ptr<jit::Graph> graph) {
  if (graph == nullptr) {
    graph = inlined_graph(find_method(model_.module, model_.file, inputs_.method, model_.file.string()));
  }

  lift_state();
  bind_inputs(graph);
  warn_small_dynamic_samples();
  out_.program.module_type = model_.module.type()->name() ? model_.module.type()->name()->qualifiedName() : "";

  run_block(graph->block());

  report_missing_rules();
  PTX_INTERNAL_CHECK(graph->outputs().size() == 1) << "method returns " << graph->outputs().size() << " values";
  collect_outputs(get(graph->outputs()[0]));
  // Freeing the inlined copy (every node of every submodule's method) is left to the process's exit
  // when the command line runs (lib/teardown.h).
  keep_until_exit(std::shared_ptr<const void>(std::move(graph)));
}

}  // namespace frontend

namespace {

/// True when every tensor the trace starts from is a dense CPU tensor, which a meta stand-in can
/// replace (Note [Meta trace]).
bool meta_capable(const LoadedModel& model, const Inputs& inputs) {
  const auto dense_cpu = [](const at::Tensor& t) {
    return !t.defined() || (t.device().is_cpu() && t.layout() == at::kStrided && !t.is_quantized());
  };
  for (const auto& p : model.module.named_parameters(/*recurse=*/true)) {
    if (!dense_cpu(p.value)) return false;
  }
  for (const auto& b : model.module.named_buffers(/*recurse=*/true)) {
    if (!dense_cpu(b.value)) return false;
  }
  for (const c10::IValue& v : inputs.sets.at(0).args) {
    std::vector<at::Tensor> ts;
    flatten_tensors(v, ts);
    for (const at::Tensor& t : ts) {
      if (!dense_cpu(t)) return false;
    }
  }
  return true;
}

void finish(TraceResult& out) {
  // Range constraints: every symbol that the graph uses, with the range the user asked for; the
  // constraint checker narrows them (cmd/ applies its result).
  for (const shapes::SymbolInfo& s : out.env.symbols()) {
    out.program.range_constraints[s.sym.str()] = s.requested;
  }
}

}  // namespace

TraceResult trace_module(const LoadedModel& model, const Inputs& inputs, const TraceOptions& options) {
  PTX_INTERNAL_CHECK(!inputs.sets.empty()) << "no sample set";
  std::string needed_data;
  if (!options.concrete && !options.draft && meta_capable(model, inputs)) {
    // On meta stand-ins nothing real is updated (the module's containers are copied when read), so
    // the caller's module is traced as it is.
    TraceResult out;
    try {
      frontend::Tracer tracer(model, inputs, out, /*on_meta=*/true);
      tracer.run(options.graph);
      out.on_meta = true;
      if (auto log = spdlog::get("trace")) log->trace("traced on meta tensors: no tensor data read, nothing computed");
      finish(out);
      return out;
    } catch (const frontend::NeedsData& e) {
      needed_data = e.what;
      if (auto log = spdlog::get("trace")) {
        log->info("{}: traced again on the sample's values (the trace on meta tensors computes none)", e.what);
      }
    } catch (const InternalError& e) {
      // A check that failed on meta tensors only (a meta kernel's sizes or strides unlike the CPU
      // kernel's): the trace on the sample's values decides, and reports it if it fails there too.
      needed_data = std::string("the trace on meta tensors failed: ") + e.what();
      if (auto log = spdlog::get("trace")) log->info("{}; traced again on the sample's values", needed_data);
    }
  }
  TraceResult out;
  // The concrete run updates buffers in place (BatchNorm statistics, a counter): trace a copy so
  // that the caller's module keeps its state for verification.
  LoadedModel copy = model;
  copy.module = model.module.clone();
  copy.module.eval();
  out.env.set_draft(options.draft);
  frontend::Tracer tracer(copy, inputs, out, /*on_meta=*/false);
  tracer.run(options.graph);
  out.needed_data = needed_data;
  finish(out);
  return out;
}

}  // namespace ptx
