// tests/serialize/sympy_text_test.cpp: srepr printing and parsing of torch's sympy text.
// The expected srepr strings are what torch 2.14's torch.export.save wrote for the same
// expressions (python: sympy.srepr of the export's fake-tensor sizes, see tests/serialize/golden/
// make_golden.py and docs/pt2.md).
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include "serialize/sympy_text.h"

using ptx::serialize::parse_sympy_bool;
using ptx::serialize::parse_sympy_expr;
using ptx::serialize::SymbolTable;
using ptx::serialize::SympyParseError;
using ptx::serialize::to_sympy_repr;
using ptx::shapes::SymExpr;

namespace {
const std::string kS77 = "Symbol('s77', positive=True, integer=True)";
const std::string kS17 = "Symbol('s17', positive=True, integer=True)";
}  // namespace

TEST_CASE("srepr matches what torch writes for export's expressions", "[serialize][sympy]") {
  const SymExpr s77 = SymExpr::new_symbol("s77");
  CHECK(to_sympy_repr(s77) == kS77);
  CHECK(to_sympy_repr(SymExpr(3) * s77) == "Mul(Integer(3), " + kS77 + ")");
  CHECK(to_sympy_repr(ptx::shapes::floor_div(s77, 3)) == "FloorDiv(" + kS77 + ", Integer(3))");
  CHECK(to_sympy_repr(ptx::shapes::floor_div(s77, 3) + 1) == "Add(FloorDiv(" + kS77 + ", Integer(3)), Integer(1))");
  CHECK(to_sympy_repr(ptx::shapes::python_mod(s77, 3)) == "Mod(" + kS77 + ", Integer(3))");
  CHECK(to_sympy_repr(s77 - 1) == "Add(" + kS77 + ", Integer(-1))");
  CHECK(to_sympy_repr(-s77) == "Mul(Integer(-1), " + kS77 + ")");
  CHECK(to_sympy_repr(SymExpr(-2) * s77) == "Mul(Integer(-1), Integer(2), " + kS77 + ")");
  CHECK(to_sympy_repr(SymExpr(42)) == "Integer(42)");
  // A dividend that may be negative needs Python's modulo, not torch's non-negative Mod.
  const SymExpr s17 = SymExpr::new_symbol("s17");
  INFO(ptx::shapes::python_mod(s77 - s17, 3).str());
  CHECK(to_sympy_repr(ptx::shapes::python_mod(s77 - s17, 3)).rfind("PythonMod(", 0) == 0);
}

TEST_CASE("parses the srepr text torch.export.save wrote", "[serialize][sympy]") {
  SymbolTable syms;
  const SymExpr s77 = parse_sympy_expr(kS77, syms);
  const SymExpr s17 = parse_sympy_expr(kS17, syms);
  REQUIRE(s77.is_symbol());
  CHECK(s77.symbol_name() == "s77");
  CHECK(parse_sympy_expr(kS77, syms) == s77);  // one symbol per name
  // Strings copied from the model.json of a torch 2.14 export (x.shape[0] % 3 + y.shape[0] - 1, ...).
  CHECK(parse_sympy_expr("Mul(Integer(4), " + kS77 + ")", syms) == s77 * 4);
  CHECK(parse_sympy_expr("Add(FloorDiv(" + kS77 + ", Integer(3)), Integer(1))", syms) ==
        ptx::shapes::floor_div(s77, 3) + 1);
  CHECK(parse_sympy_expr("Add(" + kS17 + ", Mod(" + kS77 + ", Integer(3)), Integer(-1))", syms) ==
        s17 + ptx::shapes::python_mod(s77, 3) - 1);
  CHECK(parse_sympy_expr("Add(Mul(Integer(-1), Integer(2), " + kS17 + "), " + kS77 + ")", syms) == s77 - s17 * 2);
  CHECK(parse_sympy_expr("Pow(" + kS77 + ", Integer(2))", syms) == s77 * s77);
  CHECK(parse_sympy_expr("Min(Integer(8), " + kS77 + ")", syms) == ptx::shapes::sym_min(s77, 8));
}

TEST_CASE("parses torch's str() text", "[serialize][sympy]") {
  SymbolTable syms;
  const SymExpr s0 = parse_sympy_expr("s0", syms);
  CHECK(parse_sympy_expr("2*s0 + 1", syms) == s0 * 2 + 1);
  CHECK(parse_sympy_expr("s0 - 1", syms) == s0 - 1);
  CHECK(parse_sympy_expr("3 - s0", syms) == SymExpr(3) - s0);
  CHECK(parse_sympy_expr("(s0//2)", syms) == ptx::shapes::floor_div(s0, 2));
  CHECK(parse_sympy_expr("Mod(s0, 4)", syms) == ptx::shapes::python_mod(s0, 4));
  CHECK(parse_sympy_expr("s0 % 4", syms) == ptx::shapes::python_mod(s0, 4));
  CHECK(parse_sympy_expr("Max(1, s0)", syms) == ptx::shapes::sym_max(1, s0));
  CHECK(parse_sympy_expr("((s0 - 1)//32) + 1", syms) == ptx::shapes::floor_div(s0 - 1, 32) + 1);
  CHECK(parse_sympy_expr("s0**2", syms) == s0 * s0);
  CHECK(parse_sympy_expr("-s0", syms) == -s0);
}

TEST_CASE("printing then parsing gives the same expression", "[serialize][sympy]") {
  const SymExpr a = SymExpr::new_symbol("a0");
  const SymExpr b = SymExpr::new_symbol("b0");
  const std::vector<SymExpr> cases = {
      a, a + b, a * b + 3, a - b * 2, ptx::shapes::floor_div(a * 3 + b, 4), ptx::shapes::python_mod(a, b),
      ptx::shapes::sym_max(a, b * 2), ptx::shapes::sym_min(a + 1, 16), ptx::shapes::ceil_div(a, 8) * b, SymExpr(-7)};
  for (const SymExpr& e : cases) {
    INFO(e.str());
    SymbolTable syms{{"a0", a}, {"b0", b}};
    CHECK(parse_sympy_expr(to_sympy_repr(e), syms) == e);
    CHECK(parse_sympy_expr(e.str(), syms) == e);
  }
}

TEST_CASE("relations", "[serialize][sympy]") {
  SymbolTable syms;
  const SymExpr s0 = parse_sympy_expr("s0", syms);
  CHECK(parse_sympy_bool("Eq(s0, 8)", syms) == ptx::shapes::sym_eq(s0, 8));
  CHECK(parse_sympy_bool("s0 >= 5", syms) == ptx::shapes::sym_ge(s0, 5));
  CHECK(parse_sympy_bool("Ne(Mod(s0, 4), 0)", syms) == ptx::shapes::sym_ne(ptx::shapes::python_mod(s0, 4), 0));
  const auto rel = ptx::shapes::sym_lt(s0, 100);
  CHECK(parse_sympy_bool(to_sympy_repr(rel), syms) == rel);
  CHECK(parse_sympy_bool("True", syms).as_const() == std::optional<bool>(true));
}

TEST_CASE("malformed text is a parse error naming the text", "[serialize][sympy]") {
  const std::string bad = GENERATE(as<std::string>{}, "s0 +", "Foo(s0)", "s0 // 0", "Symbol(3)", "(s0", "s0 $ 2",
                                   "Integer(s0)", "99999999999999999999", "s0 ** -1", "Eq(s0, 1)");
  SymbolTable syms;
  CHECK_THROWS_WITH(parse_sympy_expr(bad, syms), Catch::Matchers::ContainsSubstring(bad));
  CHECK_THROWS_AS(parse_sympy_expr(bad, syms), SympyParseError);
}

TEST_CASE("an error names the text once; only a syntax error says it cannot be parsed", "[serialize][sympy]") {
  auto message = [](const std::string& text) {
    SymbolTable syms;
    try {
      (void)parse_sympy_expr(text, syms);
    } catch (const SympyParseError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  auto count = [](const std::string& s, const std::string& part) {
    size_t n = 0;
    for (size_t at = s.find(part); at != std::string::npos; at = s.find(part, at + 1)) ++n;
    return n;
  };
  // Valid, but 15 symbols to the 7th are 116280 monomials (shapes/limits.h, kMaxSymTerms).
  std::string sum = "q0";
  for (int i = 1; i < 15; ++i) sum += " - q" + std::to_string(i);
  const std::string big = "(" + sum + ")**7";
  const std::string too_large = message(big);
  CHECK(count(too_large, "'" + big + "'") == 1);
  CHECK(too_large.find("cannot parse") == std::string::npos);
  CHECK_THAT(too_large, Catch::Matchers::ContainsSubstring("would expand into"));
  for (const std::string bad : {"s0 +", "(s0", "Max(s0 < 1, 2)", "Eq(s0, 1)", "s0 // 0"}) {
    const std::string m = message(bad);
    CHECK(count(m, "'" + bad + "'") == 1);
    CHECK(m.rfind("cannot parse symbolic expression '", 0) == 0);
  }
}
