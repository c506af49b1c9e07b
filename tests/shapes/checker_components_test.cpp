// tests/shapes/checker_components_test.cpp: the checker splits the guards into connected components
// (symbols linked by guards) and asks Z3 about each on its own. These tests check that the split
// changes no answer: a guard set of many components gives the same verdicts, ranges, messages,
// suggestions and runtime asserts as the same guards analyzed as one component
// (CheckOptions::split_components = false), and the answer torch's rules give for it.
#include <catch2/catch_test_macros.hpp>

#include <string>
#include <vector>

#include "shapes/checker.h"

using namespace ptx::shapes;

namespace {

Provenance why(size_t j) { return Provenance{"aten::op", "op_" + std::to_string(j), "model.py:" + std::to_string(j + 1), "", "test"}; }

// 200 symbols in components of 4 (neighbours within a group of 4 are related), 2,000 guards,
// every guard true on the sample (64 for every symbol, as tracing guarantees):
//   symbols 0..149  named Dims in [1, 4096]: guards implied by the ranges (bounds, sums, products,
//                   and a parity identity only Z3 settles), and one violated guard: d37 >= 5.
//                   (Guards are deduplicated: later rounds vary them to reach 2,000.)
//   symbols 150..199 Dim.DYNAMIC: lower bounds, divisibility, equalities with the neighbour and
//                   bounded sums, which refine their ranges and leave runtime asserts.
ShapeEnv many_components() {
  ShapeEnv env;
  constexpr size_t kSymbols = 200, kGroup = 4, kNamed = 150;
  std::vector<SymExpr> s;
  for (size_t i = 0; i < kSymbols; ++i) {
    std::string src = "x" + std::to_string(i) + ".size()[0]";
    if (i < kNamed) {
      s.push_back(env.create_symbol("d" + std::to_string(i), 64, Range{1, 4096}, DimHint::kNamed, src));
    } else {
      s.push_back(env.create_symbol(src, 64, Range{0, std::nullopt}, DimHint::kDynamic, src));
    }
  }
  for (size_t j = 0; env.guards().size() < 2000 && j < 4000; ++j) {
    size_t i = j % kSymbols, round = j / kSymbols;
    SymExpr a = s[i], b = s[i / kGroup * kGroup + (i % kGroup + 1) % kGroup];
    int64_t c = static_cast<int64_t>(j);
    if (j == 37) {
      env.add_guard(sym_ge(a, 5), why(j));
    } else if (i < kNamed) {
      switch (round % 4) {
        case 0: env.add_guard(sym_le(a, 4096 + c), why(j)); break;
        case 1: env.add_guard(sym_le(a + b, 8192 + c), why(j)); break;
        case 2: env.add_guard(sym_ge(a * b, 1 - c), why(j)); break;
        default: {
          SymExpr parity = python_mod(a + 1, 2) + python_mod(a, 2);  // always 1
          env.add_guard(round % 8 == 3 ? sym_eq(parity, 1) : round % 8 == 7 ? sym_ge(parity, 1) : sym_le(parity, 1 + c), why(j));
          break;
        }
      }
    } else {
      switch (round % 4) {
        case 0: env.add_guard(sym_ge(a, 2 + static_cast<int64_t>(j % 60)), why(j)); break;
        case 1: env.add_guard(sym_eq(python_mod(a, 2 << (round % 5)), 0), why(j)); break;
        case 2: env.add_guard(round == 2 ? sym_eq(a, b) : sym_ge(a - b, -c), why(j)); break;
        default: env.add_guard(sym_le(a + b, 1000000 + c), why(j)); break;
      }
    }
  }
  return env;
}

}  // namespace

TEST_CASE("many components give the answers of one component", "[shapes][checker][components]") {
  ShapeEnv env = many_components();
  REQUIRE(env.guards().size() == 2000);
  CheckOptions one;
  one.split_components = false;
  CheckResult split = check_constraints(env);
  CheckResult whole = check_constraints(env, one);

  // The same everything: verdicts, proven ranges, counterexamples, guards, texts, suggestions,
  // runtime asserts and final ranges.
  CHECK(split == whole);

  // And the answer itself: only d37 is violated (its range must start at 5), with torch's text
  // and the fix.
  CHECK_FALSE(split.ok);
  CHECK_FALSE(split.unknown);
  for (const SymbolVerdict& v : split.symbols) {
    INFO(v.name);
    CHECK(v.verdict == (v.name == "d37" ? Verdict::kViolated : Verdict::kOk));
  }
  CHECK(split.violation_text.rfind(
            "Constraints violated (d37)! For more information, run with TORCH_LOGS=\"+dynamic\".\n"
            "  - Not all values of d37 = x37.size()[0] in the specified range d37 <= 4096 satisfy the "
            "generated guard 5 <= x37.size()[0] and x37.size()[0] <= 4096\n"
            "      required by aten::op at model.py:38 (test)",
            0) == 0);
  REQUIRE(split.suggestions.size() == 1);
  CHECK(split.suggestions[0].torch_form == "d37 = Dim('d37', min=5, max=4096)");
  CHECK(split.suggestions[0].kind == Suggestion::Kind::kRange);
  CHECK(split.suggestions[0].range == Range{5, 4096});
  REQUIRE(split.symbols[37].counterexample.has_value());
  CHECK(*split.symbols[37].counterexample < 5);

  // The Dim.DYNAMIC groups: four symbols forced equal, even (the strongest divisibility among their
  // guards is by 32: 2 << 4), at least 2 + the largest of their lower bounds; the guards that the
  // final ranges do not imply stay as runtime asserts.
  for (size_t i = 150; i < 200; ++i) {
    INFO(split.symbols[i].name);
    CHECK(split.symbols[i].verdict == Verdict::kOk);
    CHECK(split.symbols[i].proven.min > 2);
    CHECK(split.symbols[i].proven.min <= 64);
    CHECK(split.symbols[i].proven.max.has_value());
  }
  CHECK_FALSE(split.runtime_asserts.empty());
  CHECK(split.runtime_asserts.size() == whole.runtime_asserts.size());
}

TEST_CASE("a component whose sample breaks a guard is analyzed with all the others", "[shapes][checker][components]") {
  // A guard false on the sample (not one tracing records) turns the split off: the answers are
  // those of one component.
  ShapeEnv env;
  SymExpr a = env.create_symbol("a", 8, Range{1, 64}, DimHint::kNamed, "x.size()[0]");
  SymExpr b = env.create_symbol("b", 8, Range{1, 64}, DimHint::kNamed, "y.size()[0]");
  env.add_guard(sym_ge(a, 9), why(0));
  env.add_guard(sym_le(b, 32), why(1));
  CheckOptions one;
  one.split_components = false;
  CHECK(check_constraints(env) == check_constraints(env, one));
}

TEST_CASE("the solver timeout is a deterministic step budget, not a wall clock", "[shapes][checker][z3]") {
  CheckOptions opts;
  opts.timeout_ms = 1;
  CHECK(solver_budget(opts).rlimit == kRlimitPerMs);
  opts.timeout_ms = 10'000;  // the CLI's default 10 s is the default budget
  CHECK(solver_budget(opts).rlimit == SolverBudget{}.rlimit);
  opts.timeout_ms = 0;
  opts.budget.rlimit = 77;
  CHECK(solver_budget(opts).rlimit == 77);

  // The CLI's exit-7 case (tests/e2e/test_cli_exit_codes.py: --solver-timeout 0.001 on
  // x: [a, a + 1] reshaped to [-1, 2]): the guard Mod(a*(a + 1), 2) == 0 holds, but it is
  // nonlinear, and 1 ms is 400 steps, too few to prove it; the same answer every run.
  ShapeEnv env;
  SymExpr s = env.create_symbol("a", 6, Range{1, 100000}, DimHint::kNamed, "x.size()[0]");
  env.add_guard(sym_eq(python_mod(s * (s + 1), 2), 0), why(0));
  CheckOptions tiny;
  tiny.timeout_ms = 1;
  for (int run = 0; run < 3; ++run) {
    CheckResult r = check_constraints(env, tiny);
    CHECK(r.unknown);
    CHECK(r.symbols[0].verdict == Verdict::kUnknown);
  }
}
