// tests/shapes/shape_env_test.cpp: symbols, hints, guard recording and interval reasoning.
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include <functional>

#include "shapes/error.h"
#include "shapes/interval.h"
#include "shapes/shape_env.h"

using namespace ptx::shapes;

namespace {
Provenance why(const char* op) { return Provenance{op, "", "model.py:3", "", "test"}; }
}  // namespace

TEST_CASE("Range and Provenance printing", "[shapes][shape_env]") {
  CHECK(Range{2, 1024}.str() == "[2, 1024]");
  CHECK(Range{0, std::nullopt}.str() == "[0, int_oo]");
  CHECK(Range{2, 8}.contains(8));
  CHECK_FALSE(Range{2, 8}.contains(1));
  CHECK(Range{0, std::nullopt}.contains(1 << 30));
  CHECK(Provenance{"aten::view", "view_3", "model.py:41", "x.view(-1, 32)",
                   "element counts must match"}
            .str() == "aten::view at model.py:41 (element counts must match)");
  CHECK(Provenance{"aten::add", "", "", "", ""}.str() == "aten::add");
  CHECK(Provenance{"", "add_1", "", "", "broadcast"}.str() == "add_1 (broadcast)");
}

TEST_CASE("create_symbol names symbols per env and keeps hints", "[shapes][shape_env]") {
  ShapeEnv env;
  SymExpr a = env.create_symbol("batch", 8, Range{1, 1024}, DimHint::kNamed, "x.size()[0]");
  SymExpr b = env.create_symbol("", 3, Range{2, std::nullopt}, DimHint::kAuto, "y.size()[1]");
  CHECK(a.str() == "s0");
  CHECK(b.str() == "s1");
  ShapeEnv other;
  CHECK(other.create_symbol("n", 4, Range{1, 8}, DimHint::kNamed, "z.size()[0]").str() == "s0");
  CHECK(a != other.symbols()[0].sym);

  REQUIRE(env.symbols().size() == 2);
  CHECK(env.find_symbol(a)->user_name == "batch");
  CHECK(env.find_symbol(b)->user_name == "y.size()[1]");  // unnamed: the first source
  CHECK(env.find_symbol("batch")->sym == a);
  CHECK(env.find_symbol("nope") == nullptr);
  env.add_source(a, "w.size()[0]");
  env.add_source(a, "w.size()[0]");
  CHECK(env.find_symbol(a)->sources == std::vector<std::string>{"x.size()[0]", "w.size()[0]"});
  CHECK(env.hint_of(2 * a + b) == 19);
  CHECK(env.range_of(b).str() == "[2, int_oo]");
  CHECK_THROWS_AS(env.hint_of(other.symbols()[0].sym), ptx::InternalError);
  CHECK_THROWS_AS(env.range_of(a + 1), ptx::InternalError);
}

TEST_CASE("guard_bool decides on the hint and records what is not implied", "[shapes][shape_env]") {
  // batch in [1, 1024] with sample 8; n in [2, 16] with sample 4.
  using Cond = std::function<SymBool(SymExpr, SymExpr)>;
  auto [label, cond, answer, recorded] = GENERATE(table<const char*, Cond, bool, const char*>({
      {"gt 4 holds on the sample", [](SymExpr b, SymExpr) { return sym_gt(b, 4); }, true,
       "s0 >= 5"},
      {"le 4 is false on the sample", [](SymExpr b, SymExpr) { return sym_le(b, 4); }, false,
       "s0 >= 5"},
      {"eq 1 is false: records Ne", [](SymExpr b, SymExpr) { return sym_eq(b, 1); }, false,
       "Ne(s0, 1)"},
      {"eq 8 specializes", [](SymExpr b, SymExpr) { return sym_eq(b, 8); }, true, "Eq(s0, 8)"},
      {"implied by range", [](SymExpr b, SymExpr) { return sym_ge(b, 1); }, true, ""},
      {"implied upper bound", [](SymExpr b, SymExpr) { return sym_lt(b, 2000); }, true, ""},
      {"decided by range though false", [](SymExpr b, SymExpr) { return sym_gt(b, 1024); }, false,
       ""},
      {"divisibility", [](SymExpr b, SymExpr) { return sym_eq(python_mod(b, 4), 0); }, true,
       "Eq(Mod(s0, 4), 0)"},
      {"mod range implied", [](SymExpr b, SymExpr) { return sym_lt(python_mod(b, 4), 4); }, true,
       ""},
      {"relation", [](SymExpr b, SymExpr n) { return sym_eq(b, 2 * n); }, true, "Eq(2*s1, s0)"},
      {"equal samples are not equal symbols", [](SymExpr b, SymExpr n) { return sym_ne(b, n); },
       true, "Ne(s0, s1)"},
      {"implied by both ranges", [](SymExpr b, SymExpr n) { return sym_le(b * n, 1024 * 16); },
       true, ""},
      {"floordiv bound", [](SymExpr b, SymExpr) { return sym_le(floor_div(b, 2), 512); }, true,
       ""},
      {"min bound", [](SymExpr b, SymExpr n) { return sym_le(sym_min(b, n), 16); }, true, ""},
  }));
  INFO(label);
  ShapeEnv env;
  SymExpr b = env.create_symbol("batch", 8, Range{1, 1024}, DimHint::kNamed, "x.size()[0]");
  SymExpr n = env.create_symbol("n", 4, Range{2, 16}, DimHint::kNamed, "y.size()[0]");
  CHECK(env.guard_bool(cond(b, n), why("aten::test")) == answer);
  if (std::string(recorded).empty()) {
    CHECK(env.guards().empty());
  } else {
    REQUIRE(env.guards().size() == 1);
    CHECK(env.guards()[0].cond.str() == recorded);
    CHECK(env.guards()[0].origin.op == "aten::test");
  }
}

TEST_CASE("equal samples: distinct symbols stay distinct", "[shapes][shape_env]") {
  // Note [Equal samples]: two dims with the same sample value are different symbols, and only a
  // guard relates them.
  ShapeEnv env;
  SymExpr x = env.create_symbol("a", 8, Range{1, 64}, DimHint::kNamed, "x.size()[0]");
  SymExpr y = env.create_symbol("b", 8, Range{1, 64}, DimHint::kNamed, "y.size()[0]");
  CHECK(x != y);
  CHECK(env.hint_of(x - y) == 0);
  CHECK((x - y) != SymExpr(0));
  CHECK(env.guards().empty());
  CHECK(env.guard_bool(sym_eq(x, y), why("aten::add")));
  REQUIRE(env.guards().size() == 1);
  CHECK(env.guards()[0].cond.str() == "Eq(s0, s1)");
}

TEST_CASE("guards are deduplicated and guard_int records equalities", "[shapes][shape_env]") {
  ShapeEnv env;
  SymExpr s = env.create_symbol("batch", 8, Range{1, 1024}, DimHint::kNamed, "x.size()[0]");
  env.guard_bool(sym_gt(s, 4), why("first"));
  env.guard_bool(sym_ge(s, 5), why("second"));   // same canonical guard
  env.guard_bool(sym_lt(s, 5), why("negated"));  // false on the sample: records s0 >= 5 again
  REQUIRE(env.guards().size() == 1);
  CHECK(env.guards()[0].origin.op == "first");

  CHECK(env.guard_int(2 * s + 1, why("aten::reshape")) == 17);
  REQUIRE(env.guards().size() == 2);
  CHECK(env.guards()[1].cond.str() == "Eq(s0, 8)");  // 2*s0 + 1 == 17, normalized
  CHECK(env.guard_int(SymExpr(5), why("const")) == 5);
  CHECK(env.guards().size() == 2);

  env.add_guard(SymBool(true), why("trivial"));
  CHECK(env.guards().size() == 2);
  env.add_guard(sym_eq(python_mod(s, 8), 0), why("view"));
  env.add_guard(sym_eq(python_mod(s + 8, 8), 0), why("view again"));
  CHECK(env.guards().size() == 3);
}

TEST_CASE("statically_true uses the requested ranges", "[shapes][shape_env]") {
  ShapeEnv env;
  SymExpr s = env.create_symbol("batch", 8, Range{2, 1024}, DimHint::kDynamic, "x.size()[0]");
  SymExpr t = env.create_symbol("t", 3, Range{0, std::nullopt}, DimHint::kAuto, "y.size()[0]");
  CHECK(env.statically_true(sym_ne(s, 1)));
  CHECK(env.statically_true(sym_ne(s, 0)));
  CHECK_FALSE(env.statically_true(sym_ne(s, 2)));
  CHECK(env.statically_true(sym_ge(s + t, 2)));
  CHECK_FALSE(env.statically_true(sym_le(s + t, 2000)));
  CHECK(env.statically_true(sym_ge(python_mod(t, 3), 0)));
  CHECK(env.statically_true(sym_le(python_mod(t, 3), 2)));
  CHECK(env.statically_true(sym_ge(s * s, 4)));
  CHECK(env.statically_true(SymBool(true)));
  CHECK_FALSE(env.statically_true(SymBool(false)));
}

TEST_CASE("interval bounds", "[shapes][interval]") {
  static const SymExpr a = SymExpr::new_symbol("a");
  static const SymExpr b = SymExpr::new_symbol("b");
  auto sb = [&](SymExpr s) {
    if (s == a) return Interval{-3, 10};
    return Interval{2, std::nullopt};
  };
  using MakeE = std::function<SymExpr(SymExpr, SymExpr)>;
  auto [label, make, expected] = GENERATE(table<const char*, MakeE, const char*>({
      {"symbol", [](SymExpr a, [[maybe_unused]] SymExpr b) { return a; }, "[-3, 10]"},
      {"sum", [](SymExpr a, [[maybe_unused]] SymExpr b) { return a + b; }, "[-1, int_oo]"},
      {"negation", [](SymExpr a, [[maybe_unused]] SymExpr b) { return -a; }, "[-10, 3]"},
      {"product with unbounded", [](SymExpr a, [[maybe_unused]] SymExpr b) { return a * b; }, "[-int_oo, int_oo]"},
      {"square", [](SymExpr a, [[maybe_unused]] SymExpr b) { return a * a; }, "[0, 100]"},
      {"floordiv", [](SymExpr a, [[maybe_unused]] SymExpr b) { return floor_div(a, 2); }, "[-2, 5]"},
      {"floordiv by symbol", [](SymExpr a, [[maybe_unused]] SymExpr b) { return floor_div(a, b); }, "[-2, 5]"},
      {"mod", [](SymExpr a, [[maybe_unused]] SymExpr b) { return python_mod(a, 4); }, "[0, 3]"},
      {"mod by symbol", [](SymExpr a, [[maybe_unused]] SymExpr b) { return python_mod(a, b); }, "[0, int_oo]"},
      {"min", [](SymExpr a, [[maybe_unused]] SymExpr b) { return sym_min(a, b); }, "[-3, 10]"},
      {"max", [](SymExpr a, [[maybe_unused]] SymExpr b) { return sym_max(a, b); }, "[2, int_oo]"},
      {"mod of small", [](SymExpr a, [[maybe_unused]] SymExpr b) { return python_mod(sym_max(a, 0), 16); }, "[0, 10]"},
  }));
  INFO(label);
  CHECK(bounds_of(make(a, b), sb).str() == expected);
}

TEST_CASE("Provenance keeps the call chain and prints it as torch's stack trace", "[shapes][shape_env]") {
  Provenance p{"aten::view", "", "blocks.py:7", "return x.view(-1, 4)", ""};
  CHECK(p.stack_trace().empty());
  p.stack = {{"model.py", 12, "forward", "y = self.block(x)"}, {"blocks.py", 7, "forward", "return x.view(-1, 4)"}};
  CHECK(p.stack_trace() ==
        "File \"model.py\", line 12, in forward\n    y = self.block(x)\n"
        "File \"blocks.py\", line 7, in forward\n    return x.view(-1, 4)");
}

TEST_CASE("name_node gives the op's guards since the last call the node made for it", "[shapes][shape_env]") {
  ShapeEnv env;
  const SymExpr s0 = env.create_symbol("n", 8, Range{2, 64}, DimHint::kDynamic, "x.size()[0]");
  env.add_guard(sym_le(s0, 32), why("prim::If"));   // compared in the model's own code: no node
  env.add_guard(sym_ge(s0, 4), why("aten::view"));  // the view's own guard
  env.name_node("aten::view", "view");
  env.add_guard(sym_ne(s0, 5), why("aten::view"));  // a later view
  env.name_node("aten::view", "view_1");
  env.name_node("aten::view", "view_2");            // nothing new: no guard renamed
  REQUIRE(env.guards().size() == 3);
  CHECK(env.guards()[0].origin.node.empty());
  CHECK(env.guards()[1].origin.node == "view");
  CHECK(env.guards()[2].origin.node == "view_1");
}
