// ir/program.h: an exported program, the equivalent of torch.export.ExportedProgram: the graph,
// its signature (which placeholder is a parameter, a buffer, a constant or a user input; which
// output is a user output or a mutation), the tensors of parameters, buffers and constants, the
// range of every symbol, and the structure of the user's inputs and outputs (torch's pytree specs).
#pragma once

#include <ATen/core/Tensor.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "shapes/shape_env.h"

namespace ptx::ir {

enum class InputKind : uint8_t { kUserInput, kParameter, kBuffer, kConstantTensor };
struct InputSpec {
  InputKind kind = InputKind::kUserInput;
  std::string arg;         // placeholder name: "x", "p_fc_weight", "b_bn_running_mean", "c_lifted_tensor_0"
  std::string target;      // parameters/buffers/constants: FQN "fc.weight"; user inputs: ""
  bool persistent = true;  // buffers only
};

enum class OutputKind : uint8_t { kUserOutput, kBufferMutation, kUserInputMutation };
struct OutputSpec {
  OutputKind kind = OutputKind::kUserOutput;
  std::string arg;     // the graph output value's name
  std::string target;  // mutations: the buffer FQN or the mutated user input's placeholder name
};

/// The structure of forward's arguments or results (torch.utils._pytree), with tensors and
/// SymInts at the leaves. A leaf names a placeholder (inputs) or an output position (outputs);
/// a constant leaf (a non-tensor input such as `k=3`, specialized as torch.export does) has none.
struct PyTree {
  enum class Kind : uint8_t { kLeaf, kConstant, kNone, kTuple, kList, kDict };
  Kind kind = Kind::kLeaf;
  std::vector<PyTree> children;
  std::vector<std::string> keys;  // kDict: one key per child
  std::string leaf;               // kLeaf: placeholder name (inputs) or "" (outputs)
  std::string constant_json;      // kConstant: the value as JSON text ("3", "true", "\"mean\"")
};

struct ExportedProgram {
  std::unique_ptr<Graph> graph = std::make_unique<Graph>();
  std::vector<InputSpec> input_specs;    // one per placeholder, in placeholder order
  std::vector<OutputSpec> output_specs;  // one per graph output, in order
  std::map<std::string, at::Tensor> parameters;  // by FQN
  std::map<std::string, at::Tensor> buffers;     // by FQN
  std::map<std::string, at::Tensor> constants;   // lifted tensor constants, by target name
  /// The ranges of the symbols that appear in the graph, by symbol name ("s0").
  std::map<std::string, shapes::Range> range_constraints;
  /// forward's parameters: a tuple (args) and a dict (kwargs), as torch's in_spec.
  PyTree args_spec, kwargs_spec;
  /// forward's result structure, as torch's out_spec.
  PyTree out_spec;
  /// forward's parameter names in order ("x", "k"), as torch's module_call_graph records them
  /// (they name ep.module()'s parameters and constant inputs); may be empty.
  std::vector<std::string> forward_arg_names;
  /// The module's qualified class name for module_call_graph ("__torch__.Net"), may be empty.
  std::string module_type;
};

}  // namespace ptx::ir
