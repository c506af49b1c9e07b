// lib/frontend/aliasing.cpp: views and in-place updates (Note [Aliasing] in lib/frontend/tracer.h):
// how a view was taken from its base, and an in-place update of a view functionalized by
// scattering the view's new value back into its base, up the chain of views.
#include "lib/frontend/tracer.h"
#include "lib/torch_convert.h"
#include "shapes/error.h"

namespace ptx::frontend {

TensorCell::ViewStep Tracer::view_step(const std::string& op, const std::vector<ir::NamedArg>& args, size_t in_rank) {
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

void Tracer::scatter_into_base(TensorCell& view, jit::Node* n) {
  using Kind = TensorCell::ViewStep::Kind;
  TensorCell* cur = &view;
  while (cur->view_base) {
    TensorCell& base = *cur->view_base;
    const TensorCell::ViewStep& st = cur->step;
    ir::Value* base_value = base.value;
    if (base_value == nullptr) {
      auto tmp = std::make_shared<SV>();
      tmp->k = SV::K::kTensor;
      tmp->cell = cur->view_base;
      base_value = tensor_value(tmp);
    }
    ir::Node* node = nullptr;
    auto sym_list = [&](const SymShape& shape) {
      std::vector<ir::SymIntArg> out;
      for (const SymExpr& e : shape) {
        if (e.is_const()) {
          out.emplace_back(e.value());
        } else {
          out.emplace_back(sym_value(e));
        }
      }
      return out;
    };
    switch (st.kind) {
      case Kind::kAlias:
        base.value = cur->value;
        cur = &base;
        continue;
      case Kind::kReshape:
        node = graph_.add_call("aten::reshape.default", {{"self", cur->value, false}, {"shape", sym_list(base.shape), false}},
                               {ir::ValueType::kTensor}, "reshape");
        break;
      case Kind::kPermute: {
        std::vector<ir::SymIntArg> inverse(st.perm.size());
        for (size_t i = 0; i < st.perm.size(); ++i) inverse[static_cast<size_t>(st.perm[i])] = static_cast<int64_t>(i);
        node = graph_.add_call("aten::permute.default", {{"self", cur->value, false}, {"dims", inverse, false}},
                               {ir::ValueType::kTensor}, "permute");
        break;
      }
      case Kind::kSlice: {
        std::vector<ir::NamedArg> args{{"self", base_value, false}, {"src", cur->value, false}};
        for (const ir::NamedArg& a : st.args) args.push_back(a);
        node = graph_.add_call("aten::slice_scatter.default", std::move(args), {ir::ValueType::kTensor}, "slice_scatter");
        break;
      }
      case Kind::kSelect: {
        std::vector<ir::NamedArg> args{{"self", base_value, false}, {"src", cur->value, false}};
        for (const ir::NamedArg& a : st.args) args.push_back(a);
        node = graph_.add_call("aten::select_scatter.default", std::move(args), {ir::ValueType::kTensor},
                               "select_scatter");
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
    cur = &base;
  }
}

}  // namespace ptx::frontend
