// tests/shapes/unbacked_test.cpp: unbacked symbols (values read from tensor data), checks,
// data-dependent decisions and the rules that make them. Expected ranges are torch.export 2.14's,
// asked live (nonzero of a [5, 4] tensor: u0 in [0, 20]; x[:n.item()] of 8 rows: u1 in [0, 8];
// torch._check(k >= 2), torch._check(k <= 8): u0 in [2, 8]).
#include <catch2/catch_test_macros.hpp>

#include "shapes/error.h"
#include "tests/shapes/rules_harness.h"

using namespace ptx::shapes;
using namespace ptx::shapes::test;

namespace {
Provenance at(const char* source, const char* code = "") { return Provenance{"aten::item", "", source, code, ""}; }
}  // namespace

TEST_CASE("unbacked symbols: names, ranges, hints and range asserts", "[shapes][unbacked]") {
  ShapeEnv env;
  SymExpr s0 = env.create_symbol("batch", 4, Range{1, 64}, DimHint::kNamed, "x.size()[0]");
  SymExpr u0 = env.create_unbacked(3, Range{Range::kNoMin, std::nullopt}, at("m.py:4"), "the value of n.item()");
  SymExpr u1 = env.create_unbacked(7, Range{0, 20}, at("m.py:5"), "the row count of nonzero");
  CHECK(u0.str() == "u0");
  CHECK(u1.str() == "u1");
  CHECK(env.symbols().size() == 1);  // the checker sees the user's symbols only
  CHECK(env.hint_of(u0 + u1 + s0) == 14);
  CHECK(env.range_of(u0).str() == "[-int_oo, int_oo]");
  CHECK(env.has_unbacked(u1 + 1));
  CHECK_FALSE(env.has_unbacked(s0 * 2));
  CHECK_THROWS_AS(env.create_unbacked(30, Range{0, 20}, at("m.py:6"), "x"), ptx::InternalError);
  // item(): no bound, no assert; nonzero: u1 >= 0 and u1 <= 20, as torch emits them.
  const auto asserts = env.deferred_asserts();
  REQUIRE(asserts.size() == 2);
  CHECK(asserts[0].cond.str() == "u1 >= 0");
  CHECK(asserts[1].cond.str() == "u1 <= 20");
  CHECK(env.guards().empty());
}

TEST_CASE("a branch on an unbacked value: decided by ranges and checks, else a data-dependent error",
          "[shapes][unbacked]") {
  ShapeEnv env;
  SymExpr u0 = env.create_unbacked(5, Range{Range::kNoMin, std::nullopt}, at("m.py:4"), "the value of n.item()");
  try {
    env.guard_bool(sym_gt(u0, 3), at("m.py:11", "if k > 3:"));
    FAIL("no error");
  } catch (const ptx::UserError& e) {
    CHECK(e.code() == ptx::ExitCode::kExportFailed);
    CHECK(e.diag_code() == "E_DATA_DEPENDENT");
    const std::string m = e.what();
    CHECK(m.find("m.py:11: could not guard on data-dependent expression u0 >= 4") == 0);
    CHECK(m.find("u0 is the value of n.item() at m.py:4") != std::string::npos);
    CHECK(m.find("if k > 3:") != std::string::npos);
    CHECK(m.find("torch._check(u0 >= 4)") != std::string::npos);
    CHECK(m.find("torch._check(u0 <= 3)") != std::string::npos);
  }
  // torch._check(k >= 2); torch._check(k <= 8): the range is [2, 8] and decides k >= 0 / k < 9.
  env.check(sym_ge(u0, 2), at("m.py:5"));
  env.check(sym_le(u0, 8), at("m.py:6"));
  CHECK(env.range_of(u0).str() == "[2, 8]");
  CHECK(env.guard_bool(sym_ge(u0, 0), at("m.py:7")));
  CHECK_FALSE(env.guard_bool(sym_gt(u0, 8), at("m.py:7")));
  // A relation is kept as a fact and decides the same question later.
  SymExpr s0 = env.create_symbol("n", 6, Range{1, 64}, DimHint::kNamed, "x.size()[0]");
  env.check(sym_le(u0, s0), at("m.py:8"));
  CHECK(env.guard_bool(sym_le(u0, s0), at("m.py:9")));
  CHECK_FALSE(env.guard_bool(sym_gt(u0, s0), at("m.py:9")));
  const auto asserts = env.deferred_asserts();
  REQUIRE(asserts.size() == 3);
  CHECK(asserts[0].cond.str() == "u0 >= 2");
  CHECK(asserts[1].cond.str() == "u0 <= 8");
  CHECK(asserts[2].cond == sym_le(u0, s0));
  CHECK(env.guards().empty());
  // A check that fails on the sample is the model's own error.
  CHECK_THROWS_AS(env.check(sym_ge(u0, 6), at("m.py:10")), ptx::UserError);
  // A check on backed symbols only is a guard for the checker.
  env.check(sym_ge(s0, 2), at("m.py:11"));
  REQUIRE(env.guards().size() == 1);
  CHECK(env.guards()[0].cond.str() == "s0 >= 2");
}

TEST_CASE("draft: data-dependent decisions are taken on the sample and kept as asserts", "[shapes][unbacked]") {
  ShapeEnv env;
  env.set_draft(true);
  SymExpr u0 = env.create_unbacked(5, Range{Range::kNoMin, std::nullopt}, at("m.py:4"), "the value of n.item()");
  CHECK(env.guard_bool(sym_gt(u0, 3), at("m.py:11")));
  CHECK(env.guard_bool(sym_gt(u0, 3), at("m.py:12")));  // decided now: one problem
  CHECK_FALSE(env.guard_bool(sym_eq(u0, 1), at("m.py:13")));
  REQUIRE(env.data_dependent_problems().size() == 2);
  CHECK(env.data_dependent_problems()[0].where.source == "m.py:11");
  const auto asserts = env.deferred_asserts();
  REQUIRE(asserts.size() == 2);
  CHECK(asserts[0].cond.str() == "u0 >= 4");
  CHECK(asserts[1].cond.str() == "Ne(u0, 1)");
}

TEST_CASE("rules of data-dependent sizes make unbacked symbols with torch's ranges", "[shapes][rules][unbacked]") {
  Harness h;
  SymExpr s0 = h.sym(5, Range{1, 10});
  auto r = h.run("aten::nonzero", {T({5, 4}, 11)}, "default", false, {{7, 2}});
  REQUIRE(r.error.empty());
  REQUIRE(r.shapes.size() == 1);
  CHECK(r.shapes[0][1] == SymExpr(2));
  CHECK(r.shapes[0][0].str() == "u0");
  CHECK(h.env.range_of(r.shapes[0][0]).str() == "[0, 20]");
  CHECK(h.env.hint_of(r.shapes[0][0]) == 7);
  // A dynamic input: the bound is numel's upper bound (s0 in [1, 10], 3 columns).
  r = h.run("aten::masked_select", {T({s0, 3}), T({s0, 3}, 11)}, "default", false, {{4}});
  REQUIRE(r.error.empty());
  CHECK(h.env.range_of(r.shapes[0][0]).str() == "[0, 30]");
  // No sample: the rule cannot make the symbol.
  CHECK_FALSE(h.run("aten::nonzero", {T({5, 4}, 11)}).error.empty());
  // where(condition): one [u] per dim of the condition (torch's aten.where.default), u in [0, numel].
  r = h.run("aten::where", {T({5, 4}, 11)}, "default", false, {{7}, {7}});
  REQUIRE(r.error.empty());
  REQUIRE(r.shapes.size() == 2);
  CHECK(r.shapes[0] == r.shapes[1]);
  CHECK(h.env.range_of(r.shapes[0][0]).str() == "[0, 20]");
  CHECK(h.env.hint_of(r.shapes[0][0]) == 7);
  r = h.run("aten::_unique2", {T({6}), B(true), B(true), B(false)}, "default", false, {{3}, {6}, {0}});
  REQUIRE(r.error.empty());
  CHECK(r.shapes[1] == SymShape{6});
  CHECK(r.shapes[2] == SymShape{0});
  CHECK(h.env.range_of(r.shapes[0][0]).str() == "[0, 6]");
  r = h.run("aten::repeat_interleave", {T({4}, 4), N()}, "Tensor", false, {{9}});
  REQUIRE(r.error.empty());
  CHECK(h.env.range_of(r.shapes[0][0]).str() == "[0, int_oo]");
  // x[mask] with a [5, 4] mask on a [5, 4, 3] tensor: [u, 3].
  RuleArg mask = TL({SymShape{5, 4}});
  mask.dtypes = {11};
  r = h.run("aten::index", {T({5, 4, 3}), mask}, "Tensor", false, {{6, 3}});
  REQUIRE(r.error.empty());
  CHECK(r.shapes[0][1] == SymExpr(3));
  CHECK(h.env.range_of(r.shapes[0][0]).str() == "[0, 20]");
  CHECK(h.guards().empty());
}

TEST_CASE("torchvision::nms keeps an unbacked count of its boxes", "[shapes][rules][unbacked]") {
  // torchvision's fake kernel: dets [N, 4], scores [N] -> int64 [u]; u's range [0, N] here.
  Harness h;
  SymExpr s0 = h.sym(40, Range{1, 64});
  auto r = h.run("torchvision::nms", {T({s0, 4}), T({s0}), F(0.5)}, "default", false, {{17}});
  REQUIRE(r.error.empty());
  REQUIRE(r.shapes.size() == 1);
  CHECK(r.shapes[0][0].str() == "u0");
  CHECK(h.env.range_of(r.shapes[0][0]).str() == "[0, 64]");
  CHECK(h.env.hint_of(r.shapes[0][0]) == 17);
  CHECK(h.guards().empty());
  // torchvision's own checks: 2-d boxes of 4 columns, 1-d scores of the boxes' length.
  CHECK(h.run("torchvision::nms", {T({s0}), T({s0}), F(0.5)}, "default", false, {{1}}).error.find("2d") !=
        std::string::npos);
  CHECK_FALSE(h.run("torchvision::nms", {T({5, 3}), T({5}), F(0.5)}, "default", false, {{1}}).error.empty());
  CHECK_FALSE(h.run("torchvision::nms", {T({5, 4}), T({6}), F(0.5)}, "default", false, {{1}}).error.empty());
  CHECK_FALSE(h.run("torchvision::nms", {T({5, 4}), T({5, 1}), F(0.5)}, "default", false, {{1}}).error.empty());
}

TEST_CASE("slice with a bound read from data", "[shapes][rules][unbacked]") {
  Harness h;
  SymExpr k = h.env.create_unbacked(3, Range{Range::kNoMin, std::nullopt}, at("m.py:4"), "the value of n.item()");
  // x[:k] of 8 rows: the sign of k is unknown, the length is a fresh u1 in [0, 8] (torch's).
  auto r = h.run("aten::slice", {T({8, 3}), I(0), N(), I(k), I(1)}, "Tensor");
  REQUIRE(r.error.empty());
  CHECK(r.shapes[0][0].str() == "u1");
  CHECK(h.env.range_of(r.shapes[0][0]).str() == "[0, 8]");
  CHECK(h.env.hint_of(r.shapes[0][0]) == 3);
  // After torch._check(k >= 2) and torch._check(k <= 8), x[:k] is exactly k rows.
  h.env.check(sym_ge(k, 2), at("m.py:5"));
  h.env.check(sym_le(k, 8), at("m.py:6"));
  r = h.run("aten::slice", {T({8, 3}), I(0), N(), I(k), I(1)}, "Tensor");
  REQUIRE(r.error.empty());
  CHECK(r.shapes[0][0] == k);
  CHECK(h.guards().empty());
}

TEST_CASE("a Min or Max of an unbacked value against its own operand is decided without a check",
          "[shapes][unbacked]") {
  // torchvision's detection postprocess: topk(scores, min(300, u0)) of a score filter's count u0 needs
  // Min(300, u0) <= u0, which the intervals ([0, 300] against [0, 3234]) cannot tell.
  ShapeEnv env;
  SymExpr u0 = env.create_unbacked(1000, Range{0, 3234}, at("m.py:4"), "the number of true elements of a mask");
  SymExpr k = sym_min(SymExpr(300), u0);
  CHECK(env.guard_bool(sym_le(k, u0), at("m.py:5")));
  CHECK_FALSE(env.guard_bool(sym_gt(k, u0), at("m.py:5")));
  CHECK(env.guard_bool(sym_le(k, u0 + 1), at("m.py:5")));  // through the intervals of the operand
  CHECK_FALSE(env.guard_bool(sym_lt(u0 + 1, k), at("m.py:5")));
  CHECK(env.guard_bool(sym_ge(sym_max(u0, SymExpr(1)), u0), at("m.py:6")));
  CHECK_FALSE(env.guard_bool(sym_eq(sym_min(u0, SymExpr(-1)), u0), at("m.py:6")));
  // Still undecided: the sample's Min(300, u0) < u0 holds for u0 = 1000 but not for u0 = 7.
  CHECK_THROWS_AS(env.guard_bool(sym_lt(k, u0), at("m.py:7")), ptx::UserError);
  CHECK(env.deferred_asserts().size() == 2);  // u0's range only: no decision was recorded
}

TEST_CASE("a data-dependent error names unbacked symbols of the same origin together", "[shapes][unbacked]") {
  // A detection model's per-class score filters: 90 counts of the same line in one sum (its message was
  // one clause per symbol, 20 kB).
  ShapeEnv env;
  SymExpr sum(0);
  for (int i = 0; i < 5; ++i) {
    sum = sum + sym_min(SymExpr(300), env.create_unbacked(700, Range{0, 3234}, at("ssd.py:255"), "the count of a mask"));
  }
  SymExpr n = env.create_unbacked(2, Range{0, 8}, at("m.py:9"), "the value of n.item()");
  try {
    env.guard_bool(sym_gt(sum + n, 1000), at("boxes.py:66"));
    FAIL("no error");
  } catch (const ptx::UserError& e) {
    const std::string m = e.what();
    INFO(m);
    CHECK(m.find("(u0, u1, ..., u4 (5 values) are each the count of a mask at ssd.py:255, range [0, 3234]; "
                 "u5 is the value of n.item() at m.py:9, range [0, 8])") != std::string::npos);
  }
}
