// tests/shapes/checker_enumeration_test.cpp: guards Z3 cannot decide within its budget (nonlinear
// products of floor divisions and remainders, as swin_t's window partition records) are decided by
// evaluating every point of small ranges, exactly; over large ranges they stay unknown.
#include <catch2/catch_test_macros.hpp>

#include <string>

#include "shapes/checker.h"
#include "shapes/sym_parse.h"

using namespace ptx::shapes;

namespace {

Provenance why() { return Provenance{"aten::view", "view", "swin_transformer.py:144", "", "view: element counts must match"}; }

// torchvision swin_t's window partition of an (H/4) x (W/4) feature map padded to multiples of 7:
// x.view(B, pad_H // 7, 7, pad_W // 7, 7, C) needs pad_H * pad_W == 49 * (pad_H // 7) * (pad_W // 7).
const char* kSwinGuard =
    "Eq(((h//4))*((w//4)) + ((h//4))*(Mod(-(Mod((w//4), 7)), 7)) + ((w//4))*(Mod(-(Mod((h//4), 7)), 7)) + "
    "(Mod(-(Mod((h//4), 7)), 7))*(Mod(-(Mod((w//4), 7)), 7)), "
    "49*(((((h//4)) + (Mod(-(Mod((h//4), 7)), 7)))//7))*(((((w//4)) + (Mod(-(Mod((w//4), 7)), 7)))//7)))";

ShapeEnv swin_env(Range r, const char* guard) {
  ShapeEnv env;
  SymExpr h = env.create_symbol("h", 64, r, DimHint::kNamed, "x.size()[2]");
  SymExpr w = env.create_symbol("w", 64, r, DimHint::kNamed, "x.size()[3]");
  env.add_guard(parse_sym_bool(guard, [&](const std::string& n) { return n == "h" ? h : w; }), why());
  return env;
}

}  // namespace

TEST_CASE("a nonlinear guard over small ranges is proved by enumeration", "[shapes][checker]") {
  CheckResult r = check_constraints(swin_env(Range{60, 115}, kSwinGuard), CheckOptions{});
  CHECK(r.ok);
  CHECK_FALSE(r.unknown);
  REQUIRE(r.symbols.size() == 2);
  CHECK(r.symbols[0].verdict == Verdict::kOk);
  CHECK(r.symbols[1].verdict == Verdict::kOk);
}

TEST_CASE("a nonlinear guard broken inside small ranges is a violation with a real counterexample",
          "[shapes][checker]") {
  // (h//4)*(w//4) is a multiple of 49 only for some sizes: broken at most points of [60, 115].
  const char* guard = "Eq(Mod(((h//4))*((w//4)), 49), 0)";
  ShapeEnv env = swin_env(Range{56, 115}, guard);
  CheckResult r = check_constraints(env, CheckOptions{});
  CHECK_FALSE(r.ok);
  CHECK_FALSE(r.unknown);
  bool found = false;
  for (const SymbolVerdict& v : r.symbols) {
    if (v.verdict != Verdict::kViolated || !v.counterexample) continue;
    found = true;
  }
  CHECK(found);
  CHECK(r.violation_text.find("Constraints violated") != std::string::npos);
}

TEST_CASE("the enumeration is bounded by the solver budget", "[shapes][checker]") {
  // 56 x 56 points: with a 1 ms budget (400 steps, 25 points) the guard is not enumerated.
  CheckOptions tiny;
  tiny.timeout_ms = 1;
  CheckResult r = check_constraints(swin_env(Range{60, 115}, kSwinGuard), tiny);
  CHECK(r.unknown);
}

TEST_CASE("a guard proved by enumeration is not a runtime assertion", "[shapes][checker]") {
  // A budget Z3 cannot prove the guard within (30 ms: 12,000 steps) but that enumerates [60, 80]^2
  // (441 points of at most 750). The final step asks Z3 again over the final ranges; it gives up
  // there too and must enumerate as the first step did, or the guard becomes a runtime assertion
  // (swin_t's artifact had it in some runs and not in others).
  CheckOptions small;
  small.timeout_ms = 30;
  CheckResult r = check_constraints(swin_env(Range{60, 80}, kSwinGuard), small);
  CHECK(r.ok);
  CHECK_FALSE(r.unknown);
  CHECK(r.runtime_asserts.empty());
  // Broken at a point of the range: enumeration does not hide it (a violation, not an assertion).
  CheckResult broken = check_constraints(swin_env(Range{60, 80}, "Eq(Mod(((h//4))*((w//4)), 49), 0)"), small);
  CHECK_FALSE(broken.ok);
}
