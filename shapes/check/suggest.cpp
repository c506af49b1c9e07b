// shapes/check/suggest.cpp: suggested fixes. A repaired spec is built from the violations (forced
// constants, relations, congruences, ranges too wide), applied to a copy of the env, and analyzed
// again; only a spec that passes is suggested. See internal.h.
#include <algorithm>
#include <set>
#include <unordered_map>

#include "shapes/check/internal.h"

namespace ptx::shapes::check {
namespace {

struct Fix {
  enum Kind { kRange, kStatic, kRelation, kCongruence } kind;
  SymExpr sym;
  Range range;           // kRange; kCongruence: the new root's range
  int64_t value = 0;     // kStatic
  SymExpr root;          // kRelation
  int64_t k = 1, m = 0;  // kRelation: sym == k*root + m; kCongruence: sym == k*_root - m
};

// Builds the env the fixes describe: fixed symbols are replaced by expressions of the others (or of
// new roots), and the guards are substituted. Returns false if the sample violates the new spec.
bool apply_fixes(const ShapeEnv& env, const std::vector<Fix>& fixes, ShapeEnv& out) {
  std::map<int, const Fix*> by_id;
  for (const Fix& f : fixes) by_id[f.sym.symbol_id()] = &f;
  std::unordered_map<int, SymExpr> repl;
  std::unordered_map<int, SymExpr> old_to_new;
  std::vector<std::pair<const Fix*, SymExpr>> later;
  for (const SymbolInfo& info : env.symbols()) {
    auto it = by_id.find(info.sym.symbol_id());
    if (it == by_id.end() || it->second->kind == Fix::kRange) {
      Range r = it == by_id.end() ? info.requested : it->second->range;
      if (!r.contains(info.hint)) return false;
      SymExpr s = out.create_symbol(info.user_name, info.hint, r, info.kind,
                                    info.sources.empty() ? "" : info.sources.front());
      for (size_t i = 1; i < info.sources.size(); ++i) out.add_source(s, info.sources[i]);
      old_to_new[info.sym.symbol_id()] = s;
      continue;
    }
    const Fix& f = *it->second;
    if (f.kind == Fix::kStatic) {
      if (f.value != info.hint) return false;
      old_to_new[info.sym.symbol_id()] = SymExpr(f.value);
    } else if (f.kind == Fix::kCongruence) {
      if ((info.hint + f.m) % f.k != 0) return false;
      int64_t root_hint = (info.hint + f.m) / f.k;
      if (!f.range.contains(root_hint)) return false;
      SymExpr root = out.create_symbol("_" + info.user_name, root_hint, f.range, DimHint::kNamed,
                                       "_" + info.user_name);
      old_to_new[info.sym.symbol_id()] = root * f.k - f.m;
    } else {
      later.emplace_back(&f, info.sym);
    }
  }
  for (const auto& [f, sym] : later) {
    auto it = old_to_new.find(f->root.symbol_id());
    if (it == old_to_new.end()) return false;
    SymExpr e = it->second * f->k + f->m;
    old_to_new[sym.symbol_id()] = e;
    // The derived dim keeps its requested range, now a constraint on the root.
    const SymbolInfo* info = env.find_symbol(sym);
    Range r = check_range(info->requested);
    Provenance why{"spec", "", "", "", "the range of " + info->user_name};
    out.add_guard(sym_ge(e, r.min), why);
    if (r.max) out.add_guard(sym_le(e, *r.max), why);
  }
  for (const auto& [id, e] : old_to_new) repl[id] = e;
  for (const Guard& g : env.guards()) {
    SymBool c(true);
    if (!g.cond.as_const()) {
      c = SymBool(g.cond.rel(), substitute(g.cond.lhs(), repl), substitute(g.cond.rhs(), repl));
    } else {
      c = g.cond;
    }
    if (c.as_const() == std::optional<bool>(false)) return false;
    out.add_guard(c, g.origin);
  }
  // The sample must still satisfy every guard.
  for (const Guard& g : out.guards()) {
    if (g.cond.evaluate(out.hints()) != std::optional<bool>(true)) return false;
  }
  return true;
}
}  // namespace

void suggest(const ShapeEnv& env, const CheckOptions& opts, const std::map<int, Range>& narrower,
             CheckResult& res) {
  std::vector<Fix> fixes;
  std::set<int> fixed;
  auto info_of = [&](SymExpr s) -> const SymbolInfo* { return env.find_symbol(s); };
  // Forced constants.
  for (const SymbolVerdict& v : res.symbols) {
    if (v.verdict == Verdict::kSpecialized && v.kind != DimHint::kAuto) {
      fixes.push_back(Fix{Fix::kStatic, v.symbol, {}, v.proven.min, {}, 1, 0});
      fixed.insert(v.symbol.symbol_id());
    }
  }
  // Relations and congruences among the violated guards.
  for (const SymbolVerdict& v : res.symbols) {
    for (const Guard& g : v.violated) {
      if (auto rel = as_relation(g.cond)) {
        if (fixed.count(rel->newer.symbol_id()) || fixed.count(rel->older.symbol_id())) continue;
        fixes.push_back(Fix{Fix::kRelation, rel->newer, {}, 0, rel->older, rel->k, rel->m});
        fixed.insert(rel->newer.symbol_id());
      } else if (auto cg = as_congruence(g.cond)) {
        if (fixed.count(cg->sym.symbol_id())) continue;
        const SymbolInfo* info = info_of(cg->sym);
        Range r = check_range(v.proven);
        // sym == k*_root - a over sym's range.
        Range root;
        root.min = std::max<int64_t>(1, -floordiv64(-(r.min + cg->a), cg->k));
        if (r.max) root.max = floordiv64(*r.max + cg->a, cg->k);
        (void)info;
        fixes.push_back(Fix{Fix::kCongruence, cg->sym, root, 0, {}, cg->k, cg->a});
        fixed.insert(cg->sym.symbol_id());
      }
    }
  }
  // Tighter ranges for the named symbols whose requested range is too wide.
  auto restore_min = [](Range r, const Range& requested) {
    // The check assumes sizes >= 2; where the guards do not raise that, keep what the user asked.
    if (r.min == check_range(requested).min && requested.min < r.min) r.min = requested.min;
    return r;
  };
  for (const auto& [id, r] : narrower) {
    const SymbolInfo* info = nullptr;
    for (const SymbolInfo& si : env.symbols()) {
      if (si.sym.symbol_id() == id) info = &si;
    }
    if (!info || fixed.count(id)) continue;
    fixes.push_back(Fix{Fix::kRange, info->sym, restore_min(r, info->requested), 0, {}, 1, 0});
    fixed.insert(id);
  }
  if (fixes.empty()) return;

  // Re-check: the repaired spec must be consistent with the sample and imply every guard. Ranges
  // the repaired spec still finds too wide are tightened from its own verdicts, twice at most.
  for (int round = 0;; ++round) {
    ShapeEnv repaired;
    if (!apply_fixes(env, fixes, repaired)) return;
    std::map<int, Range> narrow2;
    CheckResult again = analyze(repaired, opts, &narrow2);
    if (again.ok) break;
    if (again.unknown || round == 2 || narrow2.empty()) return;
    for (const auto& [id, r] : narrow2) {
      const SymbolInfo* rinfo = nullptr;
      for (const SymbolInfo& si : repaired.symbols()) {
        if (si.sym.symbol_id() == id) rinfo = &si;
      }
      if (!rinfo) return;
      bool done = false;
      for (Fix& f : fixes) {
        const SymbolInfo* info = info_of(f.sym);
        if (f.kind == Fix::kCongruence && rinfo->user_name == "_" + info->user_name) {
          f.range = restore_min(r, f.range);
          done = true;
        } else if (f.kind == Fix::kRange && rinfo->user_name == info->user_name) {
          f.range = restore_min(r, info->requested);
          done = true;
        }
      }
      if (done) continue;
      const SymbolInfo* orig = env.find_symbol(rinfo->user_name);
      if (!orig) return;
      fixes.push_back(Fix{Fix::kRange, orig->sym, restore_min(r, orig->requested), 0, {}, 1, 0});
    }
  }
  // In torch's order: Dim(...) lines by source, then equalities by source.
  std::vector<std::pair<std::string, Suggestion>> dims, others;
  for (const Fix& f : fixes) {
    const SymbolInfo& info = *info_of(f.sym);
    std::string key = info.sources.empty() ? info.user_name : info.sources.front();
    Suggestion s;
    s.symbol = info.user_name;
    s.sources = info.sources;
    switch (f.kind) {
      case Fix::kRange:
        s.kind = Suggestion::Kind::kRange;
        s.range = f.range;
        s.torch_form = dim_form(info.user_name, f.range.min, f.range.max, true);
        s.sources.clear();
        dims.push_back({key, s});
        break;
      case Fix::kStatic:
        s.kind = Suggestion::Kind::kStatic;
        s.value = f.value;
        // torch names no fix for an unnamed (Dim.DYNAMIC) dim.
        if (info.kind == DimHint::kNamed) s.torch_form = info.user_name + " = " + std::to_string(f.value);
        others.push_back({key, s});
        break;
      case Fix::kRelation: {
        const SymbolInfo& root = *info_of(f.root);
        s.kind = Suggestion::Kind::kRelation;
        s.root = root.user_name;
        s.k = f.k;
        s.m = f.m;
        s.torch_form = info.user_name + " = " + linear_text(f.k, root.user_name, f.m);
        others.push_back({key, s});
        break;
      }
      case Fix::kCongruence: {
        const std::string root = "_" + info.user_name;
        Suggestion r;
        r.kind = Suggestion::Kind::kRange;
        r.symbol = root;
        r.range = f.range;
        r.torch_form = dim_form(root, f.range.min, f.range.max, false);
        dims.push_back({key, r});
        s.kind = Suggestion::Kind::kRelation;
        s.root = root;
        s.k = f.k;
        s.m = -f.m;
        s.torch_form = info.user_name + " = " + linear_text(f.k, root, -f.m);
        others.push_back({key, s});
        break;
      }
    }
  }
  auto by_key = [](const auto& a, const auto& b) { return a.first < b.first; };
  std::stable_sort(dims.begin(), dims.end(), by_key);
  std::stable_sort(others.begin(), others.end(), by_key);
  for (auto& d : dims) res.suggestions.push_back(d.second);
  for (auto& o : others) res.suggestions.push_back(o.second);
}

}  // namespace ptx::shapes::check
