// ir/verify.h: the invariants of graphs and programs, checked after every pass (passes/pipeline)
// and before serialization. A violation is a bug in ptexport, so it is an InternalError whose
// message names the graph's node or value ("node 'relu' reads 'x_1' before it is defined").
//
// verify_graph checks:
//   - placeholders come before every call node, and Graph::placeholders() lists them in node order
//   - Note [Topological order]: every value a node reads (and every graph output) is defined by an
//     earlier node of this graph; a value no node of this graph produces is reported as coming from
//     another graph (or from a removed node)
//   - each node's outputs name it as their producer
//   - names are unique among nodes and among values
//   - a tensor value has a meta; a SymInt value has a sym (Value::has_sym); a SymBool value has its
//     condition (Value::sym_bool)
// verify additionally checks the program:
//   - one input spec per placeholder, in placeholder order, naming it (arg == placeholder name)
//   - one output spec per graph output, in order, naming it
//   - every symbol in a meta (sizes, strides, storage offset) or in a SymInt/SymBool value has an
//     entry in range_constraints, and no two different symbols share a name
#pragma once

#include "ir/graph.h"
#include "ir/program.h"

namespace ptx::ir {

/// Throws InternalError naming the first violation found (see the file comment).
void verify_graph(const Graph& graph);
/// verify_graph plus the program-level checks.
void verify(const ExportedProgram& program);

}  // namespace ptx::ir
