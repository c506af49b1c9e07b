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

using namespace ptx::shapes;

namespace {

struct Sym {
  const char* name;
  int64_t hint;
  Range range;
  DimHint kind;
  const char* source;
};

struct Case {
  const char* label;
  std::vector<Sym> symbols;
  std::vector<const char*> guards;  // over s0, s1, ... in sym_parse syntax
};

ShapeEnv make_env(const Case& c) {
  ShapeEnv env;
  for (const Sym& s : c.symbols) env.create_symbol(s.name, s.hint, s.range, s.kind, s.source);
  auto var = [&](const std::string& n) {
    size_t i = std::stoul(n.substr(1));
    return env.symbols().at(i).sym;
  };
  int line = 10;
  for (const char* g : c.guards) {
    SymBool b = build_bool(parse_sym(g), var);
    REQUIRE(b.evaluate(env.hints()) == true);  // guards hold on the sample
    env.add_guard(b, Provenance{"aten::op", "op_1", "model.py:" + std::to_string(line++), "y = op(x)", "test"});
  }
  return env;
}

// The violation text without our note lines: torch's text.
std::string torch_part(const std::string& text) {
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line)) {
    if (line.rfind("      required by ", 0) == 0) continue;
    out += (out.empty() ? "" : "\n") + line;
  }
  return out;
}

constexpr const char* kHeader = "! For more information, run with TORCH_LOGS=\"+dynamic\".\n  - ";
const Range kR1_1024{1, 1024};

}  // namespace

TEST_CASE("violations print torch.export's text and suggest its fixes", "[shapes][checker]") {
  using Fixes = std::vector<std::pair<std::string, std::string>>;  // torch form, flag form
  auto [c, text, fixes] = GENERATE_REF(table<Case, std::string, Fixes>({
      {{"gt4", {{"batch", 8, kR1_1024, DimHint::kNamed, "x.size()[0]"}}, {"s0 >= 5"}},
       std::string("Constraints violated (batch)") + kHeader +
           "Not all values of batch = x.size()[0] in the specified range batch <= 1024 satisfy the "
           "generated guard 5 <= x.size()[0] and x.size()[0] <= 1024",
       Fixes{{"batch = Dim('batch', min=5, max=1024)", "--dynamic batch=5:1024"}}},
      {{"view32", {{"batch", 64, kR1_1024, DimHint::kNamed, "x.size()[0]"}}, {"Mod(s0, 32) == 0"}},
       std::string("Constraints violated (batch)") + kHeader +
           "Not all values of batch = x.size()[0] in the specified range batch <= 1024 satisfy the "
           "generated guard (x.size()[0] % 32) == 0.",
       Fixes{{"_batch = Dim('_batch', min=1, max=32)", "--dynamic _batch=1:32"},
             {"batch = 32*_batch", "--dynamic x.0=32*_batch"}}},
      {{"bcast",
        {{"batch", 8, kR1_1024, DimHint::kNamed, "x.size()[0]"},
         {"other", 8, kR1_1024, DimHint::kNamed, "y.size()[0]"}},
        {"Eq(s0, s1)"}},
       std::string("Constraints violated (other)") + kHeader +
           "The values of other = y.size()[0] and batch = x.size()[0] must always be equal.",
       Fixes{{"other = batch", "--dynamic y.0=batch"}}},
      {{"const", {{"batch", 8, kR1_1024, DimHint::kNamed, "x.size()[0]"}}, {"Eq(s0, 8)"}},
       std::string("Constraints violated (batch)") + kHeader +
           "You marked batch as dynamic but your code specialized it to be a constant (8). If you're "
           "using mark_dynamic, either remove it or use maybe_mark_dynamic. If you're using "
           "Dim.DYNAMIC, replace it with either Dim.STATIC or Dim.AUTO.",
       Fixes{{"batch = 8", "--dynamic x.0=static"}}},
      {{"const dynamic", {{"x.size()[0]", 8, {0, std::nullopt}, DimHint::kDynamic, "x.size()[0]"}},
        {"Eq(s0, 8)"}},
       std::string("Constraints violated (x.size()[0])") + kHeader +
           "You marked x.size()[0] as dynamic but your code specialized it to be a constant (8). If "
           "you're using mark_dynamic, either remove it or use maybe_mark_dynamic. If you're using "
           "Dim.DYNAMIC, replace it with either Dim.STATIC or Dim.AUTO.",
       Fixes{{"", "--dynamic x.0=static"}}},  // torch suggests nothing for an unnamed dim
      {{"twice",
        {{"dx", 4, {1, 512}, DimHint::kNamed, "x.size()[0]"},
         {"dy", 8, kR1_1024, DimHint::kNamed, "y.size()[0]"}},
        {"Eq(2*s0, s1)"}},
       std::string("Constraints violated (dy)") + kHeader +
           "The values of dy = y.size()[0] must always be related to the values of dx = x.size()[0] "
           "by dy = 2*dx.",
       Fixes{{"dy = 2*dx", "--dynamic y.0=2*dx"}}},
      {{"lt", {{"batch", 8, {2, 1024}, DimHint::kNamed, "x.size()[0]"}}, {"s0 <= 99"}},
       std::string("Constraints violated (batch)") + kHeader +
           "Not all values of batch = x.size()[0] in the specified range batch <= 1024 satisfy the "
           "generated guard 2 <= x.size()[0] and x.size()[0] <= 99",
       Fixes{{"batch = Dim('batch', max=99)", "--dynamic batch=2:99"}}},
      {{"lt unbounded", {{"batch", 8, {0, std::nullopt}, DimHint::kNamed, "x.size()[0]"}}, {"s0 <= 99"}},
       std::string("Constraints violated (batch)") + kHeader +
           "Not all values of batch = x.size()[0] in the specified range satisfy the generated guard "
           "2 <= x.size()[0] and x.size()[0] <= 99",
       Fixes{{"batch = Dim('batch', max=99)", "--dynamic batch=0:99"}}},
      {{"both", {{"batch", 8, {3, 1024}, DimHint::kNamed, "x.size()[0]"}}, {"s0 >= 5", "s0 <= 99"}},
       std::string("Constraints violated (batch)") + kHeader +
           "Not all values of batch = x.size()[0] in the specified range 3 <= batch <= 1024 satisfy "
           "the generated guard 5 <= x.size()[0] and x.size()[0] <= 99",
       Fixes{{"batch = Dim('batch', min=5, max=99)", "--dynamic batch=5:99"}}},
      {{"twice wide",
        {{"dx", 4, kR1_1024, DimHint::kNamed, "x.size()[0]"},
         {"dy", 8, kR1_1024, DimHint::kNamed, "y.size()[0]"}},
        {"Eq(2*s0, s1)"}},
       std::string("Constraints violated (dx, dy)") + kHeader +
           "The values of dy = y.size()[0] must always be related to the values of dx = x.size()[0] "
           "by dy = 2*dx.\n"
           "  - Not all values of dx = x.size()[0] in the specified range dx <= 1024 satisfy the "
           "generated guard 2 <= x.size()[0] and x.size()[0] <= 512",
       Fixes{{"dx = Dim('dx', max=512)", "--dynamic dx=1:512"}, {"dy = 2*dx", "--dynamic y.0=2*dx"}}},
      {{"offset",
        {{"dx", 4, {0, 64}, DimHint::kNamed, "x.size()[0]"},
         {"dy", 5, {0, 64}, DimHint::kNamed, "y.size()[0]"}},
        {"Eq(s0 + 1, s1)"}},
       std::string("Constraints violated (dx, dy)") + kHeader +
           "The values of dy = y.size()[0] must always be related to the values of dx = x.size()[0] "
           "by dy = dx + 1.\n"
           "  - Not all values of dx = x.size()[0] in the specified range dx <= 64 satisfy the "
           "generated guard 2 <= x.size()[0] and x.size()[0] <= 63",
       Fixes{{"dx = Dim('dx', max=63)", "--dynamic dx=0:63"}, {"dy = dx + 1", "--dynamic y.0=dx+1"}}},
      {{"gt view", {{"batch", 64, kR1_1024, DimHint::kNamed, "x.size()[0]"}},
        {"Mod(s0, 32) == 0", "s0 // 32 != 1", "s0 >= 41"}},
       std::string("Constraints violated (batch)") + kHeader +
           "Not all values of batch = x.size()[0] in the specified range batch <= 1024 satisfy the "
           "generated guard (x.size()[0] % 32) == 0.\n"
           "  - Not all values of batch = x.size()[0] in the specified range batch <= 1024 satisfy the "
           "generated guard (x.size()[0] // 32) != 1.\n"
           "  - Not all values of batch = x.size()[0] in the specified range batch <= 1024 satisfy the "
           "generated guard 41 <= x.size()[0] and x.size()[0] <= 1024",
       Fixes{{"_batch = Dim('_batch', max=32)", "--dynamic _batch=2:32"},
             {"batch = 32*_batch", "--dynamic x.0=32*_batch"}}},
      {{"gt unbounded upper", {{"batch", 8, {1, std::nullopt}, DimHint::kNamed, "x.size()[0]"}}, {"s0 >= 5"}},
       std::string("Constraints violated (batch)") + kHeader +
           "Not all values of batch = x.size()[0] in the specified range satisfy the generated guard "
           "5 <= x.size()[0] and x.size()[0] <= IntInfinity()",
       Fixes{{"batch = Dim('batch', min=5)", "--dynamic batch=5:"}}},
      {{"three equal",
        {{"a", 8, {0, 64}, DimHint::kNamed, "x.size()[0]"},
         {"b", 8, {0, 64}, DimHint::kNamed, "y.size()[0]"},
         {"c", 8, {0, 64}, DimHint::kNamed, "z.size()[0]"}},
        {"Eq(s0, s1)", "Eq(s0, s2)"}},
       std::string("Constraints violated (b, c)") + kHeader +
           "The values of b = y.size()[0] and a = x.size()[0] must always be equal.\n"
           "  - The values of c = z.size()[0] and a = x.size()[0] must always be equal.",
       Fixes{{"b = a", "--dynamic y.0=a"}, {"c = a", "--dynamic z.0=a"}}},
      {{"ne4", {{"batch", 8, {2, 1024}, DimHint::kNamed, "x.size()[0]"}}, {"s0 != 4"}},
       std::string("Constraints violated (batch)") + kHeader +
           "Not all values of batch = x.size()[0] in the specified range batch <= 1024 satisfy the "
           "generated guard x.size()[0] != 4.",
       Fixes{}},  // torch has no fix either: no range excludes only 4
  }));
  INFO(c.label);
  ShapeEnv env = make_env(c);
  CheckResult r = check_constraints(env);
  CHECK_FALSE(r.ok);
  CHECK_FALSE(r.unknown);
  CHECK(torch_part(r.violation_text) == text);
  REQUIRE(r.suggestions.size() == fixes.size());
  for (size_t i = 0; i < fixes.size(); ++i) {
    CHECK(r.suggestions[i].torch_form == fixes[i].first);
    CHECK(r.suggestions[i].flag_form == fixes[i].second);
  }
  // Our notes name the op and the source line of each guard.
  CHECK(r.violation_text.find("      required by aten::op at model.py:10 (test): y = op(x)") !=
        std::string::npos);
  // The message carries both forms of every fix.
  for (const auto& [torch_form, flag_form] : fixes) {
    if (!torch_form.empty()) CHECK(r.message.find("\n  " + torch_form) != std::string::npos);
    CHECK(r.message.find("\n  " + flag_form) != std::string::npos);
  }
  if (fixes.empty()) CHECK(r.message.find("No suggested fix") != std::string::npos);
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
  CHECK(r.message.empty());
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
  CHECK(r.message.find("could not decide") != std::string::npos);
  CHECK(r.message.find("required by aten::op at model.py:10") != std::string::npos);
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

TEST_CASE("source_to_target", "[shapes][checker]") {
  CHECK(source_to_target("x.size()[0]") == "x.0");
  CHECK(source_to_target("mask.size()[-1]") == "mask.-1");
  CHECK(source_to_target("args.0.size()[2]") == "args.0.2");
  CHECK(source_to_target("_batch") == "_batch");
}

TEST_CASE("to_json carries the report fields", "[shapes][checker]") {
  ShapeEnv env = make_env({"gt4", {{"batch", 8, kR1_1024, DimHint::kNamed, "x.size()[0]"}}, {"s0 >= 5"}});
  nlohmann::json j = check_constraints(env).to_json();
  CHECK(j["ok"] == false);
  CHECK(j["symbols"][0]["name"] == "batch");
  CHECK(j["symbols"][0]["verdict"] == "violated");
  CHECK(j["symbols"][0]["requested"]["max"] == 1024);
  CHECK(j["symbols"][0]["proven"]["min"] == 5);
  CHECK(j["symbols"][0]["violated"][0]["guard"] == "s0 >= 5");
  CHECK(j["symbols"][0]["violated"][0]["source"] == "model.py:10");
  CHECK(j["suggestions"][0]["flag"] == "--dynamic batch=5:1024");
  CHECK(j["final_ranges"]["s0"]["min"] == 5);
}
