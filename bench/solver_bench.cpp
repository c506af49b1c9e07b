// bench/solver_bench.cpp: times shapes::check_constraints on synthetic guard sets of 10 to 100,000
// guards (not a test; docs/solver.md records the curve). Usage: solver_bench [max_guards] [group]
//
// One symbol per 50 guards, each getting every kind of guard below in turn. A guard on two symbols
// relates neighbours within a group of `group` symbols (default 10), so the guards form connected
// components of `group` symbols; group 0 makes one ring of all symbols (a single component, the
// worst case for the checker).
// Scenarios (every guard holds on the sample, as tracing guarantees):
//   named-ok    named symbols in [1, 4096]; guards implied by the ranges: three in four are settled
//               by intervals, one in four needs Z3 (Mod(s+1, 2) + Mod(s, 2) == 1).
//   dynamic     Dim.DYNAMIC symbols; bounds, divisibility and equalities between neighbours that
//               refine ranges and become runtime asserts (range search and runtime-assert proofs).
//   named-bad   named symbols with one violated bound each (s >= 5): the violation path, including
//               suggestions re-checked by a second analysis.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "shapes/checker.h"

using namespace ptx::shapes;

namespace {

Provenance why(size_t j) { return Provenance{"aten::op", "op_" + std::to_string(j), "model.py:1", "", "bench"}; }

ShapeEnv make(const std::string& scenario, size_t n, size_t group) {
  ShapeEnv env;
  size_t symbols = std::max<size_t>(2, n / 50);
  DimHint kind = scenario == "dynamic" ? DimHint::kDynamic : DimHint::kNamed;
  Range r = kind == DimHint::kDynamic ? Range{0, std::nullopt} : Range{1, 4096};
  std::vector<SymExpr> s;
  for (size_t i = 0; i < symbols; ++i) {
    std::string src = "x" + std::to_string(i) + ".size()[0]";
    s.push_back(env.create_symbol(kind == DimHint::kNamed ? "d" + std::to_string(i) : src, 64, r, kind, src));
  }
  for (size_t j = 0; env.guards().size() < n; ++j) {
    size_t i = j % symbols;
    size_t g = group == 0 ? symbols : std::min(group, symbols);
    size_t first = i / g * g, size = std::min(g, symbols - first);
    SymExpr a = s[i], b = s[first + (i - first + 1) % size];
    int64_t c = static_cast<int64_t>(j);
    size_t kind = (j + j / symbols) % 4;  // every symbol gets every kind of guard, round by round
    if (scenario == "named-ok") {
      switch (kind) {
        case 0: env.add_guard(sym_le(a, 4096 + c), why(j)); break;
        case 1: env.add_guard(sym_le(a + b, 8192 + c), why(j)); break;
        case 2: env.add_guard(sym_ge(a * b, 1 - c), why(j)); break;
        default: env.add_guard(sym_eq(python_mod(a + 1, 2) + python_mod(a, 2) + c, 1 + c), why(j)); break;
      }
    } else if (scenario == "dynamic") {
      switch (kind) {
        case 0: env.add_guard(sym_ge(a, 2 + static_cast<int64_t>(j % 60)), why(j)); break;
        case 1: env.add_guard(sym_eq(python_mod(a, 2 << (j % 5)), 0), why(j)); break;
        case 2: env.add_guard(sym_eq(a, b), why(j)); break;
        default: env.add_guard(sym_le(a + b, 1000000 + c), why(j)); break;
      }
    } else {  // named-bad
      if (j < symbols) {
        env.add_guard(sym_ge(a, 5), why(j));
      } else {
        env.add_guard(sym_le(a, 4096 + c), why(j));
      }
    }
    if (j > 20 * n + 100) break;  // a scenario that cannot make n distinct guards
  }
  return env;
}

}  // namespace

int main(int argc, char** argv) {
  size_t max_guards = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100000;
  size_t group = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 10;
  std::printf("components of %s symbols\n", group ? std::to_string(group).c_str() : "all");
  std::printf("%-10s %8s %8s %10s %s\n", "scenario", "guards", "symbols", "seconds", "verdict");
  for (const char* scenario : {"named-ok", "dynamic", "named-bad"}) {
    for (size_t n = 10; n <= max_guards; n *= 10) {
      ShapeEnv env = make(scenario, n, group);
      auto t0 = std::chrono::steady_clock::now();
      CheckResult r = check_constraints(env);
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("%-10s %8zu %8zu %10.3f %s (%zu runtime asserts)\n", scenario, env.guards().size(),
                  env.symbols().size(), secs, r.ok ? "ok" : (r.unknown ? "unknown" : "violated"),
                  r.runtime_asserts.size());
      std::fflush(stdout);
      if (secs > 300) break;  // the next size would take too long on this machine
    }
  }
  return 0;
}
