// lib/op_policy.cpp: see lib/op_policy.h.
#include "lib/op_policy.h"

#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/runtime/operator.h>

#include <algorithm>
#include <mutex>
#include <set>
#include <vector>

#include "shapes/error.h"

namespace ptx {
namespace {

constexpr const char* kModeOps[] = {"aten::is_grad_enabled",   "aten::set_grad_enabled",  "aten::is_autocast_enabled",
                                    "aten::is_autocast_cpu_enabled", "aten::get_autocast_dtype",
                                    "aten::_get_cpu_capability"};

bool names_a_file(const std::string& arg) {
  return arg == "filename" || arg == "file" || arg == "path" || arg == "f" || arg == "filepath" || arg == "fname";
}

/// The rule of lib/op_policy.h for one registered operator (schema and alias analysis known).
std::optional<std::string> refusal_of(const std::string& name, const c10::FunctionSchema& schema,
                                      c10::AliasAnalysisKind alias) {
  for (const c10::Argument& a : schema.arguments()) {
    if (a.type()->kind() == c10::TypeKind::StringType && names_a_file(a.name())) {
      return "it reads or writes a host file (argument '" + a.name() + "')";
    }
  }
  if (alias == c10::AliasAnalysisKind::CONSERVATIVE &&
      std::find(std::begin(kModeOps), std::end(kModeOps), name) == std::end(kModeOps)) {
    return "LibTorch registers it as having arbitrary side effects (CONSERVATIVE alias analysis)";
  }
  return std::nullopt;
}

std::mutex& allowed_mutex() {
  static std::mutex m;
  return m;
}

std::set<std::string>& allowed_namespaces() {
  static std::set<std::string> s;
  return s;
}

std::optional<std::string> namespace_refusal(const std::string& name) {
  if (name.starts_with("_operator.") || name.starts_with("torch.sym_")) return std::nullopt;  // ptexport's own
  const size_t sep = name.find("::");
  const std::string ns = sep == std::string::npos ? name : name.substr(0, sep);
  if (ns == "aten" || ns == "prim") return std::nullopt;
  {
    std::lock_guard<std::mutex> lock(allowed_mutex());
    if (allowed_namespaces().count(ns)) return std::nullopt;
  }
  return "namespace '" + ns + "' is not run by ptexport (only aten and prim ops are, and those of a library loaded with --load-library)";
}

}  // namespace

void allow_op_namespace(const std::string& ns) {
  std::lock_guard<std::mutex> lock(allowed_mutex());
  allowed_namespaces().insert(ns);
}

std::optional<std::string> op_refusal(const std::string& name, const std::string& overload) {
  if (auto r = namespace_refusal(name)) return r;
  if (name.find("::") == std::string::npos) return std::nullopt;  // _operator.*, torch.sym_*
  for (const auto& op : torch::jit::getAllOperatorsFor(c10::Symbol::fromQualString(name))) {
    if (op->schema().overload_name() != overload) continue;
    return refusal_of(name, op->schema(), op->aliasAnalysisKind());
  }
  // Not registered: running it fails anyway ("unknown operator"); nothing runs.
  return std::nullopt;
}

std::map<std::string, std::string> refused_ops(const torch::jit::Graph& inlined) {
  std::map<std::string, std::string> out;
  std::vector<const torch::jit::Block*> blocks = {inlined.block()};
  while (!blocks.empty()) {
    const torch::jit::Block* b = blocks.back();
    blocks.pop_back();
    for (const torch::jit::Node* n : b->nodes()) {
      for (const torch::jit::Block* inner : n->blocks()) blocks.push_back(inner);
      const std::string name = n->kind().toQualString();
      std::optional<std::string> reason = namespace_refusal(name);
      if (!reason) {
        if (const torch::jit::Operator* op = n->maybeOperator()) {
          reason = refusal_of(name, op->schema(), op->aliasAnalysisKind());
        }
      }
      if (reason) out.emplace(name, *reason);
    }
  }
  return out;
}

namespace {

/// refused_ops of one graph, and of every subgraph its higher-order ops take (cond's branches,
/// while_loop's condition and body).
void refused_in_graph(const ir::Graph& g, std::map<std::string, std::string>& out) {
  for (const auto& n : g.nodes()) {
    if (n->kind() != ir::NodeKind::kCall) continue;
    const std::string& target = n->target();
    // Interpreted by ptexport: its subgraphs run, it does not.
    if (target == "higher_order::cond" || target == "higher_order::while_loop") {
      for (const ir::NamedArg& a : n->inputs()) {
        if (const auto* sub = std::get_if<ir::GraphArg>(&a.value); sub != nullptr && sub->graph) {
          refused_in_graph(*sub->graph, out);
        }
      }
      continue;
    }
    const size_t dot = target.rfind('.');
    const bool has_overload = target.find("::") != std::string::npos && dot != std::string::npos && dot > target.find("::");
    const std::string name = has_overload ? target.substr(0, dot) : target;
    std::string overload = has_overload ? target.substr(dot + 1) : "";
    if (overload == "default") overload = "";
    if (auto reason = op_refusal(name, overload)) out.emplace(target, *reason);
  }
}

}  // namespace

std::map<std::string, std::string> refused_ops(const ir::ExportedProgram& program) {
  std::map<std::string, std::string> out;
  refused_in_graph(*program.graph, out);
  return out;
}

void refuse_ops(const std::map<std::string, std::string>& refused, const std::string& what, const std::string& flag) {
  if (refused.empty()) return;
  std::string list;
  for (const auto& [op, reason] : refused) list += "\n  " + op + ": " + reason;
  PTX_USER_FAIL(ExitCode::kExportFailed, "E_UNSAFE_OP")
      << what << " calls " << refused.size() << " op" << (refused.size() == 1 ? "" : "s")
      << " that ptexport does not run (it runs only ops known to stay inside the process; docs/security.md):" << list
      << "\n" << flag << " runs them anyway; do that only for a file you trust as you would a program";
}

}  // namespace ptx
