// shapes/check/analyze.cpp: one analysis of an env's guards against its symbols' specs, as the
// numbered steps of Analysis::run (see internal.h and shapes/checker.h for the semantics):
//
//   1. implied_by_ranges     does each guard follow from the (0/1-free) requested ranges?
//   2. proven_ranges         per symbol: the tightest range, 0 and 1, a forced constant
//   3. charge_violations     guards that do not follow, charged to named symbols (torch's items)
//      ranges_too_wide       named ranges wider than the guards allow (with the range they allow)
//   4. runtime_asserts       guards the final ranges do not imply
//   5. violation text        torch's message from the items (torch_text.cpp)
#include <algorithm>
#include <set>

#include "shapes/check/internal.h"

namespace ptx::shapes::check {
namespace {

class Analysis {
 public:
  Analysis(const ShapeEnv& env, const CheckOptions& opts, std::map<int, Range>* narrower);

  CheckResult run() {
    implied_by_ranges();
    proven_ranges();
    charge_violations();
    ranges_too_wide();
    runtime_asserts();
    std::vector<Item> items;
    for (auto* group : {&specialized_items_, &relation_items_, &guard_items_, &range_items_}) {
      for (Item& it : *group) items.push_back(std::move(it));
    }
    res_.violation_text = violation_text(items);
    if (!items.empty()) res_.ok = false;
    if (!unknown_guards_.empty()) {
      res_.ok = false;
      res_.unknown = items.empty();
    }
    return std::move(res_);
  }

 private:
  void implied_by_ranges();
  void proven_ranges();
  void narrowed_by(SymbolVerdict& v);
  void charge_violations();
  void ranges_too_wide();
  void runtime_asserts();

  const SymbolInfo& info_of(SymExpr s) const { return infos_.at(index_.at(s.symbol_id())); }
  bool all_named(const std::vector<SymExpr>& syms) const {
    for (SymExpr s : syms) {
      auto it = index_.find(s.symbol_id());
      if (it == index_.end() || infos_[it->second].kind != DimHint::kNamed) return false;
    }
    return true;
  }
  size_t component_of(SymExpr s) const { return comps_.of_symbol[index_.at(s.symbol_id())]; }
  /// The range facts of some symbols (those the env knows), with `range_of(position)`.
  template <typename RangeAt>
  std::vector<SymBool> facts_of(const std::vector<SymExpr>& syms, RangeAt range_of) const {
    std::vector<SymBool> out;
    for (SymExpr s : syms) {
      auto it = index_.find(s.symbol_id());
      if (it == index_.end()) continue;
      for (const SymBool& f : range_facts(s, range_of(it->second))) out.push_back(f);
    }
    return out;
  }
  Range check_range_at(size_t p) const { return check_range(infos_[p].requested); }
  /// Split, the sample satisfies every range and guard: with s = v it is still a model if v is in
  /// s's range and s's guards hold there.
  bool full_witness(SymExpr s, int64_t v) {
    return comps_.split && info_of(s).requested.contains(v) && holds_with(probe_, s, v, guards_, guards_of_[s.symbol_id()]);
  }

  const ShapeEnv& env_;
  const CheckOptions& opts_;
  std::map<int, Range>* narrower_;
  const std::vector<SymbolInfo>& infos_;
  const std::vector<Guard>& guards_;
  std::unordered_map<int, size_t> index_;  // symbol id -> position
  std::vector<SymBool> check_facts_;       // every symbol's 0/1-free requested range
  std::vector<std::vector<SymExpr>> guard_symbols_;
  std::unordered_map<int, std::vector<size_t>> guards_of_;  // symbol id -> guard indices
  Components comps_;
  Assignment probe_;
  z3::context ctx_;  // shared by every prover of the analysis (declared before them)

  std::vector<Truth> implied_;  // step 1, per guard
  std::vector<Assignment> cex_;
  std::vector<Item> specialized_items_, relation_items_, guard_items_, range_items_;
  std::vector<const Guard*> unknown_guards_;
  std::vector<const Guard*> range_relevant_;  // violated bound guards and relations
  std::set<int> specialized_ids_;
  CheckResult res_;
};

Analysis::Analysis(const ShapeEnv& env, const CheckOptions& opts, std::map<int, Range>* narrower)
    : env_(env), opts_(opts), narrower_(narrower), infos_(env.symbols()), guards_(env.guards()), probe_(env.hints()) {
  for (size_t i = 0; i < infos_.size(); ++i) index_[infos_[i].sym.symbol_id()] = i;
  for (const SymbolInfo& s : infos_) {
    for (const SymBool& f : range_facts(s.sym, check_range(s.requested))) check_facts_.push_back(f);
  }
  guard_symbols_.resize(guards_.size());
  for (size_t i = 0; i < guards_.size(); ++i) {
    guard_symbols_[i] = guards_[i].cond.free_symbols();
    for (SymExpr s : guard_symbols_[i]) guards_of_[s.symbol_id()].push_back(i);
  }
  comps_ = split_components(env, index_, guard_symbols_, opts.split_components);
}

// 1. Does each guard follow from the (0/1-free) requested ranges? Split, each query holds only the
// ranges of the guard's own symbols (the others' ranges are not empty and share no symbol).
void Analysis::implied_by_ranges() {
  auto check_bounds = [&](SymExpr s) {
    if (!index_.count(s.symbol_id())) return Interval::all();
    Range r = check_range(info_of(s).requested);
    return Interval{r.min, r.max};
  };
  Prover check_prover(ctx_, opts_.budget, comps_.split ? std::vector<SymBool>{} : check_facts_);
  implied_.assign(guards_.size(), Truth::Unknown);
  cex_.assign(guards_.size(), {});
  for (size_t i = 0; i < guards_.size(); ++i) {
    const SymBool& g = guards_[i].cond;
    if (g.as_const()) {
      implied_[i] = *g.as_const() ? Truth::True : Truth::False;
      continue;
    }
    if (decide_by_bounds(g, check_bounds) == std::optional<bool>(true)) {
      implied_[i] = Truth::True;
      continue;
    }
    // A guard on a Dim.DYNAMIC or Dim.AUTO symbol is never charged (step 3): no need to ask.
    if (!all_named(guard_symbols_[i])) continue;
    implied_[i] = check_prover.implies(
        g, &cex_[i],
        comps_.split ? facts_of(guard_symbols_[i], [&](size_t p) { return check_range_at(p); }) : std::vector<SymBool>{});
    if (implied_[i] == Truth::Unknown) {
      if (auto t = decide_by_enumeration(g, guard_symbols_[i], check_bounds, enumeration_limit(opts_.budget), &cex_[i])) {
        implied_[i] = *t;
      }
    }
  }
}

// 2. Proven ranges, 0 and 1, verdicts: per component, on a prover holding its symbols' requested
// ranges and its guards.
void Analysis::proven_ranges() {
  std::vector<const Guard*> all_guards;
  for (const Guard& g : guards_) all_guards.push_back(&g);
  ComponentProvers full(ctx_, opts_.budget, [&](size_t c) {
    std::vector<SymBool> facts;
    for (size_t p : comps_.symbols[c]) {
      for (const SymBool& f : range_facts(infos_[p].sym, infos_[p].requested)) facts.push_back(f);
    }
    for (size_t gi : comps_.guards[c]) facts.push_back(guards_[gi].cond);
    return facts;
  });
  RangeFinder finder(
      all_guards, [&](SymExpr s) -> Prover& { return full.of(component_of(s)); },
      [&](SymExpr s, int64_t v) { return full_witness(s, v); });
  // A symbol equal to one already searched (a guard Eq(s, t)) takes its range and its answers at 0
  // and 1: every model gives both the same value (split, every component is satisfiable). One
  // search then serves every symbol that broadcasting made equal.
  struct Searched {
    Range proven;
    std::optional<bool> feasible_at[2];
  };
  std::unordered_map<int, Searched> searched;  // symbol id ->
  auto equal_searched = [&](SymExpr s) -> const Searched* {
    if (!comps_.split) return nullptr;
    for (size_t gi : guards_of_[s.symbol_id()]) {
      auto rel = as_relation(guards_[gi].cond);
      if (!rel || rel->k != 1 || rel->m != 0) continue;
      SymExpr other = rel->older == s ? rel->newer : rel->older;
      auto it = searched.find(other.symbol_id());
      if (it != searched.end()) return &it->second;
    }
    return nullptr;
  };
  res_.symbols.resize(infos_.size());
  for (size_t c = 0; c < comps_.symbols.size(); ++c) {
    for (size_t p : comps_.symbols[c]) {
      const SymbolInfo& info = infos_[p];
      SymbolVerdict& v = res_.symbols[p];
      v.name = info.user_name;
      v.symbol = info.sym;
      v.kind = info.kind;
      v.hint = info.hint;
      v.sources = info.sources;
      v.requested = info.requested;
      const Searched* same = equal_searched(info.sym);
      v.proven = same ? same->proven : finder.tightest(info, info.requested);
      Searched mine{v.proven, {}};
      for (size_t gi : guards_of_[info.sym.symbol_id()]) v.guards.push_back(guards_[gi]);
      for (int64_t at : {0, 1}) {
        bool ok = info.requested.contains(at);
        if (ok && !v.guards.empty()) {
          std::optional<bool> feasible = same ? same->feasible_at[at] : std::nullopt;
          if (!feasible) {
            feasible = full_witness(info.sym, at) || full.of(c).check({sym_eq(info.sym, at)}) == Truth::True;
          }
          ok = *feasible;
          mine.feasible_at[at] = feasible;
        }
        (at == 0 ? v.allowed_at_0 : v.allowed_at_1) = ok;
      }
      searched[info.sym.symbol_id()] = mine;
      narrowed_by(v);
      if (v.proven.max && *v.proven.max == v.proven.min) v.verdict = Verdict::kSpecialized;
    }
  }
}

// 2b. The guards that cut the proven range from the requested one: those failing just outside it
// (the other symbols at their samples).
void Analysis::narrowed_by(SymbolVerdict& v) {
  std::vector<int64_t> just_outside;
  if (v.proven.min > v.requested.min) just_outside.push_back(v.proven.min - 1);
  if (v.proven.max && (!v.requested.max || *v.requested.max > *v.proven.max)) just_outside.push_back(*v.proven.max + 1);
  for (int64_t at : just_outside) {
    for (size_t gi : guards_of_[v.symbol.symbol_id()]) {
      if (holds_with(probe_, v.symbol, at, guards_, {gi})) continue;
      if (std::find(v.narrowed_by.begin(), v.narrowed_by.end(), guards_[gi]) == v.narrowed_by.end()) {
        v.narrowed_by.push_back(guards_[gi]);
      }
    }
  }
}

// 3. Charge the guards that do not follow to named symbols.
void Analysis::charge_violations() {
  for (SymbolVerdict& v : res_.symbols) {
    if (v.verdict != Verdict::kSpecialized) continue;
    const SymbolInfo& info = info_of(v.symbol);
    if (info.kind == DimHint::kAuto) {
      res_.specializations[info.user_name] = v.proven.min;
      continue;
    }
    specialized_ids_.insert(v.symbol.symbol_id());
    specialized_items_.push_back(specialized_item(v));
  }
  for (size_t i = 0; i < guards_.size(); ++i) {
    if (implied_[i] == Truth::True) continue;
    const Guard& g = guards_[i];
    const std::vector<SymExpr>& fs = guard_symbols_[i];
    bool touches_specialized = false;
    for (SymExpr s : fs) touches_specialized = touches_specialized || specialized_ids_.count(s.symbol_id());
    if (!(!fs.empty() && all_named(fs)) && !(fs.empty() && implied_[i] == Truth::False)) continue;
    for (SymExpr s : fs) {
      SymbolVerdict& v = res_.symbols[index_.at(s.symbol_id())];
      v.violated.push_back(g);
      if (implied_[i] == Truth::Unknown && v.verdict == Verdict::kOk) v.verdict = Verdict::kUnknown;
      if (implied_[i] == Truth::False && v.verdict != Verdict::kSpecialized) {
        v.verdict = Verdict::kViolated;
        auto it = cex_[i].find(s.symbol_id());
        if (!v.counterexample && it != cex_[i].end()) v.counterexample = it->second;
      }
    }
    if (implied_[i] == Truth::Unknown) {
      unknown_guards_.push_back(&g);
      continue;
    }
    if (touches_specialized) continue;  // the forced constant says it all
    const bool bound = fs.size() == 1 && is_bound_on(g.cond, fs[0]);
    if (fs.size() > 1 || bound) range_relevant_.push_back(&g);
    if (bound) continue;  // in the range item (ranges_too_wide)
    if (auto rel = as_relation(g.cond)) {
      relation_items_.push_back(relation_item(*rel, info_of(rel->newer), info_of(rel->older), g));
      continue;
    }
    std::vector<const SymbolInfo*> symbols;
    for (SymExpr s : fs) symbols.push_back(&info_of(s));
    guard_items_.push_back(guard_item(g, symbols, env_));
  }
}

// 3b. Ranges too wide: the tightest range each named symbol can have under the (0/1-free)
// requested ranges and the violated bound and relation guards (torch's refined var_to_range; a
// guard like divisibility on one symbol has its own item and does not count here).
void Analysis::ranges_too_wide() {
  std::set<int> range_syms;
  std::set<int> derived;  // the later symbol of a relation is expressed by the earlier one
  for (const Guard* g : range_relevant_) {
    for (SymExpr s : g->cond.free_symbols()) range_syms.insert(s.symbol_id());
    if (auto rel = as_relation(g->cond)) derived.insert(rel->newer.symbol_id());
  }
  for (int id : derived) range_syms.erase(id);
  std::unordered_map<int, std::vector<const Guard*>> range_guards_of;  // symbol id -> its guards
  std::unordered_map<int, std::vector<size_t>> range_guard_index;     // symbol id -> guard indices
  std::vector<std::vector<SymBool>> range_guards_in(comps_.symbols.size());
  std::vector<SymBool> facts = check_facts_;
  for (const Guard* g : range_relevant_) {
    facts.push_back(g->cond);
    size_t gi = static_cast<size_t>(g - guards_.data());
    for (SymExpr s : guard_symbols_[gi]) {
      range_guards_of[s.symbol_id()].push_back(g);
      range_guard_index[s.symbol_id()].push_back(gi);
    }
    range_guards_in[comps_.split ? comps_.of_guard[gi] : 0].push_back(g->cond);
  }
  ComponentProvers range_prover(ctx_, opts_.budget, [&](size_t c) {
    if (!comps_.split) return facts;
    std::vector<SymBool> f;
    for (size_t p : comps_.symbols[c]) {
      for (const SymBool& x : range_facts(infos_[p].sym, check_range(infos_[p].requested))) f.push_back(x);
    }
    for (const SymBool& x : range_guards_in[c]) f.push_back(x);
    return f;
  });
  // Symbols whose sample is outside the 0/1-free range, per component: the sample is no model.
  std::vector<size_t> outside(comps_.symbols.size(), 0);
  for (size_t p = 0; p < infos_.size(); ++p) outside[comps_.of_symbol[p]] += !check_range_at(p).contains(infos_[p].hint);
  auto range_witness = [&](SymExpr s, int64_t v) {
    size_t p = index_.at(s.symbol_id());
    size_t others_outside = outside[comps_.of_symbol[p]] - !check_range_at(p).contains(infos_[p].hint);
    return comps_.split && others_outside == 0 && check_range_at(p).contains(v) &&
           holds_with(probe_, s, v, guards_, range_guard_index[s.symbol_id()]);
  };
  RangeFinder range_finder(range_relevant_, [&](SymExpr s) -> Prover& { return range_prover.of(component_of(s)); },
                           range_witness);
  // Searched component by component (one prover at a time), reported in symbol id order.
  std::vector<int> by_component(range_syms.begin(), range_syms.end());
  std::stable_sort(by_component.begin(), by_component.end(),
                   [&](int a, int b) { return comps_.of_symbol[index_.at(a)] < comps_.of_symbol[index_.at(b)]; });
  std::unordered_map<int, Range> found;
  for (int id : by_component) {
    const SymbolInfo& info = infos_[index_.at(id)];
    found[id] = range_finder.tightest(info, check_range(info.requested));
  }
  for (int id : range_syms) {
    const SymbolInfo& info = infos_[index_.at(id)];
    Range want = check_range(info.requested);
    Range r = found.at(id);
    if (same(r, want)) continue;
    if (narrower_) (*narrower_)[id] = r;
    SymbolVerdict& v = res_.symbols[index_.at(id)];
    if (v.verdict != Verdict::kSpecialized) v.verdict = Verdict::kViolated;
    if (!v.counterexample) v.counterexample = r.min > want.min ? r.min - 1 : *r.max + 1;
    range_items_.push_back(range_item(info, r, range_guards_of[id]));
  }
}

// 4. Final ranges and runtime asserts. Split, each query holds the final ranges of the guard's own
// symbols only (they all contain the sample, so none is empty).
void Analysis::runtime_asserts() {
  std::vector<SymBool> final_facts;
  for (const SymbolVerdict& v : res_.symbols) {
    res_.final_ranges[v.symbol.str()] = v.proven;
    if (!comps_.split) {
      for (const SymBool& f : range_facts(v.symbol, v.proven)) final_facts.push_back(f);
    }
  }
  Prover final_prover(ctx_, opts_.budget, final_facts);
  std::function<const Range&(SymExpr)> final_range_of = [&](SymExpr s) -> const Range& {
    return res_.symbols[index_.at(s.symbol_id())].proven;
  };
  auto final_bounds = [&](SymExpr s) {
    if (!index_.count(s.symbol_id())) return Interval::all();
    const Range& r = res_.symbols[index_.at(s.symbol_id())].proven;
    return Interval{r.min, r.max};
  };
  for (size_t i = 0; i < guards_.size(); ++i) {
    const Guard& g = guards_[i];
    if (g.cond.as_const()) continue;
    if (decide_by_bounds(g.cond, final_bounds) == std::optional<bool>(true)) continue;
    if (comps_.split && refuted_in_box(g.cond, guard_symbols_[i], probe_, final_range_of)) {
      res_.runtime_asserts.push_back(g);
      continue;
    }
    const std::vector<SymBool> facts =
        comps_.split ? facts_of(guard_symbols_[i], [&](size_t p) { return res_.symbols[p].proven; })
                     : std::vector<SymBool>{};
    const Truth t = final_prover.implies(g.cond, nullptr, facts);
    if (t == Truth::True) continue;
    // As in step 1: a guard Z3 gives up on is evaluated at every point of small final ranges, so
    // that whether it becomes a runtime assertion does not depend on how Z3's search went (swin_t's
    // window view guard: decided by enumeration in step 1, and without this an assertion in some
    // runs and not in others).
    if (t == Truth::Unknown) {
      Assignment cex;
      if (decide_by_enumeration(g.cond, guard_symbols_[i], final_bounds, enumeration_limit(opts_.budget), &cex) ==
          std::optional<Truth>(Truth::True)) {
        continue;
      }
    }
    res_.runtime_asserts.push_back(g);
  }
}

}  // namespace

CheckResult analyze(const ShapeEnv& env, const CheckOptions& opts, std::map<int, Range>* narrower) {
  return Analysis(env, opts, narrower).run();
}

}  // namespace ptx::shapes::check
