// shapes/interval.h: cheap interval reasoning over SymExpr, the first layer of deciding a fact
// before Z3 (see shapes/checker.h). Bounds are sound over-approximations: every value the
// expression takes when its symbols lie in their ranges is inside the returned interval.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "shapes/sym.h"

namespace ptx::shapes {

/// An inclusive integer interval; a missing bound is infinite on that side. Never empty unless
/// `empty()` says so (lo > hi), which happens only for contradictory symbol ranges.
struct Interval {
  std::optional<int64_t> lo;
  std::optional<int64_t> hi;

  static Interval point(int64_t v) { return {v, v}; }
  static Interval all() { return {}; }
  bool empty() const { return lo && hi && *lo > *hi; }
  bool is_point() const { return lo && hi && *lo == *hi; }
  bool contains(int64_t v) const { return (!lo || *lo <= v) && (!hi || v <= *hi); }
  bool operator==(const Interval&) const = default;
  std::string str() const;  // "[2, 1024]", "[-int_oo, 5]", "[0, int_oo]"
};

/// The interval of each symbol (e.g. its range); called only with symbols.
using SymbolBounds = std::function<Interval(SymExpr symbol)>;

/// Sound bounds of `e` given the bounds of its symbols.
Interval bounds_of(SymExpr e, const SymbolBounds& symbol_bounds);

/// Decides `cond` by intervals alone: true/false when every / no value in the bounds satisfies
/// it, nullopt when the intervals cannot tell.
std::optional<bool> decide_by_bounds(const SymBool& cond, const SymbolBounds& symbol_bounds);

}  // namespace ptx::shapes
