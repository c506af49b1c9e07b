// shapes/z3_lower.cpp: see z3_lower.h.
#include "shapes/z3_lower.h"

#include <string>

#include "shapes/error.h"

namespace ptx::shapes {

const char* to_string(Truth t) {
  switch (t) {
    case Truth::True:
      return "true";
    case Truth::False:
      return "false";
    case Truth::Unknown:
      return "unknown";
  }
  return "?";
}

z3::expr Z3Lowering::symbol(SymExpr sym) {
  PTX_INTERNAL_CHECK(sym.is_symbol()) << sym.str() << " is not a symbol";
  symbols_.emplace(sym.symbol_id(), sym);
  std::string name = sym.symbol_name() + "!" + std::to_string(sym.symbol_id());
  return ctx_.int_const(name.c_str());
}

z3::expr Z3Lowering::lower(SymExpr e) {
  switch (e.kind()) {
    case SymKind::Const:
      return ctx_.int_val(e.value());
    case SymKind::Symbol:
      return symbol(e);
    default:
      break;
  }
  auto it = memo_.find(e.node());
  if (it != memo_.end()) return it->second;
  auto ops = e.operands();
  z3::expr r(ctx_);
  switch (e.kind()) {
    case SymKind::Add: {
      r = lower(ops[0]);
      for (size_t i = 1; i < ops.size(); ++i) r = r + lower(ops[i]);
      break;
    }
    case SymKind::Mul: {
      r = lower(ops[0]);
      for (size_t i = 1; i < ops.size(); ++i) r = r * lower(ops[i]);
      break;
    }
    case SymKind::FloorDiv:
    case SymKind::Mod: {
      z3::expr a = lower(ops[0]);
      bool is_div = e.kind() == SymKind::FloorDiv;
      if (ops[1].is_const() && ops[1].value() > 0) {
        z3::expr k = ctx_.int_val(ops[1].value());
        r = is_div ? a / k : z3::mod(a, k);
      } else if (ops[1].is_const()) {
        // Not produced by the canonical constructors (they flip negative divisors); lowered for
        // completeness with the same identities.
        z3::expr k = ctx_.int_val(-ops[1].value());
        r = is_div ? (-a) / k : -z3::mod(-a, k);
      } else {
        z3::expr b = lower(ops[1]);
        defined_.push_back(b != 0);
        r = is_div ? z3::ite(b > 0, a / b, (-a) / (-b)) : z3::ite(b > 0, z3::mod(a, b), -z3::mod(-a, -b));
      }
      break;
    }
    case SymKind::Min:
      r = z3::min(lower(ops[0]), lower(ops[1]));
      break;
    case SymKind::Max:
      r = z3::max(lower(ops[0]), lower(ops[1]));
      break;
    default:
      throw InternalError("Z3Lowering: unexpected kind");
  }
  memo_.emplace(e.node(), r);
  return r;
}

z3::expr Z3Lowering::lower(const SymBool& b) {
  if (auto k = b.as_const()) return ctx_.bool_val(*k);
  z3::expr l = lower(b.lhs());
  z3::expr r = lower(b.rhs());
  switch (b.rel()) {
    case Rel::Eq:
      return l == r;
    case Rel::Ne:
      return l != r;
    case Rel::Lt:
      return l < r;
    case Rel::Le:
      return l <= r;
    case Rel::Gt:
      return l > r;
    case Rel::Ge:
      return l >= r;
  }
  throw InternalError("Z3Lowering: unexpected relation");
}

void Z3Lowering::definedness_of(const SymBool& b, z3::expr_vector& out) {
  if (b.as_const()) return;
  std::unordered_map<const SymNode*, bool> seen;
  std::vector<SymExpr> todo{b.lhs(), b.rhs()};
  while (!todo.empty()) {
    SymExpr e = todo.back();
    todo.pop_back();
    if (e.kind() == SymKind::Const || e.kind() == SymKind::Symbol) continue;
    if (!seen.emplace(e.node(), true).second) continue;
    auto ops = e.operands();
    if ((e.kind() == SymKind::FloorDiv || e.kind() == SymKind::Mod) && !ops[1].is_const()) {
      out.push_back(lower(ops[1]) != 0);
    }
    for (SymExpr op : ops) todo.push_back(op);
  }
}

z3::solver make_solver(z3::context& ctx, const SolverBudget& budget) {
  // The plain SMT kernel, not z3::solver(ctx)'s default: that one runs a tactic chosen by the
  // formula's logic on a query without push/pop (and as a fallback after an incremental
  // `unknown`), and QF_NIA's tactic tries its SMT solver under a 2-second *wall-clock* limit
  // (try_for(..., 2000) in qfnia_tactic.cpp) before the next strategy, which then gets what is left
  // of the rlimit. Under load the first attempt is cut short and the same query ends `unknown`.
  z3::solver s(ctx, z3::solver::simple());
  z3::params p(ctx);
  p.set("rlimit", static_cast<unsigned>(std::min<uint64_t>(budget.rlimit, UINT32_MAX)));
  p.set("random_seed", budget.random_seed);
  // No SIGINT handler of Z3's for the length of check(): ptexport's own (cmd/signals.cpp) must see
  // ^C. Z3's would take it on whatever thread the kernel picks (LibTorch's OpenBLAS starts threads
  // before ptexport can block signals) and turn it into "unknown", or lose it.
  p.set("ctrl_c", false);
  s.set(p);
  return s;
}

Truth satisfiable(z3::solver& s) {
  try {
    switch (s.check()) {
      case z3::sat:
        return Truth::True;
      case z3::unsat:
        return Truth::False;
      case z3::unknown:
        return Truth::Unknown;
    }
  } catch (const z3::exception&) {
    return Truth::Unknown;
  }
  return Truth::Unknown;
}

Assignment model_values(const z3::model& model, Z3Lowering& lowering) {
  Assignment out;
  for (const auto& [id, sym] : lowering.symbols()) {
    z3::expr v = model.eval(lowering.symbol(sym), true);
    int64_t x = 0;
    if (v.is_numeral_i64(x)) out[id] = x;
  }
  return out;
}

Assignment model_values(const z3::model& model, Z3Lowering& lowering, const std::vector<SymExpr>& only) {
  Assignment out;
  for (SymExpr sym : only) {
    z3::expr v = model.eval(lowering.symbol(sym), true);
    int64_t x = 0;
    if (v.is_numeral_i64(x)) out[sym.symbol_id()] = x;
  }
  return out;
}

Truth prove_implies(const std::vector<SymBool>& assumptions, const SymBool& claim,
                    const SolverBudget& budget, Assignment* counterexample) {
  if (auto k = claim.as_const(); k && *k) return Truth::True;
  try {
    z3::context ctx;
    Z3Lowering lw(ctx);
    z3::solver s = make_solver(ctx, budget);
    for (const SymBool& a : assumptions) s.add(lw.lower(a));
    s.add(!lw.lower(claim));
    for (const z3::expr& d : lw.definedness()) s.add(d);
    Truth sat = satisfiable(s);
    if (sat == Truth::False) return Truth::True;
    if (sat == Truth::Unknown) return Truth::Unknown;
    if (counterexample) *counterexample = model_values(s.get_model(), lw);
    return Truth::False;
  } catch (const z3::exception&) {
    return Truth::Unknown;
  }
}

}  // namespace ptx::shapes
