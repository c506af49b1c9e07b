// lib/method.h: which method of a model to export, and its inputs bound to that method's schema.
//
// The method is, in this order: `--method NAME` (explicit), inputs.json's "method", or "forward".
// A scripted module whose method is overloaded has no method of that name, only TorchScript's
// overloads NAME__0, NAME__1, ... (a scripted bare nn.LSTM: forward__0 takes a Tensor, forward__1 a
// PackedSequence). Then the inputs choose, as TorchScript's own dispatch does: the first overload,
// in declaration order, that the inputs bind to (names, count and types); the choice says which and
// why, so that the summary can tell the user.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/csrc/jit/api/module.h>

#include "lib/inputs.h"

namespace torch::jit {
struct GraphFunction;
}  // namespace torch::jit

namespace ptx {

struct MethodChoice {
  std::string name;    // the method exported: "forward", "forward__0"
  /// How it was chosen: "--method", "inputs.json", "default", or "overload" (of `requested`,
  /// the first of `overloads` that the inputs match).
  std::string chosen_by;
  std::string requested;               // the name asked for ("forward")
  std::vector<std::string> overloads;  // requested's overloads, when chosen_by == "overload"
  Inputs inputs;                       // bound to `name`'s schema; inputs.method == name

  /// One line for the summary: "method forward__0 (the overload of forward that the inputs match;
  /// the model has forward__0, forward__1; --method chooses another)"; empty for a plain forward.
  std::string describe() const;
};

/// The method `name` of `module` (loaded from `model_file`): the one look-up of the commands and the
/// frontend. UserError ExitCode::kUsage (E_NO_METHOD) naming the model's methods when it has none;
/// `asked_in` names what asked for it ("--method", the inputs file).
torch::jit::Method find_method(const torch::jit::Module& module, const std::filesystem::path& model_file,
                               const std::string& name, const std::string& asked_in);

/// `method`'s graph, copied, with every call of a TorchScript method or function replaced by the
/// callee's graph as written (Note [Inlining as written] in lib/method.cpp), specialized to the
/// settings of the module instance that runs it (Note [Module attributes as constants]): what the
/// frontend walks and what the op allowlist (lib/op_policy.h) reads.
std::shared_ptr<torch::jit::Graph> inlined_graph(const torch::jit::Method& method);

/// The TorchScript function that call node `n` (prim::CallMethod, prim::CallFunction) runs, when it
/// has a graph; null for any other node. (inlined_graph and lib/verify.cpp follow calls with it.)
torch::jit::GraphFunction* called_function(const torch::jit::Node* n);

/// True when a node of `block`, or of a method or function it calls (followed through prim::CallMethod
/// and prim::CallFunction, each callee once), satisfies `pred`: the answer on the inlined graph
/// without copying any callee. (inlined_graph asks it whether the code sets attributes, lib/verify.cpp
/// what the eager runs need.)
bool code_reaches(const torch::jit::Block* block, const std::function<bool(const torch::jit::Node*)>& pred);

/// Chooses the method (see the file comment) and binds the inputs to it (load_inputs).
/// UserError ExitCode::kUsage (E_NO_METHOD) naming the model's methods when the method does not
/// exist; when no overload matches, ExitCode::kInput with each overload's reason.
MethodChoice choose_method(const torch::jit::Module& module, const std::filesystem::path& model_file,
                           const std::filesystem::path& inputs_file, const std::vector<std::string>& dynamic_flags,
                           const std::optional<std::string>& explicit_method = std::nullopt);

}  // namespace ptx
