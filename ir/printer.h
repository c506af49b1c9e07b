// ir/printer.h: the text of a graph and of an exported program, in the layout of torch.export's
// `print(ep)` (torch 2.14: ExportedProgram.__str__ around GraphModule.print_readable), so that our
// graphs can be read next to torch's and tests can compare with what torch prints:
//
//   ExportedProgram:
//       class GraphModule(torch.nn.Module):
//           def forward(self, p_fc_weight: "f32[3, 4]", p_fc_bias: "f32[3]", x: "f32[s0, 4]"):
//               # File: model.py:8 in forward, code: return self.fc(x).view(x.size(0) * 3)
//               sym_size_int: "Sym(s0)" = torch.ops.aten.sym_size.int(x, 0)
//               linear: "f32[s0, 3]" = torch.ops.aten.linear.default(x, p_fc_weight, p_fc_bias);  x = p_fc_weight = p_fc_bias = None
//               mul: "Sym(3*s0)" = sym_size_int * 3;  sym_size_int = None
//               view: "f32[3*s0]" = torch.ops.aten.view.default(linear, [mul]);  linear = mul = None
//               return (view,)
//
//   Graph signature:
//       # inputs
//       p_fc_weight: PARAMETER target='fc.weight'
//       ...
//   Range constraints: {s0: VR[2, int_oo]}
//
// Exactly as torch's FX code generator:
//   - each call is `name: "annotation" = target(args)`; tensors are annotated "f32[s0, 4]", SymInts
//     and SymBools "Sym(expr)"; other values have no annotation.
//   - ATen targets print as torch.ops.<ns>.<name>.<overload>; "_operator.X" targets print as Python
//     operators (`a * b`, `a // b`, `a % b`, `a == b`, `-a`); other targets ("torch.sym_min") as calls.
//   - kwarg-only arguments print as `name = value` (with spaces, as torch does), after positionals.
//   - a node with several outputs, or one returning Tensor[], prints as the call without annotation
//     followed by one `out: "..." = node[i]` line per output (torch's getitem nodes; here the lines
//     name our output values). A node with no outputs (aten::_assert_scalar) prints as
//     `name = target(args)`.
//   - The frees (`;  x = p_fc_weight = None`) ARE printed, computed as FX does: after a line, the
//     values whose last use is that line (in argument order), then the line's own value if nothing
//     reads it. They make the text identical to torch's; the parser ignores them.
//   - a comment `# File: f.py:12 in forward, code: ...` (the innermost frame of the node's
//     stack_trace) or `# No stacktrace found for following nodes` precedes a run of nodes with the
//     same summary, after a blank line.
// Range constraints are listed by symbol name in natural order (s2 before s10). Tensor strides,
// devices and the pytree specs are not printed (torch's print does not show them either).
#pragma once

#include <optional>
#include <string>

#include "ir/graph.h"
#include "ir/program.h"

namespace ptx::ir {

/// torch's print_readable text of the graph: "class GraphModule(torch.nn.Module):\n    def ...".
std::string to_string(const Graph& graph);
/// The same with another class name (a cond branch prints as `class true_graph_0(...)`), followed
/// by the classes of its own subgraphs.
std::string graph_class_text(const Graph& graph, const std::string& class_name);
/// torch's print(ep) text of the program (see the file comment).
std::string to_string(const ExportedProgram& program);

// ---- pieces, shared with the parser ------------------------------------------------------------

/// torch's dtype abbreviation: "f32", "i64", "b8", "bf16", ...
std::string dtype_abbr(DType t);
std::optional<DType> dtype_from_abbr(const std::string& abbr);
/// "f32[s0, 64]"
std::string tensor_annotation(const TensorMeta& meta);
/// "torch.ops.aten.add.Tensor" for "aten::add.Tensor"; other targets unchanged.
std::string target_text(const std::string& target);
/// Python's repr of a float: 0.5, 1e-05, 1.0, 1e+16, inf, -inf, nan.
std::string python_float_repr(double v);
/// Python's repr of a str: 'tanh', "it's", 'a\nb'.
std::string python_str_repr(const std::string& s);
/// The Python text of an argument value as FX prints it ("[mul, -1]", "torch.float32",
/// "device(type='cpu')", "None").
std::string arg_text(const ArgValue& v);
/// Python names of c10 layouts and memory formats ("torch.strided", "torch.channels_last").
std::string layout_text(int layout);
std::string memory_format_text(int memory_format);
/// The `# File: ...` summary of a torch-style stack trace (its innermost frame), or "" if it has none.
std::string stack_trace_summary(const std::string& stack_trace);

}  // namespace ptx::ir
