// lib/frontend/control_flow.cpp: the node dispatcher, the concrete run of one node on the sample
// values (Note [Two runs in one]), and control flow: prim::If and prim::Loop decided on the sample
// (a guard when the decision rests on a symbolic size), prim::GetAttr. See lib/frontend/tracer.h.
#include "lib/custom_ops.h"
#include "lib/frontend/tracer.h"
#include "shapes/error.h"

namespace ptx::frontend {
namespace {

/// Runs `n` on `stack` if it is one of the prim ops that TorchScript's interpreter implements
/// itself (no registered operator); false for any other node.
bool run_interpreter_prim(jit::Node* n, jit::Stack& stack) {
  const c10::Symbol k = n->kind();
  const size_t nin = n->inputs().size();
  auto pop_n = [&](size_t count) {
    std::vector<c10::IValue> items(stack.end() - static_cast<std::ptrdiff_t>(count), stack.end());
    stack.resize(stack.size() - count);
    return items;
  };
  if (k == c10::prim::ListConstruct) {
    c10::impl::GenericList list(n->output()->type()->expectRef<c10::ListType>().getElementType());
    for (c10::IValue& v : pop_n(nin)) list.push_back(std::move(v));
    stack.emplace_back(std::move(list));
  } else if (k == c10::prim::TupleConstruct) {
    const auto tt = n->output()->type()->cast<c10::TupleType>();
    auto items = pop_n(nin);
    if (tt && tt->schema()) {
      stack.emplace_back(c10::ivalue::Tuple::createNamed(std::move(items), tt));
    } else {
      stack.emplace_back(c10::ivalue::Tuple::create(std::move(items)));
    }
  } else if (k == c10::prim::DictConstruct) {
    const auto& dt = n->output()->type()->expectRef<c10::DictType>();
    c10::impl::GenericDict dict(dt.getKeyType(), dt.getValueType());
    auto items = pop_n(nin);
    for (size_t i = 0; i + 1 < items.size(); i += 2) dict.insert_or_assign(items[i], items[i + 1]);
    stack.emplace_back(std::move(dict));
  } else if (k == c10::prim::ListUnpack || k == c10::prim::TupleUnpack) {
    const c10::IValue v = pop_n(1)[0];
    const std::vector<c10::IValue> items = v.isList() ? v.toListRef().vec() : v.toTupleRef().elements().vec();
    PTX_INTERNAL_CHECK(items.size() == n->outputs().size()) << "unpacking " << items.size() << " values into "
                                                            << n->outputs().size();
    for (const c10::IValue& e : items) stack.push_back(e);
  } else if (k == c10::prim::Uninitialized) {
    stack.emplace_back();
  } else if (k == c10::prim::isinstance) {
    const c10::IValue v = pop_n(1)[0];
    bool is = false;
    for (const c10::TypePtr& t : n->tys(c10::attr::types)) {
      is = is || (v.isNone() ? t->kind() == c10::TypeKind::NoneType : v.type()->isSubtypeOf(*t));
    }
    stack.emplace_back(is);
  } else if (k == c10::prim::unchecked_cast) {
    // identity
  } else {
    return false;
  }
  return true;
}

/// True when running `b` has no effect besides computing its outputs from metadata: only
/// constants, None tests, negation, casts and nested ifs of the same kind.
bool pure_block(jit::Block* b) {
  for (jit::Node* n : b->nodes()) {
    const c10::Symbol k = n->kind();
    if (k == c10::prim::Constant || k == c10::aten::__is__ || k == c10::aten::__isnot__ ||
        k == c10::aten::__not__ || k == c10::prim::unchecked_cast) {
      continue;
    }
    if (k == c10::prim::If && pure_block(n->blocks()[0]) && pure_block(n->blocks()[1])) continue;
    return false;
  }
  return true;
}

/// True when `a` and `b` are the same value for every input the trace allows: the same symbolic
/// value, or equal constants (None, bool, int, float, string) with no symbolic or data part.
bool same_value(const SV& a, const SV& b) {
  if (&a == &b) return true;
  if (!a.data_dep.empty() || !b.data_dep.empty() || a.cond || b.cond) return false;
  if (a.k != b.k) return false;
  switch (a.k) {
    case SV::K::kNone: return true;
    case SV::K::kBool: return a.iv.toBool() == b.iv.toBool();
    case SV::K::kInt: return a.sym.is_const() && b.sym.is_const() && a.sym.value() == b.sym.value();
    case SV::K::kFloat: return a.iv.toDouble() == b.iv.toDouble();
    case SV::K::kTensor: return a.cell == b.cell;
    default: return a.iv.isString() && b.iv.isString() && a.iv.toStringRef() == b.iv.toStringRef();
  }
}

}  // namespace

std::vector<c10::IValue> Tracer::run_concrete(jit::Node* n, const std::vector<SVP>& in, std::string* no_meta_kernel) {
  jit::Stack stack;
  stack.reserve(in.size());
  for (const SVP& s : in) stack.push_back(s->k == SV::K::kTensor ? c10::IValue(s->cell->sample) : s->iv);
  try {
    if (meta_arguments(n, stack, in)) {
      // computed on meta without running the operation (Note [Meta trace])
    } else if (!run_interpreter_prim(n, stack)) {
      // Vararg operators (aten::format) take their input count on top of the stack.
      const size_t nin = n->inputs().size();
      if (n->maybeSchema() != nullptr && n->schema().is_vararg()) stack.emplace_back(static_cast<int64_t>(nin));
      jit::Operation op = n->getOperation();
      op(stack);
    }
  } catch (const c10::Error& e) {
    std::string msg = e.what_without_backtrace();
    if (meta_ && missing_meta_kernel(msg)) {
      if (auto outs = run_on_known_values(n, in)) return *outs;  // size tensors, small constants
      if (no_meta_kernel != nullptr) {
        *no_meta_kernel = msg;  // LibTorch has no meta kernel for it: its shape rule gives the outputs
        return {};
      }
    }
    if (auto nl = msg.find('\n'); nl != std::string::npos) msg.resize(nl);
    // On meta, any failure may come from the missing data: the trace on the sample's values decides.
    if (meta_) needs_data(n, msg);
    const shapes::Provenance p = why(n, "");
    PTX_USER_FAIL(ExitCode::kInput, "E_MODEL_RAISED")
        << (p.source.empty() ? std::string("model") : p.source) << ": " << n->kind().toQualString()
        << " failed on the sample inputs: " << msg << (p.code.empty() ? "" : "\n    " + p.code)
        << called_from(n, "  ");
  }
  const size_t nout = n->outputs().size();
  PTX_INTERNAL_CHECK(stack.size() >= nout) << n->kind().toQualString() << ": operation left too few outputs";
  std::vector<c10::IValue> outs(stack.end() - static_cast<std::ptrdiff_t>(nout), stack.end());
  meta_results(n, outs);
  return outs;
}

void Tracer::run_block(jit::Block* block) {
  for (jit::Node* n : block->nodes()) run_node(n);
}

void Tracer::run_node(jit::Node* n) {
  ++out_.script_nodes;
  const c10::Symbol kind = n->kind();
  if (kind == c10::prim::Constant) {
    if (exporting_flag(n)) {
      auto sv = from_concrete(c10::IValue(true));
      set(n->output(), sv);
      return;
    }
    get(n->output());
    return;
  }
  if (kind == c10::prim::If) return run_if(n);
  if (kind == c10::prim::Loop) return run_loop(n);
  if (kind == c10::prim::GetAttr) return run_get_attr(n);
  if (kind == c10::prim::RaiseException) {
    if (meta_) needs_data(n, "the model raises an exception; its message may print values");
    std::string msg;
    if (!n->inputs().empty()) {
      const SVP s = get(n->input(0));
      if (s->iv.isString()) msg = s->iv.toStringRef();
    }
    const shapes::Provenance p = why(n, "");
    PTX_USER_FAIL(ExitCode::kInput, "E_MODEL_RAISED")
        << (p.source.empty() ? std::string("model") : p.source)
        << ": the model raises an exception on the sample inputs: " << msg << called_from(n, "  ");
  }
  if (kind == c10::prim::CreateObject) return run_create_object(n);
  if (kind == c10::prim::SetAttr) return run_set_attr(n);
  if (kind == c10::aten::warn) return;  // warnings on the sample do not change the graph
  // ATen ops, torchvision's (shape rules in shapes/rules/ as ATen's) and ops of loaded libraries
  // (--load-library, lib/custom_ops.h), alike.
  const bool torchvision = std::string_view(kind.ns().toUnqualString()) == "torchvision";
  if ((kind.is_aten() || torchvision || is_custom_op(kind.toQualString())) && n->maybeSchema() != nullptr) {
    const c10::FunctionSchema& schema = n->schema();
    bool tensor_out = false;
    for (const auto& r : schema.returns()) {
      const c10::TypePtr& t = r.type();
      tensor_out = tensor_out || t->kind() == c10::TypeKind::TensorType ||
                   (t->kind() == c10::TypeKind::ListType &&
                    t->castRaw<c10::ListType>()->getElementType()->kind() == c10::TypeKind::TensorType);
    }
    if (tensor_out) return run_aten(n, schema);
  }
  run_generic(n);
}

void Tracer::run_if(jit::Node* n) {
  const SVP c = get(n->input(0));
  if (!c->data_dep.empty() && pure_block(n->blocks()[0]) && pure_block(n->blocks()[1])) {
    // A condition on tensor data whose branches compute the same values either way (e.g.
    // `if is_causal: x = attn_mask is None else: x = False` with a mask present): no decision.
    std::vector<SVP> outs[2];
    for (int i = 0; i < 2; ++i) {
      run_block(n->blocks()[i]);
      for (jit::Value* v : n->blocks()[i]->outputs()) outs[i].push_back(get(v));
    }
    bool same = true;
    for (size_t i = 0; i < outs[0].size(); ++i) same = same && same_value(*outs[0][i], *outs[1][i]);
    if (same) {
      for (size_t i = 0; i < n->outputs().size(); ++i) set(n->output(i), outs[0][i]);
      return;
    }
  }
  if (run_check(n, c)) return;  // assert / torch._check on sizes or values read from data
  if (!c->data_dep.empty() && c->pred && !n->outputs().empty()) return run_cond(n, c);
  // A decision on sizes read from data (`if boxes.numel() == 0:` after a mask): torch.cond on the
  // SymBool, when its branches can be subgraphs; else the data-dependent error (or --draft).
  if (c->cond && c->data_dep.empty() && !n->outputs().empty() && env_.undecided_on_data(*c->cond)) {
    std::string what;
    bool subgraphs = !block_mutates(n->blocks()[0], what) && !block_mutates(n->blocks()[1], what);
    for (jit::Value* o : n->outputs()) subgraphs = subgraphs && o->type()->kind() == c10::TypeKind::TensorType;
    if (subgraphs) return run_cond(n, c);
  }
  const bool taken = decide(c, n, "this if-condition");
  jit::Block* b = n->blocks()[taken ? 0 : 1];
  run_block(b);
  for (size_t i = 0; i < n->outputs().size(); ++i) set(n->output(i), get(b->outputs()[i]));
}

void Tracer::run_loop(jit::Node* n) {
  // prim::Loop(max_trip_count, initial_condition, carried...) with body (i, carried...) ->
  // (condition, carried...). Unrolled on the sample; a symbolic trip count is specialized (guard).
  const SVP trip_sv = get(n->input(0));
  const SymExpr trip_e = int_of(trip_sv, n, "a loop's trip count");
  int64_t trip = trip_sv->iv.toInt();
  // A trip count or a condition read from data: torch's while_loop (Note [Data loops]). Unrolling it
  // on the sample, even under --draft, would need Eq(u0, N) as an assertion, which makes
  // torch.export.load specialize u0 and then refuse the artifact (it finds u0 bound by no node).
  if (is_data_loop(trip_e, get(n->input(1)))) return run_while_loop(n, trip_e, get(n->input(1)));
  if (!trip_e.is_const()) trip = env_.guard_int(trip_e, why(n, "loop trip count (the loop is unrolled)"));
  bool cond = decide(get(n->input(1)), n, "a loop condition");
  std::vector<SVP> carried;
  for (size_t i = 2; i < n->inputs().size(); ++i) carried.push_back(get(n->input(i)));
  jit::Block* body = n->blocks()[0];
  constexpr int64_t kMaxUnroll = 100000;
  for (int64_t it = 0; it < trip && cond; ++it) {
    PTX_USER_CHECK(it < kMaxUnroll, ExitCode::kExportFailed, "E_LOOP_TOO_LONG")
        << why(n, "").source << ": a loop runs more than " << kMaxUnroll << " iterations; ptexport unrolls loops";
    set(body->inputs()[0], from_concrete(c10::IValue(it)));
    for (size_t i = 0; i < carried.size(); ++i) set(body->inputs()[i + 1], carried[i]);
    run_block(body);
    cond = decide(get(body->outputs()[0]), n, "a loop condition");
    for (size_t i = 0; i < carried.size(); ++i) carried[i] = get(body->outputs()[i + 1]);
  }
  for (size_t i = 0; i < n->outputs().size(); ++i) set(n->output(i), carried[i]);
}

// Note [Attributes assigned in forward]
// ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
// `self.corr_pyramid = [...]` inside forward (torchvision's RAFT) is a value handed from one method
// to another within the call: the assignment records the value under the attribute's path and later
// reads of that path in the same call get it (lists stay shared: an append after the assignment is
// seen). The loaded module itself is not changed. An attribute read before it is assigned would
// carry state from one call to the next, which the exported program cannot hold (torch.export wants
// such state registered as a buffer): that is an export error, as is assigning a parameter or
// buffer (a buffer is updated in place, `self.buf.copy_(x)`, which ptexport exports as a mutation).
// Except torchvision's warn-once flag (only_warns): its state decides only whether a warning shows.
namespace {
/// torchvision's warn-once idiom, `if not self._has_warned: warnings.warn(...); self._has_warned = True`:
/// the assignment is in a branch (of an if without outputs) that does nothing else than warn. The state it
/// carries from one call to the next decides only whether a warning is printed, which no exported
/// program holds: the attribute may be read before it is assigned.
bool only_warns(jit::Node* set_attr) {
  const jit::Node* owner = set_attr->owningBlock()->owningNode();
  if (owner == nullptr || owner->kind() != c10::prim::If || !owner->outputs().empty()) return false;
  for (jit::Node* x : set_attr->owningBlock()->nodes()) {
    const c10::Symbol k = x->kind();
    if (x == set_attr || k == c10::prim::Constant || k == c10::aten::warn || k == c10::aten::format ||
        k == c10::aten::str) {
      continue;
    }
    return false;
  }
  return true;
}
}  // namespace

void Tracer::run_set_attr(jit::Node* n) {
  const SVP obj = get(n->input(0));
  const SVP value = get(n->input(1));
  if (set_object_attr(n, obj, value)) return;
  const std::string name = n->s(c10::attr::name);
  const std::string path = obj->path.empty() ? name : obj->path + "." + name;
  const shapes::Provenance p = why(n, "");
  const std::string where = (p.source.empty() ? std::string("model") : p.source) + ": ";
  const std::string line = (p.code.empty() ? "" : "\n    " + p.code) + called_from(n, "  ");
  PTX_USER_CHECK(obj->iv.isObject() && (!obj->path.empty() || obj->iv.toObjectRef().type() ==
                                                                      model_.module._ivalue()->type()),
                 ExitCode::kExportFailed, "E_SETATTR")
      << where << "assigning attribute '" << name << "' of an object that is not one of the model's modules is "
      << "not supported" << line;
  PTX_USER_CHECK(state_.count(path) == 0, ExitCode::kExportFailed, "E_SETATTR")
      << where << "forward assigns the parameter or buffer '" << path << "'; update it in place instead "
      << "(self." << name << ".copy_(...)), which is exported as a buffer mutation" << line;
  auto read = read_first_.find(path);
  PTX_USER_CHECK(read == read_first_.end() || assigned_.count(path) > 0 || only_warns(n), ExitCode::kExportFailed,
                 "E_SETATTR")
      << where << "forward assigns the module attribute '" << path << "' after reading it (at " << read->second
      << "): it carries state from one call to the next, which an exported program cannot hold; register it "
      << "as a buffer and update it in place" << line;
  assigned_[path] = value;
}

void Tracer::run_get_attr(jit::Node* n) {
  const SVP obj = get(n->input(0));
  const std::string name = n->s(c10::attr::name);
  PTX_INTERNAL_CHECK(obj->iv.isObject()) << "GetAttr on a non-object";
  if (get_object_attr(n, obj)) return;
  const std::string path = obj->path.empty() ? name : obj->path + "." + name;
  if (auto it = assigned_.find(path); it != assigned_.end()) {
    set(n->output(), it->second);
    return;
  }
  if (!read_first_.count(path)) {
    const shapes::Provenance p = why(n, "");
    read_first_[path] = p.source.empty() ? std::string("an unknown line") : p.source;
  }
  // On meta, the attribute's tensors are stand-ins and its containers copies (the module is traced
  // as it is, Note [Meta trace]).
  const c10::IValue v = stand_in_value(obj->iv.toObjectRef().getAttr(name), /*copy=*/true);
  if (v.isTensor()) {
    auto it = state_.find(path);
    if (it != state_.end()) {
      auto sv = std::make_shared<SV>();
      sv->k = SV::K::kTensor;
      sv->iv = v;
      sv->cell = it->second;
      set(n->output(), sv);
      return;
    }
  }
  SVP sv = from_concrete(v);
  if (v.isObject()) sv->path = path;
  set(n->output(), sv);
}

}  // namespace ptx::frontend
