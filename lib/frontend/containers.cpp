// lib/frontend/containers.cpp: lists, tuples and dicts (their elements keep their symbolic values),
// and the generic evaluation of the other non-tensor ops on the sample: their symbolic inputs are
// specialized with guards and a result read from tensor data is marked data-dependent. See
// lib/frontend/tracer.h.
#include <algorithm>
#include <functional>
#include <set>
#include <unordered_map>

#include <torch/csrc/jit/runtime/slice_indices_adjust.h>

#include "lib/frontend/tracer.h"
#include "shapes/error.h"

namespace ptx::frontend {

void Tracer::run_generic(jit::Node* n) {
  std::vector<SVP> in;
  for (jit::Value* v : n->inputs()) in.push_back(get(v));
  const std::string kind = n->kind().toQualString();

  if (run_list_op(n, kind, in)) return;
  if ((kind == "prim::unchecked_cast" || kind == "prim::unchecked_unwrap_optional" || kind == "aten::detach" ||
       kind == "prim::data") &&
      in.size() == 1) {
    set(n->output(), in[0]);
    return;
  }
  if (run_dict_op(n, kind, in)) return;

  if (kind == "prim::requires_grad" && in.size() == 1 && in[0]->k == SV::K::kTensor && in[0]->cell->param_requires_grad) {
    set(n->output(), from_concrete(c10::IValue(true)));
    return;
  }
  const auto outs = run_concrete(n, in);
  if (!outs.empty() && run_symbolic_scalar(n, in, outs)) return;
  evaluate_on_sample(n, kind, in, outs);
}

/// List and tuple ops that keep the symbolic elements (construction, unpacking, indexing,
/// append, slicing, copies, concatenation, size-list comparison, item assignment, len). False when
/// `n` is none of them, or one that needs the generic path (non-int lists compared).
bool Tracer::run_list_op(jit::Node* n, const std::string& kind, const std::vector<SVP>& in) {
  // Containers: keep the symbolic elements.
  if (kind == "prim::ListConstruct" || kind == "prim::TupleConstruct") {
    const auto outs = run_concrete(n, in);
    auto sv = from_concrete(outs[0]);
    sv->elems = std::make_shared<std::vector<SVP>>(in);
    set(n->output(), sv);
    return true;
  }
  if (kind == "prim::ListUnpack" || kind == "prim::TupleUnpack") {
    const auto items = elements(in[0]);
    PTX_INTERNAL_CHECK(items.size() == n->outputs().size()) << kind << ": arity mismatch";
    for (size_t i = 0; i < items.size(); ++i) set(n->output(i), items[i]);
    return true;
  }
  if (kind == "prim::TupleIndex" || (kind == "aten::__getitem__" && in[0]->elems)) {
    const SymExpr idx = int_of(in[1], n, "an index");
    int64_t i = idx.is_const() ? idx.value() : env_.guard_int(idx, why(n, "list index"));
    const auto items = elements(in[0]);
    if (i < 0) i += static_cast<int64_t>(items.size());
    PTX_USER_CHECK(i >= 0 && i < static_cast<int64_t>(items.size()), ExitCode::kInput, "E_MODEL_RAISED")
        << why(n, "").source << ": list index out of range on the sample inputs";
    set(n->output(), items[static_cast<size_t>(i)]);
    return true;
  }
  if (kind == "aten::append" && in[0]->elems) {
    run_concrete(n, in);
    in[0]->elems->push_back(in[1]);
    set(n->output(), in[0]);
    return true;
  }
  // List slicing, copies, concatenation and item assignment keep the symbolic elements.
  if (kind == "aten::slice" && in[0]->elems && in[0]->k == SV::K::kList && run_list_slice(n, in)) return true;
  if ((kind == "aten::copy" || kind == "aten::list") && in.size() == 1 && in[0]->elems) {
    const auto outs = run_concrete(n, in);
    auto sv = from_concrete(outs[0]);
    sv->elems = std::make_shared<std::vector<SVP>>(*in[0]->elems);
    set(n->output(), sv);
    return true;
  }
  if (kind == "aten::add" && in.size() == 2 && in[0]->elems && in[1]->elems && in[0]->k == SV::K::kList) {
    const auto outs = run_concrete(n, in);
    auto sv = from_concrete(outs[0]);
    sv->elems = std::make_shared<std::vector<SVP>>(*in[0]->elems);
    sv->elems->insert(sv->elems->end(), in[1]->elems->begin(), in[1]->elems->end());
    set(n->output(), sv);
    return true;
  }
  if ((kind == "aten::eq" || kind == "aten::ne") && in.size() == 2 && in[0]->elems && in[1]->elems &&
      run_size_list_compare(n, kind, in)) {
    return true;
  }
  if (kind == "aten::_set_item" && in.size() == 3 && in[0]->elems) {
    const SymExpr idx = int_of(in[1], n, "an index");
    int64_t i = idx.is_const() ? idx.value() : env_.guard_int(idx, why(n, "list index"));
    run_concrete(n, in);
    if (i < 0) i += static_cast<int64_t>(in[0]->elems->size());
    (*in[0]->elems).at(static_cast<size_t>(i)) = in[2];
    set(n->output(), in[0]);
    return true;
  }
  if (kind == "aten::len" && in[0]->elems) {
    const auto outs = run_concrete(n, in);
    set(n->output(), from_concrete(outs[0]));
    return true;
  }
  return false;
}

/// aten::slice of a list (`l[a:b:c]`, any step, `coords[::-1]` in RAFT): the elements it picks, in
/// TorchScript's order (torch::jit::slice_indices_adjust, as listSlice does; a bound or step that is a
/// symbolic int is specialized with a guard). Always true.
bool Tracer::run_list_slice(jit::Node* n, const std::vector<SVP>& in) {
  const auto outs = run_concrete(n, in);
  const auto items = elements(in[0]);
  auto index_arg = [&](size_t i, int64_t none) -> int64_t {
    if (i >= in.size() || in[i]->k == SV::K::kNone) return none;
    const SymExpr e = int_of(in[i], n, "a list slice bound");
    return e.is_const() ? e.value() : env_.guard_int(e, why(n, "list slice bound"));
  };
  // None is INT64_MAX for start and end, as in listSlice; slice_indices_adjust reads it so.
  int64_t start = index_arg(1, INT64_MAX), end = index_arg(2, INT64_MAX);
  const int64_t step = index_arg(3, 1);
  const int64_t count = jit::slice_indices_adjust(static_cast<int64_t>(items.size()), &start, &end, step);
  auto sv = from_concrete(outs[0]);
  sv->elems = std::make_shared<std::vector<SVP>>();
  for (int64_t k = 0, i = start; k < count; ++k, i += step) sv->elems->push_back(items[static_cast<size_t>(i)]);
  PTX_INTERNAL_CHECK(sv->elems->size() == outs[0].toListRef().size()) << "list slice disagrees with the sample";
  set(n->output(), sv);
  return true;
}

/// Size lists compared (x.size() == y.size()): element by element, each decided with a guard on
/// that element's equality only (not a specialization of the sizes). False (after running it on
/// the sample) when an element is not a shape-derived int.
bool Tracer::run_size_list_compare(jit::Node* n, const std::string& kind, const std::vector<SVP>& in) {
  const auto outs = run_concrete(n, in);
  const auto a = elements(in[0]), b = elements(in[1]);
  bool all_ints = true;
  for (const SVP& e : a) all_ints = all_ints && e->k == SV::K::kInt && e->data_dep.empty();
  for (const SVP& e : b) all_ints = all_ints && e->k == SV::K::kInt && e->data_dep.empty();
  if (all_ints) {
    bool equal = a.size() == b.size();
    for (size_t i = 0; equal && i < a.size(); ++i) {
      const SymBool c = shapes::sym_eq(a[i]->sym, b[i]->sym);
      equal = c.as_const() ? *c.as_const() : env_.guard_bool(c, why(n, "size lists compared"));
    }
    const bool result = kind == "aten::eq" ? equal : !equal;
    PTX_INTERNAL_CHECK(result == outs[0].toBool()) << kind << " of size lists disagrees with the sample";
    set(n->output(), from_concrete(outs[0]));
    return true;
  }
  return false;
}

/// Dict construction and lookup, keeping the symbolic values.
bool Tracer::run_dict_op(jit::Node* n, const std::string& kind, const std::vector<SVP>& in) {
  if (kind == "prim::DictConstruct") {
    const auto outs = run_concrete(n, in);
    auto sv = from_concrete(outs[0]);
    sv->dict.clear();
    for (size_t i = 0; i + 1 < in.size(); i += 2) sv->dict.emplace_back(in[i]->iv, in[i + 1]);
    set(n->output(), sv);
    return true;
  }
  if (kind == "aten::__getitem__" && in[0]->k == SV::K::kDict) {
    for (const auto& [key, value] : in[0]->dict) {
      if (key == in[1]->iv) {
        set(n->output(), value);
        return true;
      }
    }
  }
  // d[key] = value (a dict filled item by item, as torchvision's IntermediateLayerGetter does): the
  // concrete dict is updated by the run, the symbolic one here (dicts are references: every holder
  // of this value sees the new item).
  if (kind == "aten::_set_item" && in.size() == 3 && in[0]->k == SV::K::kDict) {
    run_concrete(n, in);
    bool found = false;
    for (auto& [key, value] : in[0]->dict) {
      if (key == in[1]->iv) {
        value = in[2];
        found = true;
      }
    }
    if (!found) in[0]->dict.emplace_back(in[1]->iv, in[2]);
    return true;
  }
  // d.values() / d.items(): lists of the symbolic values (in insertion order, as the dict's).
  if ((kind == "aten::values" || kind == "aten::items") && in.size() == 1 && in[0]->k == SV::K::kDict) {
    const auto outs = run_concrete(n, in);
    auto sv = from_concrete(outs[0]);
    PTX_INTERNAL_CHECK(sv->elems && sv->elems->size() == in[0]->dict.size()) << kind << ": size differs from the dict's";
    for (size_t i = 0; i < in[0]->dict.size(); ++i) {
      const auto& [key, value] = in[0]->dict[i];
      if (kind == "aten::values") {
        (*sv->elems)[i] = value;
      } else {
        auto pair = from_concrete((*sv->elems)[i]->iv);
        pair->elems = std::make_shared<std::vector<SVP>>(std::vector<SVP>{from_concrete(key), value});
        (*sv->elems)[i] = pair;
      }
    }
    set(n->output(), sv);
    return true;
  }
  return false;
}

/// Any other non-tensor op: the concrete result stands (Note [Two runs in one]).
void Tracer::evaluate_on_sample(jit::Node* n, const std::string& kind, const std::vector<SVP>& in,
                                const std::vector<c10::IValue>& outs) {
  // A non-tensor result computed from a tensor reads its data, unless the op reads only metadata.
  static const std::set<std::string> kMetadata = {
      "aten::dim",        "aten::size",          "aten::numel",       "aten::len",         "prim::dtype",
      "prim::device",     "prim::layout",        "prim::is_nested",   "prim::requires_grad", "prim::is_cuda",
      "prim::is_cpu",     "prim::is_xpu",        "prim::is_meta",     "prim::is_mkldnn",   "prim::is_quantized",
      "prim::is_sparse",  "prim::is_sparse_csr", "prim::is_vulkan",   "prim::is_ipu",      "prim::is_mps",
      "prim::is_maia",    "prim::name",          "aten::is_floating_point", "aten::is_complex",
      "aten::is_signed",  "aten::__is__",        "aten::__isnot__",   "aten::is_contiguous", "aten::get_device",
      "aten::stride",     "aten::element_size",  "aten::is_inference", "aten::is_leaf",    "aten::output_nr",
      "prim::shape",      "prim::isinstance",    "prim::unchecked_cast", "aten::sym_size", "aten::sym_numel"};
  // Anything else: the concrete result stands. Symbolic inputs (also inside lists and tuples)
  // are specialized (guarded), and a result computed from tensor data is marked data-dependent.
  std::string data_dep;
  for (const SVP& s : in) {
    if (!s->data_dep.empty()) data_dep = s->data_dep;
    // Messages (aten::format, str) print sizes without deciding anything: no specialization.
    const bool message = kind == "aten::format" || kind == "aten::str" || kind == "prim::str";
    if (!kMetadata.count(kind) && !message) {
      specialize(s, n, "used by " + kind + ", which ptexport evaluates on the sample");
    }
  }
  // A list the op mutated (insert, pop, extend, ...): its elements are now the concrete ones.
  if (n->maybeSchema() != nullptr) {
    const auto& args = n->schema().arguments();
    for (size_t i = 0; i < args.size() && i < in.size(); ++i) {
      if (in[i]->elems && in[i]->iv.isList() && args[i].alias_info() && args[i].alias_info()->isWrite()) {
        in[i]->elems->clear();
        for (const c10::IValue& e : in[i]->iv.toListRef()) in[i]->elems->push_back(from_concrete(e));
      }
    }
  }
  bool tensor_in = false;
  for (const SVP& s : in) tensor_in = tensor_in || s->k == SV::K::kTensor;
  // (item, Bool, Float, is_nonzero, equal, allclose, tolist of a tensor; Bool of an int is not)
  const bool reads_data = tensor_in && !kMetadata.count(kind);
  if (reads_data && meta_) needs_data(n, kind + " reads a tensor's values");
  if (reads_data && data_dep.empty()) data_dep = "the values of a tensor, read by " + kind + " at " + why(n, "").source;
  // A container the op made from its inputs' tensors (`dict(list of (key, tensor))`, torchvision's
  // OrderedDict([(str(i), v) for ...]) of feature maps) holds those tensors, not constants: the same
  // symbolic values, found by identity.
  std::unordered_map<const c10::TensorImpl*, SVP> given;
  std::function<void(const SVP&)> collect = [&](const SVP& s) {
    if (s->k == SV::K::kTensor && s->iv.isTensor()) given.emplace(s->iv.toTensor().unsafeGetTensorImpl(), s);
    if (s->elems) for (const SVP& e : *s->elems) collect(e);
    for (const auto& kv : s->dict) collect(kv.second);
  };
  for (const SVP& s : in) collect(s);
  std::function<void(SVP&)> rebind = [&](SVP& s) {
    if (s->k == SV::K::kTensor && s->iv.isTensor()) {
      auto it = given.find(s->iv.toTensor().unsafeGetTensorImpl());
      if (it != given.end()) s = it->second;
    }
    if (s->elems) for (SVP& e : *s->elems) rebind(e);
    for (auto& kv : s->dict) rebind(kv.second);
  };
  for (size_t i = 0; i < outs.size(); ++i) {
    SVP sv = from_concrete(outs[i]);
    if (sv->k != SV::K::kTensor) rebind(sv);
    if (sv->k == SV::K::kTensor) {
      PTX_USER_FAIL(ExitCode::kExportFailed, "E_UNSUPPORTED_OP")
          << why(n, "").source << ": " << kind << " makes a tensor but is not an ATen operator ptexport can export";
    }
    sv->data_dep = data_dep;
    if ((kind == "aten::Bool" || kind == "aten::is_nonzero") && in.size() == 1 && in[0]->k == SV::K::kTensor &&
        in[0]->cell->sample.numel() == 1) {
      sv->pred = in[0];
    }
    set(n->output(i), sv);
  }
}

}  // namespace ptx::frontend
