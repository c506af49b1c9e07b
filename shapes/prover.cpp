// shapes/prover.cpp: see prover.h.
#include "shapes/prover.h"

namespace ptx::shapes {

Prover::Prover(z3::context& ctx, const SolverBudget& budget, const std::vector<SymBool>& assumptions)
    : lw_(ctx), solver_(make_solver(ctx, budget)) {
  try {
    z3::expr_vector defined(ctx);
    for (const SymBool& a : assumptions) {
      solver_.add(lw_.lower(a));
      lw_.definedness_of(a, defined);
    }
    for (const z3::expr& d : defined) solver_.add(d);
  } catch (const z3::exception&) {
    broken_ = true;
  }
}

Truth Prover::implies(const SymBool& claim, Assignment* model, std::vector<SymBool> facts) {
  if (auto k = claim.as_const(); k && *k) return Truth::True;
  facts.push_back(claim.negated());
  std::vector<SymExpr> want = claim.free_symbols();
  Truth sat = check(facts, model, &want);
  if (sat == Truth::False) return Truth::True;
  if (sat == Truth::True) return Truth::False;
  return Truth::Unknown;
}

Truth Prover::check(const std::vector<SymBool>& extra, Assignment* model, const std::vector<SymExpr>* want) {
  if (broken_) return Truth::Unknown;
  try {
    solver_.push();
    z3::expr_vector defined(lw_.ctx());
    for (const SymBool& e : extra) {
      solver_.add(lw_.lower(e));
      lw_.definedness_of(e, defined);
    }
    for (const z3::expr& d : defined) solver_.add(d);
    Truth t = satisfiable(solver_);
    if (t == Truth::True && model) {
      *model = want ? model_values(solver_.get_model(), lw_, *want) : model_values(solver_.get_model(), lw_);
    }
    solver_.pop();
    return t;
  } catch (const z3::exception&) {
    try {
      solver_.pop();
    } catch (const z3::exception&) {
      broken_ = true;
    }
    return Truth::Unknown;
  }
}

Prover& ComponentProvers::of(size_t component) {
  if (!prover_ || component != component_) {
    prover_.reset();
    prover_ = std::make_unique<Prover>(ctx_, budget_, facts_(component));
    component_ = component;
  }
  return *prover_;
}

}  // namespace ptx::shapes
