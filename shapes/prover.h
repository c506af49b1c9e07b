// shapes/prover.h: a Z3 solver over fixed assumptions, queried with push/pop (the checker's
// questions: does a guard follow, is a value feasible), built on shapes/z3_lower.h.
//
// The provers of one analysis share a z3::context (declared before them), so that making one per
// component of the guards is cheap. Any z3::exception makes the answer Truth::Unknown.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include "shapes/z3_lower.h"

namespace ptx::shapes {

class Prover {
 public:
  Prover(z3::context& ctx, const SolverBudget& budget, const std::vector<SymBool>& assumptions);

  /// Do the assumptions and `facts` imply `claim`? On False, `model` (if given) gets a
  /// counterexample: the values of the claim's symbols.
  Truth implies(const SymBool& claim, Assignment* model = nullptr, std::vector<SymBool> facts = {});

  /// Are the assumptions and `extra` satisfiable together? If so, `model` (if given) gets the
  /// values of `want` (default: of every symbol lowered so far).
  Truth check(const std::vector<SymBool>& extra, Assignment* model = nullptr,
              const std::vector<SymExpr>* want = nullptr);

 private:
  Z3Lowering lw_;
  z3::solver solver_;
  bool broken_ = false;
};

/// One prover at a time, for the component being worked on; the previous one is freed first, so a
/// model with thousands of components does not hold thousands of solvers.
class ComponentProvers {
 public:
  using Facts = std::function<std::vector<SymBool>(size_t component)>;
  ComponentProvers(z3::context& ctx, const SolverBudget& budget, Facts facts)
      : ctx_(ctx), budget_(budget), facts_(std::move(facts)) {}
  Prover& of(size_t component);

 private:
  z3::context& ctx_;
  SolverBudget budget_;
  Facts facts_;
  std::unique_ptr<Prover> prover_;
  size_t component_ = 0;
};

}  // namespace ptx::shapes
