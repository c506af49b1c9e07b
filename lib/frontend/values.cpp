// lib/frontend/values.cpp: symbolic values (Note [Two runs in one]): made from concrete IValues,
// read as ints and decisions, passed to the IR as arguments and to the shape rules. See
// lib/frontend/tracer.h.
#include <algorithm>
#include <sstream>

#include "lib/frontend/tracer.h"
#include "lib/torch_convert.h"
#include "shapes/error.h"

namespace ptx::frontend {

SVP Tracer::from_concrete(const c10::IValue& given) {
  const c10::IValue v = stand_in_value(given);  // on meta: real tensors become stand-ins
  auto sv = std::make_shared<SV>();
  sv->iv = v;
  if (v.isNone()) {
    sv->k = SV::K::kNone;
  } else if (v.isTensor()) {
    sv->k = SV::K::kTensor;
    // A parameter or buffer held by another attribute (nn.LSTM's _flat_weights): the same cell.
    const at::Tensor& t = v.toTensor();
    const at::Tensor real = real_of(t);  // t itself, or on meta the tensor it stands for (if any)
    if (real.defined() && !real.is_meta() && real.numel() > 0) {
      auto it = state_by_data_.find(real.data_ptr());
      if (it != state_by_data_.end() && it->second->sample.sizes() == t.sizes() &&
          it->second->sample.strides() == t.strides() && it->second->sample.scalar_type() == t.scalar_type()) {
        sv->cell = it->second;
        return sv;
      }
    }
    auto cell = std::make_shared<TensorCell>();
    cell->sample = v.toTensor();
    cell->shape = SymShape(cell->sample.sizes().begin(), cell->sample.sizes().end());
    // A constant 0-dim integer tensor is a known scalar for size arithmetic (traced models).
    if (cell->sample.dim() == 0 && at::isIntegralType(cell->sample.scalar_type(), /*includeBool=*/false) &&
        real.defined() && !real.is_meta()) {
      cell->scalar = SymExpr(real.item<int64_t>());
    }
    // And a short 1-d one a size vector (torch.tensor([300]) beside torch._shape_as_tensor(x)).
    if (cell->sample.dim() == 1 && cell->sample.numel() <= 8 &&
        at::isIntegralType(cell->sample.scalar_type(), /*includeBool=*/false) && real.defined() && !real.is_meta()) {
      const at::Tensor l = real.to(at::kLong).contiguous();
      cell->elems.emplace();
      for (int64_t i = 0; i < l.numel(); ++i) cell->elems->emplace_back(l.data_ptr<int64_t>()[i]);
    }
    sv->cell = cell;  // value is created lazily (lifted constant) by tensor_value()
  } else if (v.isInt()) {
    sv->k = SV::K::kInt;
    sv->sym = SymExpr(v.toInt());
  } else if (v.isDouble()) {
    sv->k = SV::K::kFloat;
  } else if (v.isBool()) {
    sv->k = SV::K::kBool;
  } else if (v.isList() || v.isTuple()) {
    sv->k = v.isList() ? SV::K::kList : SV::K::kTuple;
    sv->elems = std::make_shared<std::vector<SVP>>();
    const auto items = v.isList() ? v.toListRef().vec() : v.toTupleRef().elements().vec();
    for (const auto& item : items) sv->elems->push_back(from_concrete(item));
  } else if (v.isGenericDict()) {
    sv->k = SV::K::kDict;
    for (const auto& kv : v.toGenericDict()) sv->dict.emplace_back(kv.key(), from_concrete(kv.value()));
  } else if (v.isObject()) {
    sv->k = SV::K::kObject;
  } else {
    sv->k = SV::K::kOther;
  }
  return sv;
}

SVP Tracer::get(jit::Value* v) {
  auto it = vals_.find(v);
  if (it != vals_.end()) return it->second;
  // Constants are materialized on first use.
  if (v->node()->kind() == c10::prim::Constant) {
    auto iv = jit::toIValue(v);
    if (!iv.has_value()) {
      // A function reference left after inlining (prim::Constant[name="relu"] : Function).
      auto sv = std::make_shared<SV>();
      sv->k = SV::K::kOther;
      vals_[v] = sv;
      return sv;
    }
    SVP s = from_concrete(*iv);
    vals_[v] = s;
    return s;
  }
  std::ostringstream made_at;
  v->node()->sourceRange().highlight(made_at);
  PTX_INTERNAL_CHECK(false) << "value %" << v->debugName() << " (made by " << v->node()->kind().toQualString()
                            << ") used before it was computed\n" << made_at.str();
}

std::vector<SVP> Tracer::elements(const SVP& s) {
  if (s->elems) return *s->elems;
  PTX_INTERNAL_CHECK(false) << "not a list or tuple";
}

SymExpr Tracer::int_of(const SVP& s, jit::Node* n, const char* what) {
  if (!s->data_dep.empty()) data_dependent(n, s, what);
  if (s->k == SV::K::kInt) return s->sym;
  if (s->iv.isInt()) return SymExpr(s->iv.toInt());
  if (s->k == SV::K::kTensor && s->cell->scalar) return *s->cell->scalar;
  PTX_INTERNAL_CHECK(false) << what << ": expected an int";
}

bool Tracer::decide(const SVP& s, jit::Node* n, const char* what) {
  if (!s->data_dep.empty()) data_dependent(n, s, what);
  const bool hint = s->iv.toBool();
  if (s->cond) {
    const bool v = env_.guard_bool(*s->cond, why(n, what));
    PTX_INTERNAL_CHECK(v == hint) << "guard on " << s->cond->str() << " disagrees with the sample";
  }
  return hint;
}

ir::Value* Tracer::tensor_value(const SVP& s) {
  PTX_INTERNAL_CHECK(s->k == SV::K::kTensor) << "expected a tensor";
  TensorCell& c = *s->cell;
  if (c.value != nullptr) {
    refresh_view(c, nullptr);  // read after an in-place update of its base: made again (no-op otherwise)
    return c.value;
  }
  if (c.scalar && !c.scalar->is_const()) {
    c.value = scalar_tensor_of(*c.scalar, c.sample);  // prim::NumToTensor of a symbolic int used as a tensor
    return c.value;
  }
  if (c.elems && c.sample.scalar_type() == at::kLong &&
      std::any_of(c.elems->begin(), c.elems->end(), [](const SymExpr& e) { return !e.is_const(); })) {
    return size_vector_value(c);  // Note [Size vectors]
  }
  // A tensor that exists only as a constant in the model: lift it.
  const std::string name = "c_lifted_tensor_" + std::to_string(lifted_constants_);
  const std::string target = "lifted_tensor_" + std::to_string(lifted_constants_);
  ++lifted_constants_;
  ir::Value* v = graph_.add_placeholder(name, ir::ValueType::kTensor, make_meta(c.sample, c.shape));
  out_.program.constants[target] = constant_data(c, nullptr).clone();
  // Constants come after parameters and buffers and before user inputs.
  size_t pos = 0;
  while (pos < out_.program.input_specs.size() &&
         out_.program.input_specs[pos].kind != ir::InputKind::kUserInput) {
    ++pos;
  }
  out_.program.input_specs.insert(out_.program.input_specs.begin() + static_cast<std::ptrdiff_t>(pos),
                                  {ir::InputKind::kConstantTensor, v->name(), target, true});
  graph_.move_placeholder(v, pos);
  c.value = v;
  c.original = v;
  if (c.fresh) {  // torch.tensor(3.0) in forward: lift_fresh_copy(c_lifted_tensor_N), as torch.export writes it
    ir::Node* copy = graph_.add_call("aten::lift_fresh_copy.default", {{"self", v, false}}, {ir::ValueType::kTensor},
                                     "lift_fresh_copy");
    copy->outputs()[0]->mutable_meta() = v->meta();
    c.value = copy->outputs()[0];
  }
  return c.value;
}

ir::Value* Tracer::sym_value(SymExpr e) { return syms_.materialize(e); }

ir::Value* Tracer::scalar_tensor_of(const SymExpr& e, const at::Tensor& like) {
  std::vector<ir::NamedArg> args{{"s", sym_value(e), false},
                                 {"dtype", ir::DTypeArg{ir::DType::kInt64}, true},
                                 {"layout", ir::NoneArg{}, true},
                                 {"device", ir::DeviceArg{"cpu"}, true},
                                 {"pin_memory", ir::NoneArg{}, true}};
  ir::Node* node = graph_.add_call("aten::scalar_tensor.default", std::move(args), {ir::ValueType::kTensor},
                                   "scalar_tensor");
  node->outputs()[0]->mutable_meta() = make_meta(like, {});
  return node->outputs()[0];
}

ir::ArgValue Tracer::to_arg(const SVP& s, const c10::TypePtr& type_in, jit::Node* n, const std::string& arg) {
  c10::TypePtr type = type_in;
  if (s->k == SV::K::kNone) return ir::NoneArg{};
  if (auto opt = type->cast<c10::OptionalType>()) type = opt->getElementType();
  const std::string what = "argument '" + arg + "' of " + std::string(n->kind().toQualString());
  if (s->fvalue != nullptr && (type->kind() == c10::TypeKind::TensorType || type->kind() == c10::TypeKind::FloatType ||
                               type->kind() == c10::TypeKind::NumberType || type->kind() == c10::TypeKind::SymFloatType)) {
    return s->fvalue;  // an unbacked float (item() of a float tensor): torch passes its SymFloat
  }
  switch (type->kind()) {
    case c10::TypeKind::TensorType:
      return tensor_value(s);
    case c10::TypeKind::IntType:
    case c10::TypeKind::SymIntType: {
      const SymExpr e = int_of(s, n, what.c_str());
      if (e.is_const()) return e.value();
      return sym_value(e);
    }
    case c10::TypeKind::ScalarTypeType:
      return ir::DTypeArg{static_cast<ir::DType>(s->iv.toInt())};
    case c10::TypeKind::LayoutType:
      return ir::LayoutArg{static_cast<int>(s->iv.toInt())};
    case c10::TypeKind::MemoryFormatType:
      return ir::MemoryFormatArg{static_cast<int>(s->iv.toInt())};
    case c10::TypeKind::DeviceObjType:
      return ir::DeviceArg{s->iv.toDevice().str()};
    case c10::TypeKind::FloatType:
      if (s->iv.isInt()) return static_cast<double>(s->iv.toInt());
      return s->iv.toDouble();
    case c10::TypeKind::BoolType:
      return decide(s, n, what.c_str());
    case c10::TypeKind::StringType:
      return s->iv.toStringRef();
    case c10::TypeKind::NumberType:
    case c10::TypeKind::SymFloatType: {
      if (s->k == SV::K::kInt) {
        const SymExpr e = int_of(s, n, what.c_str());
        if (e.is_const()) return e.value();
        return sym_value(e);
      }
      if (s->iv.isBool()) return s->iv.toBool();
      if (s->iv.isInt()) return s->iv.toInt();
      return s->iv.toDouble();
    }
    case c10::TypeKind::ListType:
      if (auto list = list_arg(s, type->castRaw<c10::ListType>()->getElementType(), n, what)) return *list;
      break;
    default:
      break;
  }
  PTX_USER_FAIL(ExitCode::kExportFailed, "E_UNSUPPORTED_ARG")
      << why(n, "").source << ": " << what << " has type " << type_in->str() << ", which ptexport cannot export yet";
}

std::vector<ir::SymIntArg> Tracer::sym_list(const SymShape& shape) {
  std::vector<ir::SymIntArg> out;
  for (const SymExpr& e : shape) {
    if (e.is_const()) {
      out.emplace_back(e.value());
    } else {
      out.emplace_back(sym_value(e));
    }
  }
  return out;
}

/// A list argument of element type `elem`, or nullopt when ptexport cannot pass that list type.
std::optional<ir::ArgValue> Tracer::list_arg(const SVP& s, const c10::TypePtr& elem, jit::Node* n,
                                             const std::string& what) {
  const std::vector<SVP> items = elements(s);
  switch (elem->kind()) {
    case c10::TypeKind::IntType:
    case c10::TypeKind::SymIntType: {
      SymShape exprs;
      for (const SVP& item : items) exprs.push_back(int_of(item, n, what.c_str()));
      return sym_list(exprs);
    }
    case c10::TypeKind::FloatType: {
      std::vector<double> out;
      for (const SVP& item : items) out.push_back(item->iv.isInt() ? item->iv.toInt() : item->iv.toDouble());
      return out;
    }
    case c10::TypeKind::BoolType: {
      std::vector<bool> out;
      for (const SVP& item : items) out.push_back(decide(item, n, what.c_str()));
      return out;
    }
    case c10::TypeKind::TensorType: {
      std::vector<ir::Value*> out;
      for (const SVP& item : items) out.push_back(tensor_value(item));
      return out;
    }
    case c10::TypeKind::OptionalType: {
      std::vector<std::optional<ir::Value*>> out;
      for (const SVP& item : items) {
        if (item->k == SV::K::kNone) {
          out.emplace_back(std::nullopt);
        } else {
          out.emplace_back(tensor_value(item));
        }
      }
      return out;
    }
    default:
      break;
  }
  return std::nullopt;
}

shapes::RuleArg Tracer::to_rule_arg(const SVP& s, jit::Node* n) {
  shapes::RuleArg a;
  switch (s->k) {
    case SV::K::kNone:
      a.kind = shapes::RuleArg::Kind::kNone;
      break;
    case SV::K::kTensor:
      a.kind = shapes::RuleArg::Kind::kTensor;
      a.shape = s->cell->shape;
      a.dtype = static_cast<int>(s->cell->sample.scalar_type());
      break;
    case SV::K::kInt:
      a.kind = shapes::RuleArg::Kind::kInt;
      a.i = int_of(s, n, "a size argument");
      break;
    case SV::K::kFloat:
      a.kind = shapes::RuleArg::Kind::kFloat;
      a.f = s->iv.toDouble();
      break;
    case SV::K::kBool:
      a.kind = shapes::RuleArg::Kind::kBool;
      a.b = s->iv.toBool();
      break;
    case SV::K::kList:
    case SV::K::kTuple: {
      const auto items = elements(s);
      const bool tensors = std::any_of(items.begin(), items.end(), [](const SVP& i) { return i->k == SV::K::kTensor; });
      if (tensors) {
        a.kind = shapes::RuleArg::Kind::kTensorList;
        for (const SVP& i : items) {
          if (i->k == SV::K::kTensor) {
            a.shapes.emplace_back(i->cell->shape);
            a.dtypes.push_back(static_cast<int>(i->cell->sample.scalar_type()));
          } else {
            a.shapes.emplace_back(std::nullopt);
            a.dtypes.push_back(-1);
          }
        }
      } else if (std::all_of(items.begin(), items.end(), [](const SVP& i) { return i->k == SV::K::kInt; })) {
        a.kind = shapes::RuleArg::Kind::kIntList;
        for (const SVP& i : items) a.ints.push_back(int_of(i, n, "a size argument"));
      } else {
        a.kind = shapes::RuleArg::Kind::kOther;
        if (std::all_of(items.begin(), items.end(), [](const SVP& i) { return i->k == SV::K::kFloat; })) {
          for (const SVP& i : items) a.floats.push_back(i->iv.toDouble());  // float[] (scale_factors)
        }
      }
      break;
    }
    default:
      if (s->iv.isString()) {
        a.kind = shapes::RuleArg::Kind::kString;
        a.s = s->iv.toStringRef();
      } else if (s->iv.isInt()) {
        a.kind = shapes::RuleArg::Kind::kInt;
        a.i = SymExpr(s->iv.toInt());
      } else {
        a.kind = shapes::RuleArg::Kind::kOther;
      }
  }
  return a;
}

}  // namespace ptx::frontend
