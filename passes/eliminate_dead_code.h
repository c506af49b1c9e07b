// passes/eliminate_dead_code.h
#pragma once

#include <set>

#include "ir/graph.h"

namespace ptx::passes {

/// Removes call nodes none of whose outputs is read. All ATen calls in our graphs are functional
/// (mutations were rewritten by the frontend), so every unread call is removable, except the checks
/// that exist for their effect (aten::_assert_scalar, _assert_tensor_metadata, sym_constrain_range);
/// placeholders and the graph's outputs are never removed. Returns true if the graph changed.
/// `keep`: symbols (by id) that runtime assertions will read (unbacked values such as item()'s):
/// the first node that makes each (a SymInt output, or a tensor with it as a dim) stays.
bool eliminate_dead_code(ir::Graph& graph, const std::set<int>& keep = {});

}  // namespace ptx::passes
