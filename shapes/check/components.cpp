// shapes/check/components.cpp: the guards' connected components. See internal.h.
#include <algorithm>

#include "shapes/check/internal.h"

namespace ptx::shapes::check {

Components split_components(const ShapeEnv& env, const std::unordered_map<int, size_t>& index,
                            const std::vector<std::vector<SymExpr>>& guard_symbols, bool allowed) {
  const auto& infos = env.symbols();
  const auto& guards = env.guards();
  Components c;
  c.split = allowed;
  for (const SymbolInfo& info : infos) {
    const Range& r = info.requested;
    c.split = c.split && (!r.max || *r.max >= r.min) && r.contains(info.hint);
  }
  for (size_t i = 0; i < guards.size() && c.split; ++i) {
    c.split = guards[i].cond.evaluate(env.hints()) == std::optional<bool>(true);
  }
  if (!c.split) {
    c.of_symbol.assign(infos.size(), 0);
    c.of_guard.assign(guards.size(), 0);
    c.symbols.resize(1);
    c.guards.resize(1);
    for (size_t p = 0; p < infos.size(); ++p) c.symbols[0].push_back(p);
    for (size_t i = 0; i < guards.size(); ++i) c.guards[0].push_back(i);
    return c;
  }
  // Union-find over symbol positions (every guard's symbols are the env's: the sample decided it).
  std::vector<size_t> parent(infos.size());
  for (size_t p = 0; p < parent.size(); ++p) parent[p] = p;
  auto find = [&](size_t p) {
    while (parent[p] != p) p = parent[p] = parent[parent[p]];
    return p;
  };
  for (const auto& syms : guard_symbols) {
    for (size_t k = 1; k < syms.size(); ++k) {
      size_t a = find(index.at(syms[0].symbol_id())), b = find(index.at(syms[k].symbol_id()));
      if (a != b) parent[std::max(a, b)] = std::min(a, b);
    }
  }
  std::vector<size_t> comp_of_root(infos.size(), Components::kNone);
  c.of_symbol.resize(infos.size());
  for (size_t p = 0; p < infos.size(); ++p) {
    size_t root = find(p);
    if (comp_of_root[root] == Components::kNone) {
      comp_of_root[root] = c.symbols.size();
      c.symbols.emplace_back();
    }
    c.of_symbol[p] = comp_of_root[root];
    c.symbols[c.of_symbol[p]].push_back(p);
  }
  c.guards.resize(c.symbols.size());
  c.of_guard.assign(guards.size(), Components::kNone);
  for (size_t i = 0; i < guards.size(); ++i) {
    if (guard_symbols[i].empty()) continue;
    c.of_guard[i] = c.of_symbol[index.at(guard_symbols[i][0].symbol_id())];
    c.guards[c.of_guard[i]].push_back(i);
  }
  return c;
}

}  // namespace ptx::shapes::check
