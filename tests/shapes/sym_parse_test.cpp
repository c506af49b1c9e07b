// tests/shapes/sym_parse_test.cpp: reading symbolic text back (shapes/sym_parse.h).
//
// The torch texts below are what torch 2.14 prints (str) and writes into .pt2 files (srepr) for
// the same expressions; they were obtained with (scripts/env.sh run python3):
//   import sympy
//   from torch.utils._sympy.functions import FloorDiv, Mod, Min, Max, PythonMod
//   s0, s1 = sympy.symbols("s0 s1", integer=True, positive=True)
//   print(repr(str(e)), "|", sympy.srepr(e))
// and from print(ep) / runtime-assert messages of torch.export (ir printer tests say which
// module).
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <functional>
#include <map>

#include "shapes/error.h"
#include "shapes/sym.h"
#include "shapes/sym_parse.h"

using namespace ptx::shapes;
using Catch::Matchers::ContainsSubstring;

namespace {
const SymExpr s0 = SymExpr::new_symbol("s0");
const SymExpr s1 = SymExpr::new_symbol("s1");
const SymExpr s2 = SymExpr::new_symbol("s2");

SymExpr lookup(const std::string& name) {
  if (name == "s0") return s0;
  if (name == "s1") return s1;
  if (name == "s2") return s2;
  PTX_USER_FAIL(ptx::ExitCode::kInput, "E_TEST") << "unknown symbol " << name;
}
SymExpr P(const std::string& text) { return parse_sym(text, lookup); }
SymBool PB(const std::string& text) { return parse_sym_bool(text, lookup); }
using Make = std::function<SymExpr()>;
using MakeBool = std::function<SymBool()>;
}  // namespace

TEST_CASE("parse_sym reads torch's str() and srepr texts", "[shapes][sym_parse]") {
  auto [text, make] = GENERATE(table<const char*, Make>({
      {"s0", [] { return s0; }},
      {"42", [] { return SymExpr(42); }},
      {"-3", [] { return SymExpr(-3); }},
      {"3*s0", [] { return 3 * s0; }},
      {"((s0//3)) + 1", [] { return floor_div(s0, 3) + 1; }},
      {"Mod(s0, 4)", [] { return python_mod(s0, 4); }},
      {"PythonMod(s0, 3)", [] { return python_mod(s0, 3); }},
      {"FloorDiv(s0, 3)", [] { return floor_div(s0, 3); }},
      {"Max(1, s0 - 2)", [] { return sym_max(1, s0 - 2); }},
      {"Min(5, s0)", [] { return sym_min(s0, 5); }},
      {"s0**2*s1 - 7", [] { return s0 * s0 * s1 - 7; }},
      {"2*((s0//4))", [] { return 2 * floor_div(s0, 4); }},
      {"(((s0 - 1)//32)) + 1", [] { return floor_div(s0 - 1, 32) + 1; }},
      {"3 - s0", [] { return 3 - s0; }},
      {"-s0 - s1 + 3", [] { return 3 - s0 - s1; }},
      {"s0 % 4", [] { return python_mod(s0, 4); }},
      {"s0 // 2 * 2", [] { return floor_div(s0, 2) * 2; }},
      {"-2**2", [] { return SymExpr(-4); }},
      {"CeilDiv(s0, 4)", [] { return ceil_div(s0, 4); }},
      {"Min(s0, s1, 8)", [] { return sym_min(sym_min(s0, s1), 8); }},
      // srepr, as torch 2.14 writes sizes into a .pt2
      {"Symbol('s0', integer=True, positive=True)", [] { return s0; }},
      {"Mul(Integer(3), Symbol('s0', integer=True, positive=True))", [] { return 3 * s0; }},
      {"Add(FloorDiv(Symbol('s0', integer=True, positive=True), Integer(3)), Integer(1))",
       [] { return floor_div(s0, 3) + 1; }},
      {"Max(Integer(1), Add(Symbol('s0', integer=True, positive=True), Integer(-2)))",
       [] { return sym_max(1, s0 - 2); }},
      {"Add(Mul(Pow(Symbol('s0', integer=True, positive=True), Integer(2)), Symbol('s1', integer=True, "
       "positive=True)), Integer(-7))",
       [] { return s0 * s0 * s1 - 7; }},
  }));
  INFO(text);
  CHECK(P(text) == make());
}

TEST_CASE("parse_sym_bool reads relations in every spelling", "[shapes][sym_parse]") {
  auto [text, make] = GENERATE(table<const char*, MakeBool>({
      {"Eq(Mod(s0, 4), 0)", [] { return sym_eq(python_mod(s0, 4), 0); }},
      {"Ne((s0//4), 1)", [] { return sym_ne(floor_div(s0, 4), 1); }},
      {"s1 < s0", [] { return sym_lt(s1, s0); }},
      {"2*s1 <= 3*s0", [] { return sym_le(2 * s1, 3 * s0); }},
      {"1 <= 2*((s0//4))", [] { return sym_ge(2 * floor_div(s0, 4), 1); }},
      {"2*((s0//4)) >= 1", [] { return sym_ge(2 * floor_div(s0, 4), 1); }},
      {"s0 > 8", [] { return sym_gt(s0, 8); }},
      {"s0 == s1", [] { return sym_eq(s0, s1); }},
      {"s0 != 3", [] { return sym_ne(s0, 3); }},
      {"Lt(s0, s1)", [] { return sym_lt(s0, s1); }},
      {"Ge(s0, 2)", [] { return sym_ge(s0, 2); }},
      {"True", [] { return SymBool(true); }},
      {"false", [] { return SymBool(false); }},
      {"Equality(Mod(Symbol('s0', integer=True, positive=True), Integer(4)), Integer(0))",
       [] { return sym_eq(python_mod(s0, 4), 0); }},
      {"StrictLessThan(Symbol('s1', integer=True, positive=True), Symbol('s0', integer=True, positive=True))",
       [] { return sym_lt(s1, s0); }},
      {"GreaterThan(Mul(Integer(2), FloorDiv(Symbol('s0', integer=True, positive=True), Integer(4))), Integer(1))",
       [] { return sym_ge(2 * floor_div(s0, 4), 1); }},
      {"Unequality(FloorDiv(Symbol('s0', integer=True, positive=True), Integer(4)), Integer(1))",
       [] { return sym_ne(floor_div(s0, 4), 1); }},
  }));
  INFO(text);
  CHECK(PB(text) == make());
}

TEST_CASE("parse_sym inverts SymExpr::str and SymBool::str", "[shapes][sym_parse]") {
  const std::vector<SymExpr> exprs = {
      s0, 2 * s0 + 1, s0 - 1, floor_div(s0, 2), python_mod(s0, 4), sym_min(s0, 8), sym_max(1, s0),
      floor_div(s0 - 1, 32) + 1, -s0, 3 - s0, s0 * s1, 2 * s0 * s1, s1 - 2 * s0, floor_div(s0, 2) * 2,
      s0 * s0, s0 * s0 * 2, floor_div(2 * s0 + 1, 4), python_mod(s0 + 1, s1), sym_max(s1, s0),
      sym_min(s0, s1 + 1), floor_div(s0, 2) + s1, python_mod(s0, 4) + s0, -floor_div(s0, 2),
      python_mod(s0, 4) * 8, 3 - s0 - s1, -s0 - s1, 1 - 2 * s0, s0 * s1 * s2 - s2 + 5,
      floor_div(sym_max(s0, s1) * 3, s2), sym_min(floor_div(s0, 3), python_mod(s1, 5))};
  for (const SymExpr& e : exprs) {
    INFO(e.str());
    CHECK(P(e.str()) == e);
  }
  const std::vector<SymBool> bools = {
      sym_eq(python_mod(s0, 4), 0), sym_ne(s0, s1), sym_lt(s0, s1), sym_le(2 * s1, 3 * s0), sym_ge(s0, 5),
      sym_gt(s0 + s1, 7), sym_eq(s0 + 1, s1), sym_ne(floor_div(s0, 4), 1), SymBool(true), SymBool(false)};
  for (const SymBool& b : bools) {
    INFO(b.str());
    CHECK(PB(b.str()) == b);
  }
}

TEST_CASE("fresh_symbols makes one symbol per name", "[shapes][sym_parse]") {
  std::map<std::string, SymExpr> table;
  const SymbolLookup sym = fresh_symbols(table);
  const SymExpr a = parse_sym("s7 + s8", sym);
  const SymExpr b = parse_sym("Symbol('s7', integer=True, positive=True)", sym);
  REQUIRE(table.size() == 2);
  CHECK(b == table.at("s7"));
  CHECK(a == table.at("s7") + table.at("s8"));
  CHECK(table.at("s7") != s0);
  CHECK(a.str() == "s7 + s8");
}

TEST_CASE("file readers get input errors naming the text and the column", "[shapes][sym_parse][errors]") {
  auto [text, message] = GENERATE(table<const char*, const char*>({
      {"2*s0 +", "symbolic expression '2*s0 +': unexpected end at column 7"},
      {"s0 / 2", "symbolic expression 's0 / 2': unexpected '/' at column 4"},
      {"Mod(s0)", "symbolic expression 'Mod(s0)': Mod takes two arguments at column 8"},
      {"Foo(s0)", "symbolic expression 'Foo(s0)': unknown function 'Foo' at column 8"},
      {"(s0 + 1", "symbolic expression '(s0 + 1': expected ')' at column 8"},
      {"s0 + 1.5", "symbolic expression 's0 + 1.5': unexpected '.' at column 7"},
      {"s0 <= 3", "symbolic expression 's0 <= 3': expected an integer, got a condition"},
      {"Eq(s0, 1)", "symbolic expression 'Eq(s0, 1)': expected an integer, got a condition"},
      {"s0 + int_oo", "symbolic expression 's0 + int_oo': 'int_oo' is not an integer at column 6"},
      {"s0**s1", "symbolic expression 's0**s1': expected an integer at column 5"},
      {"99999999999999999999", "symbolic expression '99999999999999999999': integer too large at column 19"},
      {"s0 s1", "symbolic expression 's0 s1': unexpected 's' at column 4"},
      {"s0 // 0", "symbolic expression 's0 // 0': "},
      {"Symbol(s0)", "symbolic expression 'Symbol(s0)': expected a quoted symbol name at column 8"},
      {"Integer(s0)", "symbolic expression 'Integer(s0)': Integer takes one integer at column 12"},
  }));
  INFO(text);
  try {
    P(text);
    FAIL("no error");
  } catch (const ptx::UserError& e) {
    CHECK(e.code() == ptx::ExitCode::kInput);
    CHECK(e.diag_code() == "E_SYM_PARSE");
    CHECK_THAT(e.what(), ContainsSubstring(message));
  }
}

TEST_CASE("the lookup's own errors pass through", "[shapes][sym_parse][errors]") {
  try {
    P("s9 + 1");
    FAIL("no error");
  } catch (const ptx::UserError& e) {
    CHECK(e.diag_code() == "E_TEST");
    CHECK_THAT(e.what(), ContainsSubstring("unknown symbol s9"));
  }
}

TEST_CASE("parse_sym_bool errors", "[shapes][sym_parse][errors]") {
  CHECK_THROWS_WITH(PB("s0 + 1"), ContainsSubstring("symbolic condition 's0 + 1': expected one relation"));
  CHECK_THROWS_WITH(PB("s0 > 1 and s1 > 1"), ContainsSubstring("expected one relation"));
  CHECK_THROWS_WITH(PB("s0 < s1 < 3"), ContainsSubstring("unexpected '<'"));
  CHECK_THROWS_WITH(PB("Eq(s0 1)"), ContainsSubstring("expected ')'"));
  CHECK_THROWS_AS(PB("Eq(s0, 1) x"), ptx::UserError);
  // Overflow while folding constants is the text's fault, not an internal error.
  CHECK_THROWS_AS(P("9223372036854775807 + 1"), ptx::UserError);
  CHECK_THROWS_AS(P("4611686018427387904 * 4"), ptx::UserError);
}

TEST_CASE("parse_sym bounds the nesting and depth of untrusted text", "[shapes][sym_parse][security]") {
  // 20k nested brackets overflowed the stack of `inspect` and `run` (issue 19).
  const std::string deep = std::string(20000, '(') + "s0" + std::string(20000, ')');
  CHECK_THROWS_WITH(parse_sym(deep), ContainsSubstring("more than 200 nested levels"));
  CHECK_THROWS_WITH(parse_sym(std::string(20000, '-') + "s0"), ContainsSubstring("nested levels"));
  CHECK_THROWS_WITH(parse_sym("Max(" + std::string(5000, '(') + "1" + std::string(5000, ')') + ", 2)"),
                    ContainsSubstring("nested levels"));
  // A sum of n terms is n levels deep once built: 20k terms are refused, 500 are fine.
  std::string sum = "s0";
  for (int i = 0; i < 20000; ++i) sum += " + s0";
  CHECK_THROWS_WITH(parse_sym(sum), ContainsSubstring("deeper than 1000 levels"));
  std::string ok = "s0";
  for (int i = 0; i < 500; ++i) ok += " + s1";
  CHECK(parse_sym(ok, lookup) == s0 + 500 * s1);
  CHECK(parse_sym(std::string(150, '(') + "s0" + std::string(150, ')'), lookup) == s0);
  // The message quotes at most 200 characters of the text.
  try {
    parse_sym(deep);
  } catch (const ptx::UserError& e) {
    CHECK(std::string(e.what()).size() < 400);
  }
}

TEST_CASE("parse_sym refuses products and powers too large to expand", "[shapes][sym_parse][security]") {
  // fuzz_sym_parse's slow inputs (issue 19) took 17-22 s: a power of an 8-term sum (3432
  // monomials, within the bound) printed and parsed again, where the parser copied the left side
  // of the sum at each '+' and re-collected the partial sum. Now a fraction of a second.
  const std::string fuzzed = "(s0//sE- mm-m-OE- mao5om-zm-oao5oomaoom-zm-omao)**7 % 4";
  std::map<std::string, SymExpr> table;
  const SymExpr e = parse_sym(fuzzed, fresh_symbols(table));
  CHECK(e.kind() == SymKind::Mod);
  CHECK(parse_sym(e.str(), fresh_symbols(table)) == e);
  // 15 symbols to the 7th are 116280 monomials: refused at the first product past the bound.
  std::string syms = "q0";
  for (int i = 1; i < 15; ++i) syms += " - q" + std::to_string(i);
  const std::string power = "(" + syms + ")**7";
  try {
    parse_sym(power, fresh_symbols(table));
    FAIL("no error");
  } catch (const ptx::UserError& e) {
    CHECK(e.code() == ptx::ExitCode::kInput);
    CHECK(e.diag_code() == "E_SYM_TOO_LARGE");
    CHECK_THAT(e.what(), ContainsSubstring("symbolic expression '" + power + "': the product of a "));
    CHECK_THAT(e.what(), ContainsSubstring("a symbolic expression may have at most 100000 monomials"));
  }
  // A product of long sums written out: 400 x 400 terms.
  std::string sum = "a0";
  for (int i = 1; i < 400; ++i) sum += " + a" + std::to_string(i);
  CHECK_THROWS_WITH(parse_sym("(" + sum + ")*(" + sum + ") + 1", fresh_symbols(table)),
                    ContainsSubstring("the product of a 400-term and a 400-term expression would expand into 160000"));
  // Products within the bound whose sum is not: 300 x 300 twice, 180000 monomials.
  auto sum_of = [](char name) {
    std::string t = std::string(1, name) + "0";
    for (int i = 1; i < 300; ++i) t += std::string(" + ") + name + std::to_string(i);
    return "(" + t + ")";
  };
  CHECK_THROWS_WITH(parse_sym(sum_of('w') + "*" + sum_of('x') + " - " + sum_of('y') + "*" + sum_of('z'), fresh_symbols(table)),
                    ContainsSubstring("a sum of 180000 monomials"));
  // A power of a monomial: s0**(64**4) is 16.7M factors.
  CHECK_THROWS_WITH(P("(((s0**64)**64)**64)**64"), ContainsSubstring("1000000 factors (limits::"));
  // Powers that expand within the bounds are built as before (square and multiply).
  CHECK(P("(s0 + 1)**3") == s0 * s0 * s0 + 3 * s0 * s0 + 3 * s0 + 1);
  CHECK(P("(s0 - s1)**2") == s0 * s0 - 2 * s0 * s1 + s1 * s1);
  CHECK(P("(s0*s1)**5") == s0 * s0 * s0 * s0 * s0 * s1 * s1 * s1 * s1 * s1);
  CHECK(P("(s0 + s1 + s2 + 1)**6").operands().size() == 84);  // binomial(6 + 3, 3) monomials
  CHECK(P("s0**1") == s0);
  // The bool form goes through the same products.
  CHECK_THROWS_WITH(parse_sym_bool("(" + sum + ")**2 > 0", fresh_symbols(table)), ContainsSubstring("160000"));
}

TEST_CASE("parse_sym meets the names of a binary node right side first, with any compiler", "[shapes][sym_parse]") {
  // A reader gives each name a fresh symbol the first time it meets it (fresh_symbols), so the
  // order in which the two sides of a node are built numbers a file's symbols. C++ leaves the
  // order of f(arg(0), arg(1)) to the compiler (gcc: right first, clang: left first); the parser
  // fixes it to the right side first (the numbering gcc gave before).
  std::vector<std::string> met;
  const SymbolLookup record = [&met](const std::string& name) {
    met.push_back(name);
    return SymExpr::new_symbol(name);
  };
  const std::vector<std::string> b_then_a{"b", "a"};
  for (const std::string text : {"a*b", "a + b", "a - b", "a//b", "a % b", "Mod(a, b)", "Min(a, b)", "Max(a, b)",
                                 "FloorDiv(a, b)"}) {
    met.clear();
    (void)parse_sym(text, record);
    CHECK(met == b_then_a);
  }
  for (const std::string text : {"a < b", "a <= b", "a > b", "a >= b", "Eq(a, b)", "Ne(a, b)"}) {
    met.clear();
    (void)parse_sym_bool(text, record);
    CHECK(met == b_then_a);
  }
  met.clear();
  (void)parse_sym("a*b + c*d", record);
  CHECK(met == std::vector<std::string>{"d", "c", "b", "a"});
}
