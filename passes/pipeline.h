// passes/pipeline.h: the passes that run on a traced program before it is serialized, in order:
//
//   lower_script_overloads   TorchScript-only overloads (aten::to.prim_Device, ...) as torch.export's ATen
//   decompose                rewrite to the requested IR level (passes/decompose/decompose.h)
//   eliminate_dead_code      drop calls whose results nothing reads
//   insert_runtime_asserts   guards to check at run time become _assert_scalar nodes
//
// After each pass that changed the program, ir::verify checks it; a violation is an InternalError
// that names the pass ("after pass insert_runtime_asserts: ir verify: ..."). For debugging, the
// program can be printed (ir::to_string, torch's print(ep) layout) after a named pass.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "ir/program.h"
#include "passes/decompose/decompose.h"
#include "shapes/shape_env.h"

namespace ptx::passes {

struct PipelineOptions {
  /// The guards the constraint checker decided must be checked at run time.
  std::vector<shapes::Guard> runtime_asserts;
  /// The IR level and the ops to keep (--ir, --keep); the default level changes nothing.
  DecomposeOptions decompose;
  /// Print the program after this pass ("" for none, "all" for every pass), to `print_to`.
  std::string print_after;
  std::ostream* print_to = nullptr;  // nullptr: std::cerr
};

struct PassRun {
  std::string name;
  bool changed = false;
};

/// The pass names, in the order run_pipeline runs them.
const std::vector<std::string>& pipeline_pass_names();

/// Runs the passes on `program` (see the file comment). Returns what each pass did.
/// UserError(kUsage, "E_UNKNOWN_PASS") if print_after names no pass.
std::vector<PassRun> run_pipeline(ir::ExportedProgram& program, const PipelineOptions& options);

}  // namespace ptx::passes
