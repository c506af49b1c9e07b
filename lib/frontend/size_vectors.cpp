// lib/frontend/size_vectors.cpp: size arithmetic that traced models do on tensors beyond 0-dim ints
// (Note [Size vectors]). See lib/frontend/tracer.h.
#include <set>

#include "lib/frontend/tracer.h"
#include "lib/torch_convert.h"
#include "shapes/error.h"

namespace ptx::frontend {

// Note [Size vectors]
// torch.jit.trace records Python's size arithmetic as tensor ops. scalars.cpp keeps 0-dim integer
// size tensors symbolic; here:
//  - Known values: an op whose tensors hold values computed from constants and static sizes alone
//    (torchvision's transform: ceil(float(max(stack([320]))) / 32) * 32) runs on CPU while tracing
//    and its result is a constant (lifted where the program reads it), as Python computes such numbers
//    before torch.export sees them. No IR node; nondeterministic ops are never folded.
//  - Size vectors: a 1-d integer tensor of symbolic ints (torchvision's _topk_min:
//    min(cat([tensor([300]), _shape_as_tensor(x)[0].unsqueeze(0)])) is Min(300, u0)), kept as its
//    elements through _shape_as_tensor, stack, cat, unsqueeze, select, min/max and integer copies.
//    Read as a tensor, it is made in the graph from its elements (scalar_tensor each, then stack).

namespace {
constexpr int64_t kSmall = 64;  // elements of a tensor whose values the trace keeps

bool size_derived(const TensorCell& c) { return c.scalar || c.elems || c.known; }
}  // namespace

at::Tensor Tracer::known_value(const SVP& s) {
  const TensorCell& c = *s->cell;
  const auto cpu = c.sample.options().device(at::kCPU);
  if (c.scalar) {
    if (!c.scalar->is_const() || c.sample.dim() != 0) return {};
    return at::scalar_tensor(c.scalar->value(), cpu);
  }
  if (c.elems) {
    std::vector<int64_t> v;
    for (const SymExpr& e : *c.elems) {
      if (!e.is_const()) return {};
      v.push_back(e.value());
    }
    return at::tensor(v, cpu.dtype(at::kLong)).to(c.sample.scalar_type());
  }
  if (c.view_base) return {};
  const at::Tensor real = real_of(c.sample);
  if (!real.defined() || real.is_meta() || real.numel() > kSmall) return {};
  if (c.known) return real;
  if (c.value != nullptr && c.value != c.original) return {};  // an op's result
  // The user's inputs, parameters and buffers are data, not constants.
  if (real.numel() > 0 && (state_by_data_.count(real.data_ptr()) || input_data_.count(real.data_ptr()))) return {};
  return real;
}

std::optional<std::vector<SymExpr>> Tracer::ints_of(const SVP& s) {
  if (s->k != SV::K::kTensor) return std::nullopt;
  const TensorCell& c = *s->cell;
  if (!at::isIntegralType(c.sample.scalar_type(), /*includeBool=*/false)) return std::nullopt;
  if (c.elems) return *c.elems;
  if (c.scalar && c.sample.dim() == 0) return std::vector<SymExpr>{*c.scalar};
  if (c.sample.dim() != 1) return std::nullopt;
  const at::Tensor k = known_value(s);
  if (!k.defined()) return std::nullopt;
  std::vector<SymExpr> out;
  const at::Tensor l = k.to(at::kLong).contiguous();
  for (int64_t i = 0; i < l.numel(); ++i) out.emplace_back(l.data_ptr<int64_t>()[i]);
  return out;
}

bool Tracer::run_known_op(jit::Node* n, const std::vector<SVP>& in, const std::vector<c10::IValue>& outs) {
  if (n->isNondeterministic() || !n->maybeOperator() || outs.empty()) return false;
  for (const c10::IValue& o : outs) {
    if (!o.isTensor() || o.toTensor().numel() > kSmall) return false;
  }
  bool sized = false;
  jit::Stack stack;
  for (const SVP& s : in) {
    if (s->k == SV::K::kTensor) {
      at::Tensor k = known_value(s);
      if (!k.defined()) return false;
      sized = sized || size_derived(*s->cell);
      stack.emplace_back(k.clone());  // the op may update it in place
    } else if (s->k == SV::K::kList && s->elems && s->iv.isTensorList()) {
      c10::List<at::Tensor> list;
      for (const SVP& e : *s->elems) {
        at::Tensor k = e->k == SV::K::kTensor ? known_value(e) : at::Tensor();
        if (!k.defined()) return false;
        sized = sized || size_derived(*e->cell);
        list.push_back(k);
      }
      stack.emplace_back(list);
    } else if (!s->data_dep.empty() || s->cond || s->fvalue != nullptr || s->k == SV::K::kObject ||
               s->k == SV::K::kDict || s->k == SV::K::kTuple) {
      return false;
    } else {
      if (s->k == SV::K::kInt && !s->sym.is_const()) return false;
      if (s->elems) {
        for (const SVP& e : *s->elems) {
          if (e->k == SV::K::kTensor || (e->k == SV::K::kInt && !e->sym.is_const()) || !e->data_dep.empty()) return false;
        }
      }
      stack.push_back(s->iv);
    }
  }
  if (!sized) return false;
  try {
    n->getOperation()(stack);
  } catch (const c10::Error&) {
    return false;  // the ordinary path reports it
  }
  if (stack.size() != outs.size()) return false;
  for (size_t i = 0; i < outs.size(); ++i) {
    if (!stack[i].isTensor()) return false;
  }
  for (size_t i = 0; i < outs.size(); ++i) {
    const at::Tensor real = stack[i].toTensor();
    SVP sv = from_concrete(real);
    sv->cell->known = true;
    if (real.dim() == 1 && at::isIntegralType(real.scalar_type(), /*includeBool=*/false)) sv->cell->elems = ints_of(sv);
    set(n->output(i), sv);
  }
  return true;
}

bool Tracer::run_size_vector_op(jit::Node* n, const std::string& op, const std::vector<SVP>& in,
                                const std::vector<c10::IValue>& outs) {
  if (outs.size() != 1 || !outs[0].isTensor() || in.empty()) return false;
  const at::Tensor& out = outs[0].toTensor();
  if (!at::isIntegralType(out.scalar_type(), /*includeBool=*/false) || out.dim() > 1) return false;
  std::optional<std::vector<SymExpr>> r;
  auto const_int = [&](size_t i) -> std::optional<int64_t> {
    if (i >= in.size() || in[i]->k != SV::K::kInt || !in[i]->data_dep.empty() || !in[i]->sym.is_const()) return std::nullopt;
    return in[i]->sym.value();
  };
  static const std::set<std::string> kCopies = {"aten::to", "aten::detach", "aten::clone", "aten::contiguous",
                                                "aten::alias", "aten::lift_fresh", "aten::_to_copy", "aten::view_as"};
  const TensorCell* c0 = in[0]->k == SV::K::kTensor ? in[0]->cell.get() : nullptr;
  if (op == "aten::_shape_as_tensor" && c0) {
    r = c0->shape;
  } else if ((op == "aten::stack" || op == "aten::cat") && in[0]->k == SV::K::kList && in[0]->elems &&
             const_int(1).value_or(-1) == 0 && !in[0]->elems->empty()) {
    r.emplace();
    for (const SVP& e : *in[0]->elems) {
      const auto v = ints_of(e);
      const int64_t rank = e->k == SV::K::kTensor ? e->cell->sample.dim() : -1;
      if (!v || rank != (op == "aten::stack" ? 0 : 1)) return false;
      r->insert(r->end(), v->begin(), v->end());
    }
  } else if (op == "aten::unsqueeze" && c0 && c0->sample.dim() == 0 && c0->scalar &&
             (const_int(1) == 0 || const_int(1) == -1)) {
    r = std::vector<SymExpr>{*c0->scalar};
  } else if (c0 && c0->elems && op == "aten::select" && const_int(1) == 0 && const_int(2)) {
    int64_t i = *const_int(2);
    const auto size = static_cast<int64_t>(c0->elems->size());
    if (i < 0) i += size;
    if (i < 0 || i >= size) return false;
    r = std::vector<SymExpr>{(*c0->elems)[static_cast<size_t>(i)]};
  } else if (c0 && c0->elems && in.size() == 1 && (op == "aten::min" || op == "aten::max") && !c0->elems->empty()) {
    SymExpr acc = c0->elems->front();
    for (size_t i = 1; i < c0->elems->size(); ++i) {
      acc = op == "aten::min" ? shapes::sym_min(acc, (*c0->elems)[i]) : shapes::sym_max(acc, (*c0->elems)[i]);
    }
    r = std::vector<SymExpr>{acc};
  } else if (c0 && c0->elems && kCopies.count(op)) {
    r = *c0->elems;
  }
  if (!r) return false;
  SVP sv = from_concrete(outs[0]);
  if (out.dim() == 0) {
    if (r->size() != 1) return false;
    sv->cell->scalar = r->front();
  } else {
    if (static_cast<int64_t>(r->size()) != out.size(0)) return false;
    sv->cell->scalar.reset();
    sv->cell->elems = r;
  }
  if (!out.is_meta()) {
    const at::Tensor l = out.to(at::kLong).reshape({-1});
    for (size_t i = 0; i < r->size(); ++i) {
      PTX_INTERNAL_CHECK(shapes::evaluate((*r)[i], env_.hints()) == std::optional<int64_t>(l[static_cast<int64_t>(i)].item<int64_t>()))
          << op << " on size tensors: " << (*r)[i].str() << " disagrees with the sample";
    }
  }
  set(n->output(), sv);
  return true;
}

ir::Value* Tracer::size_vector_value(TensorCell& c) {
  std::vector<ir::Value*> items;
  const at::Tensor element = at::scalar_tensor(0, at::TensorOptions().dtype(at::kLong));
  for (const SymExpr& e : *c.elems) items.push_back(scalar_tensor_of(e, element));
  ir::Node* stack = graph_.add_call("aten::stack.default", {{"tensors", items, false}, {"dim", int64_t{0}, false}},
                                    {ir::ValueType::kTensor}, "stack");
  stack->outputs()[0]->mutable_meta() = make_meta(c.sample.to(at::kLong), {SymExpr(static_cast<int64_t>(c.elems->size()))});
  c.value = stack->outputs()[0];
  return c.value;
}

}  // namespace ptx::frontend
