// lib/frontend/aliasing.cpp: views and in-place updates (Note [Aliasing] in lib/frontend/tracer.h):
// how a view was taken from its base, and an in-place update of a view functionalized by
// scattering the view's new value back into its base, up the chain of views.
#include "lib/frontend/tracer.h"
#include "lib/torch_convert.h"
#include "shapes/error.h"

namespace ptx::frontend {

TensorCell::ViewStep Tracer::view_step(const std::string& op, const std::vector<ir::NamedArg>& args,
                                       size_t in_rank) const {
  using Kind = TensorCell::ViewStep::Kind;
  TensorCell::ViewStep st;
  st.op = op;
  auto int_arg = [&](const char* name) -> std::optional<int64_t> {
    for (const ir::NamedArg& a : args) {
      if (a.name == name) {
        if (const auto* v = std::get_if<int64_t>(&a.value)) return *v;
      }
    }
    return std::nullopt;
  };
  auto wrap_dim = [&](int64_t d) { return d < 0 ? d + static_cast<int64_t>(in_rank) : d; };
  if (op == "aten::view" || op == "aten::reshape" || op == "aten::flatten" || op == "aten::unflatten" ||
      op == "aten::unsqueeze" || op == "aten::squeeze" || op == "aten::view_as" || op == "aten::reshape_as") {
    st.kind = Kind::kReshape;
  } else if (op == "aten::contiguous" || op == "aten::alias" || op == "aten::detach" || op == "aten::to" ||
             op == "aten::type_as" || op == "aten::clone") {
    st.kind = Kind::kAlias;
  } else if (op == "aten::transpose" || op == "aten::t" || op == "aten::permute" || op == "aten::swapaxes") {
    st.kind = Kind::kPermute;
    st.perm.resize(in_rank);
    for (size_t i = 0; i < in_rank; ++i) st.perm[i] = static_cast<int64_t>(i);
    if (op == "aten::permute") {
      for (const ir::NamedArg& a : args) {
        if (const auto* dims = std::get_if<std::vector<ir::SymIntArg>>(&a.value); dims && a.name == "dims") {
          for (size_t i = 0; i < dims->size() && i < in_rank; ++i) st.perm[i] = wrap_dim(std::get<int64_t>((*dims)[i]));
        }
      }
    } else if (in_rank >= 2) {
      const int64_t d0 = wrap_dim(int_arg("dim0").value_or(0)), d1 = wrap_dim(int_arg("dim1").value_or(1));
      std::swap(st.perm[static_cast<size_t>(d0)], st.perm[static_cast<size_t>(d1)]);
    }
  } else if (op == "aten::slice") {
    st.kind = Kind::kSlice;
    for (const ir::NamedArg& a : args) {
      if (a.name != "self") st.args.push_back(a);
    }
  } else if (op == "aten::select") {
    st.kind = Kind::kSelect;
    for (const ir::NamedArg& a : args) {
      if (a.name != "self") st.args.push_back(a);
    }
  }
  return st;
}

/// The strides of a view op's output as expressions of its input's (ATen's rules): slice multiplies
/// its dim's stride by the step, select drops the dim, permute and transpose permute, expand gives 0
/// to new and broadcast dims, alias and detach keep them. nullopt for other ops, and when the result
/// does not give the sample's strides (each dim of size > 1 checked at the sample's sizes). Without
/// it the output would get dense strides (lib/torch_convert symbolic_strides), which a slice of a
/// padded tensor does not have: `x[:, :H].contiguous()` must stay a copy.
std::optional<SymShape> Tracer::view_output_strides(const std::string& op, const std::vector<ir::NamedArg>& args,
                                                    const ir::TensorMeta& in, const SymShape& out_sizes,
                                                    const at::Tensor& sample) const {
  using Kind = TensorCell::ViewStep::Kind;
  const size_t rank = in.sizes.size();
  if (in.strides.size() != rank) return std::nullopt;
  auto int_arg = [&](const char* name, int64_t dflt) -> std::optional<int64_t> {
    for (const ir::NamedArg& a : args) {
      if (a.name != name) continue;
      if (const auto* v = std::get_if<int64_t>(&a.value)) return *v;
      return std::holds_alternative<ir::NoneArg>(a.value) ? std::optional<int64_t>(dflt) : std::nullopt;
    }
    return dflt;
  };
  auto dim_arg = [&]() -> std::optional<size_t> {
    auto d = int_arg("dim", 0);
    if (!d) return std::nullopt;
    const int64_t w = *d < 0 ? *d + static_cast<int64_t>(rank) : *d;
    if (w < 0 || w >= static_cast<int64_t>(rank)) return std::nullopt;
    return static_cast<size_t>(w);
  };
  SymShape out;
  if (op == "aten::alias" || op == "aten::detach") {
    out = in.strides;
  } else if (op == "aten::slice" || op == "aten::narrow") {
    const auto d = dim_arg();
    const auto step = op == "aten::slice" ? int_arg("step", 1) : std::optional<int64_t>(1);
    if (!d || !step) return std::nullopt;
    out = in.strides;
    out[*d] = out[*d] * SymExpr(*step);
  } else if (op == "aten::select") {
    const auto d = dim_arg();
    if (!d) return std::nullopt;
    out = in.strides;
    out.erase(out.begin() + static_cast<std::ptrdiff_t>(*d));
  } else if (op == "aten::expand") {
    if (out_sizes.size() < rank) return std::nullopt;
    const size_t lead = out_sizes.size() - rank;
    out.assign(lead, SymExpr(0));
    for (size_t d = 0; d < rank; ++d) {
      const bool broadcast = in.sizes[d].is_const() && in.sizes[d].value() == 1 && !(out_sizes[lead + d] == in.sizes[d]);
      out.push_back(broadcast ? SymExpr(0) : in.strides[d]);
    }
  } else {
    const TensorCell::ViewStep st = view_step(op, args, rank);
    if (st.kind != Kind::kPermute || st.perm.size() != rank) return std::nullopt;
    for (int64_t p : st.perm) out.push_back(in.strides[static_cast<size_t>(p)]);
  }
  if (out.size() != out_sizes.size() || static_cast<int64_t>(out.size()) != sample.dim()) return std::nullopt;
  for (size_t d = 0; d < out.size(); ++d) {
    if (sample.size(static_cast<int64_t>(d)) <= 1) continue;
    if (shapes::evaluate(out[d], env_.hints()) != std::optional<int64_t>(sample.stride(static_cast<int64_t>(d)))) {
      return std::nullopt;
    }
  }
  return out;
}

ir::Value* Tracer::cell_value(const std::shared_ptr<TensorCell>& cell) {
  auto sv = std::make_shared<SV>();
  sv->k = SV::K::kTensor;
  sv->cell = cell;
  return tensor_value(sv);
}

/// `view`'s own view op applied again to `base_value` (its base's value now), or nullptr when the
/// step is not one that can be replayed (kOther).
ir::Value* Tracer::replay_view(const TensorCell& view, ir::Value* base_value, jit::Node* n) {
  using Kind = TensorCell::ViewStep::Kind;
  const TensorCell::ViewStep& st = view.step;
  ir::Node* node = nullptr;
  switch (st.kind) {
    case Kind::kAlias:
      return base_value;
    case Kind::kReshape:
      node = graph_.add_call("aten::reshape.default", {{"self", base_value, false}, {"shape", sym_list(view.shape), false}},
                             {ir::ValueType::kTensor}, "reshape");
      break;
    case Kind::kPermute:
      node = graph_.add_call("aten::permute.default",
                             {{"self", base_value, false}, {"dims", std::vector<ir::SymIntArg>(st.perm.begin(), st.perm.end()), false}},
                             {ir::ValueType::kTensor}, "permute");
      break;
    case Kind::kSlice:
    case Kind::kSelect: {
      std::vector<ir::NamedArg> args{{"self", base_value, false}};
      for (const ir::NamedArg& a : st.args) args.push_back(a);
      node = graph_.add_call(st.kind == Kind::kSlice ? "aten::slice.Tensor" : "aten::select.int", std::move(args),
                             {ir::ValueType::kTensor}, st.kind == Kind::kSlice ? "slice" : "select");
      break;
    }
    case Kind::kOther:
      return nullptr;
  }
  if (n != nullptr) set_meta(node, n);
  node->outputs()[0]->mutable_meta() = view.value != nullptr ? view.value->meta() : make_meta(view.sample, view.shape);
  return node->outputs()[0];
}

/// A view read after its base (or another view of the same tensor) was updated in place: its
/// value is made again from the base's, up the chain, as torch's functionalization regenerates
/// views. A step that cannot be replayed fails: the old value would be wrong.
void Tracer::refresh_view(TensorCell& view, jit::Node* n) {
  if (!view.view_base || view.value == nullptr) return;
  TensorCell& root = root_of(view);
  if (view.synced == root.version) return;
  TensorCell& base = *view.view_base;
  refresh_view(base, n);
  ir::Value* v = replay_view(view, cell_value(view.view_base), n);
  PTX_USER_CHECK(v != nullptr, ExitCode::kExportFailed, "E_INPLACE_VIEW")
      << (n != nullptr ? why(n, "").source + ": " : std::string()) << "a view made by " << view.step.op
      << " is read after its base was updated in place, which ptexport cannot replay yet";
  view.value = v;
  view.synced = root.version;
}

/// An in-place update of `view` written back into its base, up the chain of views to the root
/// tensor, as torch's functionalization does: each intermediate view is taken again from its
/// base's current value (torch's regenerated views), the update scattered into it, and so on up.
/// Every other view of the root is stale afterwards (refresh_view).
void Tracer::scatter_into_base(TensorCell& view, jit::Node* n) {
  using Kind = TensorCell::ViewStep::Kind;
  TensorCell& root = root_of(view);
  // The chain below the root, the view first; each intermediate's value taken again from the root's.
  std::vector<TensorCell*> chain;
  for (TensorCell* c = &view; c->view_base; c = c->view_base.get()) chain.push_back(c);
  std::vector<ir::Value*> base_values(chain.size());  // base_values[i]: the value of chain[i]'s base
  base_values.back() = cell_value(chain.back()->view_base);  // the root's (lifted if it is a constant)
  for (size_t i = chain.size() - 1; i-- > 0;) {
    TensorCell& mid = *chain[i + 1];  // chain[i]'s base
    ir::Value* again = replay_view(mid, base_values[i + 1], n);
    base_values[i] = again != nullptr ? again : mid.value;
  }
  for (size_t i = 0; i < chain.size(); ++i) {
    TensorCell* cur = chain[i];
    TensorCell& base = *cur->view_base;
    const TensorCell::ViewStep& st = cur->step;
    ir::Value* base_value = base_values[i];
    ir::Node* node = nullptr;
    switch (st.kind) {
      case Kind::kAlias:
        base.value = cur->value;
        continue;
      case Kind::kReshape:
        node = graph_.add_call("aten::reshape.default", {{"self", cur->value, false}, {"shape", sym_list(base.shape), false}},
                               {ir::ValueType::kTensor}, "reshape");
        break;
      case Kind::kPermute: {
        std::vector<ir::SymIntArg> inverse(st.perm.size());
        for (size_t k = 0; k < st.perm.size(); ++k) inverse[static_cast<size_t>(st.perm[k])] = static_cast<int64_t>(k);
        node = graph_.add_call("aten::permute.default", {{"self", cur->value, false}, {"dims", inverse, false}},
                               {ir::ValueType::kTensor}, "permute");
        break;
      }
      case Kind::kSlice:
      case Kind::kSelect: {
        std::vector<ir::NamedArg> args{{"self", base_value, false}, {"src", cur->value, false}};
        for (const ir::NamedArg& a : st.args) args.push_back(a);
        const bool slice = st.kind == Kind::kSlice;
        node = graph_.add_call(slice ? "aten::slice_scatter.default" : "aten::select_scatter.default", std::move(args),
                               {ir::ValueType::kTensor}, slice ? "slice_scatter" : "select_scatter");
        break;
      }
      case Kind::kOther: {
        const shapes::Provenance p = why(n, "");
        PTX_USER_FAIL(ExitCode::kExportFailed, "E_INPLACE_VIEW")
            << p.source << ": " << n->kind().toQualString() << " updates in place a view made by " << st.op
            << ", which ptexport cannot functionalize yet" << (p.code.empty() ? "" : "\n    " + p.code);
      }
    }
    set_meta(node, n);
    node->outputs()[0]->mutable_meta() = make_meta(base.sample, base.shape);
    base.value = node->outputs()[0];
  }
  ++root.version;
  for (TensorCell* c : chain) c->synced = root.version;
}

}  // namespace ptx::frontend
