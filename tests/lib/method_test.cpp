// tests/lib/method_test.cpp: inlined_graph (lib/method.h, Note [Inlining as written]) on small
// TorchScript modules defined in C++: every call inlined, provenance as torch::jit::Inline gives it,
// and the branches decided by constants gone, as in TorchScript's optimized graphs.
#include <catch2/catch_test_macros.hpp>  // REQUIRE only: c10 defines its own CHECK
#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/passes/inliner.h>

#include <cmath>
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

namespace {

/// A module whose forward branches on its settings: `double_it` picks the callee, `scale` is a float.
torch::jit::Module setting(bool double_it, double scale) {
  torch::jit::Module m("__torch__.Setting");
  m.register_attribute("double_it", c10::BoolType::get(), double_it);
  m.register_attribute("scale", c10::FloatType::get(), scale);
  m.define(R"JIT(
def twice(self, x):
    return x * 2
def negated(self, x):
    return x.neg()
def forward(self, x):
    if self.double_it:
        y = self.twice(x)
    else:
        y = self.negated(x)
    return y + self.scale
)JIT");
  return m;
}

/// The float constants of `g`.
std::vector<double> float_constants(const torch::jit::Graph& g) {
  std::vector<double> out;
  each_node(g.block(), [&](const torch::jit::Node* n) {
    if (n->kind() == c10::prim::Constant && n->output()->type()->kind() == c10::TypeKind::FloatType) {
      out.push_back(n->f(c10::attr::value));
    }
  });
  return out;
}

}  // namespace

TEST_CASE("inlined_graph specializes each callee to the settings of the module instance that runs it",
          "[lib][method]") {
  // Three instances of one module type: two with the same settings, one with others, and one whose
  // scale differs from the first in the last bits only.
  // Copies of one module share its type, so their forward is one function.
  const torch::jit::Module base = setting(true, 1e-5);
  torch::jit::Module a = base.deepcopy(), b = base.deepcopy(), c = base.deepcopy(), d = base.deepcopy();
  b.setattr("double_it", false);
  d.setattr("scale", std::nextafter(1e-5, 1.0));
  REQUIRE(a.type() == b.type());
  REQUIRE(a.type() == d.type());
  torch::jit::Module outer("__torch__.Outer3");
  outer.register_module("a", a);
  outer.register_module("b", b);
  outer.register_module("c", c);
  outer.register_module("d", d);
  outer.define(R"JIT(
def forward(self, x):
    return self.a.forward(x) + self.b.forward(x) + self.c.forward(x) + self.d.forward(x)
)JIT");
  const auto g = ptx::inlined_graph(outer.get_method("forward"));
  const std::vector<std::string> k = kinds(*g);
  // a, c, d double, b negates: each instance's own branch, the other gone with its call.
  REQUIRE(std::count(k.begin(), k.end(), "aten::mul") == 3);
  REQUIRE(std::count(k.begin(), k.end(), "aten::neg") == 1);
  REQUIRE_FALSE(has(k, "prim::If"));
  // The settings are constants: no attribute read is left but the submodules' own.
  each_node(g->block(), [](const torch::jit::Node* n) {
    if (n->kind() == c10::prim::GetAttr) REQUIRE(n->output()->type()->kind() == c10::TypeKind::ClassType);
  });
  // Each instance's own scale, exactly (d's is not rounded into a's).
  std::vector<double> scales = float_constants(*g);
  REQUIRE(std::count(scales.begin(), scales.end(), 1e-5) == 3);
  REQUIRE(std::count(scales.begin(), scales.end(), std::nextafter(1e-5, 1.0)) == 1);
}

TEST_CASE("inlined_graph keeps the attribute reads of a model that sets attributes", "[lib][method]") {
  torch::jit::Module outer("__torch__.Stateful");
  outer.register_module("a", setting(true, 0.5));
  outer.register_attribute("calls", c10::IntType::get(), int64_t{0});
  outer.define(R"JIT(
def forward(self, x):
    self.calls = self.calls + 1
    return self.a.forward(x)
)JIT");
  // An attribute may change while the method runs: nothing is folded, both branches stay.
  const std::vector<std::string> k = kinds(*ptx::inlined_graph(outer.get_method("forward")));
  REQUIRE(has(k, "prim::If"));
  REQUIRE(has(k, "aten::mul"));
  REQUIRE(has(k, "aten::neg"));
}
