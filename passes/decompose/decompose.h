// passes/decompose/decompose.h: the IR levels of torch.export, as graph rewrites.
//
//   training   what the frontend traces (functional, ops as the model calls them: aten::linear,
//              aten::conv2d, aten::batch_norm); the .pt2's verifier label is "TRAINING"
//   inference  torch.export's ep.run_decompositions({}): composite ops replaced as ATen's
//              dispatcher replaces them (batch_norm -> _native_batch_norm_legit_no_training,
//              flatten -> view, dropout in eval mode -> nothing, chunk -> split, ...), with the ops
//              torch preserves at this level (conv2d, linear, layer_norm, max_pool2d, ...) kept;
//              label "ATEN"
//   core       ep.run_decompositions() with torch's default table: every call in the core ATen
//              opset (LibTorch's schemas carry c10::Tag::core): conv2d -> convolution, linear ->
//              permute + addmm, hardswish -> add/clamp/mul/div, ...; label "ATEN" (torch writes
//              the same label for both decomposed levels)
//
// Each decomposition is a rewrite of one op (passes/decompose/<family>.cpp), listed in one sorted
// table (table.cpp) with the lowest level that applies it. A rewrite's replacement takes the place of
// the op, with tensor metas (dtype, symbolic sizes and strides) derived from the op's own, and
// materializes symbolic sizes as sym_size/_operator nodes (ir/sym_materialize.h) where an argument
// needs them. New calls are rewritten again until none applies (chunk -> split.Tensor ->
// split_with_sizes at core). `keep` leaves ops undecomposed, as deleting them from torch's table does.
#pragma once

#include <string>
#include <vector>

#include "ir/program.h"

namespace ptx::passes {

enum class IrLevel : uint8_t { kTraining, kInference, kCore };

/// "training" / "inference" / "core"; the inverse is ir_level_from_name (nullopt-like: false).
const char* ir_level_name(IrLevel level);
bool ir_level_from_name(const std::string& name, IrLevel& out);
/// The .pt2 verifier label of a level: "TRAINING", or "ATEN" for both decomposed levels.
const char* ir_level_dialect(IrLevel level);

struct DecomposeOptions {
  IrLevel level = IrLevel::kTraining;
  /// Ops to leave undecomposed: "aten::linear.default", "aten.linear.default" or "aten::linear"
  /// (every overload). UserError(kUsage, "E_UNKNOWN_KEEP") if one names no decomposable op.
  std::vector<std::string> keep;
};

/// Rewrites `program` to `options.level`. Returns true if the graph changed.
bool decompose(ir::ExportedProgram& program, const DecomposeOptions& options);

/// Call targets of `graph` that are not in the core ATen opset (their schema lacks c10::Tag::core;
/// sym_size, _operator.* and asserts are not ops of the opset and are not listed), sorted.
std::vector<std::string> non_core_targets(const ir::Graph& graph);

/// The targets the table can decompose at `level` (for --keep's error message and docs), sorted.
std::vector<std::string> decomposable_targets(IrLevel level);

}  // namespace ptx::passes
