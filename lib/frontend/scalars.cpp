// lib/frontend/scalars.cpp: ints, bools and 0-dim size tensors computed symbolically (aten::size,
// int arithmetic and comparisons, prim::NumToTensor / aten::Int pairs of traced models), and the
// specialization of symbolic values that an op evaluates only on the sample. See
// lib/frontend/tracer.h.
#include <cmath>
#include <map>
#include <set>

#include "lib/frontend/tracer.h"
#include "shapes/error.h"

namespace ptx::frontend {
namespace {

/// The symbolic int that a 0-dim size tensor holds, if `s` is one.
std::optional<SymExpr> scalar_of(const SVP& s) {
  if (s->k == SV::K::kTensor && s->cell->scalar && s->cell->sample.dim() == 0) return *s->cell->scalar;
  return std::nullopt;
}

/// Operand `i` of an op on size tensors: a size tensor's int, or an int that is not data-dependent.
std::optional<SymExpr> size_operand(const std::vector<SVP>& in, size_t i) {
  if (i >= in.size()) return std::nullopt;
  if (auto v = scalar_of(in[i])) return v;
  if (in[i]->k == SV::K::kInt && in[i]->data_dep.empty()) return in[i]->sym;
  return std::nullopt;
}

}  // namespace

bool Tracer::run_scalar_tensor_op(jit::Node* n, const std::string& op, const std::vector<SVP>& in,
                                  const std::vector<c10::IValue>& outs) {
  // Traced models compute sizes with 0-dim tensors (prim::NumToTensor, then aten::floor_divide,
  // aten::mul, aten::div(rounding_mode="trunc"), .to(), ..., then aten::Int). Such a tensor stays a
  // symbolic int: no IR node is emitted unless the tensor is later used as a tensor (tensor_value()
  // then makes a scalar_tensor). Only integer results qualify: a float result is a real tensor.
  if (run_known_op(n, in, outs) || run_size_vector_op(n, op, in, outs)) return true;
  if (outs.size() != 1 || !outs[0].isTensor()) return false;
  const at::Tensor& out = outs[0].toTensor();
  if (out.dim() != 0 || !at::isIntegralType(out.scalar_type(), /*includeBool=*/false)) return false;
  if (in.empty() || !scalar_of(in[0])) {
    // Binary ops with the size tensor second: mul(2, t) does not exist in TorchScript, but
    // mul(c, t) with a constant tensor c does.
    if (in.size() < 2 || !scalar_of(in[1])) return false;
  }
  std::optional<SymExpr> r;
  // Ops that return their input's value (copies, conversions to another integer dtype, views).
  static const std::set<std::string> kIdentity = {"aten::to",       "aten::detach",  "aten::clone",
                                                  "aten::contiguous", "aten::alias", "aten::lift_fresh",
                                                  "aten::type_as",  "aten::_to_copy", "aten::view_as",
                                                  "aten::reshape_as", "aten::squeeze", "aten::reshape",
                                                  "aten::view", "aten::expand_as", "aten::abs"};
  if (kIdentity.count(op) && scalar_of(in[0])) {
    r = *scalar_of(in[0]);
    if (op == "aten::abs") {
      if (!env_.guard_bool(shapes::sym_ge(*r, SymExpr(0)), why(n, "abs of a size tensor"))) r = -*r;
    }
  }
  const auto a = size_operand(in, 0), b = size_operand(in, 1);
  if (!r && op == "aten::neg" && a) r = -*a;
  if (!r && a && b) r = binary_size_op(n, op, in, *a, *b);
  if (!r) return false;
  PTX_INTERNAL_CHECK(out.is_meta() || shapes::evaluate(*r, env_.hints()) == std::optional<int64_t>(out.item<int64_t>()))
      << op << " on size tensors: " << r->str() << " disagrees with the sample";
  auto sv = from_concrete(outs[0]);
  sv->cell->scalar = *r;
  set(n->output(), sv);
  return true;
}

/// `op` on the size operands a and b (run_scalar_tensor_op), or nullopt when it is not modeled.
std::optional<SymExpr> Tracer::binary_size_op(jit::Node* n, const std::string& op, const std::vector<SVP>& in,
                                              const SymExpr& a, const SymExpr& b) {
  std::optional<SymExpr> alpha = SymExpr(1);
  if (in.size() >= 3 && (op == "aten::add" || op == "aten::sub" || op == "aten::rsub")) alpha = size_operand(in, 2);
  if (alpha) {
    if (op == "aten::add") return a + b * *alpha;
    if (op == "aten::sub") return a - b * *alpha;
    if (op == "aten::rsub") return b - a * *alpha;
  }
  if (op == "aten::mul") return a * b;
  const bool pos_divisor = b.is_const() && b.value() > 0;
  std::string mode;
  if (op == "aten::div" && in.size() >= 3 && in[2]->iv.isString()) mode = in[2]->iv.toStringRef();
  if (pos_divisor && (op == "aten::floor_divide" || (op == "aten::div" && mode == "floor"))) {
    return shapes::floor_div(a, b);
  }
  if (pos_divisor && op == "aten::div" && mode == "trunc") {
    // Truncation equals floor division for a non-negative dividend (sizes): guard on it.
    if (env_.guard_bool(shapes::sym_ge(a, SymExpr(0)), why(n, "trunc division of a size"))) {
      return shapes::floor_div(a, b);
    }
    return -shapes::floor_div(-a, b);
  }
  if (pos_divisor && (op == "aten::remainder" || op == "aten::fmod")) {
    if (op == "aten::fmod" && !env_.guard_bool(shapes::sym_ge(a, SymExpr(0)), why(n, "fmod of a size"))) {
      return std::nullopt;
    }
    return shapes::python_mod(a, b);
  }
  if (op == "aten::minimum" || op == "aten::min") return shapes::sym_min(a, b);
  if (op == "aten::maximum" || op == "aten::max") return shapes::sym_max(a, b);
  return std::nullopt;
}

bool Tracer::int_result(jit::Node* n, const std::vector<c10::IValue>& outs, SymExpr e) {
  auto sv = from_concrete(outs[0]);
  sv->sym = e;
  PTX_INTERNAL_CHECK(shapes::evaluate(e, env_.hints()) == std::optional<int64_t>(outs[0].toInt()))
      << n->kind().toQualString() << ": symbolic " << e.str() << " disagrees with the sample " << outs[0].toInt();
  set(n->output(), sv);
  return true;
}

bool Tracer::bool_result(jit::Node* n, const std::vector<c10::IValue>& outs, SymBool b) {
  auto sv = from_concrete(outs[0]);
  if (!b.as_const()) sv->cond = b;
  set(n->output(), sv);
  return true;
}

bool Tracer::run_symbolic_scalar(jit::Node* n, const std::vector<SVP>& in, const std::vector<c10::IValue>& outs) {
  // Symbolic results of the int/bool/list ops that shape code uses. Returns false when `n` is not
  // one of them (the caller then specializes).
  const std::string op_name = n->kind().toQualString();
  auto is_int = [&](size_t i) { return i < in.size() && (in[i]->k == SV::K::kInt); };
  if (run_size_query(n, in, outs)) return true;
  if (op_name == "prim::NumToTensor" && is_int(0)) {
    auto sv = from_concrete(outs[0]);
    sv->cell->scalar = in[0]->sym;
    sv->data_dep = in[0]->data_dep;
    set(n->output(), sv);
    return true;
  }
  if ((op_name == "aten::Int" || op_name == "aten::ScalarImplicit" || op_name == "aten::Float") && in.size() == 1 &&
      in[0]->k == SV::K::kTensor) {
    if (in[0]->cell->scalar && op_name != "aten::Float") return int_result(n, outs, *in[0]->cell->scalar);
    if (read_item(n, in[0], outs[0])) return true;
    auto sv = from_concrete(outs[0]);
    sv->data_dep = "the value of a tensor, read by " + op_name + " at " + why(n, "").source;
    set(n->output(), sv);
    return true;
  }
  if ((op_name == "aten::Int" || op_name == "aten::ScalarImplicit") && in.size() == 1 && is_int(0) &&
      in[0]->data_dep.empty() && outs[0].isInt()) {
    return int_result(n, outs, in[0]->sym);  // int(k) of an int k (k = n.item())
  }
  if (op_name == "aten::item" && in.size() == 1 && in[0]->k == SV::K::kTensor && !in[0]->cell->scalar &&
      read_item(n, in[0], outs[0])) {
    return true;
  }
  if (in.size() == 2 && is_int(0) && is_int(1) && run_int_binary(n, in, outs)) return true;
  if (in.size() == 2 && (is_int(0) || is_int(1)) && run_int_float_compare(n, in, outs)) return true;
  if (op_name == "aten::neg" && is_int(0)) return int_result(n, outs, -in[0]->sym);
  if (op_name == "aten::__not__" && in.size() == 1 && in[0]->cond) {
    auto sv = from_concrete(outs[0]);
    sv->cond = in[0]->cond->negated();
    set(n->output(), sv);
    return true;
  }
  return false;
}

/// Sizes read off a tensor's symbolic shape: size(d), size(), prim::shape, len, numel.
bool Tracer::run_size_query(jit::Node* n, const std::vector<SVP>& in, const std::vector<c10::IValue>& outs) {
  const std::string op_name = n->kind().toQualString();
  if (in.empty() || in[0]->k != SV::K::kTensor) return false;
  const SymShape& shape = in[0]->cell->shape;
  if ((op_name == "aten::size" || op_name == "aten::sym_size") && in.size() == 2) {
    const int64_t rank = static_cast<int64_t>(shape.size());
    int64_t d = in[1]->iv.toInt();
    if (d < 0) d += rank;
    return int_result(n, outs, shape.at(static_cast<size_t>(d)));
  }
  if ((op_name == "aten::size" || op_name == "prim::shape" || op_name == "aten::sym_size") && in.size() == 1) {
    auto sv = from_concrete(outs[0]);
    for (size_t d = 0; d < sv->elems->size(); ++d) (*sv->elems)[d]->sym = shape[d];
    set(n->output(), sv);
    return true;
  }
  if (op_name == "aten::len" && in.size() == 1 && !shape.empty()) return int_result(n, outs, shape[0]);
  if (op_name == "aten::numel" && in.size() == 1) {
    SymExpr p(1);
    for (const SymExpr& e : shape) p = p * e;
    return int_result(n, outs, p);
  }
  return false;
}

/// Arithmetic and comparisons of two ints; false for other ops (and for a divisor that is not
/// positive on the sample).
bool Tracer::run_int_binary(jit::Node* n, const std::vector<SVP>& in, const std::vector<c10::IValue>& outs) {
  const std::string op_name = n->kind().toQualString();
  const SymExpr a = in[0]->sym, b = in[1]->sym;
  if (op_name == "aten::add") return int_result(n, outs, a + b);
  if (op_name == "aten::sub") return int_result(n, outs, a - b);
  if (op_name == "aten::mul") return int_result(n, outs, a * b);
  // A symbolic divisor (x.size(0) // num_windows) must be positive: guarded, as a size is.
  auto positive = [&](const SymExpr& d) {
    return d.is_const() ? d.value() != 0
                        : env_.guard_bool(shapes::sym_ge(d, SymExpr(1)), why(n, "a size used as a divisor"));
  };
  if (op_name == "aten::floordiv" || op_name == "aten::__floordiv__") {
    if (!positive(b)) return false;
    return int_result(n, outs, shapes::floor_div(a, b));
  }
  if (op_name == "aten::remainder" || op_name == "aten::__mod__") {
    if (!positive(b)) return false;
    return int_result(n, outs, shapes::python_mod(a, b));
  }
  if (op_name == "prim::min") return int_result(n, outs, shapes::sym_min(a, b));
  if (op_name == "prim::max") return int_result(n, outs, shapes::sym_max(a, b));
  if (op_name == "aten::eq") return bool_result(n, outs, shapes::sym_eq(a, b));
  if (op_name == "aten::ne") return bool_result(n, outs, shapes::sym_ne(a, b));
  if (op_name == "aten::lt") return bool_result(n, outs, shapes::sym_lt(a, b));
  if (op_name == "aten::le") return bool_result(n, outs, shapes::sym_le(a, b));
  if (op_name == "aten::gt") return bool_result(n, outs, shapes::sym_gt(a, b));
  if (op_name == "aten::ge") return bool_result(n, outs, shapes::sym_ge(a, b));
  return false;
}

/// An int compared with a float that the trace holds as a constant (TorchScript's `2 ** k` is a
/// float: RAFT's `fmap_size < 2 * 2 ** (levels - 1)`): for an integer a, a < c is a < ceil(c),
/// a <= c is a <= floor(c), a > c is a > floor(c), a >= c is a >= ceil(c), a == c needs c integral.
/// False for other ops and for a float read from data.
bool Tracer::run_int_float_compare(jit::Node* n, const std::vector<SVP>& in, const std::vector<c10::IValue>& outs) {
  const bool int_left = in[0]->k == SV::K::kInt;
  const SVP& f = in[int_left ? 1 : 0];
  if (f->k != SV::K::kFloat || !f->iv.isDouble() || !f->data_dep.empty() || !in[int_left ? 0 : 1]->data_dep.empty()) {
    return false;
  }
  const double c = f->iv.toDouble();
  if (!std::isfinite(c) || std::abs(c) > 1e15) return false;
  const SymExpr a = in[int_left ? 0 : 1]->sym;
  const auto lo = static_cast<int64_t>(std::floor(c)), hi = static_cast<int64_t>(std::ceil(c));
  std::string op = n->kind().toQualString();
  if (!int_left) {  // c < a is a > c
    static const std::map<std::string, std::string> kFlip = {
        {"aten::lt", "aten::gt"}, {"aten::le", "aten::ge"}, {"aten::gt", "aten::lt"}, {"aten::ge", "aten::le"}};
    if (auto it = kFlip.find(op); it != kFlip.end()) op = it->second;
  }
  if (op == "aten::lt") return bool_result(n, outs, shapes::sym_lt(a, SymExpr(hi)));
  if (op == "aten::le") return bool_result(n, outs, shapes::sym_le(a, SymExpr(lo)));
  if (op == "aten::gt") return bool_result(n, outs, shapes::sym_gt(a, SymExpr(lo)));
  if (op == "aten::ge") return bool_result(n, outs, shapes::sym_ge(a, SymExpr(hi)));
  if (op == "aten::eq" && lo == hi) return bool_result(n, outs, shapes::sym_eq(a, SymExpr(lo)));
  if (op == "aten::ne" && lo == hi) return bool_result(n, outs, shapes::sym_ne(a, SymExpr(lo)));
  return false;
}

void Tracer::specialize(const SVP& s, jit::Node* n, const std::string& reason) {
  if (s->k == SV::K::kInt && !s->sym.is_const()) env_.guard_int(s->sym, why(n, reason));
  if (s->k == SV::K::kBool && s->cond) decide(s, n, "a condition");
  if (s->elems) {
    for (const SVP& e : *s->elems) specialize(e, n, reason);
  }
}

}  // namespace ptx::frontend
