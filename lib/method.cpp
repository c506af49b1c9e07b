// lib/method.cpp: which method to export. See lib/method.h.
#include "lib/method.h"

#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/ir/ir_views.h>
#include <torch/csrc/jit/passes/constant_propagation.h>

#include <algorithm>
#include <bit>
#include <map>
#include <set>
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
/// the branches that constants decide, with the code only they used, after `x is None` of a value
/// that cannot be None is folded (fold_known_conditions). The rest of the peephole pass is left out:
/// a cat of a cat stays two cats, as the model's code and torch.export have it (raft).
///
/// Note [Module attributes as constants]
/// A method's code branches on its module's settings: nn.MultiheadAttention calls
/// F.multi_head_attention_forward in two places, one per value of `self._qkv_same_embed_dim`;
/// nn.TransformerEncoderLayer has its attention and feed-forward blocks twice, for `self.norm_first`
/// true and false. Copied as written, each call site costs a copy of the callee, and half of them are
/// code the trace never reaches (it reads the attribute's value and walks one branch), so a callee is
/// specialized to the module instance that runs it: the attributes it reads that hold a bool, int,
/// float, string or None become constants (what the trace would read: torch.export specializes on
/// them too), the branches they decide go before the callees are copied in, and instances whose
/// settings are the same share one specialization (the key: the function, the values it read, in
/// order, and its callees' keys). Only when the model never sets an attribute (no prim::SetAttr in any
/// code the method reaches): otherwise a value could change while the method runs, and every callee
/// is inlined as written.
using GraphPtr = std::shared_ptr<torch::jit::Graph>;
using ObjectPtr = c10::intrusive_ptr<c10::ivalue::Object>;
/// Module objects known while reading one graph: its `self` and the submodules read off it.
using KnownObjects = std::unordered_map<const torch::jit::Value*, ObjectPtr>;

/// An attribute value that becomes a constant: immutable and not a tensor.
bool foldable(const c10::IValue& v) { return v.isBool() || v.isInt() || v.isDouble() || v.isString() || v.isNone(); }

/// `v` written exactly (a double by its bits: 1e-5 and 1.0000001e-5 are different settings).
std::string exact(const c10::IValue& v) {
  if (v.isBool()) return v.toBool() ? "T" : "F";
  if (v.isInt()) return "i" + std::to_string(v.toInt());
  if (v.isDouble()) return "d" + std::to_string(std::bit_cast<uint64_t>(v.toDouble()));
  if (v.isString()) return "s" + std::to_string(v.toStringRef().size()) + ":" + v.toStringRef();
  return "N";
}

/// The object that `n`, a prim::GetAttr of a known object, reads, when it is one.
ObjectPtr object_read(const torch::jit::Node* n, const KnownObjects& known) {
  if (n->kind() != c10::prim::GetAttr) return {};
  auto it = known.find(n->input(0));
  if (it == known.end()) return {};
  const c10::IValue v = it->second->getAttr(n->s(c10::attr::name));
  return v.isObject() ? v.toObject() : ObjectPtr{};
}

/// The value a prim::GetAttr of a known object reads, when it becomes a constant.
std::optional<c10::IValue> constant_read(const torch::jit::Node* n, const KnownObjects& known) {
  if (n->kind() != c10::prim::GetAttr) return std::nullopt;
  auto it = known.find(n->input(0));
  if (it == known.end()) return std::nullopt;
  c10::IValue v = it->second->getAttr(n->s(c10::attr::name));
  if (!foldable(v)) return std::nullopt;
  return v;
}

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

class Inliner {
 public:
  /// Attribute values may be folded unless code that `top` reaches may set one: a prim::SetAttr, or a
  /// method called through an interface (code not read here).
  explicit Inliner(const torch::jit::Graph& top)
      : fold_(!code_reaches(top.block(), [](const torch::jit::Node* n) {
          return n->kind() == c10::prim::SetAttr ||
                 (n->kind() == c10::prim::CallMethod && n->input(0)->type()->kind() == c10::TypeKind::InterfaceType);
        })) {}

  /// `block`'s calls replaced by their callees' graphs (specialized to the objects in `known`).
  void inline_block(torch::jit::Block* block, KnownObjects& known) {
    for (auto it = block->nodes().begin(), end = block->nodes().end(); it != end;) {
      torch::jit::Node* cur = *it++;
      if (ObjectPtr o = object_read(cur, known)) known.emplace(cur->output(), std::move(o));
      torch::jit::GraphFunction* callee = called_function(cur);
      if (callee == nullptr) {
        for (torch::jit::Block* inner : cur->blocks()) inline_block(inner, known);
        continue;
      }
      ObjectPtr self;
      if (cur->kind() == c10::prim::CallMethod) {
        if (auto k = known.find(cur->input(0)); k != known.end()) self = k->second;
      } else {
        cur->removeInput(0);  // the function, a constant
      }
      torch::jit::inlineCallTo(cur, callee, inlined(*callee, self));
    }
  }

  /// Keeps the callees' graphs until the process exits (lib/teardown.h).
  void keep() { keep_until_exit(std::move(done_)); }

 private:
  /// `fn` run on `self` (null: any object), its calls inlined and its known branches removed.
  torch::jit::Graph* inlined(torch::jit::GraphFunction& fn, const ObjectPtr& self) {
    const int key = key_of(fn, self);
    if (auto it = done_.find(key); it != done_.end()) return it->second.get();
    fn.ensure_defined();  // a loaded module's methods are compiled when first used
    GraphPtr g = fn.graph()->copy();
    const ObjectPtr obj = fold_ ? self : ObjectPtr{};
    if (obj) {
      KnownObjects read{{g->inputs().at(0), obj}};
      if (fold_attributes(g->block(), read)) {
        // The branches the settings decide go before any callee is copied into them.
        fold_known_conditions(g->block());
        torch::jit::ConstantPropagationImmutableTypes(g);
      }
    }
    KnownObjects known;  // anew: the propagation above may have removed nodes the first pass read
    if (obj) known.emplace(g->inputs().at(0), obj);
    inline_block(g->block(), known);
    // Branches on constants go, and with them the code only they used (torchvision's resize when the
    // module's fixed_size is a constant): code TorchScript's optimized graph does not have either, and
    // that the frontend must not trace (it may not be exportable, or add guards nothing needs).
    fold_known_conditions(g->block());
    torch::jit::ConstantPropagationImmutableTypes(g);
    return done_.emplace(key, std::move(g)).first->second.get();
  }

  /// Replaces the reads of foldable attributes of known objects by constants; true when any was.
  bool fold_attributes(torch::jit::Block* block, KnownObjects& known) {
    bool any = false;
    for (torch::jit::Node* n : block->nodes()) {
      for (torch::jit::Block* inner : n->blocks()) any = fold_attributes(inner, known) || any;
      if (ObjectPtr o = object_read(n, known)) {
        known.emplace(n->output(), std::move(o));
      } else if (auto v = constant_read(n, known)) {
        torch::jit::WithInsertPoint guard(n);
        n->output()->replaceAllUsesWith(block->owningGraph()->insertConstant(*v));
        any = true;
      }
    }
    return any;
  }

  /// The specialization's key: equal for two pairs whose inlined graphs are the same (see the Note).
  int key_of(torch::jit::GraphFunction& fn, const ObjectPtr& self) {
    const ObjectPtr obj = fold_ ? self : ObjectPtr{};
    const auto pair = std::make_pair(&fn, obj.get());
    if (auto it = pair_keys_.find(pair); it != pair_keys_.end()) return it->second;
    std::string text = std::to_string(reinterpret_cast<uintptr_t>(&fn));
    if (obj) {
      KnownObjects known;
      known.emplace(fn.graph()->inputs().at(0), obj);
      describe(fn.graph()->block(), known, text);
    }
    const int key = text_keys_.emplace(text, static_cast<int>(text_keys_.size())).first->second;
    pair_keys_.emplace(pair, key);
    return key;
  }

  /// Appends to `text` what specializing `block` to `known` depends on, in the order read.
  void describe(const torch::jit::Block* block, KnownObjects& known, std::string& text) {
    for (const torch::jit::Node* n : block->nodes()) {
      for (const torch::jit::Block* inner : n->blocks()) describe(inner, known, text);
      if (ObjectPtr o = object_read(n, known)) {
        known.emplace(n->output(), std::move(o));
      } else if (auto v = constant_read(n, known)) {
        text += "|" + exact(*v);
      } else if (torch::jit::GraphFunction* callee = called_function(n)) {
        auto k = n->kind() == c10::prim::CallMethod ? known.find(n->input(0)) : known.end();
        text += "|c" + std::to_string(key_of(*callee, k != known.end() ? k->second : ObjectPtr{}));
      }
    }
  }

  const bool fold_;
  std::map<std::pair<const torch::jit::GraphFunction*, const c10::ivalue::Object*>, int> pair_keys_;
  std::unordered_map<std::string, int> text_keys_;
  std::unordered_map<int, GraphPtr> done_;
};

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

namespace {

bool reaches(const torch::jit::Block* block, const std::function<bool(const torch::jit::Node*)>& pred,
             std::set<const torch::jit::GraphFunction*>& seen) {
  for (const torch::jit::Node* n : block->nodes()) {
    if (pred(n)) return true;
    for (const torch::jit::Block* inner : n->blocks()) {
      if (reaches(inner, pred, seen)) return true;
    }
    torch::jit::GraphFunction* callee = called_function(n);
    if (callee != nullptr && seen.insert(callee).second) {
      callee->ensure_defined();  // a loaded module's methods are compiled when first used
      if (reaches(callee->graph()->block(), pred, seen)) return true;
    }
  }
  return false;
}

}  // namespace

bool code_reaches(const torch::jit::Block* block, const std::function<bool(const torch::jit::Node*)>& pred) {
  std::set<const torch::jit::GraphFunction*> seen;
  return reaches(block, pred, seen);
}

std::shared_ptr<torch::jit::Graph> inlined_graph(const torch::jit::Method& method) {
  torch::jit::GraphFunction& fn = torch::jit::toGraphFunction(method.function());
  fn.ensure_defined();
  std::shared_ptr<torch::jit::Graph> graph = fn.graph()->copy();
  Inliner inliner(*graph);
  KnownObjects known;
  known.emplace(graph->inputs().at(0), method.owner()._ivalue());
  inliner.inline_block(graph->block(), known);
  inliner.keep();
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
