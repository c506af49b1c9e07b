// tests/shapes/z3_lower_test.cpp: the Z3 lowering keeps Python floor semantics, and the prover's
// three verdicts.
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include "shapes/sym_parse.h"
#include "shapes/z3_lower.h"

using namespace ptx::shapes;

namespace {
const SymExpr a = SymExpr::new_symbol("a");
const SymExpr b = SymExpr::new_symbol("b");
SymExpr var(const std::string& n) { return n == "a" ? a : b; }
SymBool cond(const char* text) { return build_bool(parse_sym(text), var); }
}  // namespace

TEST_CASE("lowered division and modulo agree with Python on every sign", "[shapes][z3]") {
  // Python: 7 // 2 == 3, -7 // 2 == -4, 7 // -2 == -4, -7 // -2 == 3; 7 % -3 == -2, -7 % 3 == 2.
  auto [av, bv] = GENERATE(table<int64_t, int64_t>(
      {{7, 2}, {-7, 2}, {7, -2}, {-7, -2}, {7, -3}, {-7, 3}, {0, 5}, {5, 5}, {-5, 5}, {6, -3}}));
  INFO(av << " and " << bv);
  int64_t q = av / bv - ((av % bv != 0) && ((av < 0) != (bv < 0)) ? 1 : 0);
  int64_t r = av - q * bv;
  std::vector<SymBool> at{sym_eq(a, av), sym_eq(b, bv)};
  CHECK(prove_implies(at, sym_eq(floor_div(a, b), q), SolverBudget{}) == Truth::True);
  CHECK(prove_implies(at, sym_eq(python_mod(a, b), r), SolverBudget{}) == Truth::True);
  // Constant divisors take the div/mod path.
  std::vector<SymBool> at_a{sym_eq(a, av)};
  CHECK(prove_implies(at_a, sym_eq(floor_div(a, bv), q), SolverBudget{}) == Truth::True);
  CHECK(prove_implies(at_a, sym_eq(python_mod(a, bv), r), SolverBudget{}) == Truth::True);
}

TEST_CASE("prove_implies verdicts", "[shapes][z3]") {
  auto [label, assumptions, claim, verdict] =
      GENERATE(table<const char*, std::vector<const char*>, const char*, Truth>({
          {"range implies bound", {"a >= 1", "a <= 1024"}, "a >= 1", Truth::True},
          {"range does not imply tighter", {"a >= 1", "a <= 1024"}, "a >= 5", Truth::False},
          {"divisibility", {"Mod(a, 8) == 0"}, "Mod(a, 4) == 0", Truth::True},
          {"divisibility not conversely", {"Mod(a, 4) == 0"}, "Mod(a, 8) == 0", Truth::False},
          {"relation", {"b == 2*a", "a >= 1"}, "b >= 2", Truth::True},
          {"min", {"a >= 3", "b >= 5"}, "Min(a, b) >= 3", Truth::True},
          {"floordiv bound", {"a >= 64"}, "a // 32 >= 2", Truth::True},
          {"no assumptions", {}, "a != a + 1", Truth::True},
      }));
  INFO(label);
  std::vector<SymBool> as;
  for (const char* t : assumptions) as.push_back(cond(t));
  Assignment cex;
  CHECK(prove_implies(as, cond(claim), SolverBudget{}, &cex) == verdict);
  if (verdict == Truth::False) {
    // The counterexample satisfies the assumptions and refutes the claim.
    for (const SymBool& x : as) CHECK(x.evaluate(cex) == true);
    CHECK(cond(claim).evaluate(cex) == false);
  }
}

TEST_CASE("a query over the budget is unknown, never true or false", "[shapes][z3]") {
  // A nonlinear query with an rlimit of one step: whatever its answer, it cannot be found.
  std::vector<SymBool> as{cond("a >= 1"), cond("b >= 1")};
  SymBool claim = sym_ne(a * a * a + b * b * b + a * b * 7, 1'000'000'007);
  CHECK(prove_implies(as, claim, SolverBudget{1, 0}) == Truth::Unknown);
  CHECK(std::string(to_string(Truth::Unknown)) == "unknown");
}
