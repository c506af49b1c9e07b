// passes/insert_runtime_asserts.h: guards that must be checked when the exported program runs
// become nodes of its graph, as torch.export does (prefer_deferred_runtime_asserts_over_guards):
//
//   sym_size_int: "Sym(s0)" = torch.ops.aten.sym_size.int(x, 0)
//   mod: "Sym(Mod(s0, 4))" = sym_size_int % 4
//   eq: "Sym(Eq(Mod(s0, 4), 0))" = mod == 0
//   _assert_scalar_default = torch.ops.aten._assert_scalar.default(eq, "Runtime assertion failed for expression Eq(Mod(s0, 4), 0) on node 'eq'")
//
// The condition is computed as it prints (SymBool::str()): its two sides are materialized with
// ir::SymMaterializer and compared with _operator.eq / le / ge (lt / gt); Ne is _operator.eq
// followed by torch.sym_not, as torch 2.14 emits it. The message is torch's: "Runtime assertion
// failed for expression <cond> on node '<the node computing cond>'". The comparison and assert
// nodes carry the guard's source line as their stack trace.
//
// Placement: the new nodes, with the existing sym nodes they read (sym_size.int of a placeholder
// and _operator / torch.sym_min / torch.sym_max on those), move right after the placeholders, so
// that an input that violates a guard fails at its assert before any ATen op runs on it. torch
// places some asserts after the op that needed them; we prefer failing first, with the message.
//
// Lower bounds 1 and 2: torch.export.load's input check (torch._export.utils.
// _check_input_constraints_for_graph) skips every lower bound of 2 or less, because torch.export
// specializes sizes 0 and 1 away. ptexport does not (a range [1, 64] means 1 is valid and 0 is not),
// so a batch of 0 would run through an artifact whose range says [1, 64]. lower_bound_guards gives
// `s >= min` for each input symbol whose minimum is 1 or 2, to be inserted like any guard: the artifact
// then refuses those sizes in every runtime, as its range constraints promise.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "shapes/shape_env.h"

namespace ptx::passes {

/// Adds a runtime assertion for each guard (duplicates and constant-true conditions are skipped;
/// a constant-false one is an InternalError: the checker should have rejected the export).
/// Symbols are read from the placeholders' dims. Returns true if the graph changed.
bool insert_runtime_asserts(ir::Graph& graph, const std::vector<shapes::Guard>& guards);

/// `s >= min` for each symbol of a placeholder's dims whose range in `ranges` (by name, "s0") has a
/// minimum of 1 or 2 (see the file comment), in symbol order.
std::vector<shapes::Guard> lower_bound_guards(const ir::Graph& graph, const std::map<std::string, shapes::Range>& ranges);

}  // namespace ptx::passes
