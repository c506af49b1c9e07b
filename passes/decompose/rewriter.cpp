// passes/decompose/rewriter.cpp: argument access, emitting calls and metas for decompositions.
#include "passes/decompose/rewriter.h"

#include "shapes/error.h"

namespace ptx::passes::decomp {

using shapes::SymExpr;

Rewriter::Rewriter(ir::Graph& graph, const ir::Node& node, const std::vector<ir::Value*>& user_inputs)
    : graph_(graph), node_(node), sym_(graph) {
  // Sizes are read off the user inputs (placeholders: defined before any node), so a size made
  // here is valid at the insertion point wherever it is.
  for (ir::Value* v : user_inputs) sym_.add_sources_from(v);
}

const ir::ArgValue* Rewriter::find(const std::string& name) const {
  for (const ir::NamedArg& a : node_.inputs()) {
    if (a.name == name) return &a.value;
  }
  return nullptr;
}

ir::Value* Rewriter::tensor(const std::string& name, bool optional) const {
  const ir::ArgValue* a = find(name);
  if (a != nullptr) {
    if (const auto* v = std::get_if<ir::Value*>(a)) return *v;
  }
  PTX_INTERNAL_CHECK(optional) << node_.name() << " (" << node_.target() << "): no tensor argument '" << name << "'";
  return nullptr;
}

int64_t Rewriter::int_or(const std::string& name, int64_t fallback) const {
  const ir::ArgValue* a = find(name);
  if (a == nullptr) return fallback;
  if (const auto* i = std::get_if<int64_t>(a)) return *i;
  if (const auto* b = std::get_if<bool>(a)) return *b;
  return fallback;
}

double Rewriter::float_or(const std::string& name, double fallback) const {
  const ir::ArgValue* a = find(name);
  if (a == nullptr) return fallback;
  if (const auto* d = std::get_if<double>(a)) return *d;
  if (const auto* i = std::get_if<int64_t>(a)) return static_cast<double>(*i);
  return fallback;
}

bool Rewriter::bool_or(const std::string& name, bool fallback) const {
  const ir::ArgValue* a = find(name);
  if (a == nullptr) return fallback;
  if (const auto* b = std::get_if<bool>(a)) return *b;
  if (const auto* i = std::get_if<int64_t>(a)) return *i != 0;
  return fallback;
}

std::vector<ir::SymIntArg> Rewriter::ints_or(const std::string& name, std::vector<ir::SymIntArg> fallback) const {
  const ir::ArgValue* a = find(name);
  if (a == nullptr) return fallback;
  if (const auto* l = std::get_if<std::vector<ir::SymIntArg>>(a)) return *l;
  if (const auto* i = std::get_if<int64_t>(a)) return {*i};
  return fallback;
}

ir::ArgValue Rewriter::arg_or(const std::string& name, ir::ArgValue fallback) const {
  const ir::ArgValue* a = find(name);
  return a == nullptr ? fallback : *a;
}

std::vector<ir::Value*> Rewriter::call(const std::string& target, std::vector<ir::NamedArg> args,
                                       const std::vector<ir::TensorMeta>& metas, const std::string& hint,
                                       bool returns_list) {
  std::vector<ir::ValueType> types(metas.size(), ir::ValueType::kTensor);
  // Several outputs are read with getitem in torch's graphs: name them so.
  const std::vector<std::string> names = metas.size() > 1 ? std::vector<std::string>(metas.size(), "getitem")
                                                          : std::vector<std::string>{};
  ir::Node* n = graph_.add_call(target, std::move(args), types, hint, names);
  n->set_returns_list(returns_list);
  n->meta() = node_.meta();  // the replacement keeps the op's stack trace and module stack
  for (size_t i = 0; i < metas.size(); ++i) n->outputs()[i]->mutable_meta() = metas[i];
  return n->outputs();
}

ir::Value* Rewriter::call1(const std::string& target, std::vector<ir::NamedArg> args, const ir::TensorMeta& meta,
                           const std::string& hint) {
  return call(target, std::move(args), {meta}, hint).at(0);
}

ir::SymIntArg Rewriter::size_arg(SymExpr e) {
  if (e.is_const()) return e.value();
  return sym_.materialize(e);
}

ir::ArgValue Rewriter::scalar_arg(SymExpr e) {
  const ir::SymIntArg a = size_arg(e);
  if (const auto* c = std::get_if<int64_t>(&a)) return *c;
  return std::get<ir::Value*>(a);
}

std::vector<ir::SymIntArg> Rewriter::sizes_arg(const shapes::SymShape& sizes) {
  std::vector<ir::SymIntArg> out;
  for (const SymExpr& e : sizes) out.push_back(size_arg(e));
  return out;
}

shapes::SymShape contiguous_strides(const shapes::SymShape& sizes) {
  shapes::SymShape strides(sizes.size(), SymExpr(1));
  SymExpr running(1);
  for (size_t k = sizes.size(); k-- > 0;) {
    strides[k] = running;
    running = running * sizes[k];
  }
  return strides;
}

ir::TensorMeta with_sizes(const ir::TensorMeta& like, const shapes::SymShape& sizes) {
  ir::TensorMeta m = like;
  m.sizes = sizes;
  m.strides = contiguous_strides(sizes);
  m.storage_offset = SymExpr(0);
  return m;
}

ir::TensorMeta with_dtype(const ir::TensorMeta& like, ir::DType dtype) {
  ir::TensorMeta m = like;
  m.dtype = dtype;
  return m;
}

ir::TensorMeta permuted(const ir::TensorMeta& x, const std::vector<int64_t>& perm) {
  ir::TensorMeta m = x;
  for (size_t i = 0; i < perm.size(); ++i) {
    m.sizes[i] = x.sizes.at(static_cast<size_t>(perm[i]));
    if (x.strides.size() == x.sizes.size()) m.strides[i] = x.strides.at(static_cast<size_t>(perm[i]));
  }
  return m;
}

bool is_contiguous(const ir::TensorMeta& m) {
  if (m.strides.size() != m.sizes.size()) return false;
  const shapes::SymShape want = contiguous_strides(m.sizes);
  for (size_t d = 0; d < m.sizes.size(); ++d) {
    if (m.sizes[d].is_const() && m.sizes[d].value() == 1) continue;
    if (!(m.strides[d] == want[d])) return false;
  }
  return true;
}

std::optional<shapes::SymShape> view_strides(const ir::TensorMeta& x, const shapes::SymShape& sizes) {
  const shapes::SymShape& old = x.sizes;
  const shapes::SymShape& stride = x.strides;
  if (stride.size() != old.size()) return std::nullopt;
  shapes::SymShape out(sizes.size(), SymExpr(1));
  if (old.empty()) return contiguous_strides(sizes);
  auto is_one = [](const SymExpr& e) { return e.is_const() && e.value() == 1; };
  int64_t view_d = static_cast<int64_t>(sizes.size()) - 1;
  SymExpr chunk_base = stride.back();
  SymExpr tensor_numel(1), view_numel(1);
  for (int64_t d = static_cast<int64_t>(old.size()) - 1; d >= 0; --d) {
    tensor_numel = tensor_numel * old[static_cast<size_t>(d)];
    const bool chunk_ends = d == 0 || (!is_one(old[static_cast<size_t>(d - 1)]) &&
                                       !(stride[static_cast<size_t>(d - 1)] == tensor_numel * chunk_base));
    if (!chunk_ends) continue;
    while (view_d >= 0 && (!(view_numel == tensor_numel) || is_one(sizes[static_cast<size_t>(view_d)]))) {
      out[static_cast<size_t>(view_d)] = view_numel * chunk_base;
      view_numel = view_numel * sizes[static_cast<size_t>(view_d)];
      --view_d;
    }
    if (!(view_numel == tensor_numel)) return std::nullopt;
    if (d > 0) {
      chunk_base = stride[static_cast<size_t>(d - 1)];
      tensor_numel = SymExpr(1);
      view_numel = SymExpr(1);
    }
  }
  if (view_d != -1) return std::nullopt;
  return out;
}

int64_t wrap_dim(int64_t dim, size_t rank) { return dim < 0 ? dim + static_cast<int64_t>(rank) : dim; }

}  // namespace ptx::passes::decomp
