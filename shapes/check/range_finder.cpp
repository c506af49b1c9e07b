// shapes/check/range_finder.cpp: the tightest range of a symbol, and guards decided by evaluation.
// See internal.h.
#include <algorithm>
#include <climits>

#include "shapes/check/internal.h"

namespace ptx::shapes::check {

RangeFinder::RangeFinder(const std::vector<const Guard*>& guards, ProverOf prover, Witness witness)
    : prover_(std::move(prover)), witness_(std::move(witness)) {
  for (const Guard* g : guards) {
    for (SymExpr s : g->cond.free_symbols()) by_symbol_[s.symbol_id()].push_back(g);
  }
}

Range RangeFinder::tightest(const SymbolInfo& info, Range start) {
  SymExpr s = info.sym;
  Range r = start;
  std::vector<const Guard*> other;
  bool single = true;
  auto found = by_symbol_.find(s.symbol_id());
  static const std::vector<const Guard*> kNone;
  for (const Guard* gp : found == by_symbol_.end() ? kNone : found->second) {
    const Guard& g = *gp;
    if (is_bound_on(g.cond, s)) {
      int64_t c = g.cond.rhs().value();
      if (g.cond.rel() != Rel::Le) r.min = std::max(r.min, c);
      if (g.cond.rel() != Rel::Ge) r.max = r.max ? std::min(*r.max, c) : c;
    } else {
      other.push_back(&g);
      single = single && g.cond.free_symbols().size() == 1;
    }
  }
  if (r.max && *r.max < r.min) return r;  // contradictory: left to the violation check
  if (other.empty()) return r;
  auto holds = [&](int64_t v) {
    Assignment a{{s.symbol_id(), v}};
    for (const Guard* g : other) {
      if (g->cond.evaluate(a) != std::optional<bool>(true)) return false;
    }
    return true;
  };
  constexpr int kWalk = 4096;
  if (single) {
    // Walk in from each end by evaluation; the sample holds, so a walk stops at the latest there.
    // Every value stepped over fails a guard, so the new ends are sound.
    int64_t lo = r.min;
    for (int i = 0; i < kWalk && lo < info.hint && !holds(lo); ++i) ++lo;
    r.min = lo;
    if (r.max) {
      int64_t hi = *r.max;
      for (int i = 0; i < kWalk && hi > info.hint && !holds(hi); ++i) --hi;
      r.max = hi;
    }
    if (holds(r.min) && (!r.max || holds(*r.max))) return r;
  }
  // Z3: binary search between each end and the sample (which satisfies every guard).
  r.min = search(s, r.min, info.hint, /*lower=*/true);
  if (r.max) {
    r.max = search(s, *r.max, info.hint, /*lower=*/false);
  } else {
    constexpr int64_t kFar = int64_t{1} << 40;
    if (info.hint < kFar && !witness_(s, kFar) && prover_(s).check({sym_ge(s, kFar)}) == Truth::False) {
      r.max = search(s, kFar, info.hint, /*lower=*/false);
    }
  }
  return r;
}

// The extreme feasible value between `end` and `hint` (the sample is feasible), or a sound
// bound if the solver gives up. Invariant: no value beyond [lo, hi] on the searched side is
// feasible, and the extreme lies in [lo, hi]. A model of a satisfiable step is a feasible value
// and moves the inner end up to it.
int64_t RangeFinder::search(SymExpr s, int64_t end, int64_t hint, bool lower) {
  if (witness_(s, end)) return end;
  Prover& full = prover_(s);
  if (full.check({sym_eq(s, end)}) == Truth::True) return end;
  std::vector<SymExpr> want{s};
  int64_t lo = lower ? end + 1 : hint, hi = lower ? hint : end - 1;
  while (lo < hi) {
    Assignment m;
    if (lower) {
      int64_t mid = lo + (hi - lo) / 2;
      Truth t = full.check({sym_le(s, mid)}, &m, &want);
      if (t == Truth::Unknown) return lo;
      if (t == Truth::True) {
        hi = mid;
        auto it = m.find(s.symbol_id());
        if (it != m.end() && it->second >= lo && it->second < hi) hi = it->second;
      } else {
        lo = mid + 1;
      }
    } else {
      int64_t mid = hi - (hi - lo) / 2;
      Truth t = full.check({sym_ge(s, mid)}, &m, &want);
      if (t == Truth::Unknown) return hi;
      if (t == Truth::True) {
        lo = mid;
        auto it = m.find(s.symbol_id());
        if (it != m.end() && it->second <= hi && it->second > lo) lo = it->second;
      } else {
        hi = mid - 1;
      }
    }
  }
  return lo;
}

// Is `cond` false somewhere in the box of the symbols' ranges? Tried by evaluation at the sample
// (when it is in the box) with one symbol moved to an end of its range or next to its sample, and
// with every symbol at its upper (lower) end. True means the ranges do not imply `cond` (a point of
// the box breaks it); false means "not found".
bool refuted_in_box(const SymBool& cond, const std::vector<SymExpr>& syms, Assignment& probe,
                    const std::function<const Range&(SymExpr)>& range_of) {
  for (SymExpr s : syms) {
    auto it = probe.find(s.symbol_id());
    if (it == probe.end() || !range_of(s).contains(it->second)) return false;
  }
  for (SymExpr s : syms) {
    const Range& r = range_of(s);
    int64_t& slot = probe.find(s.symbol_id())->second;
    const int64_t sample = slot;
    std::vector<int64_t> tries{r.min};
    if (sample > INT64_MIN) tries.push_back(sample - 1);
    if (sample < INT64_MAX) tries.push_back(sample + 1);
    if (r.min < INT64_MAX) tries.push_back(r.min + 1);
    if (r.max) {
      tries.push_back(*r.max);
      if (*r.max > INT64_MIN) tries.push_back(*r.max - 1);
    }
    bool refuted = false;
    for (int64_t v : tries) {
      if (!r.contains(v)) continue;
      slot = v;
      if (cond.evaluate(probe) == std::optional<bool>(false)) {
        refuted = true;
        break;
      }
    }
    slot = sample;
    if (refuted) return true;
  }
  if (syms.size() > 1) {
    for (bool upper : {true, false}) {
      Assignment corner;
      bool bounded = true;
      for (SymExpr s : syms) {
        const Range& r = range_of(s);
        bounded = bounded && (!upper || r.max);
        corner[s.symbol_id()] = upper ? r.max.value_or(r.min) : r.min;
      }
      if (bounded && cond.evaluate(corner) == std::optional<bool>(false)) return true;
    }
  }
  return false;
}

// Does every guard of `which` hold on `probe` with symbol `s` set to `v`? (probe is restored.)
bool holds_with(Assignment& probe, SymExpr s, int64_t v, const std::vector<Guard>& guards,
                const std::vector<size_t>& which) {
  auto it = probe.find(s.symbol_id());
  if (it == probe.end()) return false;
  int64_t saved = it->second;
  it->second = v;
  bool ok = true;
  for (size_t gi : which) {
    if (guards[gi].cond.evaluate(probe) != std::optional<bool>(true)) {
      ok = false;
      break;
    }
  }
  it->second = saved;
  return ok;
}

std::optional<Truth> decide_by_enumeration(const SymBool& cond, const std::vector<SymExpr>& syms,
                                           const SymbolBounds& bounds, uint64_t limit, Assignment* cex) {
  std::vector<std::pair<int64_t, int64_t>> box;
  uint64_t points = 1;
  for (SymExpr s : syms) {
    const Interval b = bounds(s);
    if (!b.lo || !b.hi || *b.hi < *b.lo) return std::nullopt;
    const uint64_t n = static_cast<uint64_t>(*b.hi - *b.lo) + 1;
    if (n > limit || points * n > limit) return std::nullopt;
    points *= n;
    box.emplace_back(*b.lo, *b.hi);
  }
  Assignment a;
  for (size_t i = 0; i < syms.size(); ++i) a[syms[i].symbol_id()] = box[i].first;
  for (uint64_t k = 0; k < points; ++k) {
    if (cond.evaluate(a) == std::optional<bool>(false)) {
      if (cex) *cex = a;
      return Truth::False;
    }
    for (size_t i = 0; i < syms.size(); ++i) {  // the next point (odometer)
      int64_t& v = a[syms[i].symbol_id()];
      if (v < box[i].second) {
        ++v;
        break;
      }
      v = box[i].first;
    }
  }
  return Truth::True;
}

}  // namespace ptx::shapes::check
