// tests/shapes/checker_test.cpp: the constraint checker's verdicts, ranges, runtime asserts,
// suggestions, and its messages compared with torch.export 2.14's for the same situation.
//
// Where do the expected texts come from? Each case below names the torch module it mirrors; the
// texts were printed by (scripts/env.sh run python3):
//
//   import torch
//   from torch.export import export, Dim
//   def run(mod, args, ds):
//       try: export(mod, args, dynamic_shapes=ds)
//       except Exception as e: print(str(e).split("\n\nThe error above")[0])
//   class Gt4(torch.nn.Module):            # "gt4"
//       def forward(self, x):
//           if x.shape[0] > 4: return x + 1
//           return x - 1
//   run(Gt4(), (torch.randn(8, 3),), {"x": {0: Dim("batch", min=1, max=1024)}})
//   class View32(torch.nn.Module):         # "view32"
//       def forward(self, x): return x.view(-1, 32)
//   run(View32(), (torch.randn(64),), {"x": {0: Dim("batch", min=1, max=1024)}})
//   class Bcast(torch.nn.Module):          # "bcast"
//       def forward(self, x, y): return x + y
//   run(Bcast(), (torch.randn(8, 3), torch.randn(8, 3)),
//       {"x": {0: Dim("batch", min=1, max=1024)}, "y": {0: Dim("other", min=1, max=1024)}})
//   class Const(torch.nn.Module):          # "const", "const dynamic" (Dim.DYNAMIC)
//       def forward(self, x): return x.reshape(8, 3)
//   run(Const(), (torch.randn(8, 3),), {"x": {0: Dim("batch", min=1, max=1024)}})
//   run(Const(), (torch.randn(8, 3),), {"x": {0: Dim.DYNAMIC}})
//   class Twice(torch.nn.Module):          # "twice"
//       def forward(self, x, y): return torch.cat([x, x]) + y
//   run(Twice(), (torch.randn(4), torch.randn(8)),
//       {"x": {0: Dim("dx", min=1, max=512)}, "y": {0: Dim("dy", min=1, max=1024)}})
//   class Lt(torch.nn.Module):             # "lt", "lt unbounded" (Dim("batch"))
//       def forward(self, x):
//           if x.shape[0] < 100: return x + 1
//           return x - 1
//   run(Lt(), (torch.randn(8, 3),), {"x": {0: Dim("batch", min=2, max=1024)}})
//   class Both(torch.nn.Module):           # "both"
//       def forward(self, x):
//           if x.shape[0] < 100 and x.shape[0] > 4: return x + 1
//           return x - 1
//   run(Both(), (torch.randn(8, 3),), {"x": {0: Dim("batch", min=3, max=1024)}})
//   class Ne4(torch.nn.Module):            # "ne4"
//       def forward(self, x):
//           if x.shape[0] != 4: return x + 1
//           return x - 1
//   run(Ne4(), (torch.randn(8, 3),), {"x": {0: Dim("batch", min=2, max=1024)}})
//   run(Twice(), (torch.randn(4), torch.randn(8)),                     # "twice wide"
//       {"x": {0: Dim("dx", min=1, max=1024)}, "y": {0: Dim("dy", min=1, max=1024)}})
//   class Off(torch.nn.Module):            # "offset"
//       def forward(self, x, y): return torch.cat([x, torch.ones(1)]) + y
//   run(Off(), (torch.randn(4), torch.randn(5)), {"x": {0: Dim("dx", max=64)}, "y": {0: Dim("dy", max=64)}})
//   class GtView(torch.nn.Module):         # "gt view"
//       def forward(self, x):
//           if x.shape[0] > 40: return x.view(-1, 32)
//           return x.view(-1, 32) + 1
//   run(GtView(), (torch.randn(64),), {"x": {0: Dim("batch", min=1, max=1024)}})
//   run(Gt4(), (torch.randn(8, 3),), {"x": {0: Dim("batch", min=1)}})   # "gt unbounded upper"
//   class Bc3(torch.nn.Module):            # "three equal"
//       def forward(self, x, y, z): return x + y + z
//   run(Bc3(), (torch.randn(8),) * 3, {"x": {0: Dim("a", max=64)}, "y": {0: Dim("b", max=64)},
//                                      "z": {0: Dim("c", max=64)}})
//
// torch names inputs L['x']; our sources name them x (docs/cli.md), so every `L['x']` of torch's
// text reads `x` here. Everything else is torch's text byte for byte. The guards given to the
// checker are the ones torch records for the module (the first of them where torch records more:
// for View32 torch also lists guards of its own view decomposition that our rules do not make).
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include <sstream>

#include "shapes/checker.h"
#include "shapes/sym_parse.h"
#include "tests/shapes/violation_cases.h"

using namespace ptx::shapes;
using namespace ptx::shapes::test;

TEST_CASE("violations print torch.export's text and suggest its fixes", "[shapes][checker]") {
  for (const ViolationCase& vc : violation_cases()) {
    INFO(vc.c.label);
    ShapeEnv env = make_env(vc.c);
    CheckResult r = check_constraints(env);
    CHECK_FALSE(r.ok);
    CHECK_FALSE(r.unknown);
    CHECK(torch_part(r.violation_text) == vc.text);
    REQUIRE(r.suggestions.size() == vc.fixes.size());
    for (size_t i = 0; i < vc.fixes.size(); ++i) CHECK(r.suggestions[i].torch_form == vc.fixes[i].first);
    // Our notes name the op and the source line of each guard.
    CHECK(r.violation_text.find("      required by aten::op at model.py:10 (test): y = op(x)") != std::string::npos);
  }
}

TEST_CASE("every suggestion passes the checker when applied", "[shapes][checker]") {
  // Applying the fix by hand gives a spec the checker accepts (the checker also re-checks each
  // suggestion itself before returning it).
  auto [c] = GENERATE_REF(table<Case>({
      {{"gt4 fixed", {{"batch", 8, {5, 1024}, DimHint::kNamed, "x.size()[0]"}}, {"s0 >= 5"}}},
      {{"lt fixed", {{"batch", 8, {2, 99}, DimHint::kNamed, "x.size()[0]"}}, {"s0 <= 99"}}},
  }));
  INFO(c.label);
  CheckResult r = check_constraints(make_env(c));
  CHECK(r.ok);
  CHECK(r.violation_text.empty());
  CHECK(r.suggestions.empty());
}

TEST_CASE("verdicts, ranges and runtime asserts by DimHint", "[shapes][checker]") {
  SECTION("Dim.DYNAMIC refines its range freely and keeps divisibility as a runtime assert") {
    // torch: Gt4 with Dim.DYNAMIC exports with range_constraints {s77: VR[5, int_oo]}.
    ShapeEnv env = make_env({"gt dyn", {{"x.size()[0]", 8, {0, std::nullopt}, DimHint::kDynamic, "x.size()[0]"}},
                             {"s0 >= 5", "Mod(s0, 4) == 0"}});
    CheckResult r = check_constraints(env);
    CHECK(r.ok);
    CHECK(r.symbols[0].verdict == Verdict::kOk);
    CHECK(r.final_ranges.at("s0").str() == "[8, int_oo]");  // >= 5 and a multiple of 4
    REQUIRE(r.runtime_asserts.size() == 1);
    CHECK(r.runtime_asserts[0].cond.str() == "Eq(Mod(s0, 4), 0)");
    CHECK_FALSE(r.symbols[0].allowed_at_0);
    CHECK_FALSE(r.symbols[0].allowed_at_1);
  }
  SECTION("Dim.AUTO specializes without a violation") {
    // torch: Const with Dim.AUTO exports (the dim becomes static).
    ShapeEnv env = make_env({"const auto", {{"x.size()[0]", 8, {0, std::nullopt}, DimHint::kAuto, "x.size()[0]"}},
                             {"Eq(s0, 8)"}});
    CheckResult r = check_constraints(env);
    CHECK(r.ok);
    CHECK(r.symbols[0].verdict == Verdict::kSpecialized);
    CHECK(r.specializations == std::map<std::string, int64_t>{{"x.size()[0]", 8}});
    CHECK(r.final_ranges.at("s0").str() == "[8, 8]");
    CHECK(r.runtime_asserts.empty());
  }
  SECTION("a named dim equal to a dynamic one is no violation; the dynamic one takes its range") {
    // torch: x + y with x: Dim("batch", max=100), y: Dim.DYNAMIC exports with VR[2, 100].
    ShapeEnv env = make_env({"named+dyn",
                             {{"batch", 8, {1, 100}, DimHint::kNamed, "x.size()[0]"},
                              {"y.size()[0]", 8, {0, std::nullopt}, DimHint::kDynamic, "y.size()[0]"}},
                             {"Eq(s0, s1)"}});
    CheckResult r = check_constraints(env);
    CHECK(r.ok);
    CHECK(r.final_ranges.at("s0").str() == "[1, 100]");
    CHECK(r.final_ranges.at("s1").str() == "[1, 100]");
    REQUIRE(r.runtime_asserts.size() == 1);
    CHECK(r.runtime_asserts[0].cond.str() == "Eq(s0, s1)");
  }
  SECTION("equal samples: two symbols with the same hint stay independent") {
    ShapeEnv env = make_env({"equal samples",
                             {{"a", 8, {1, 64}, DimHint::kNamed, "x.size()[0]"},
                              {"b", 8, {1, 64}, DimHint::kNamed, "y.size()[0]"}},
                             {}});
    CheckResult r = check_constraints(env);
    CHECK(r.ok);
    CHECK(r.final_ranges.at("s0").str() == "[1, 64]");
    CHECK(r.final_ranges.at("s1").str() == "[1, 64]");
    CHECK(r.runtime_asserts.empty());
  }
  SECTION("0 and 1: a guard failing only there is not a violation, and is reported") {
    // Like torch, which assumes sizes >= 2 for the check (broadcasting records Ne(s0, 1)).
    ShapeEnv env = make_env({"zero one", {{"batch", 8, {0, 1024}, DimHint::kNamed, "x.size()[0]"}}, {"s0 != 1"}});
    CheckResult r = check_constraints(env);
    CHECK(r.ok);
    CHECK(r.symbols[0].allowed_at_0);
    CHECK_FALSE(r.symbols[0].allowed_at_1);
    CHECK(r.final_ranges.at("s0").str() == "[0, 1024]");
    REQUIRE(r.runtime_asserts.size() == 1);
    CHECK(r.runtime_asserts[0].cond.str() == "Ne(s0, 1)");
  }
  SECTION("a range that starts at 2 excludes 0 and 1") {
    ShapeEnv env = make_env({"from two", {{"batch", 8, {2, 1024}, DimHint::kNamed, "x.size()[0]"}}, {}});
    CheckResult r = check_constraints(env);
    CHECK(r.ok);
    CHECK_FALSE(r.symbols[0].allowed_at_0);
    CHECK_FALSE(r.symbols[0].allowed_at_1);
  }
  SECTION("a violated range guard has a counterexample in the requested range") {
    ShapeEnv env = make_env({"gt4", {{"batch", 8, kR1_1024, DimHint::kNamed, "x.size()[0]"}}, {"s0 >= 5"}});
    CheckResult r = check_constraints(env);
    REQUIRE(r.symbols[0].counterexample.has_value());
    CHECK(*r.symbols[0].counterexample >= 2);
    CHECK(*r.symbols[0].counterexample <= 4);
    CHECK(r.symbols[0].verdict == Verdict::kViolated);
    CHECK(r.symbols[0].proven.str() == "[5, 1024]");
    REQUIRE(r.symbols[0].violated.size() == 1);
    CHECK(r.symbols[0].violated[0].origin.source == "model.py:10");
  }
  SECTION("a relation between named symbols proven by Z3, not syntactically") {
    // batch*other == 64 with batch, other in [1, 64]: not implied; no torch text (torch checks only
    // single-symbol guards), so the generic form names both. Derived by hand: with both >= 2 (the
    // check's 0/1 assumption), each is at most 64 / 2 = 32, so both ranges are too wide as well.
    ShapeEnv env = make_env({"product",
                             {{"batch", 8, {1, 64}, DimHint::kNamed, "x.size()[0]"},
                              {"other", 8, {1, 64}, DimHint::kNamed, "y.size()[0]"}},
                             {"s0*s1 == 64"}});
    CheckResult r = check_constraints(env);
    CHECK_FALSE(r.ok);
    CHECK(torch_part(r.violation_text) ==
          std::string("Constraints violated (batch, other)") + kHeader +
              "Not all values of batch = x.size()[0] in the specified range batch <= 64, other = "
              "y.size()[0] in the specified range other <= 64 satisfy the generated guard "
              "(x.size()[0]*y.size()[0]) == 64.\n"
              "  - Not all values of batch = x.size()[0] in the specified range batch <= 64 satisfy "
              "the generated guard 2 <= x.size()[0] and x.size()[0] <= 32\n"
              "  - Not all values of other = y.size()[0] in the specified range other <= 64 satisfy "
              "the generated guard 2 <= y.size()[0] and y.size()[0] <= 32");
  }
}

TEST_CASE("a guard the solver cannot decide within its budget is unknown", "[shapes][checker]") {
  ShapeEnv env = make_env({"nonlinear",
                           {{"a", 3, {1, 64}, DimHint::kNamed, "x.size()[0]"},
                            {"b", 4, {1, 64}, DimHint::kNamed, "y.size()[0]"}},
                           {"s0*s0*s0 + s1*s1*s1 != 1000"}});
  CheckOptions opts;
  opts.budget.rlimit = 1;
  CheckResult r = check_constraints(env, opts);
  CHECK_FALSE(r.ok);
  CHECK(r.unknown);
  CHECK(r.symbols[0].verdict == Verdict::kUnknown);
  CHECK(r.violation_text.empty());
  REQUIRE(r.symbols[0].violated.size() == 1);  // the undecided guard, with its origin
  CHECK(required_by(r.symbols[0].violated[0]) == "      required by aten::op at model.py:10 (test): y = op(x)");
  // With the default budget the same guard is decided: a^3 + b^3 == 1000 only for (10, 0) and
  // (0, 10), outside the ranges, so it holds.
  CheckResult full = check_constraints(env);
  CHECK(full.ok);
}

TEST_CASE("guards print in torch's Python guard syntax", "[shapes][checker]") {
  // Texts from torch.utils._sympy.printers.PythonPrinter().doprint(expr) with s0, s1 positive
  // integer symbols (our sources replace the symbol names here: s0 -> a, s1 -> b).
  auto [guard, text] = GENERATE(table<const char*, const char*>({
      {"Eq(Mod(s0, 32), 0)", "(a % 32) == 0"},
      {"Ne(s0 // 32, 1)", "(a // 32) != 1"},
      {"Ne(s0, 4)", "a != 4"},
      {"Eq(Mod(3*s0, 12), 0)", "((3*a) % 12) == 0"},
      {"s0*s1 <= 100", "a*b <= 100"},
      {"Eq(s0 + 1, s1)", "(1 + a) == b"},
      {"Eq(2*s0, s1)", "(2*a) == b"},
      {"Ne(s0, s1)", "a != b"},
      {"Eq(s0, s1)", "a == b"},
      {"Eq(Mod(s0 + 1, 4), 0)", "((1 + a) % 4) == 0"},
      {"s0 <= 99", "a <= 99"},
      {"Eq(Min(s0, 8), 8)", "min(8, a) == 8"},
      {"s0 >= 5", "a >= 5"},
      {"Ne(s0*s1, 1)", "(a*b) != 1"},
  }));
  ShapeEnv env;
  env.create_symbol("a", 8, {1, 64}, DimHint::kNamed, "a");
  env.create_symbol("b", 8, {1, 64}, DimHint::kNamed, "b");
  auto var = [&](const std::string& n) { return env.symbols().at(std::stoul(n.substr(1))).sym; };
  CHECK(python_guard_text(build_bool(parse_sym(guard), var), env) == text);
}
