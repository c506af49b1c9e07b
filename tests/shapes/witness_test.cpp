// tests/shapes/witness_test.cpp: shapes::nearest_point, the Z3 search for sizes that satisfy every
// guard (verification's joint points).
#include <catch2/catch_test_macros.hpp>

#include "shapes/witness.h"

using namespace ptx::shapes;

namespace {
Provenance why() { return Provenance{"aten::op", "op", "model.py:1", "", "test"}; }
}  // namespace

TEST_CASE("nearest_point reaches the targets when no guard is in the way", "[shapes][witness]") {
  ShapeEnv env;
  SymExpr a = env.create_symbol("a", 8, Range{1, 64}, DimHint::kNamed, "x.size()[0]");
  SymExpr b = env.create_symbol("b", 8, Range{1, 64}, DimHint::kNamed, "y.size()[0]");
  auto p = nearest_point(env, {}, {{a.symbol_id(), 17}, {b.symbol_id(), 40}});
  REQUIRE(p);
  CHECK(p->at(a.symbol_id()) == 17);
  CHECK(p->at(b.symbol_id()) == 40);
}

TEST_CASE("nearest_point moves tied symbols together and keeps every guard", "[shapes][witness]") {
  ShapeEnv env;
  SymExpr h = env.create_symbol("h", 64, Range{32, 224}, DimHint::kNamed, "x.size()[2]");
  SymExpr w = env.create_symbol("w", 64, Range{32, 224}, DimHint::kNamed, "x.size()[3]");
  env.add_guard(sym_eq(h, w), why());                      // a square input
  env.add_guard(sym_eq(python_mod(h, SymExpr(8)), SymExpr(0)), why());  // divisible by 8
  // Aiming at h = 101, w = 120: the nearest square multiple of 8 is 104 or 112 (|101-104|+|120-104| = 19,
  // |101-112|+|120-112| = 19); either way h == w and both divisible by 8.
  auto p = nearest_point(env, {}, {{h.symbol_id(), 101}, {w.symbol_id(), 120}});
  REQUIRE(p);
  const int64_t hv = p->at(h.symbol_id()), wv = p->at(w.symbol_id());
  CHECK(hv == wv);
  CHECK(hv % 8 == 0);
  CHECK(hv >= 101);
  CHECK(hv <= 120);
  for (const Guard& g : env.guards()) CHECK(g.cond.evaluate(*p) == std::optional<bool>(true));
}

TEST_CASE("nearest_point honours the given ranges over the requested ones", "[shapes][witness]") {
  ShapeEnv env;
  SymExpr s = env.create_symbol("s", 8, Range{1, 1024}, DimHint::kNamed, "x.size()[0]");
  auto p = nearest_point(env, {{s.str(), Range{2, 16}}}, {{s.symbol_id(), 500}});
  REQUIRE(p);
  CHECK(p->at(s.symbol_id()) == 16);
}

TEST_CASE("nearest_point is nullopt when no size satisfies the guards", "[shapes][witness]") {
  ShapeEnv env;
  SymExpr s = env.create_symbol("s", 8, Range{1, 64}, DimHint::kNamed, "x.size()[0]");
  env.add_guard(sym_ge(s, SymExpr(100)), why());
  CHECK_FALSE(nearest_point(env, {}, {{s.symbol_id(), 10}}));
}
