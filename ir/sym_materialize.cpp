// ir/sym_materialize.cpp: symbolic integers as graph nodes. See ir/sym_materialize.h.
#include "ir/sym_materialize.h"

#include "shapes/error.h"

namespace ptx::ir {

using shapes::SymExpr;

void SymMaterializer::add_sources_from(Value* v) {
  if (v->type() != ValueType::kTensor || !v->has_meta()) return;
  const shapes::SymShape& sizes = v->meta().sizes;
  for (size_t d = 0; d < sizes.size(); ++d) {
    const SymExpr& e = sizes[d];
    if (e.is_const()) continue;
    const auto syms = shapes::free_symbols(e);
    if (syms.size() != 1) continue;
    const SymExpr s = syms[0];
    const auto at0 = shapes::evaluate(e, {{s.symbol_id(), 0}});
    const auto at1 = shapes::evaluate(e, {{s.symbol_id(), 1}});
    if (!at0 || !at1 || *at1 == *at0) continue;
    add_source(s, {v, static_cast<int64_t>(d), *at1 - *at0, *at0});
  }
}

void SymMaterializer::add_source(SymExpr sym, SymSource source) {
  PTX_INTERNAL_CHECK(sym.is_symbol()) << "source for " << sym.str() << ", which is not a symbol";
  sources_.emplace(sym.symbol_id(), source);
}

void SymMaterializer::forget(const std::vector<Node*>& gone) {
  const std::unordered_set<const Node*> set(gone.begin(), gone.end());
  std::erase_if(cache_, [&](const auto& kv) { return set.count(kv.second->producer()) > 0; });
  std::erase_if(sources_, [&](const auto& kv) { return set.count(kv.second.value->producer()) > 0; });
  std::erase_if(created_, [&](const Node* n) { return set.count(n) > 0; });
}

bool SymMaterializer::has_source(SymExpr sym) const { return sources_.count(sym.symbol_id()) > 0; }

void SymMaterializer::add_existing(Value* v) {
  PTX_INTERNAL_CHECK(v->type() == ValueType::kSymInt && v->has_sym()) << v->name() << " is not a SymInt with a sym";
  cache_.emplace(v->sym(), v);
}

Value* SymMaterializer::sym_call(const char* target, const char* name, std::vector<NamedArg> args, SymExpr e) {
  Node* node = graph_.add_call(target, std::move(args), {ValueType::kSymInt}, name);
  created_.push_back(node);
  Value* v = node->outputs()[0];
  v->set_sym(e);
  return v;
}

ArgValue SymMaterializer::operand(SymExpr x) {
  if (x.is_const()) return x.value();
  return materialize(x);
}

Value* SymMaterializer::materialize(SymExpr e) {
  PTX_INTERNAL_CHECK(!e.is_const()) << "materialize of the constant " << e.str();
  if (auto it = cache_.find(e); it != cache_.end()) return it->second;
  Value* out = nullptr;
  auto binary = [&](const char* target, const char* name) {
    return sym_call(target, name, {{"a", operand(e.operands()[0]), false}, {"b", operand(e.operands()[1]), false}}, e);
  };
  switch (e.kind()) {
    case shapes::SymKind::Symbol: {
      auto src = sources_.find(e.symbol_id());
      PTX_INTERNAL_CHECK(src != sources_.end()) << "no input dimension gives symbol " << e.str();
      const SymSource& d = src->second;
      const SymExpr size_expr = e * SymExpr(d.a) + SymExpr(d.b);
      Value* size = nullptr;
      if (auto it = cache_.find(size_expr); it != cache_.end()) {
        size = it->second;
      } else {
        size = sym_call("aten::sym_size.int", "sym_size_int", {{"self", d.value, false}, {"dim", d.dim, false}},
                        size_expr);
        cache_[size_expr] = size;
      }
      if (d.a == 1 && d.b == 0) {
        out = size;
        break;
      }
      Value* shifted = size;
      if (d.b != 0) {
        shifted = sym_call("_operator.sub", "sub", {{"a", size, false}, {"b", d.b, false}}, e * SymExpr(d.a));
        cache_[e * SymExpr(d.a)] = shifted;
      }
      out = shifted;
      if (d.a != 1) out = sym_call("_operator.floordiv", "floordiv", {{"a", shifted, false}, {"b", d.a, false}}, e);
      break;
    }
    case shapes::SymKind::Add:
    case shapes::SymKind::Mul: {
      const bool add = e.kind() == shapes::SymKind::Add;
      const auto ops = e.operands();
      // Left to right over the canonical operands (constants sort last): ((a + b) + 3).
      ArgValue acc = operand(ops[0]);
      SymExpr acc_expr = ops[0];
      for (size_t i = 1; i < ops.size(); ++i) {
        acc_expr = add ? acc_expr + ops[i] : acc_expr * ops[i];
        Value* next = nullptr;
        if (auto it = cache_.find(acc_expr); it != cache_.end()) {
          next = it->second;
        } else {
          next = sym_call(add ? "_operator.add" : "_operator.mul", add ? "add" : "mul",
                          {{"a", acc, false}, {"b", operand(ops[i]), false}}, acc_expr);
          cache_[acc_expr] = next;
        }
        acc = next;
      }
      out = std::get<Value*>(acc);
      break;
    }
    case shapes::SymKind::FloorDiv:
      out = binary("_operator.floordiv", "floordiv");
      break;
    case shapes::SymKind::Mod:
      out = binary("_operator.mod", "mod");
      break;
    case shapes::SymKind::Min:
      out = binary("torch.sym_min", "sym_min");
      break;
    case shapes::SymKind::Max:
      out = binary("torch.sym_max", "sym_max");
      break;
    case shapes::SymKind::Const:
      break;
  }
  PTX_INTERNAL_CHECK(out != nullptr) << "cannot materialize " << e.str();
  cache_[e] = out;
  return out;
}

}  // namespace ptx::ir
