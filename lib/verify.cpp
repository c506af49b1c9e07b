// lib/verify.cpp: see lib/verify.h.
#include "lib/verify.h"

#include <ATen/ATen.h>
#include <ATen/core/Generator.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/LegacyTypeDispatch.h>
#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/runtime/graph_executor.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <random>
#include <set>
#include <sstream>

#include "lib/interpreter.h"
#include "lib/method.h"
#include "lib/torch_convert.h"
#include "shapes/error.h"
#include "shapes/witness.h"

namespace ptx {
namespace {

using shapes::SymExpr;

/// True when `method` of `module`, or code it calls, has a node of one of `kinds` (code_reaches).
bool method_has(const torch::jit::Module& module, const std::string& method, const std::vector<c10::Symbol>& kinds) {
  return code_reaches(torch::jit::toGraphFunction(module.get_method(method).function()).graph()->block(),
                      [&](const torch::jit::Node* n) { return std::find(kinds.begin(), kinds.end(), n->kind()) != kinds.end(); });
}

// What the eager runs of verification need, read off the method's graph and its callees'.
struct EagerNeeds {
  // The code asks for grad mode or a tensor's requires_grad (nn.MultiheadAttention's and
  // TransformerEncoderLayer's fast-path checks): the answer picks the code path, so the eager run
  // keeps grad mode on, as under torch.export. Otherwise grad mode changes no result and the run
  // goes without it.
  bool grad_mode = false;
  // The code reads a tensor's requires_grad: autograd records the run, so that an intermediate
  // answers as in python (true when computed from parameters). Otherwise nothing is recorded for a
  // backward (Note [Eager runs below autograd]).
  bool record_autograd = true;
  // The model may change its own state: a fresh copy of the module per point, so that each starts
  // from the state the program was exported with. Otherwise the module itself is run (a copy of
  // the full vit_b_16 is 330 MB).
  bool fresh_copy = false;
};

EagerNeeds eager_needs(const torch::jit::Module& module, const std::string& method,
                       const ir::ExportedProgram& program) {
  EagerNeeds needs;
  const bool reads_requires_grad = method_has(module, method, {c10::prim::requires_grad});
  needs.grad_mode =
      reads_requires_grad || method_has(module, method, {c10::Symbol::fromQualString("aten::is_grad_enabled")});
  needs.record_autograd = reads_requires_grad;
  needs.fresh_copy = method_has(module, method, {c10::prim::SetAttr}) ||
                     std::any_of(program.output_specs.begin(), program.output_specs.end(), [](const ir::OutputSpec& o) {
                       return o.kind == ir::OutputKind::kBufferMutation;
                     });
  return needs;
}

int64_t input_elements(const ir::ExportedProgram& p, const shapes::Assignment& values) {
  int64_t total = 0;
  for (const ir::Value* v : user_input_values(p)) {
    int64_t n = 1;
    for (const SymExpr& e : v->meta().sizes) {
      const auto s = shapes::evaluate(e, values);
      n *= s ? std::max<int64_t>(*s, 0) : 0;
    }
    total += n;
  }
  return total;
}

bool guards_hold(const shapes::ShapeEnv& env, const shapes::Assignment& values) {
  for (const shapes::Guard& g : env.guards()) {
    const auto v = g.cond.evaluate(values);
    if (v.has_value() && !*v) return false;
  }
  return true;
}

at::Tensor remake(const at::Tensor& sample, at::IntArrayRef sizes, at::Generator& gen) {
  const auto opts = sample.options();
  if (sample.scalar_type() == at::kBool) return at::randint(0, 2, sizes, gen, opts.dtype(at::kLong)).to(at::kBool);
  if (at::isIntegralType(sample.scalar_type(), /*includeBool=*/false)) {
    int64_t lo = 0, hi = 1;
    if (sample.numel() > 0) {
      lo = sample.min().item<int64_t>();
      hi = sample.max().item<int64_t>();
    }
    return at::randint(lo, hi + 1, sizes, gen, opts);
  }
  if (at::isFloatingType(sample.scalar_type())) {
    return at::normal(0.0, 1.0, sizes, gen, opts.dtype(at::kFloat)).to(sample.scalar_type());
  }
  return at::zeros(sizes, opts);
}

c10::IValue rebuild(const c10::IValue& v, std::vector<at::Tensor>& fresh, size_t& next) {
  if (v.isTensor()) return fresh.at(next++);
  if (v.isTensorList()) {
    std::vector<at::Tensor> out;
    for (size_t i = 0; i < v.toTensorVector().size(); ++i) out.push_back(fresh.at(next++));
    return out;
  }
  if (v.isList()) {
    auto list = v.toList();
    c10::impl::GenericList out(list.elementType());
    for (const c10::IValue& e : list.vec()) out.push_back(rebuild(e, fresh, next));
    return out;
  }
  if (v.isTuple()) {
    std::vector<c10::IValue> out;
    for (const c10::IValue& e : v.toTupleRef().elements()) out.push_back(rebuild(e, fresh, next));
    return c10::ivalue::Tuple::create(std::move(out));
  }
  if (v.isGenericDict()) {
    auto d = v.toGenericDict();
    c10::impl::GenericDict out(d.keyType(), d.valueType());
    for (const auto& kv : d) out.insert(kv.key(), rebuild(kv.value(), fresh, next));
    return out;
  }
  return v;
}

/// The eager result's tensors and symbolic ints in the order of the program's user outputs, walked
/// with the program's output spec: an int that the spec holds as a constant (an int output that
/// does not depend on the dynamic sizes, kept in the spec as torch.export keeps it) is compared with
/// the eager value here, not counted as an output. `mismatch` says what differs, if anything.
void flatten_by_spec(const c10::IValue& v, const ir::PyTree& spec, std::vector<at::Tensor>& out, std::string& mismatch) {
  using K = ir::PyTree::Kind;
  switch (spec.kind) {
    case K::kLeaf:
      flatten_tensors(v, out, /*ints_as_tensors=*/true);
      return;
    case K::kNone:
      return;
    case K::kConstant: {
      const std::string got = v.isNone() ? "null" : c10::str(v);
      if (got != spec.constant_json && mismatch.empty()) {
        mismatch = "a constant output differs: the model returns " + got + ", the program " + spec.constant_json;
      }
      return;
    }
    case K::kTuple:
    case K::kList:
    case K::kDict: {
      std::vector<c10::IValue> items;
      if (v.isTuple()) items = v.toTupleRef().elements().vec();
      if (v.isList()) items = v.toListRef().vec();
      if (v.isGenericDict()) {
        for (const auto& kv : v.toGenericDict()) items.push_back(kv.value());
      }
      if (items.size() != spec.children.size()) {
        if (mismatch.empty()) mismatch = "the output structure differs from the model's";
        flatten_tensors(v, out, /*ints_as_tensors=*/true);
        return;
      }
      for (size_t i = 0; i < items.size(); ++i) flatten_by_spec(items[i], spec.children[i], out, mismatch);
      return;
    }
  }
}

VerifyPoint make_point(std::string label, std::map<std::string, int64_t> values,
                       VerifyCheck check = VerifyCheck::kValues) {
  VerifyPoint p;
  p.label = std::move(label);
  p.values = std::move(values);
  p.check = check;
  return p;
}

std::string first_line(std::string s) {
  if (auto nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
  return s;
}

shapes::Assignment assignment_of(const shapes::ShapeEnv& env, const std::map<std::string, int64_t>& by_name) {
  shapes::Assignment values = env.hints();
  for (const auto& [name, v] : by_name) {
    for (const shapes::SymbolInfo& s : env.symbols()) {
      if (s.sym.str() == name) values[s.sym.symbol_id()] = v;
    }
  }
  return values;
}

/// A shapes check (lib/verify.h): `run` on meta tensors at `values`, its outputs' sizes and dtypes
/// against `program`'s output metadata there. False when `run` cannot run on meta tensors (an op
/// without a meta kernel, a value read from data); c.note then says why.
bool check_shapes(const ir::ExportedProgram& program, const ir::ExportedProgram& run, const shapes::Assignment& values,
                  VerifyCase& c) {
  // Sizes read from data (unbacked symbols, cond branches) are known only by running on values.
  for (const auto& n : program.graph->nodes()) {
    for (const ir::Value* v : n->outputs()) {
      if (v->type() != ir::ValueType::kTensor || !v->has_meta()) continue;
      for (const shapes::SymExpr& e : v->meta().sizes) {
        for (const shapes::SymExpr& s : shapes::free_symbols(e)) {
          if (!values.count(s.symbol_id())) {
            c.note = "sizes read from data (" + s.str() + ")";
            return false;
          }
        }
      }
    }
  }
  std::vector<at::Tensor> flat;
  for (const ir::Value* v : user_input_values(program)) {
    const auto options = at::TensorOptions().dtype(to_scalar_type(v->meta().dtype)).device(at::kMeta);
    flat.push_back(at::empty(evaluate_shape(v->meta().sizes, values), options));
  }
  std::vector<at::Tensor> got;
  try {
    got = run_program(run, flat, /*on_meta=*/true);
  } catch (const c10::Error& e) {
    c.note = first_line(e.what_without_backtrace());
    return false;
  }
  std::vector<const ir::Value*> want;
  for (size_t i = 0; i < program.graph->outputs().size(); ++i) {
    if (i < program.output_specs.size() && program.output_specs[i].kind != ir::OutputKind::kUserOutput) continue;
    want.push_back(program.graph->outputs()[i]);
  }
  c.ok = got.size() == want.size();
  if (!c.ok) {
    c.note = "the program returns " + std::to_string(got.size()) + " outputs, its signature " + std::to_string(want.size());
  }
  for (size_t i = 0; c.ok && i < got.size(); ++i) {
    if (want[i]->type() != ir::ValueType::kTensor || !want[i]->has_meta()) continue;  // an int output
    const std::vector<int64_t> sizes = evaluate_shape(want[i]->meta().sizes, values);
    const c10::ScalarType dtype = to_scalar_type(want[i]->meta().dtype);
    if (got[i].sizes() != at::IntArrayRef(sizes) || got[i].scalar_type() != dtype) {
      c.ok = false;
      std::ostringstream note;
      note << "output " << i << ": the program gives " << got[i].sizes() << " " << got[i].scalar_type()
           << ", its metadata says " << at::IntArrayRef(sizes) << " " << dtype;
      c.note = note.str();
    }
  }
  return true;
}

/// The eager runs go through TorchScript's simple executor: the method's graph as written, without
/// the profiling executor's profiling run and optimization passes (a third of resnet50's eager time
/// at three points went to planning, perf). It runs the same ATen calls; the setting is taken when a
/// method first runs (its executor is made then) and restored after.
struct PlainExecutor {
  const bool profiling = torch::jit::getProfilingMode().exchange(false);
  PlainExecutor() = default;
  PlainExecutor(const PlainExecutor&) = delete;
  PlainExecutor& operator=(const PlainExecutor&) = delete;
  ~PlainExecutor() { torch::jit::getProfilingMode() = profiling; }
};

/// A values check (lib/verify.h) at `values`: the eager model and `run` on the same inputs.
void check_values(const ir::ExportedProgram& program, const ir::ExportedProgram& run, const LoadedModel& model,
                  const Inputs& inputs, const EagerNeeds& needs, const shapes::Assignment& values, uint64_t seed,
                  const VerifyOptions& opts, VerifyCase& c) {
  const MadeInputs made = make_inputs(program, inputs.sets.at(0), values, seed);
  // Eager first, on copies (the model may mutate its inputs).
  std::vector<c10::IValue> eager_args;
  for (const c10::IValue& a : made.args) eager_args.push_back(a.isTensor() ? c10::IValue(a.toTensor().clone()) : a);
  std::vector<at::Tensor> want;
  std::string structure;
  try {
    std::optional<torch::jit::Module> fresh;
    if (needs.fresh_copy) {
      fresh = model.module.clone();
      fresh->eval();
    }
    const at::AutoGradMode grad_mode(needs.grad_mode && at::GradMode::is_enabled());
    // Note [Eager runs below autograd]
    // With grad mode on, autograd records every op and keeps the activations a backward would read
    // (vit_b_16 at batch 2: +271 MiB of peak, measured in python), for a backward that never comes.
    // Dispatching below the autograd keys runs the same kernels without recording, while
    // torch.is_grad_enabled() still answers true and parameters still require grad. But an
    // intermediate's requires_grad then answers false where python's grad mode answers true, so code
    // that reads requires_grad (nn.MultiheadAttention's fast-path check reads its query's) is run with
    // autograd recording: a model whose branch follows an intermediate's requires_grad must be
    // compared with what it computes in python (tests/e2e/test_verify_eager.py, requires_grad_branch).
    // The view-tracking key stays on either way: without it views lose their metadata and aten::matmul
    // stops folding (vit_b_16: bmm instead of mm, 4x slower; python, torch.profiler).
    std::optional<at::AutoDispatchBelowAutograd> below_autograd;
    if (!needs.record_autograd) below_autograd.emplace();
    const PlainExecutor plain;
    flatten_by_spec((fresh ? *fresh : model.module).get_method(inputs.method)(eager_args), program.out_spec, want,
                    structure);
  } catch (const c10::Error& e) {
    c.skipped = true;
    c.note = first_line(std::string("the eager model fails at these sizes: ") + e.what_without_backtrace());
    return;
  }
  std::vector<at::Tensor> flat;
  for (const at::Tensor& t : made.flat) flat.push_back(t.clone());
  std::vector<at::Tensor> got;
  try {
    got = run_program(run, flat);
  } catch (const UserError& e) {
    // --draft: a point other than the sample where a decision taken on the sample does not hold.
    if (!opts.draft || e.diag_code() != "E_RUNTIME_ASSERT" || c.point.label == "sample") throw;
    c.skipped = true;
    c.note = std::string("a runtime assertion of the draft fails on these inputs: ") + e.what();
    return;
  }
  c.ok = got.size() == want.size() && structure.empty();
  if (!c.ok) {
    c.note = !structure.empty() ? structure
                                : "the program returns " + std::to_string(got.size()) + " outputs, the model " +
                                      std::to_string(want.size());
  }
  for (size_t i = 0; c.ok && i < got.size(); ++i) {
    if (got[i].sizes() != want[i].sizes()) {
      c.ok = false;
      c.note = "output " + std::to_string(i) + ": shape differs from the model's";
      break;
    }
    if (got[i].numel() == 0) continue;
    const at::Tensor a = got[i].to(at::kDouble), b = want[i].to(at::kDouble);
    const at::Tensor diff = (a - b).abs();
    const at::Tensor finite = at::isfinite(b);
    const bool same_nonfinite = at::equal(at::isfinite(a), finite);
    const double abs_err = at::where(finite, diff, at::zeros_like(diff)).max().item<double>();
    const double rel = at::where(finite, diff / (b.abs() + 1e-12), at::zeros_like(diff)).max().item<double>();
    c.max_abs_err = std::max(c.max_abs_err, abs_err);
    c.max_rel_err = std::max(c.max_rel_err, rel);
    const bool close = same_nonfinite && at::allclose(at::where(finite, a, b), b, opts.rtol, opts.atol, true);
    if (!close) {
      c.ok = false;
      c.needed_atol = abs_err;
      c.note = "output " + std::to_string(i) + " differs: max abs error " + std::to_string(abs_err) +
               ", max rel error " + std::to_string(rel);
    }
  }
}

}  // namespace

const char* to_string(VerifyCheck c) { return c == VerifyCheck::kShapes ? "shapes" : "values"; }

bool VerifyResult::ok() const {
  return std::all_of(cases.begin(), cases.end(), [](const VerifyCase& c) { return c.ok || c.skipped; });
}

MadeInputs make_inputs(const ir::ExportedProgram& program, const SampleSet& set, const shapes::Assignment& values,
                       uint64_t seed) {
  const auto phs = user_input_values(program);
  // The sample's tensors in the same depth-first order as the placeholders.
  std::vector<at::Tensor> samples;
  for (const c10::IValue& a : set.args) flatten_tensors(a, samples);
  PTX_INTERNAL_CHECK(samples.size() >= phs.size()) << "inputs and placeholders disagree";
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  std::vector<at::Tensor> fresh;
  for (size_t i = 0; i < phs.size(); ++i) {
    const std::vector<int64_t> sizes = evaluate_shape(phs[i]->meta().sizes, values);
    if (at::IntArrayRef(sizes) == samples[i].sizes()) {
      fresh.push_back(samples[i].clone());
    } else {
      fresh.push_back(remake(samples[i], sizes, gen));
    }
  }
  MadeInputs out;
  size_t next = 0;
  for (const c10::IValue& a : set.args) out.args.push_back(rebuild(a, fresh, next));
  out.flat = fresh;
  return out;
}

// The point Z3 finds nearest to `target` (shapes::nearest_point) that satisfies every guard; if its
// inputs exceed the element budget, the targets move halfway to the hints, a few times.
static std::optional<std::map<std::string, int64_t>> nearest(const shapes::ShapeEnv& env,
                                                      const std::map<std::string, shapes::Range>& ranges,
                                                      const ir::ExportedProgram& program, int64_t element_budget,
                                                      shapes::Assignment target) {
  for (int round = 0; round < 6; ++round) {
    const auto z = shapes::nearest_point(env, ranges, target);
    if (!z) return std::nullopt;
    if (input_elements(program, *z) <= element_budget) {
      std::map<std::string, int64_t> out;
      for (const shapes::SymbolInfo& s : env.symbols()) {
        if (auto it = z->find(s.sym.symbol_id()); it != z->end()) out[s.sym.str()] = it->second;
      }
      return out;
    }
    for (auto& [id, v] : target) {
      for (const shapes::SymbolInfo& s : env.symbols()) {
        if (s.sym.symbol_id() == id) v = s.hint + (v - s.hint) / 2;
      }
    }
  }
  return std::nullopt;
}

std::vector<VerifyPoint> choose_points(const shapes::ShapeEnv& env, const std::map<std::string, shapes::Range>& ranges,
                                       const ir::ExportedProgram& program, int64_t element_budget, VerifyMode mode) {
  const bool bounded = mode == VerifyMode::kBounded;
  std::vector<VerifyPoint> points;
  shapes::Assignment joint_target;
  points.push_back(make_point("sample", {}));
  std::mt19937_64 rng(0);
  for (const shapes::SymbolInfo& s : env.symbols()) {
    const std::string name = s.sym.str();
    shapes::Range r = s.requested;
    if (auto it = ranges.find(name); it != ranges.end()) r = it->second;
    const int64_t lo = std::max<int64_t>(r.min, 0);
    int64_t hi = r.max ? *r.max : std::max<int64_t>(s.hint * 4, lo + 16);
    hi = std::max(hi, lo);
    const int64_t range_hi = hi;
    // The largest value whose inputs fit the budget (sizes grow with the symbol): binary search.
    auto fits = [&](int64_t v) {
      shapes::Assignment a = env.hints();
      a[s.sym.symbol_id()] = v;
      return input_elements(program, a) <= element_budget;
    };
    if (!fits(hi)) {
      int64_t good = lo, bad = hi;
      while (bad - good > 1) {
        const int64_t mid = good + (bad - good) / 2;
        (fits(mid) ? good : bad) = mid;
      }
      hi = good;
    }
    // The value nearest v (moving by step, within [lo, top]) at which every guard holds; failing
    // that, Z3's nearest point (tied to other symbols by guards: h == w, divisibility), which moves
    // them too; failing that v itself (verify_program notes that no value near it satisfies the guards).
    auto place = [&](int64_t v, int step, int64_t top, int64_t budget) -> std::map<std::string, int64_t> {
      for (int64_t k = 0, x = v; k < 256 && x >= lo && x <= top; ++k, x += step) {
        shapes::Assignment a = env.hints();
        a[s.sym.symbol_id()] = x;
        if (guards_hold(env, a)) return {{name, x}};
      }
      if (auto z = nearest(env, ranges, program, budget, {{s.sym.symbol_id(), v}})) return *z;
      return {{name, v}};
    };
    // The bounded interior is small: at most twice the sample's value.
    const int64_t interior_hi = bounded ? std::min(hi, std::max(2 * s.hint, lo + 2)) : hi;
    std::uniform_int_distribution<int64_t> dist(lo, interior_hi);
    const int64_t interior = (interior_hi - lo > 2) ? std::clamp<int64_t>(dist(rng), lo + 1, interior_hi - 1) : lo;
    points.push_back(make_point("min " + name, place(lo, +1, hi, element_budget)));
    if (bounded) {
      VerifyPoint p = make_point("max " + name, place(range_hi, -1, range_hi, std::numeric_limits<int64_t>::max()),
                                 VerifyCheck::kShapes);
      p.fallback = place(hi, -1, hi, element_budget);
      points.push_back(p);
    } else {
      points.push_back(make_point("max " + name, place(hi, -1, hi, element_budget)));
    }
    if (bounded && lo < s.hint && s.hint < range_hi) {
      // The sample is itself an interior value, checked for values; this interior point, anywhere in the
      // whole range, is checked for shapes (its fallback is the small interior).
      std::uniform_int_distribution<int64_t> wide(lo + 1, std::max(lo + 1, range_hi - 1));
      VerifyPoint p = make_point("interior " + name,
                                 place(wide(rng), +1, range_hi, std::numeric_limits<int64_t>::max()), VerifyCheck::kShapes);
      p.fallback = place(interior, +1, hi, element_budget);
      points.push_back(p);
    } else {
      points.push_back(make_point("interior " + name, place(interior, +1, hi, element_budget)));
    }
    joint_target[s.sym.symbol_id()] = interior;
  }
  // Every symbol at once at an interior value, the nearest point Z3 finds that satisfies every
  // guard and fits the element budget.
  if (env.symbols().size() > 1) {
    if (auto z = nearest(env, ranges, program, element_budget, joint_target)) points.push_back(make_point("interior all", *z));
  }
  return points;
}

VerifyResult verify_program(const ir::ExportedProgram& program, const LoadedModel& model, const Inputs& inputs,
                            const shapes::ShapeEnv& env, const std::vector<VerifyPoint>& points,
                            const VerifyOptions& opts, const ir::ExportedProgram* artifact) {
  VerifyResult result;
  PTX_INTERNAL_CHECK(model.module.find_method(inputs.method).has_value()) << "no method " << inputs.method;
  uint64_t seed = opts.seed;
  const EagerNeeds needs = eager_needs(model.module, inputs.method, program);
  const ir::ExportedProgram& run = artifact ? *artifact : program;
  const auto start = std::chrono::steady_clock::now();
  for (const VerifyPoint& point : points) {
    VerifyCase c;
    c.point = point;
    c.check = point.check;
    const double spent = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (c.check == VerifyCheck::kValues && opts.time_budget_s > 0 && spent > opts.time_budget_s &&
        point.label != "sample") {
      c.check = VerifyCheck::kShapes;
      c.note = "the verification time budget was spent: shapes only";
    }
    shapes::Assignment values = assignment_of(env, point.values);
    if (c.check == VerifyCheck::kShapes && guards_hold(env, values)) {
      if (check_shapes(program, run, values, c)) {
        result.cases.push_back(c);
        continue;
      }
      // No meta kernel for an op: values at the fallback point, or skipped.
      c.note = "the program cannot run on meta tensors (" + c.note + ")";
      if (!point.fallback) {
        c.skipped = true;
        result.cases.push_back(c);
        continue;
      }
      c.note += ": values checked at the largest size within the element budget";
      c.check = VerifyCheck::kValues;
      c.point.values = *point.fallback;
      values = assignment_of(env, *point.fallback);
    }
    if (!guards_hold(env, values)) {
      c.skipped = true;
      c.note = "no value near this point satisfies the guards";
    } else if (input_elements(program, values) > opts.element_budget) {
      c.skipped = true;
      c.note = "inputs exceed the verification element budget (" + std::to_string(opts.element_budget) + ")";
    } else {
      check_values(program, run, model, inputs, needs, values, seed++, opts, c);
    }
    result.cases.push_back(c);
  }
  return result;
}

}  // namespace ptx
