// shapes/check/torch_text.cpp: torch.export's message texts for constraint violations (the same
// sentences as torch's produce_guards), with our note under each item naming the guards' origin.
// See internal.h.
#include <set>

#include "shapes/check/internal.h"
#include "shapes/py_printer.h"

namespace ptx::shapes {

std::string required_by(const Guard& g) {
  std::string out = "      required by " + g.origin.str();
  if (!g.origin.code.empty()) out += ": " + g.origin.code;
  return out;
}

namespace check {
namespace {

std::string first_source(const SymbolInfo& info) {
  return info.sources.empty() ? info.user_name : info.sources.front();
}

}  // namespace

std::string render_range(const SymbolInfo& info) {
  // torch's _render_range_for_constraint_violation: bounds at the default (<= 2, int_oo) vanish.
  std::string out = info.user_name + " = " + first_source(info) + " in the specified range";
  std::optional<int64_t> lo, hi = info.requested.max;
  if (info.requested.min > 2) lo = info.requested.min;
  if (lo && hi) {
    out += " " + std::to_string(*lo) + " <= " + info.user_name + " <= " + std::to_string(*hi);
  } else if (hi) {
    out += " " + info.user_name + " <= " + std::to_string(*hi);
  } else if (lo) {
    out += " " + std::to_string(*lo) + " <= " + info.user_name;
  }
  return out;
}

std::string linear_text(int64_t k, const std::string& root, int64_t m) {
  std::string out = k == 1 ? root : std::to_string(k) + "*" + root;
  if (m > 0) out += " + " + std::to_string(m);
  if (m < 0) out += " - " + std::to_string(-m);
  return out;
}

std::string dim_form(const std::string& name, std::optional<int64_t> lo, std::optional<int64_t> hi, bool input_dim) {
  // torch's prettify_results: min=2 is the default and is left out; an input dim's solved range
  // never starts below 2 (torch's 0/1 specialization), a new root's may.
  int64_t min = lo.value_or(2);
  if (input_dim && min < 2) min = 2;
  std::string out = name + " = Dim('" + name + "'";
  if (lo && min != 2) out += ", min=" + std::to_string(min);
  if (hi) out += ", max=" + std::to_string(*hi);
  return out + ")";
}

Item specialized_item(const SymbolVerdict& v) {
  Item it;
  it.debug_name = v.name;
  it.text = "You marked " + v.name + " as dynamic but your code specialized it to be a constant (" +
            std::to_string(v.proven.min) +
            "). If you're using mark_dynamic, either remove it or use maybe_mark_dynamic. If you're using "
            "Dim.DYNAMIC, replace it with either Dim.STATIC or Dim.AUTO.";
  for (const Guard& g : v.guards) {
    if (!g.cond.as_const()) it.guards.push_back(&g);
  }
  return it;
}

Item relation_item(const Relation& rel, const SymbolInfo& newer, const SymbolInfo& older, const Guard& g) {
  Item it;
  it.debug_name = newer.user_name;
  if (rel.k == 1 && rel.m == 0) {
    it.text = "The values of " + newer.user_name + " = " + first_source(newer) + " and " + older.user_name + " = " +
              first_source(older) + " must always be equal.";
  } else {
    it.text = "The values of " + newer.user_name + " = " + first_source(newer) +
              " must always be related to the values of " + older.user_name + " = " + first_source(older) + " by " +
              newer.user_name + " = " + linear_text(rel.k, older.user_name, rel.m) + ".";
  }
  it.guards.push_back(&g);
  return it;
}

Item guard_item(const Guard& g, const std::vector<const SymbolInfo*>& symbols, const ShapeEnv& env) {
  Item it;
  std::string vars;
  for (const SymbolInfo* s : symbols) {
    vars += (vars.empty() ? "" : ", ") + render_range(*s);
    it.debug_name += (it.debug_name.empty() ? "" : ", ") + s->user_name;
  }
  if (symbols.empty()) {
    it.text = "The generated guard " + g.cond.str() + " is never satisfied.";
  } else {
    it.text = "Not all values of " + vars + " satisfy the generated guard " + python_guard_text(g.cond, env) + ".";
  }
  it.guards.push_back(&g);
  return it;
}

Item range_item(const SymbolInfo& info, const Range& allowed, std::vector<const Guard*> guards) {
  const std::string src = first_source(info);
  const std::string guard = std::to_string(allowed.min) + " <= " + src + " and " + src + " <= " +
                            (allowed.max ? std::to_string(*allowed.max) : std::string("IntInfinity()"));
  Item it;
  it.debug_name = info.user_name;
  it.text = "Not all values of " + render_range(info) + " satisfy the generated guard " + guard;
  it.guards = std::move(guards);
  return it;
}

std::string violation_text(const std::vector<Item>& items) {
  if (items.empty()) return "";
  std::set<std::string> names;
  for (const Item& it : items) {
    // An item about several symbols names them all, comma separated.
    std::string n = it.debug_name;
    for (size_t pos; (pos = n.find(", ")) != std::string::npos; n = n.substr(pos + 2)) {
      names.insert(n.substr(0, pos));
    }
    names.insert(n);
  }
  std::string joined;
  for (const std::string& n : names) joined += (joined.empty() ? "" : ", ") + n;
  std::string text = "Constraints violated (" + joined + ")! For more information, run with TORCH_LOGS=\"+dynamic\".";
  for (const Item& it : items) {
    text += "\n  - " + it.text;
    for (const Guard* g : it.guards) text += "\n" + required_by(*g);
  }
  return text;
}

}  // namespace check
}  // namespace ptx::shapes
