// shapes/shape_env.cpp: symbols, hints and guard recording (see shape_env.h).
#include "shapes/shape_env.h"

#include <algorithm>

#include "shapes/error.h"
#include "shapes/interval.h"

namespace ptx::shapes {

std::string Range::str() const {
  return "[" + (min == kNoMin ? std::string("-int_oo") : std::to_string(min)) + ", " + (max ? std::to_string(*max) : std::string("int_oo")) +
         "]";
}

std::string Provenance::str() const {
  std::string out = op.empty() ? node : op;
  if (!source.empty()) out += (out.empty() ? "" : " at ") + source;
  if (!reason.empty()) out += (out.empty() ? "" : " ") + ("(" + reason + ")");
  return out;
}

std::string Provenance::stack_trace() const {
  std::string out;
  for (const SourceFrame& f : stack) {
    out += (out.empty() ? "" : "\n") + ("File \"" + f.file + "\", line " + std::to_string(f.line) + ", in " +
                                        f.function + "\n    " + f.code);
  }
  return out;
}

void ShapeEnv::name_node(const std::string& op, const std::string& node) {
  auto name = [&](size_t& seen, size_t size, auto&& provenance_of) {
    for (; seen < size; ++seen) {
      Provenance& p = provenance_of(seen);
      if (p.node.empty() && p.op == op) p.node = node;
    }
  };
  name(named_[0], guards_.size(), [&](size_t i) -> Provenance& { return guards_[i].origin; });
  name(named_[1], unbacked_.size(), [&](size_t i) -> Provenance& { return unbacked_[i].origin; });
  name(named_[2], relations_.size(), [&](size_t i) -> Provenance& { return relations_[i].origin; });
  name(named_[3], decisions_.size(), [&](size_t i) -> Provenance& { return decisions_[i].origin; });
  name(named_[4], problems_.size(), [&](size_t i) -> Provenance& { return problems_[i].where; });
}

SymExpr ShapeEnv::create_symbol(const std::string& user_name, int64_t hint, Range requested,
                                DimHint kind, const std::string& source) {
  PTX_INTERNAL_CHECK(!requested.max || requested.min <= *requested.max)
      << "symbol " << user_name << " has an empty range " << requested.str();
  SymExpr sym = SymExpr::new_symbol("s" + std::to_string(symbols_.size()));
  SymbolInfo info;
  info.sym = sym;
  info.user_name = user_name.empty() ? source : user_name;
  info.hint = hint;
  info.requested = requested;
  info.kind = kind;
  if (!source.empty()) info.sources.push_back(source);
  symbols_.push_back(std::move(info));
  hints_[sym.symbol_id()] = hint;
  return sym;
}

void ShapeEnv::add_source(SymExpr sym, const std::string& source) {
  for (SymbolInfo& info : symbols_) {
    if (info.sym == sym) {
      if (std::find(info.sources.begin(), info.sources.end(), source) == info.sources.end()) {
        info.sources.push_back(source);
      }
      return;
    }
  }
  throw InternalError("add_source: " + sym.str() + " is not a symbol of this shape env");
}

const SymbolInfo* ShapeEnv::find_symbol(SymExpr sym) const {
  for (const SymbolInfo& info : symbols_) {
    if (info.sym == sym) return &info;
  }
  return nullptr;
}

const SymbolInfo* ShapeEnv::find_symbol(const std::string& user_name) const {
  for (const SymbolInfo& info : symbols_) {
    if (info.user_name == user_name) return &info;
  }
  return nullptr;
}

int64_t ShapeEnv::hint_of(SymExpr e) const {
  auto v = evaluate(e, hints_);
  PTX_INTERNAL_CHECK(v.has_value()) << e.str() << " has a symbol unknown to this shape env, or "
                                    << "divides by zero on the sample";
  return *v;
}

Range ShapeEnv::range_of(SymExpr sym) const {
  if (const UnbackedInfo* u = find_unbacked(sym)) return u->range;
  const SymbolInfo* info = find_symbol(sym);
  PTX_INTERNAL_CHECK(info != nullptr) << sym.str() << " is not a symbol of this shape env";
  return info->requested;
}

bool ShapeEnv::statically_true(const SymBool& cond) const {
  auto bounds = [this](SymExpr s) {
    if (const UnbackedInfo* u = find_unbacked(s)) {
      return Interval{u->range.min == Range::kNoMin ? std::nullopt : std::optional<int64_t>(u->range.min),
                      u->range.max};
    }
    const SymbolInfo* info = find_symbol(s);
    if (!info) return Interval::all();
    return Interval{info->requested.min, info->requested.max};
  };
  return decide_by_bounds(cond, bounds) == std::optional<bool>(true);
}

bool ShapeEnv::guard_bool(const SymBool& cond, const Provenance& why) {
  if (auto k = cond.as_const()) return *k;
  auto v = cond.evaluate(hints_);
  PTX_INTERNAL_CHECK(v.has_value()) << cond.str() << " cannot be decided on the sample";
  if (has_unbacked(cond)) return guard_unbacked(cond, *v, why);
  SymBool holds = *v ? cond : cond.negated();
  if (!statically_true(holds)) add_guard(holds, why);
  return *v;
}

int64_t ShapeEnv::guard_int(SymExpr e, const Provenance& why) {
  if (auto k = e.as_const()) return *k;
  int64_t v = hint_of(e);
  SymBool eq = sym_eq(e, SymExpr(v));
  if (has_unbacked(e)) {
    guard_unbacked(eq, true, why);
    return v;
  }
  if (!statically_true(eq)) add_guard(eq, why);
  return v;
}

void ShapeEnv::add_guard(const SymBool& cond, const Provenance& why) {
  if (cond.as_const() == std::optional<bool>(true)) return;
  if (has_unbacked(cond)) {
    guard_bool(cond, why);
    return;
  }
  size_t h = cond.as_const() ? 1 : cond.lhs().hash() * 31 + cond.rhs().hash() * 7 + static_cast<size_t>(cond.rel());
  std::vector<size_t>& same_hash = guard_index_[h];
  for (size_t i : same_hash) {
    if (guards_[i].cond == cond) return;
  }
  same_hash.push_back(guards_.size());
  guards_.push_back(Guard{cond, why});
}

}  // namespace ptx::shapes
