// lib/frontend/provenance.cpp: where a TorchScript node comes from (source line, call chain after
// inlining, module path) for messages, guards and the IR's node metadata. See lib/frontend/tracer.h.
#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/ir/scope.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "lib/frontend/tracer.h"
#include "shapes/error.h"

namespace ptx::frontend {

std::string strip_mangle(std::string name) {
  // "__torch__.torch.nn.modules.linear.___torch_mangle_0.Linear" -> "torch.nn.modules.linear.Linear"
  if (name.rfind("__torch__.", 0) == 0) name = name.substr(10);
  for (;;) {
    const auto p = name.find("___torch_mangle_");
    if (p == std::string::npos) break;
    const auto dot = name.find('.', p);
    name.erase(p, dot == std::string::npos ? std::string::npos : dot - p + 1);
  }
  return name;
}

std::string line_of(const jit::SourceRange& r) {
  if (!r.source()) return "";
  const auto flc = r.file_line_col();
  if (!flc) return "";
  return std::get<0>(*flc) + ":" + std::to_string(std::get<1>(*flc));
}

std::string code_of(const jit::SourceRange& r) {
  if (!r.source()) return "";
  try {
    const size_t line = r.source()->lineno_for_offset(r.start());
    std::string text = r.source()->get_line(line).str();
    const auto b = text.find_first_not_of(" \t");
    if (b == std::string::npos) return "";
    const auto e = text.find_last_not_of(" \t\r\n");
    return text.substr(b, e - b + 1);
  } catch (...) {
    return "";
  }
}

/// The call sites that lead to `n` after inlining, innermost first, one "\n<indent>called from
/// file:line: code" each (empty for a node of the method itself).
std::string called_from(jit::Node* n, const std::string& indent) {
  std::string out;
  if (n == nullptr) return out;
  if (auto cs = n->callstack()) {
    const auto frames = (*cs)->vec();
    for (auto it = frames.rbegin(); it != frames.rend(); ++it) {
      const jit::SourceRange& r = std::get<1>(*it);
      const std::string line = line_of(r);
      if (line.empty()) continue;
      const std::string code = code_of(r);
      out += "\n" + indent + "called from " + line + (code.empty() ? "" : ": " + code);
    }
  }
  return out;
}

/// True when `n` is the constant that `torch.compiler.is_compiling()` (or is_exporting, or
/// torch._dynamo's and torch._utils' is_compiling) returns, inlined. TorchScript compiles these to
/// `return False`; while exporting they are True, as under torch.export. Library code keys its
/// export-safe path on them: nn.TransformerEncoder skips its sparsity fast path (a nested tensor
/// built from the padding mask, which gives other values in padded positions) "with torch.compile
/// or torch.export" instead of testing the mask's data.
bool exporting_flag(jit::Node* n) {
  if (n->outputs().size() != 1 || n->output()->type()->kind() != c10::TypeKind::BoolType) return false;
  auto cs = n->callstack();
  if (!cs) return false;
  const auto frames = (*cs)->vec();
  if (frames.empty() || std::get<0>(frames.back()) == nullptr) return false;
  const std::string fn = std::get<0>(frames.back())->qualname().qualifiedName();
  static const std::set<std::string> kFlags = {
      "__torch__.torch.compiler.is_compiling", "__torch__.torch.compiler.is_exporting",
      "__torch__.torch._dynamo.external_utils.is_compiling", "__torch__.torch._utils.is_compiling",
      "__torch__.torch._dynamo.is_compiling"};
  return kFlags.count(fn) > 0;
}

const std::vector<shapes::SourceFrame>& Tracer::frames_of(const jit::Node* n) {
  auto [it, fresh] = frames_.try_emplace(n);
  if (!fresh) return it->second;
  std::vector<shapes::SourceFrame>& frames = it->second;
  auto frame = [&](const jit::SourceRange& r, const std::string& fn) {
    const auto flc = r.source() ? r.file_line_col() : std::nullopt;
    if (!flc) return;
    frames.push_back({std::get<0>(*flc), static_cast<int>(std::get<1>(*flc)), fn, code_of(r)});
  };
  // After inlining, each entry of the callstack is a call site (in the caller's function) and the
  // function called; the node's own range is in the innermost function.
  std::string fn = "forward";
  if (auto cs = n->callstack()) {
    for (const auto& entry : (*cs)->vec()) {
      frame(std::get<1>(entry), fn);
      fn = std::get<0>(entry) ? std::get<0>(entry)->name() : "forward";
    }
  }
  frame(n->sourceRange(), fn);
  return frames;
}

shapes::Provenance Tracer::why(jit::Node* n, const std::string& reason) {
  shapes::Provenance p;
  if (n == nullptr) return p;
  p.op = n->kind().toQualString();
  // The innermost line: the one in the (sub)module's own code that calls the op; the call chain
  // that leads there is `stack` (and the node's stack trace, set_meta).
  // TorchScript's importer gives prim::GetAttr / SetAttr no source range: the line is the one of the
  // node that uses the attribute (next) or computes the value assigned (previous), in the same block.
  const jit::Node* at = n;
  const bool use_follows = n->kind() == c10::prim::GetAttr;
  for (int i = 0; i < 4 && at != nullptr && line_of(at->sourceRange()).empty(); ++i) {
    const jit::Node* step = use_follows ? at->next() : at->prev();
    at = step != nullptr && step->owningBlock() == n->owningBlock() && step->kind() != c10::prim::Param &&
                 step->kind() != c10::prim::Return
             ? step
             : nullptr;
  }
  const jit::Node* located = at != nullptr ? at : n;
  const jit::SourceRange& user = located->sourceRange();
  p.source = line_of(user);
  p.code = code_of(user);
  p.reason = reason;
  p.stack = frames_of(located);
  return p;
}

void Tracer::data_dependent(jit::Node* n, const SVP& s, const char* what) {
  const shapes::Provenance p = why(n, what);
  PTX_USER_FAIL(ExitCode::kExportFailed, "E_DATA_DEPENDENT")
      << (p.source.empty() ? std::string("model") : p.source) << ": " << what
      << " depends on the values in a tensor (" << s->data_dep << "), not only on shapes"
      << (p.code.empty() ? "" : "\n    " + p.code) << called_from(n, "  ")
      << (std::string(what).find("argument") != std::string::npos
              ? "\n  keep the value a tensor (tensor ops instead of Python numbers), or pass a tensor's .item() to the "
                "op as it is: ptexport follows item() of an integer tensor as an unbacked size and of a float tensor "
                "as an unbacked float, but not Python arithmetic or decisions on them"
              : "\n  an exported graph has no Python control flow: rewrite the condition with torch.cond, "
                "or compute both branches and select with torch.where");
}

void Tracer::set_meta(ir::Node* node, jit::Node* n) {
  ir::NodeMeta& m = node->meta();
  // torch.export's form: the root module first ("L__self__", path "", its type), then one frame
  // per submodule call ("L__self__layer1_0", "layer1.0", "torch.nn.modules.container.Sequential").
  const auto root_type = model_.module.type()->name();
  m.nn_module_stack.push_back({"L__self__", "", root_type ? strip_mangle(root_type->qualifiedName()) : ""});
  std::string path;
  if (auto cs = n->callstack()) {
    for (const auto& entry : (*cs)->vec()) {
      const auto& info = std::get<2>(entry);
      if (info && info->class_type()) {
        path = path.empty() ? info->instance_name() : path + "." + info->instance_name();
        std::string key = "L__self__" + path;
        std::replace(key.begin(), key.end(), '.', '_');
        m.nn_module_stack.push_back({key, path, strip_mangle(info->class_type()->name()->qualifiedName())});
      }
    }
  }
  const shapes::Provenance p = why(n, "");
  m.stack_trace = p.stack_trace();
  if (!p.stack.empty()) {
    m.source_file = p.stack.back().file;
    m.source_line = p.stack.back().line;
  }
  // The guards and checks this op recorded were made for this node.
  env_.name_node(p.op, node->name());
}

}  // namespace ptx::frontend
