// ir/parser.h: reads the text of ir/printer.h back into a graph or a program, so that tests (and
// people) can write graphs as text. print(parse(text)) == text for every text the printer makes.
//
// What it reads, line by line (indentation and blank lines are free):
//   def forward(self, x: "f32[s0, 4]", n: "Sym(s1)"):          placeholders with their metas
//   # File: model.py:8 in forward, code: y = x * 2              stack trace of the nodes below
//   relu: "f32[s0, 4]" = torch.ops.aten.relu.default(x)         an ATen call
//   full: "f32[2]" = torch.ops.aten.full.default([2], -inf, device = device(type='cpu'))
//   mul: "Sym(2*s0)" = sym_size_int * 2                          _operator.mul (also + - // % == ...)
//   sym_min: "Sym(Min(4, s0))" = torch.sym_min(a, 4)             any other dotted target
//   split = torch.ops.aten.split.Tensor(x, 2)                    several outputs, one line each:
//   split_1: "f32[2, 4]" = split[0]
//   _assert_scalar_default = torch.ops.aten._assert_scalar.default(eq, "...")   no output
//   return (relu, mul)
// and, for a program, the "Graph signature:" and "Range constraints:" sections of print(ep).
// Anything after `;` on a line (the printer's `x = None` frees) is ignored.
//
// ATen argument names, their kinds and list element types come from the operator's schema in
// LibTorch's dispatcher (aten::sym_size.int is known without it); an unknown operator is an error.
// A call's output types come from the annotation: "f32[...]" a tensor, "Sym(<int expr>)" a SymInt,
// "Sym(<relation>)" a SymBool. Without an annotation, the schema decides: no return -> no output
// (the assert form), Tensor -> an error (tensors need their meta), int/float/bool -> kInt/kFloat/kBool.
// Non-ATen targets name their arguments a, b, c, ... (the frontend's convention for _operator.*).
//
// Not recovered from text (the printer does not print them): tensor strides (set to contiguous
// strides of the sizes), storage offsets (0), devices ("cpu"), requires_grad (false), nn_module_stack,
// the program's parameter / buffer / constant tensors (the maps stay empty: fill them before running),
// and the pytree specs (set to a tuple of the user inputs, an empty kwargs dict, a tuple of the user
// outputs). Symbols are fresh per parse_program call, shared between metas and range constraints.
//
// Errors are UserError(ExitCode::kInput, "E_IR_PARSE"): "ir text line 7: <what>".
#pragma once

#include <memory>
#include <string_view>

#include "ir/graph.h"
#include "ir/program.h"
#include "shapes/sym_parse.h"

namespace ptx::ir {

/// Parses print(ep)-style text (ir::to_string of a program).
std::unique_ptr<ExportedProgram> parse_program(std::string_view text);

/// Parses a graph: the text of ir::to_string(const Graph&), or only its `def forward(...):` block.
/// Symbols get fresh SymExprs, one per name.
std::unique_ptr<Graph> parse_graph(std::string_view text);
/// As above, resolving symbol names through `symbols` (e.g. to use the test's own s0).
std::unique_ptr<Graph> parse_graph(std::string_view text, const shapes::SymbolLookup& symbols);

}  // namespace ptx::ir
