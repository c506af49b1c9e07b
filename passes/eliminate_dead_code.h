// passes/eliminate_dead_code.h
#pragma once

#include "ir/graph.h"

namespace ptx::passes {

/// Removes call nodes none of whose outputs is read. All ATen calls in our graphs are functional
/// (mutations were rewritten by the frontend), so every unread call is removable, except the checks
/// that exist for their effect (aten::_assert_scalar, _assert_tensor_metadata, sym_constrain_range);
/// placeholders and the graph's outputs are never removed. Returns true if the graph changed.
bool eliminate_dead_code(ir::Graph& graph);

}  // namespace ptx::passes
