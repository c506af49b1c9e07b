// lib/frontend/meta.cpp: the trace on meta tensors (Note [Meta trace] in lib/frontend/tracer.h):
// the stand-ins of real tensors, what a node sees and returns on meta (factories, devices, size
// tensors), the outputs of ops that LibTorch cannot run on meta, and the restart on data.
#include <ATen/ATen.h>

#include <map>

#include "lib/custom_ops.h"
#include "lib/frontend/tracer.h"
#include "lib/torch_convert.h"
#include "shapes/error.h"

namespace ptx::frontend {
namespace {

/// True when `v` holds a tensor that is not a meta tensor (in a list, tuple or dict too).
bool holds_real(const c10::IValue& v) {
  if (v.isTensor()) return v.toTensor().defined() && !v.toTensor().is_meta();
  if (v.isList()) {
    for (const c10::IValue& e : v.toListRef()) {
      if (holds_real(e)) return true;
    }
  } else if (v.isTuple()) {
    for (const c10::IValue& e : v.toTupleRef().elements()) {
      if (holds_real(e)) return true;
    }
  } else if (v.isGenericDict()) {
    for (const auto& kv : v.toGenericDict()) {
      if (holds_real(kv.key()) || holds_real(kv.value())) return true;
    }
  }
  return false;
}

/// The first sentence of an error message, for the log's one line.
std::string first_line(std::string msg) {
  if (auto nl = msg.find('\n'); nl != std::string::npos) msg.resize(nl);
  if (auto dot = msg.find(". "); dot != std::string::npos) msg.resize(dot);
  if (msg.size() > 160) msg = msg.substr(0, 157) + "...";
  return msg;
}

/// How an op without a meta kernel lays out its output (meta_fallback).
enum class Layout : uint8_t {
  kSuggested,  // dense in the input's suggested memory format (ATen's CPU kernels of convolution,
               // pooling and normalization choose so; a channels-last weight counts for convolution)
  kLikeInput,  // as empty_like(input) (elementwise: TensorIterator keeps the input's order)
  kContiguous, // contiguous (layer norm makes its input contiguous)
};

/// Ops whose LibTorch build has no meta kernel (their meta functions are registered from python
/// only), traced on meta with their shape rule's sizes. Each returns one tensor of the dtype of its
/// first tensor argument (the input; the weight for embedding).
const std::map<std::string, Layout>& no_meta_kernel() {
  static const std::map<std::string, Layout> ops = {
      {"aten::_convolution", Layout::kSuggested},
      {"aten::adaptive_avg_pool1d", Layout::kSuggested},
      {"aten::adaptive_avg_pool2d", Layout::kSuggested},
      {"aten::adaptive_avg_pool3d", Layout::kSuggested},
      {"aten::batch_norm", Layout::kSuggested},
      {"aten::conv1d", Layout::kSuggested},
      {"aten::conv2d", Layout::kSuggested},
      {"aten::conv3d", Layout::kSuggested},
      {"aten::conv_transpose1d", Layout::kSuggested},
      {"aten::conv_transpose2d", Layout::kSuggested},
      {"aten::conv_transpose3d", Layout::kSuggested},
      {"aten::convolution", Layout::kSuggested},
      {"aten::grid_sampler", Layout::kContiguous},  // at::empty({N, C, H_out, W_out}) on CPU (RAFT)
      {"aten::hardswish", Layout::kLikeInput},
      {"aten::instance_norm", Layout::kSuggested},
      {"aten::layer_norm", Layout::kContiguous},
      {"aten::roll", Layout::kContiguous},
      {"aten::scaled_dot_product_attention", Layout::kLikeInput},
      {"aten::relu", Layout::kLikeInput},
      {"aten::relu6", Layout::kLikeInput},
      {"aten::hardtanh", Layout::kLikeInput},
  };
  return ops;
}

bool is_conv(const std::string& op) { return op.find("conv") != std::string::npos; }

}  // namespace

bool missing_meta_kernel(const std::string& error) {
  return error.find("with arguments from the 'Meta' backend") != std::string::npos ||
         error.find("no fake impl or Meta kernel registered") != std::string::npos ||
         error.find("convolution_overrideable not implemented") != std::string::npos;
}

at::Tensor Tracer::stand_in(const at::Tensor& t) {
  if (!meta_ || !t.defined() || t.is_meta()) return t;
  if (auto it = stand_ins_.find(t.unsafeGetTensorImpl()); it != stand_ins_.end()) return it->second.second;
  if (!t.device().is_cpu() || t.layout() != at::kStrided || t.is_quantized()) {
    throw NeedsData{"a " + t.toString() + " tensor on " + t.device().str() + " (the trace on meta tensors takes dense CPU tensors)"};
  }
  at::Tensor m = at::empty_strided(t.sizes(), t.strides(), t.options().device(at::kMeta).requires_grad(false));
  if (t.requires_grad()) m.requires_grad_(true);
  stand_ins_.emplace(t.unsafeGetTensorImpl(), std::make_pair(t, m));
  reals_.emplace(m.unsafeGetTensorImpl(), std::make_pair(m, t));
  return m;
}

c10::IValue Tracer::stand_in_value(const c10::IValue& v, bool copy) {
  if (!meta_) return v;
  if (v.isTensor()) return stand_in(v.toTensor());
  if (!v.isList() && !v.isTuple() && !v.isGenericDict()) return v;
  if (!copy && !holds_real(v)) return v;
  if (v.isList()) {
    c10::impl::GenericList out(v.toList().elementType());
    for (const c10::IValue& e : v.toListRef()) out.push_back(stand_in_value(e, copy));
    return out;
  }
  if (v.isTuple()) {
    const auto& tuple = v.toTupleRef();
    std::vector<c10::IValue> items;
    for (const c10::IValue& e : tuple.elements()) items.push_back(stand_in_value(e, copy));
    const auto type = tuple.type();
    if (type && type->schema()) return c10::ivalue::Tuple::createNamed(std::move(items), type);
    return c10::ivalue::Tuple::create(std::move(items));
  }
  const c10::impl::GenericDict d = v.toGenericDict();
  c10::impl::GenericDict out(d.keyType(), d.valueType());
  for (const auto& kv : d) out.insert_or_assign(stand_in_value(kv.key(), copy), stand_in_value(kv.value(), copy));
  return out;
}

at::Tensor Tracer::real_of(const at::Tensor& sample) const {
  if (!meta_ || !sample.defined() || !sample.is_meta()) return sample;
  auto it = reals_.find(sample.unsafeGetTensorImpl());
  return it == reals_.end() ? at::Tensor() : it->second.second;
}

at::Tensor Tracer::constant_data(const TensorCell& c, jit::Node* n) {
  if (!meta_) return c.sample;
  if (at::Tensor real = real_of(c.sample); real.defined()) return real;
  // A size tensor of a known value (prim::NumToTensor(3) * 2): made from its value.
  if (c.scalar && c.scalar->is_const() && c.sample.dim() == 0) {
    return at::scalar_tensor(c.scalar->value(), c.sample.options().device(at::kCPU));
  }
  needs_data(n, "a tensor computed while tracing is exported as a constant with its values");
}

bool Tracer::meta_arguments(jit::Node* n, jit::Stack& stack, const std::vector<SVP>& in) {
  if (!meta_) return false;
  const std::string kind = n->kind().toQualString();
  if (is_custom_op(kind)) needs_data(n, "a custom operator runs on the sample (its meta kernel fits its shapes)");
  const auto result = [&](c10::IValue v) {
    stack.clear();
    stack.push_back(std::move(v));
    return true;
  };
  // A size tensor's int (traced models: aten::Int(prim::NumToTensor(x.size(0)))): its hint.
  if ((kind == "aten::Int" || kind == "aten::ScalarImplicit") && in.size() == 1 && in[0]->k == SV::K::kTensor &&
      in[0]->cell->scalar && in[0]->cell->sample.dim() == 0) {
    if (auto v = shapes::evaluate(*in[0]->cell->scalar, env_.hints())) return result(c10::IValue(*v));
  }
  // A stand-in is a CPU tensor.
  if (kind == "prim::is_cpu") return result(c10::IValue(true));
  if (kind == "prim::is_meta") return result(c10::IValue(false));
  // Factory ops make meta tensors (torch.tensor keeps its data: it may be a constant).
  if (kind != "aten::tensor" && kind != "aten::as_tensor" && n->maybeSchema() != nullptr) {
    const auto& args = n->schema().arguments();
    for (size_t i = 0; i < args.size() && i < stack.size(); ++i) {
      if (args[i].name() == "device" && (stack[i].isNone() || stack[i].isDevice())) stack[i] = c10::Device(c10::kMeta);
    }
  }
  return false;
}

std::optional<std::vector<c10::IValue>> Tracer::run_on_known_values(jit::Node* n, const std::vector<SVP>& in) {
  constexpr int64_t kSmall = 64;  // elements: a size tensor, a small constant
  jit::Stack stack;
  for (const SVP& s : in) {
    if (s->k != SV::K::kTensor) {
      if (holds_real(s->iv) || (s->elems && !s->iv.isList() && !s->iv.isTuple())) return std::nullopt;
      for (const SVP& e : s->elems ? *s->elems : std::vector<SVP>{}) {
        if (e->k == SV::K::kTensor) return std::nullopt;  // a list of tensors
      }
      stack.push_back(s->iv);
      continue;
    }
    const TensorCell& c = *s->cell;
    at::Tensor real = real_of(c.sample);
    if (!real.defined() && c.scalar && c.sample.dim() == 0) {
      if (auto v = shapes::evaluate(*c.scalar, env_.hints())) real = at::scalar_tensor(*v, c.sample.options().device(at::kCPU));
    }
    if (!real.defined() || real.numel() > kSmall) return std::nullopt;
    // The user's inputs, parameters and buffers are data: reading them is what the meta trace avoids.
    if (real.numel() > 0 && (state_by_data_.count(real.data_ptr()) || input_data_.count(real.data_ptr()))) {
      return std::nullopt;
    }
    stack.push_back(real.clone());  // the op may update it in place: the real tensor stays as it was
  }
  try {
    n->getOperation()(stack);
  } catch (const c10::Error& e) {
    needs_data(n, e.what_without_backtrace());
  }
  const size_t nout = n->outputs().size();
  PTX_INTERNAL_CHECK(stack.size() >= nout) << n->kind().toQualString() << ": operation left too few outputs";
  std::vector<c10::IValue> outs(stack.end() - static_cast<std::ptrdiff_t>(nout), stack.end());
  meta_results(n, outs);
  return outs;
}

void Tracer::meta_results(jit::Node* /*n*/, std::vector<c10::IValue>& outs) {
  if (!meta_) return;
  for (c10::IValue& o : outs) {
    if (o.isDevice() && o.toDevice().is_meta()) {
      o = c10::Device(c10::kCPU);  // x.device of a stand-in
    } else {
      o = stand_in_value(o);  // CPU tensors (prim::NumToTensor, torch.tensor) get stand-ins
    }
  }
}

void Tracer::meta_fallback(AtenCall& call, const std::string& error) {
  const auto it = no_meta_kernel().find(call.functional);
  const auto& returns = call.schema->returns();
  if (it == no_meta_kernel().end() || returns.size() != 1 || returns[0].type()->kind() != c10::TypeKind::TensorType) {
    needs_data(call.n, first_line(error));
  }
  const shapes::ShapeRule* rule = shapes::find_shape_rule(call.functional);
  if (rule == nullptr) needs_data(call.n, "no meta kernel and no shape rule");
  std::vector<shapes::RuleArg> rargs;
  std::vector<at::Tensor> tensors;  // the tensor arguments, in order
  for (const SVP& s : call.in) {
    rargs.push_back(to_rule_arg(s, call.n));
    if (s->k == SV::K::kTensor) tensors.push_back(s->cell->sample);
  }
  call.prov = why(call.n, "");
  shapes::RuleContext ctx{env_, call.prov, call.functional, call.overload, call.inplace, {}};
  shapes::RuleResult r = rule->fn(ctx, rargs);
  if (!r.error.empty() || r.shapes.size() != 1 || tensors.empty()) needs_data(call.n, "no meta kernel: " + r.error);
  const at::Tensor& input = tensors[0];
  const std::vector<int64_t> sizes = evaluate_shape(r.shapes[0], env_.hints());
  at::Tensor out;
  if (call.inplace) {
    PTX_INTERNAL_CHECK(input.sizes().vec() == sizes) << call.name << ": in-place result of other sizes";
    out = input;
  } else if (it->second == Layout::kLikeInput && input.sizes().vec() == sizes) {
    out = at::empty_like(input);
  } else {
    auto format = at::MemoryFormat::Contiguous;
    if (it->second == Layout::kSuggested && input.dim() == static_cast<int64_t>(sizes.size())) {
      format = input.suggest_memory_format();
      if (is_conv(call.functional) && tensors.size() > 1 && tensors[1].dim() == input.dim() &&
          tensors[1].suggest_memory_format() != at::MemoryFormat::Contiguous) {
        format = tensors[1].suggest_memory_format();
      }
    }
    out = at::empty(sizes, input.options().memory_format(format));
  }
  call.outs = {c10::IValue(out)};
  call.concrete = {out};
  call.shapes = std::move(r.shapes);
}

void Tracer::needs_data(jit::Node* n, const std::string& why_text) {
  std::string where;
  if (n != nullptr) {
    const shapes::Provenance p = this->why(n, "");
    where = std::string(n->kind().toQualString()) + (p.source.empty() ? "" : " at " + p.source);
  } else {
    where = "the trace";
  }
  throw NeedsData{where + " needs tensor data (" + first_line(why_text) + ")"};
}

}  // namespace ptx::frontend
