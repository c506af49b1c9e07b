// lib/op_policy.h: which ops ptexport runs concretely (docs/security.md, "Ops that run").
//
// Tracing runs every op of a model on the sample, and `run` and `verify` run every op of an
// artifact: an op that touches the host would do so on ptexport's behalf (issue 19: a forward doing
// torch.from_file(path, shared=True).fill_(88) overwrote `path`). So an op runs only if it is on
// an allowlist, derived from LibTorch's op registry:
//   1. its namespace is aten or prim (ATen's tensor ops and TorchScript's interpreter builtins);
//      ptexport's own symbolic ops (_operator.*, torch.sym_*) are interpreted by ptexport, never
//      dispatched, and allowed too. So are the namespaces an operator library loaded with
//      --load-library registered (loading it already ran its code: the user trusts it as a
//      program). Anything else (c10d:: collectives, custom or backend namespaces) is refused;
//   2. no argument of its schema is a string naming a file (filename, file, path, f): that refuses
//      aten::from_file and aten::save;
//   3. its alias analysis is not CONSERVATIVE (LibTorch's mark for "may do anything"), except the
//      ops that only read or set this process's grad and autocast modes
//      (is_grad_enabled, set_grad_enabled, is_autocast_enabled, is_autocast_cpu_enabled,
//      get_autocast_dtype, _get_cpu_capability): that refuses aten::backward (autograd can run
//      hooks) and prim::StaticRuntimeCopyOuts.
// Randomness (rand, dropout in training mode), printing (prim::Print goes to stderr) and in-place
// updates of tensors are allowed: they stay inside the process.
#pragma once

#include <ATen/core/function_schema.h>
#include <torch/csrc/jit/api/module.h>

#include <map>
#include <optional>
#include <string>

#include "ir/program.h"

namespace ptx {

/// Lets ops of namespace `ns` pass rule 1 (rules 2 and 3 still apply): called for each namespace a
/// library loaded with --load-library registered. Process-wide, as the loaded library is.
void allow_op_namespace(const std::string& ns);

/// Why the op `name` ("aten::from_file", "c10d::allreduce_") may not run, or nullopt when it may.
/// `overload` selects among the schemas registered for the name ("" is the default overload; for a
/// TorchScript node, give its schema instead through the other overload).
std::optional<std::string> op_refusal(const std::string& name, const std::string& overload);

/// The refused ops that a method calls, read off its inlined graph (lib/method.h inlined_graph; every
/// block): op -> reason.
std::map<std::string, std::string> refused_ops(const torch::jit::Graph& inlined);

/// The refused ops that an artifact's graph calls: target -> reason.
std::map<std::string, std::string> refused_ops(const ir::ExportedProgram& program);

/// Throws UserError(ExitCode::kExportFailed, "E_UNSAFE_OP") naming every op of `refused` and why,
/// and how to allow them (`flag`), unless `refused` is empty. `what` names the model or artifact.
void refuse_ops(const std::map<std::string, std::string>& refused, const std::string& what, const std::string& flag);

}  // namespace ptx
