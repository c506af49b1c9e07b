// tests/lib/method_test.cpp: inlined_graph (lib/method.h, Note [Inlining as written]) on small
// TorchScript modules defined in C++: every call inlined, provenance as torch::jit::Inline gives it,
// and the branches decided by constants gone, as in TorchScript's optimized graphs.
#include <catch2/catch_test_macros.hpp>  // REQUIRE only: c10 defines its own CHECK
#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/passes/inliner.h>

#include <functional>
#include <string>
#include <vector>

#include "lib/method.h"

namespace {

/// Every node of `b` and of its blocks, depth first.
void each_node(const torch::jit::Block* b, const std::function<void(const torch::jit::Node*)>& f) {
  for (const torch::jit::Node* n : b->nodes()) {
    f(n);
    for (const torch::jit::Block* inner : n->blocks()) each_node(inner, f);
  }
}

std::vector<std::string> kinds(const torch::jit::Graph& g) {
  std::vector<std::string> out;
  each_node(g.block(), [&](const torch::jit::Node* n) { out.push_back(n->kind().toQualString()); });
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& k) { return std::find(v.begin(), v.end(), k) != v.end(); }

torch::jit::Module nested() {
  torch::jit::Module inner("__torch__.Inner");
  inner.define(R"JIT(
def forward(self, x):
    return self.scale(x) + 1
def scale(self, x):
    return x * 2
)JIT");
  torch::jit::Module outer("__torch__.Outer");
  outer.register_module("inner", inner);
  outer.define(R"JIT(
def forward(self, x):
    return self.inner.forward(x).relu()
)JIT");
  return outer;
}

}  // namespace

TEST_CASE("inlined_graph inlines every call, with the call stacks torch::jit::Inline gives", "[lib][method]") {
  torch::jit::Module m = nested();
  const auto ours = ptx::inlined_graph(m.get_method("forward"));
  const std::vector<std::string> k = kinds(*ours);
  REQUIRE_FALSE(has(k, "prim::CallMethod"));
  REQUIRE_FALSE(has(k, "prim::CallFunction"));
  REQUIRE(has(k, "aten::mul"));
  REQUIRE(has(k, "aten::add"));

  // torch's own Inline of the same method: the same call stack (function names, outermost first) on
  // each node, so that stack traces and nn_module_stack do not change.
  auto theirs = torch::jit::toGraphFunction(m.get_method("forward").function()).graph()->copy();
  torch::jit::Inline(*theirs);
  const auto stacks = [](const torch::jit::Graph& g) {
    std::vector<std::string> out;
    each_node(g.block(), [&](const torch::jit::Node* n) {
      if (!n->kind().is_aten()) return;
      std::string s = n->kind().toQualString();
      if (auto cs = n->callstack()) {
        for (const auto& frame : (*cs)->vec()) s += " <- " + (std::get<0>(frame) ? std::get<0>(frame)->name() : "?");
      }
      out.push_back(s);
    });
    return out;
  };
  const std::vector<std::string> got = stacks(*ours);
  REQUIRE(got == stacks(*theirs));
  // the multiplication is two calls deep: Inner.forward, then Inner.scale
  REQUIRE(std::find(got.begin(), got.end(), "aten::mul <- forward <- scale") != got.end());
}

TEST_CASE("inlined_graph removes the branches that constants and argument types decide", "[lib][method]") {
  torch::jit::Module m("__torch__.Branches");
  m.define(R"JIT(
def helper(self, x, size: Optional[int]):
    if size is not None:
        return x + size
    return torch.tensor(x.shape)
def pred(self, x):
    c = bool(x.sum() > 0)
    return c and True
def wrapper(self, x):
    return self.helper(x, 3)
def forward(self, x):
    return self.wrapper(x)
def forward_pred(self, x):
    return self.pred(x)
)JIT");
  // In wrapper, once helper is inlined, `size is not None` of an int is True: the other branch and its
  // aten::tensor go. (The method exported is left as written, as torch::jit::Inline leaves it; its
  // callees are simplified.)
  const std::vector<std::string> k = kinds(*ptx::inlined_graph(m.get_method("forward")));
  REQUIRE(has(k, "aten::add"));
  REQUIRE_FALSE(has(k, "aten::tensor"));
  REQUIRE_FALSE(has(k, "aten::__isnot__"));
  // `c and True` is c: the method returns aten::Bool's output, not an if's.
  const auto pred = ptx::inlined_graph(m.get_method("forward_pred"));
  REQUIRE(pred->outputs().size() == 1);
  REQUIRE(pred->outputs()[0]->node()->kind() != c10::prim::If);
  REQUIRE(std::string(pred->outputs()[0]->node()->kind().toQualString()) == "aten::Bool");
}
