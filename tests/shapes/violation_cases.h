// tests/shapes/violation_cases.h: constraint violations with torch.export 2.14's text and fixes for
// them, shared by tests/shapes/checker_test.cpp (the checker's verdicts, texts and suggestions) and
// tests/cmd/report_test.cpp (the same suggestions as --dynamic flags and the message around them).
// Where the texts come from: the comment at the top of tests/shapes/checker_test.cpp.
#pragma once

#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "shapes/checker.h"
#include "shapes/sym_parse.h"

namespace ptx::shapes::test {

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

inline ShapeEnv make_env(const Case& c) {
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
inline std::string torch_part(const std::string& text) {
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line)) {
    if (line.rfind("      required by ", 0) == 0) continue;
    out += (out.empty() ? "" : "\n") + line;
  }
  return out;
}

inline constexpr const char* kHeader = "! For more information, run with TORCH_LOGS=\"+dynamic\".\n  - ";
inline const Range kR1_1024{1, 1024};

using Fixes = std::vector<std::pair<std::string, std::string>>;  // torch form, flag form

struct ViolationCase {
  Case c;
  std::string text;  // torch's text (the violation text without our notes)
  Fixes fixes;
};

inline const std::vector<ViolationCase>& violation_cases() {
  static const std::vector<ViolationCase> cases = {
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
  };
  return cases;
}

}  // namespace ptx::shapes::test
