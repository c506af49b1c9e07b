// lib/method.cpp: which method to export. See lib/method.h.
#include "lib/method.h"

#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/ir/ir_views.h>
#include <torch/csrc/jit/passes/constant_propagation.h>

#include <algorithm>
#include <unordered_map>

#include "lib/teardown.h"
#include "shapes/error.h"

namespace ptx {
namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

/// TorchScript's overloads of `name` in `module`: name__0, name__1, ... in declaration order.
std::vector<std::string> overloads_of(const torch::jit::Module& module, const std::string& name) {
  std::vector<std::string> out;
  for (int i = 0;; ++i) {
    const std::string o = name + "__" + std::to_string(i);
    if (!module.find_method(o)) break;
    out.push_back(o);
  }
  return out;
}

/// Note [Inlining as written]
/// torch::jit::Inline replaces each call by the callee's optimized graph, which TorchScript makes the
/// first time it is asked for: the callee inlined, then peephole rewrites, constant propagation and
/// constant pooling, each building an alias database. For vit_b_16 that was four fifths of the trace
/// stage (perf, 2026-12-07), and none of it is needed: the frontend evaluates constants, known
/// conditions and list idioms itself, as it does for the top method's own graph, which Inline leaves
/// as written. So callees go in as written, bottom-up as Inline does (each function's graph with its
/// own calls inlined, made once, then copied into its callers by torch::jit::inlineCallTo), so that
/// each node's inlined call stack (its provenance: stack_trace, nn_module_stack) is the same. Of the
/// optimizations only constant propagation on immutable values runs (no alias database): it removes
/// the branches that constants decide, with the code only they read, after `x is None` of a value
/// that cannot be None is folded (fold_known_conditions). The rest of the peephole pass is left out: a cat of a cat stays two cats, as the model's code and torch.export have it (raft).
using InlinedGraphs = std::unordered_map<const torch::jit::GraphFunction*, std::shared_ptr<torch::jit::Graph>>;

void inline_block(torch::jit::Block* block, InlinedGraphs& done);

/// Two rules of TorchScript's peephole pass that the frontend needs: `x is None` / `x is not None`
/// where x's type cannot hold None (an Optional argument given a plain value, once inlined) becomes
/// its answer (constant propagation then removes the branch it decided), and an if that only turns its
/// condition into a bool is replaced by the condition.
void fold_known_conditions(torch::jit::Block* block) {
  const auto may_be_none = [](const c10::TypePtr& t) {
    return t->kind() == c10::TypeKind::OptionalType || t->kind() == c10::TypeKind::NoneType ||
           t->kind() == c10::TypeKind::AnyType || t->kind() == c10::TypeKind::UnionType;
  };
  for (torch::jit::Node* n : block->nodes()) {
    for (torch::jit::Block* inner : n->blocks()) fold_known_conditions(inner);
    if (n->kind() == c10::prim::If) {
      // `c and True`, `c or False` (an if whose bool output is True when c holds, False otherwise):
      // the output is c itself, so that a condition read from data reaches the if that uses it.
      torch::jit::IfView view(n);
      for (size_t i = 0; i < n->outputs().size(); ++i) {
        if (n->output(i)->type()->kind() != c10::TypeKind::BoolType) continue;
        const auto then_value = torch::jit::constant_as<bool>(view.thenOutputs().at(i));
        const auto else_value = torch::jit::constant_as<bool>(view.elseOutputs().at(i));
        if (then_value == true && else_value == false) n->output(i)->replaceAllUsesWith(view.cond());
      }
      continue;
    }
    const bool is = n->kind() == c10::aten::__is__, is_not = n->kind() == c10::aten::__isnot__;
    if ((!is && !is_not) || n->inputs().size() != 2) continue;
    torch::jit::Value* a = n->input(0);
    torch::jit::Value* b = n->input(1);
    if (a->type()->kind() == c10::TypeKind::NoneType) std::swap(a, b);
    if (b->type()->kind() != c10::TypeKind::NoneType || may_be_none(a->type())) continue;
    torch::jit::WithInsertPoint guard(n);
    n->output()->replaceAllUsesWith(block->owningGraph()->insertConstant(is_not));
  }
}

torch::jit::Graph* inlined_as_written(torch::jit::GraphFunction& fn, InlinedGraphs& done) {
  if (auto it = done.find(&fn); it != done.end()) return it->second.get();
  fn.ensure_defined();  // a loaded module's methods are compiled when first used
  std::shared_ptr<torch::jit::Graph> g = fn.graph()->copy();
  inline_block(g->block(), done);
  // Branches on constants go, and with them the code only they used (torchvision's resize when the
  // module's fixed_size is a constant): code TorchScript's optimized graph does not have either, and
  // that the frontend must not trace (it may not be exportable, or add guards nothing needs).
  fold_known_conditions(g->block());
  torch::jit::ConstantPropagationImmutableTypes(g);
  return done.emplace(&fn, std::move(g)).first->second.get();
}

void inline_block(torch::jit::Block* block, InlinedGraphs& done) {
  for (auto it = block->nodes().begin(), end = block->nodes().end(); it != end;) {
    torch::jit::Node* cur = *it++;
    torch::jit::GraphFunction* callee = called_function(cur);
    if (callee != nullptr && cur->kind() == c10::prim::CallFunction) cur->removeInput(0);  // the function, a constant
    if (callee != nullptr) {
      torch::jit::inlineCallTo(cur, callee, inlined_as_written(*callee, done));
    } else {
      for (torch::jit::Block* inner : cur->blocks()) inline_block(inner, done);
    }
  }
}

}  // namespace

torch::jit::GraphFunction* called_function(const torch::jit::Node* n) {
  if (n->kind() == c10::prim::CallFunction) {
    if (auto fn = n->input(0)->type()->cast<c10::FunctionType>()) return torch::jit::tryToGraphFunction(*fn->function());
  } else if (n->kind() == c10::prim::CallMethod) {
    if (auto cls = n->input(0)->type()->cast<c10::ClassType>()) {
      if (torch::jit::Function* m = cls->findMethod(n->s(c10::attr::name))) return torch::jit::tryToGraphFunction(*m);
    }
  }
  return nullptr;
}

std::shared_ptr<torch::jit::Graph> inlined_graph(const torch::jit::Method& method) {
  torch::jit::GraphFunction& fn = torch::jit::toGraphFunction(method.function());
  fn.ensure_defined();
  std::shared_ptr<torch::jit::Graph> graph = fn.graph()->copy();
  InlinedGraphs done;
  inline_block(graph->block(), done);
  keep_until_exit(std::move(done));  // the callees' inlined copies: freed by the exit (lib/teardown.h)
  return graph;
}

torch::jit::Method find_method(const torch::jit::Module& module, const std::filesystem::path& model_file,
                               const std::string& name, const std::string& asked_in) {
  auto m = module.find_method(name);
  if (!m) {
    std::vector<std::string> methods;
    for (const auto& method : module.get_methods()) methods.push_back(method.name());
    PTX_USER_FAIL(ExitCode::kUsage, "E_NO_METHOD")
        << asked_in << ": method '" << name << "' is not in " << model_file.string() << " (it has: " << join(methods)
        << "; --method chooses one)";
  }
  return *m;
}

std::string MethodChoice::describe() const {
  if (chosen_by == "overload") {
    return "method " + name + " (the overload of " + requested + " that the inputs match, as TorchScript " +
           "dispatches; the model has " + join(overloads) + "; --method chooses another)";
  }
  if (name == "forward") return "";
  return "method " + name + " (from " + chosen_by + ")";
}

MethodChoice choose_method(const torch::jit::Module& module, const std::filesystem::path& model_file,
                           const std::filesystem::path& inputs_file, const std::vector<std::string>& dynamic_flags,
                           const std::optional<std::string>& explicit_method) {
  MethodChoice c;
  if (explicit_method) {
    c.requested = *explicit_method;
    c.chosen_by = "--method";
  } else {
    c.requested = read_inputs_method(inputs_file);
    c.chosen_by = c.requested == "forward" ? "default" : "inputs.json";
  }
  const std::string where = c.chosen_by == "--method" ? "--method" : inputs_file.string();
  if (auto m = module.find_method(c.requested)) {
    c.name = c.requested;
    c.inputs = load_inputs(inputs_file, dynamic_flags, m->function().getSchema());
    c.inputs.method = c.name;
    return c;
  }
  c.overloads = overloads_of(module, c.requested);
  if (c.overloads.empty()) find_method(module, model_file, c.requested, where);  // the error naming the methods
  // TorchScript's dispatch: the first overload whose schema the arguments match.
  std::vector<std::string> reasons;
  std::optional<UserError> first;
  bool same = true;  // every overload failed with the same error: not about the overload (a bad flag)
  for (const std::string& o : c.overloads) {
    try {
      c.inputs = load_inputs(inputs_file, dynamic_flags, module.get_method(o).function().getSchema());
    } catch (const UserError& e) {
      if (!first) first.emplace(e);
      same = same && first->code() == e.code() && std::string(first->what()) == e.what();
      reasons.push_back(o + ": " + e.what());
      continue;
    }
    c.name = o;
    c.chosen_by = "overload";
    c.inputs.method = o;
    return c;
  }
  if (same && first) throw *first;
  std::string all;
  for (const std::string& r : reasons) all += "\n  " + r;
  PTX_USER_FAIL(ExitCode::kInput, "E_INPUT_JSON")
      << inputs_file.string() << ": the inputs match none of the overloads of '" << c.requested << "' in "
      << model_file.string() << " (TorchScript's overloads " << join(c.overloads)
      << "; --method chooses one):" << all;
}

}  // namespace ptx
