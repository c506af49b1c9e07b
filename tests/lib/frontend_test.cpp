// tests/lib/frontend_test.cpp: the frontend on small TorchScript modules defined in C++.
//
// Each module is compiled from TorchScript source with torch::jit::Module::define, traced with
// symbolic inputs, and the resulting program is executed by the IR interpreter at the sample size
// and at other sizes, against the TorchScript module itself.
#include <ATen/ATen.h>
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <torch/csrc/jit/api/module.h>

#include <filesystem>

#include "lib/frontend.h"
#include "lib/inputs.h"
#include "lib/model.h"
#include "lib/interpreter.h"
#include "shapes/error.h"

namespace {

using Catch::Matchers::ContainsSubstring;
using ptx::DimMark;

ptx::LoadedModel make_model(const std::string& source,
                            const std::vector<std::pair<std::string, at::Tensor>>& params = {},
                            const std::vector<std::pair<std::string, at::Tensor>>& buffers = {}) {
  ptx::LoadedModel m;
  m.module = torch::jit::Module("__torch__.TestModule");
  for (const auto& [name, t] : params) m.module.register_parameter(name, t, /*is_buffer=*/false);
  for (const auto& [name, t] : buffers) m.module.register_buffer(name, t);
  m.module.define(source);
  m.module.eval();
  m.file = "test_module.pt";
  m.kind = "torchscript";
  return m;
}

DimMark sym(const std::string& name, int64_t a = 1, int64_t b = 0) {
  DimMark d;
  d.kind = DimMark::Kind::kSymbol;
  d.symbol = name;
  d.a = a;
  d.b = b;
  return d;
}

/// One tensor input per entry: (name, sample, dims).
ptx::Inputs make_inputs(const std::vector<std::tuple<std::string, at::Tensor, std::vector<DimMark>>>& args,
                        std::map<std::string, ptx::SymbolSpec> symbols = {}) {
  ptx::Inputs in;
  in.file = "inputs.json";
  ptx::SampleSet set;
  for (const auto& [name, t, dims] : args) {
    set.args.emplace_back(t);
    set.names.push_back(name);
    set.tensors.push_back({name, t.sizes().vec(), dims});
    for (const DimMark& d : dims) {
      if (d.kind == DimMark::Kind::kSymbol && !symbols.count(d.symbol)) symbols[d.symbol] = {d.symbol, 0, std::nullopt};
    }
  }
  in.sets.push_back(set);
  in.symbols = symbols;
  return in;
}

/// Runs the program and the module on `inputs` and checks they agree.
void check_same(const ptx::TraceResult& r, ptx::LoadedModel& m, const std::vector<at::Tensor>& inputs) {
  std::vector<c10::IValue> args(inputs.begin(), inputs.end());
  const c10::IValue eager = m.module.forward(args);
  const std::vector<at::Tensor> got = ptx::run_program(r.program, inputs);
  std::vector<at::Tensor> want;
  if (eager.isTensor()) {
    want.push_back(eager.toTensor());
  } else {
    for (const auto& e : eager.toTupleRef().elements()) want.push_back(e.toTensor());
  }
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    REQUIRE(got[i].sizes() == want[i].sizes());
    REQUIRE(at::allclose(got[i], want[i], 1e-5, 1e-6));
  }
}

int count_target(const ptx::ir::Graph& g, const std::string& target) {
  int n = 0;
  for (const auto& node : g.nodes()) n += node->target() == target;
  return n;
}

}  // namespace

TEST_CASE("an MLP with a dynamic batch is traced to addmm/relu with symbolic sizes", "[lib][frontend]") {
  at::manual_seed(0);
  auto m = make_model(R"(
def forward(self, x):
    h = torch.relu(torch.addmm(self.b1, x, self.w1.t()))
    return torch.addmm(self.b2, h, self.w2.t())
)",
                      {{"w1", at::randn({32, 64})}, {"b1", at::randn({32})}, {"w2", at::randn({10, 32})},
                       {"b2", at::randn({10})}});
  auto in = make_inputs({{"x", at::randn({8, 64}), {sym("batch"), {}}}}, {{"batch", {"batch", 1, 1024}}});
  const ptx::TraceResult r = ptx::trace_module(m, in);
  const auto& g = *r.program.graph;
  REQUIRE(count_target(g, "aten::addmm.default") == 2);
  REQUIRE(count_target(g, "aten::relu.default") == 1);
  // Parameters first, named as torch.export names them, then the user input.
  REQUIRE(r.program.input_specs.size() == 5);
  REQUIRE(r.program.input_specs[0].arg == "p_w1");
  REQUIRE(r.program.input_specs[0].kind == ptx::ir::InputKind::kParameter);
  REQUIRE(r.program.input_specs[4].arg == "x");
  REQUIRE(g.outputs()[0]->meta().sizes[0].str() == "s0");
  REQUIRE(g.outputs()[0]->meta().sizes[1].str() == "10");
  REQUIRE(r.env.guards().empty());
  REQUIRE(r.program.range_constraints.at("s0").min == 1);
  REQUIRE(r.program.range_constraints.at("s0").max == 1024);
  for (int64_t b : {1, 8, 13, 300}) check_same(r, m, {at::randn({b, 64})});
}

TEST_CASE("a view on a symbolic size materializes sym_size", "[lib][frontend]") {
  auto m = make_model(R"(
def forward(self, x):
    return x.view(x.size(0), -1) * 2.0
)");
  auto in = make_inputs({{"x", at::randn({6, 4, 5}), {sym("batch"), {}, {}}}});
  const ptx::TraceResult r = ptx::trace_module(m, in);
  REQUIRE(count_target(*r.program.graph, "aten::sym_size.int") == 1);
  REQUIRE(r.program.graph->outputs()[0]->meta().sizes[1].str() == "20");
  for (int64_t b : {2, 6, 17}) check_same(r, m, {at::randn({b, 4, 5})});
}

TEST_CASE("a shape-dependent if is decided on the sample and guarded", "[lib][frontend]") {
  auto m = make_model(R"(
def forward(self, x):
    if x.size(0) > 4:
        return x * 2.0
    return x - 1.0
)");
  auto in = make_inputs({{"x", at::randn({8, 3}), {sym("batch"), {}}}});
  const ptx::TraceResult r = ptx::trace_module(m, in);
  REQUIRE(r.env.guards().size() == 1);
  REQUIRE(r.env.guards()[0].cond.str() == "s0 >= 5");  // canonical form of s0 > 4
  REQUIRE(r.env.guards()[0].origin.op == "prim::If");
  REQUIRE(count_target(*r.program.graph, "aten::mul.Scalar") == 1);
  REQUIRE(count_target(*r.program.graph, "aten::sub.Scalar") == 0);
}

TEST_CASE("a condition on tensor data becomes one torch.cond node", "[lib][frontend]") {
  auto m = make_model(R"(
def forward(self, x):
    if bool(x.sum() > 0):
        return x * 2.0
    return x
)");
  auto in = make_inputs({{"x", at::ones({4}), {{}}}});
  const ptx::TraceResult r = ptx::trace_module(m, in);
  REQUIRE(count_target(*r.program.graph, "higher_order::cond") == 1);
  REQUIRE(count_target(*r.program.graph, "aten::mul.Scalar") == 0);  // inside the branch's subgraph
}

TEST_CASE("a loop whose trip count is read from data is a while_loop", "[lib][frontend]") {
  auto m = make_model(R"(
def forward(self, x):
    for _ in range(int((x > 0).sum())):
        x = x * 2.0
    return x
)");
  auto in = make_inputs({{"x", at::ones({4}), {{}}}});
  const ptx::TraceResult r = ptx::trace_module(m, in);
  REQUIRE(count_target(*r.program.graph, "higher_order::while_loop") == 1);
  REQUIRE(count_target(*r.program.graph, "aten::mul.Scalar") == 0);  // inside the body's subgraph
  // 4 iterations on the sample, 0 and 2 on others: the interpreter runs the while_loop as eager does
  check_same(r, m, {at::ones({4})});
  check_same(r, m, {-at::ones({4})});
  check_same(r, m, {at::tensor({1.0F, -2.0F, 3.0F, -1.0F})});
}

TEST_CASE("a data loop whose body reads the iteration number reads it from the counter", "[lib][frontend]") {
  auto m = make_model(R"(
def forward(self, x):
    for i in range(int((x > 0).sum())):
        x = x * 2.0 + i
    return x
)");
  auto in = make_inputs({{"x", at::ones({4}), {{}}}});
  const ptx::TraceResult r = ptx::trace_module(m, in);
  REQUIRE(count_target(*r.program.graph, "higher_order::while_loop") == 1);
  REQUIRE(count_target(*r.program.graph, "aten::item.default") == 1);  // the trip count's; counter.item() is in the body
  check_same(r, m, {at::ones({4})});
  check_same(r, m, {-at::ones({4})});
  check_same(r, m, {at::tensor({1.0F, -2.0F, 3.0F, -1.0F})});
}

TEST_CASE("a data loop updating a tensor made before it carries that tensor", "[lib][frontend]") {
  auto m = make_model(R"(
def forward(self, x):
    keep = torch.zeros_like(x, dtype=11)
    u, inverse, counts = torch._unique2(x[x > 0])
    for c in u:
        keep[torch.where(x == c)[0]] = True
    return keep, x * 2.0
)");
  auto in = make_inputs({{"x", at::tensor({1.0F, -2.0F, 3.0F, 1.0F}), {{}}}});
  const ptx::TraceResult r = ptx::trace_module(m, in);
  REQUIRE(count_target(*r.program.graph, "higher_order::while_loop") == 1);
  check_same(r, m, {at::tensor({1.0F, -2.0F, 3.0F, 1.0F})});
  check_same(r, m, {-at::ones({4})});
  check_same(r, m, {at::tensor({5.0F, 5.0F, 5.0F, 5.0F})});
}

TEST_CASE("a data loop updating a buffer in place is exit 4 naming it", "[lib][frontend]") {
  auto m = make_model(R"(
def forward(self, x):
    held = [self.buf]
    b = held[0]
    u, inverse, counts = torch._unique2(x[x > 0])
    for c in u:
        b.add_(c)
    return x + self.buf
)", {}, {{"buf", at::zeros({4})}});
  auto in = make_inputs({{"x", at::tensor({1.0F, -2.0F, 3.0F, 1.0F}), {{}}}});
  try {
    ptx::trace_module(m, in);
    FAIL("expected an error");
  } catch (const ptx::UserError& e) {
    REQUIRE(e.code() == ptx::ExitCode::kExportFailed);
    CHECK_THAT(std::string(e.what()), ContainsSubstring("updates the parameter or buffer 'buf' in place"));
  }
}

TEST_CASE("a branch of an if on data may update a tensor it made, not one made before", "[lib][frontend]") {
  auto local = make_model(R"(
def forward(self, x):
    if bool(x.sum() > 0):
        y = x.clone()
        y.mul_(2.0)
    else:
        y = x - 1.0
    return y
)");
  auto in = make_inputs({{"x", at::ones({4}), {{}}}});
  const ptx::TraceResult r = ptx::trace_module(local, in);
  REQUIRE(count_target(*r.program.graph, "higher_order::cond") == 1);
  check_same(r, local, {at::ones({4})});
  check_same(r, local, {-at::ones({4})});
  auto outer = make_model(R"(
def forward(self, x):
    y = x.clone()
    if bool(x.sum() > 0):
        y.mul_(2.0)
    else:
        y.sub_(1.0)
    return y
)");
  try {
    ptx::trace_module(outer, in);
    FAIL("expected an error");
  } catch (const ptx::UserError& e) {
    REQUIRE(e.code() == ptx::ExitCode::kExportFailed);
    // no torch.cond: the if updates y, made before it (it has no outputs to merge)
    CHECK_THAT(std::string(e.what()), ContainsSubstring("depends on the values in a tensor"));
  }
}

TEST_CASE("in-place ops become functional and aliases follow", "[lib][frontend]") {
  auto m = make_model(R"(
def forward(self, x):
    y = x * 3.0
    y.relu_()
    y.add_(x)
    return y
)");
  auto in = make_inputs({{"x", at::randn({5, 2}), {sym("n"), {}}}});
  const ptx::TraceResult r = ptx::trace_module(m, in);
  REQUIRE(count_target(*r.program.graph, "aten::relu.default") == 1);
  REQUIRE(count_target(*r.program.graph, "aten::add.Tensor") == 1);
  REQUIRE(count_target(*r.program.graph, "aten::relu_.default") == 0);
  for (int64_t n : {1, 5, 9}) check_same(r, m, {at::randn({n, 2})});
}

TEST_CASE("mutating an input is returned as a user_input_mutation", "[lib][frontend]") {
  auto m = make_model(R"(
def forward(self, x):
    x.mul_(2.0)
    return x + 1.0
)");
  auto in = make_inputs({{"x", at::randn({3}), {{}}}});
  const ptx::TraceResult r = ptx::trace_module(m, in);
  REQUIRE(r.program.output_specs.size() == 2);
  REQUIRE(r.program.output_specs[0].kind == ptx::ir::OutputKind::kUserInputMutation);
  REQUIRE(r.program.output_specs[0].target == "x");
  REQUIRE(r.program.output_specs[1].kind == ptx::ir::OutputKind::kUserOutput);
}

TEST_CASE("two symbols with equal samples stay distinct; broadcasting them guards", "[lib][frontend]") {
  auto m = make_model(R"(
def forward(self, x, y):
    return x + y
)");
  auto in = make_inputs({{"x", at::randn({4}), {sym("a")}}, {"y", at::randn({4}), {sym("b")}}});
  const ptx::TraceResult r = ptx::trace_module(m, in);
  REQUIRE(r.env.symbols().size() == 2);
  REQUIRE(r.env.symbols()[0].sym != r.env.symbols()[1].sym);
  bool relates = false;
  for (const auto& g : r.env.guards()) relates = relates || g.cond.free_symbols().size() == 2;
  REQUIRE(relates);
}

TEST_CASE("derived dims share their root symbol", "[lib][frontend]") {
  auto m = make_model(R"(
def forward(self, x, y):
    return torch.cat([x, x, y[:1]], 0)
)");
  auto in = make_inputs({{"x", at::randn({3, 2}), {sym("d"), {}}}, {"y", at::randn({7, 2}), {sym("d", 2, 1), {}}}});
  const ptx::TraceResult r = ptx::trace_module(m, in);
  REQUIRE(r.env.symbols().size() == 1);
  REQUIRE(r.program.graph->outputs()[0]->meta().sizes[0].str() == "2*s0 + 1");
  for (int64_t d : {1, 3, 10}) check_same(r, m, {at::randn({d, 2}), at::randn({2 * d + 1, 2})});
}

TEST_CASE("a list sliced with a negative step keeps its symbolic elements", "[lib][frontend]") {
  // RAFT's make_coords_grid stacks meshgrid(...)[::-1]: the tensors must stay graph values (not
  // constants of the sample's sizes), and a reversed size list keeps its symbolic sizes.
  auto m = make_model(R"(
def forward(self, x):
    ts = [x, x * 2.0, x + 1.0]
    a = torch.stack(ts[::-1], 0)
    b = torch.cat(ts[2:0:-1] + ts[-1::-2], 0)
    return a.sum(0) + b[:x.size(0)], x.reshape(x.size()[::-1])
)");
  auto in = make_inputs({{"x", at::randn({4, 3}), {sym("n"), {}}}});
  const ptx::TraceResult r = ptx::trace_module(m, in);
  REQUIRE(r.env.guards().empty());
  REQUIRE(r.program.input_specs.size() == 1);  // the user input only: no tensor lifted as a constant
  REQUIRE(r.program.graph->outputs()[1]->meta().sizes[1].str() == "s0");
  for (int64_t n : {1, 4, 9}) check_same(r, m, {at::randn({n, 3})});
}

TEST_CASE("grid_sampler (no meta kernel in LibTorch) is traced on meta tensors", "[lib][frontend]") {
  // RAFT's correlation lookup: its output takes the shape rule's sizes, contiguous as the CPU kernel's.
  auto m = make_model(R"(
def forward(self, x, g):
    return torch.grid_sampler(x, g, 0, 0, True) * 2.0
)");
  auto in = make_inputs({{"x", at::randn({2, 3, 5, 6}), {sym("n"), {}, sym("h"), {}}},
                         {"g", at::rand({2, 4, 7, 2}) * 2 - 1, {sym("n"), sym("k"), {}, {}}}});
  const ptx::TraceResult r = ptx::trace_module(m, in);
  REQUIRE(r.on_meta);
  REQUIRE(r.needed_data.empty());
  REQUIRE(r.program.graph->outputs()[0]->meta().sizes[2].str() == "s2");
  for (int64_t n : {1, 3}) check_same(r, m, {at::randn({n, 3, 9, 6}), at::rand({n, 5, 7, 2}) * 2 - 1});
}

TEST_CASE("a symbol whose samples disagree is an input error", "[lib][frontend]") {
  auto m = make_model(R"(
def forward(self, x, y):
    return x
)");
  auto in = make_inputs({{"x", at::randn({3}), {sym("n")}}, {"y", at::randn({4}), {sym("n")}}});
  try {
    ptx::trace_module(m, in);
    FAIL("expected an error");
  } catch (const ptx::UserError& e) {
    REQUIRE(e.code() == ptx::ExitCode::kInput);
    CHECK_THAT(std::string(e.what()), ContainsSubstring("y.size()[0] is 4"));
  }
}

TEST_CASE("the model raising on the sample is an input error with its message", "[lib][frontend]") {
  auto m = make_model(R"(
def forward(self, x):
    assert x.dim() == 2, "expected a 2-d input"
    return x
)");
  auto in = make_inputs({{"x", at::randn({3}), {{}}}});
  try {
    ptx::trace_module(m, in);
    FAIL("expected an error");
  } catch (const ptx::UserError& e) {
    REQUIRE(e.code() == ptx::ExitCode::kInput);
    CHECK_THAT(std::string(e.what()), ContainsSubstring("raises an exception"));
  }
}

TEST_CASE("buffers are lifted after parameters; tensor constants are lifted", "[lib][frontend]") {
  auto m = make_model(R"(
def forward(self, x):
    return x * self.scale + self.w + torch.tensor([1.0, 2.0])
)",
                      {{"w", at::randn({2})}}, {{"scale", at::full({2}, 3.0)}});
  auto in = make_inputs({{"x", at::randn({4, 2}), {sym("b"), {}}}});
  const ptx::TraceResult r = ptx::trace_module(m, in);
  std::vector<ptx::ir::InputKind> kinds;
  for (const auto& s : r.program.input_specs) kinds.push_back(s.kind);
  REQUIRE(kinds.size() >= 3);
  REQUIRE(kinds.front() == ptx::ir::InputKind::kParameter);
  REQUIRE(kinds.back() == ptx::ir::InputKind::kUserInput);
  for (int64_t b : {1, 4, 7}) check_same(r, m, {at::randn({b, 2})});
}

TEST_CASE("traced size arithmetic on 0-dim tensors stays symbolic", "[lib][frontend]") {
  // nn.TransformerEncoder traced (tests/models): multi-head attention computes its shapes with 0-dim
  // tensors: prim::NumToTensor(size), div(rounding_mode="trunc") and mul by constant 0-dim tensors,
  // then int(). None of it reads data, so batch and sequence length stay symbolic.
  const std::filesystem::path dir = std::filesystem::path(PTX_MODELS_DIR) / "transformer_encoder_traced";
  ptx::LoadedModel m = ptx::load_model(dir / "model.pt");
  const auto method = m.module.find_method("forward");
  REQUIRE(method.has_value());
  const ptx::Inputs in = ptx::load_inputs(dir / "inputs.json", {}, method->function().getSchema());
  const ptx::TraceResult r = ptx::trace_module(m, in);
  REQUIRE(r.env.symbols().size() == 2);
  const auto& out = r.program.graph->outputs()[0]->meta().sizes;
  REQUIRE(out.size() == 3);
  REQUIRE(out[0].str() == "s0");
  REQUIRE(out[1].str() == "s1");
  REQUIRE(out[2].str() == "32");
  for (const auto& g : r.env.guards()) {
    // nothing pins batch or sequence length to the sample (Eq(s0, 2), Eq(s1, 10))
    CHECK_FALSE((g.cond.str() == "Eq(s0, 2)" || g.cond.str() == "Eq(s1, 10)"));
  }
  for (auto [b, s] : {std::pair<int64_t, int64_t>{1, 2}, {3, 7}, {5, 33}}) {
    check_same(r, m, {at::randn({b, s, 32}), at::zeros({s, s}), at::zeros({b, s}, at::kBool)});
  }
}

TEST_CASE("errors and stack traces name the innermost line, then its callers", "[lib][frontend]") {
  torch::jit::Module sub("__torch__.Inner");
  sub.define(R"(
def forward(self, x):
    y = x * 2.0
    for i in range(int((y > 0).sum())):
        y = torch.cat([y, y])
    return y
)");
  torch::jit::Module outer("__torch__.Outer");
  outer.register_module("inner", sub);
  outer.define(R"(
def forward(self, x):
    return self.inner.forward(x) + 1.0
)");
  const auto file = std::filesystem::temp_directory_path() / "ptx_frontend_test_innermost.pt";
  outer.save(file.string());
  ptx::LoadedModel m = ptx::load_model(file);
  std::filesystem::remove(file);
  auto in = make_inputs({{"x", at::ones({4}), {{}}}});
  try {
    ptx::trace_module(m, in);
    FAIL("expected an error");
  } catch (const ptx::UserError& e) {
    const std::string msg = e.what();
    REQUIRE(e.code() == ptx::ExitCode::kExportFailed);
    // first line: the inner module's loop, with its code on the next line
    const std::string first = msg.substr(0, msg.find('\n'));
    CHECK_THAT(first, ContainsSubstring("a loop decided by tensor data"));
    const std::string second = msg.substr(msg.find('\n') + 1, msg.find('\n', msg.find('\n') + 1) - msg.find('\n') - 1);
    CHECK_THAT(second, ContainsSubstring("range(int("));
    // then the call site in the outer forward
    CHECK_THAT(msg, ContainsSubstring("called from code/__torch__.py:"));
    CHECK_THAT(msg, ContainsSubstring("inner).forward(x"));
  }
  // The node made in the inner module: source line is the inner line, the stack trace has both.
  torch::jit::Module sub2("__torch__.Inner2");
  sub2.define(R"(
def forward(self, x):
    y = torch.relu(x)
    return y
)");
  torch::jit::Module outer2("__torch__.Outer2");
  outer2.register_module("inner", sub2);
  outer2.define(R"(
def forward(self, x):
    return self.inner.forward(x)
)");
  outer2.save(file.string());
  ptx::LoadedModel m2 = ptx::load_model(file);
  std::filesystem::remove(file);
  const ptx::TraceResult r = ptx::trace_module(m2, in);
  const ptx::ir::Node* relu = nullptr;
  for (const auto& node : r.program.graph->nodes()) {
    if (node->target() == "aten::relu.default") relu = node.get();
  }
  REQUIRE(relu != nullptr);
  const std::string& trace = relu->meta().stack_trace;
  CHECK_THAT(trace, ContainsSubstring("inner).forward(x"));
  CHECK_THAT(trace, ContainsSubstring("torch.relu(x)"));
  REQUIRE(trace.find("inner).forward(x") < trace.find("torch.relu(x)"));  // outermost first
  // the node's source line is the inner one (the line of torch.relu in the saved code)
  const auto line_start = trace.rfind("line ");
  REQUIRE(line_start != std::string::npos);
  REQUIRE(std::atoi(trace.c_str() + line_start + 5) == relu->meta().source_line);
}
