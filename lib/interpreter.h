// lib/interpreter.h: executes an ir::ExportedProgram op by op through ATen's dispatcher.
//
// Inputs are the user inputs flattened in placeholder order (the order of TensorLeaf in a SampleSet;
// non-tensor inputs were specialized at export and are not passed). Parameters, buffers and
// constants come from the program. SymInt placeholders are not supported (we never make them).
// Returns the user outputs, flattened (mutations are applied to the given inputs' tensors, as eager).
#pragma once

#include <ATen/core/Tensor.h>
#include <ATen/core/ivalue.h>

#include <vector>

#include "ir/program.h"

namespace ptx {

/// Runs `program` on `user_inputs` (one tensor per user-input placeholder). Symbol values are read
/// off the input sizes; runtime asserts in the graph are checked (UserError kInput when one fails).
/// `on_meta`: the inputs are meta tensors; parameters, buffers and constants are used as meta
/// tensors and factory ops make meta tensors, so that nothing is computed; an op without a meta
/// kernel (LibTorch's convolutions) takes its outputs' sizes from the graph's metadata, and throws
/// c10::Error when that metadata does not give them.
std::vector<at::Tensor> run_program(const ir::ExportedProgram& program, const std::vector<at::Tensor>& user_inputs,
                                    bool on_meta = false);

/// Runs a higher-order op's subgraph (cond's branch, while_loop's condition or body) on concrete
/// `inputs`, one per placeholder, and returns its outputs.
std::vector<c10::IValue> run_subgraph(const ir::Graph& graph, const std::vector<c10::IValue>& inputs);

/// Checks `user_inputs` against the program's placeholders: rank, dtype, static sizes, the symbols'
/// range constraints and the relations between dims sharing a symbol. UserError kInput naming the
/// input, the dimension, the value and the allowed range.
void check_inputs(const ir::ExportedProgram& program, const std::vector<at::Tensor>& user_inputs);

/// The user-input placeholders of `program`, in order.
std::vector<const ir::Value*> user_input_values(const ir::ExportedProgram& program);

}  // namespace ptx
