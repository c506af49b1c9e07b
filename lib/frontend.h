// lib/frontend.h: TorchScript module + sample inputs -> ir::ExportedProgram with symbolic shapes.
//
// The frontend interprets the module's method graph (after inlining calls; attributes are read
// through their GetAttr chains so parameters keep their names) on the sample inputs. Each node is
// executed on the sample (so every value has a concrete "hint"; by default on meta tensors, which
// compute sizes and no data: Note [Meta trace] in lib/frontend/tracer.h), and tensors also carry
// symbolic sizes computed by the shape rules of shapes/rules.h, whose results are checked against
// the concrete sizes. Ints derived from sizes stay symbolic; `prim::If` / `prim::Loop` on them are
// decided on the sample and recorded as guards in the ShapeEnv. Conditions on tensor data stop the
// export with exit 4 naming the source line. ATen calls become ir call nodes, in-place calls their
// functional forms; parameters, buffers and tensor constants are lifted to placeholders.
//
// An op with no shape rule does not stop tracing: its outputs take the sample's (static) sizes, and
// at the end every such op is reported at once (exit 4) with its count and first source line.
//
// The implementation is split by job over lib/frontend/ (its private header lib/frontend/tracer.h
// lists the files and holds the notes on the two runs and on aliasing).
#pragma once

#include <string>
#include <vector>

#include "ir/program.h"
#include "lib/inputs.h"
#include "lib/model.h"
#include "shapes/shape_env.h"

namespace ptx {

struct TraceResult {
  ir::ExportedProgram program;
  shapes::ShapeEnv env;
  std::vector<std::string> warnings;  // e.g. a sample size of 0 or 1 in a dynamic dimension
  int script_nodes = 0;               // TorchScript nodes interpreted (after inlining)
  /// --draft: each op without a usable shape rule ("aten::foo.default (2 calls): ... first at m.py:3"),
  /// traced with the sample's static sizes.
  std::vector<std::string> missing_rules;
  /// The trace ran on meta tensors (nothing computed; lib/frontend/tracer.h, Note [Meta trace]).
  bool on_meta = false;
  /// Non-empty when the trace started on meta tensors and ran again on the sample's values: the op
  /// and line that read a tensor's data ("aten::item at m.py:3 reads a tensor's value").
  std::string needed_data;
};

/// Traces `inputs.sets[0]` through `model.module`'s `inputs.method`. Throws UserError:
/// kExportFailed (data-dependent control flow, unsupported construct, ops without shape rules),
/// kInput (the model raises on the sample, or a symbol's sample sizes disagree), kUsage.
/// --draft (torch's draft_export): decisions on data are taken on the sample and kept as runtime
/// assertions, and ops without a shape rule are listed in TraceResult::missing_rules instead of
/// stopping the trace.
/// By default the trace runs on meta tensors (no data; Note [Meta trace] in lib/frontend/tracer.h)
/// and again on the sample's values only when it reads one; `concrete` (--trace-on-data) runs every
/// op on the sample's values from the start, as a debug mode. --draft always does.
struct TraceOptions {
  bool draft = false;
  bool concrete = false;
  /// The method's inlined graph (lib/method.h inlined_graph) when the caller has made it already
  /// (cmd/ does, for the op allowlist); read, never changed. Null: the trace makes it.
  std::shared_ptr<torch::jit::Graph> graph;
};

TraceResult trace_module(const LoadedModel& model, const Inputs& inputs, const TraceOptions& options = {});

}  // namespace ptx
