// shapes/checker.cpp: see checker.h. The order of the messages is torch's produce_guards order:
// forced constants, equalities and derived relations, other guards, then ranges.
#include "shapes/checker.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <numeric>
#include <set>
#include <unordered_map>

#include "shapes/error.h"
#include "shapes/interval.h"

namespace ptx::shapes {

const char* to_string(Verdict v) {
  switch (v) {
    case Verdict::kOk:
      return "ok";
    case Verdict::kViolated:
      return "violated";
    case Verdict::kSpecialized:
      return "specialized";
    case Verdict::kUnknown:
      return "unknown";
  }
  return "?";
}

namespace {

// ---------------------------------------------------------------------------------------------
// torch's PythonPrinter (torch/utils/_sympy/printers.py) over our expressions.

constexpr double kPrecAdd = 40, kPrecMul = 50, kPrecPow = 60, kPrecFunc = 70, kPrecAtom = 1000,
                 kPrecDivMod = 35;

struct Py {
  std::string text;
  double prec;
};

using NameOf = std::function<std::string(SymExpr)>;

Py py(SymExpr e, const NameOf& name);

std::string paren(const Py& p, double level) {  // sympy's parenthesize(strict=False)
  return p.prec <= level ? "(" + p.text + ")" : p.text;
}

// sympy's argument order: numbers, symbols (by name), powers, products, then functions.
int py_class(SymExpr e) {
  switch (e.kind()) {
    case SymKind::Const:
      return 0;
    case SymKind::Symbol:
      return 1;
    case SymKind::Mul:
      return 3;
    case SymKind::FloorDiv:
      return 4;
    case SymKind::Max:
      return 5;
    case SymKind::Min:
      return 6;
    case SymKind::Mod:
      return 7;
    default:
      return 8;
  }
}

bool py_less(SymExpr a, SymExpr b, const NameOf& name) {
  int ca = py_class(a), cb = py_class(b);
  if (ca != cb) return ca < cb;
  if (a.is_symbol()) return name(a) < name(b);
  return a < b;
}

Py py(SymExpr e, const NameOf& name) {
  switch (e.kind()) {
    case SymKind::Const:
      return {std::to_string(e.value()), e.value() < 0 ? kPrecAdd : kPrecAtom};
    case SymKind::Symbol:
      return {name(e), kPrecAtom};
    case SymKind::Add: {
      std::vector<SymExpr> terms(e.operands().begin(), e.operands().end());
      std::stable_sort(terms.begin(), terms.end(),
                       [&](SymExpr a, SymExpr b) { return py_less(a, b, name); });
      std::string out;
      for (size_t i = 0; i < terms.size(); ++i) {
        out += (i ? " + " : "") + paren(py(terms[i], name), kPrecAdd);
      }
      return {out, kPrecAdd};
    }
    case SymKind::Mul: {
      std::vector<SymExpr> f(e.operands().begin(), e.operands().end());
      std::stable_sort(f.begin(), f.end(), [&](SymExpr a, SymExpr b) { return py_less(a, b, name); });
      std::string out;
      bool negative = false;
      for (size_t i = 0; i < f.size();) {
        size_t j = i;
        while (j < f.size() && f[j] == f[i]) ++j;
        std::string part = paren(py(f[i], name), kPrecMul);
        if (j - i > 1) part = paren(py(f[i], name), kPrecPow) + "**" + std::to_string(j - i);
        if (f[i].is_const() && f[i].value() < 0) negative = true;
        out += (out.empty() ? "" : "*") + part;
        i = j;
      }
      return {out, negative ? kPrecAdd : kPrecMul};
    }
    case SymKind::FloorDiv:
    case SymKind::Mod: {
      std::string a = paren(py(e.operands()[0], name), kPrecAtom - 0.5);
      std::string b = paren(py(e.operands()[1], name), kPrecAtom - 0.5);
      return {a + (e.kind() == SymKind::Mod ? " % " : " // ") + b, kPrecDivMod};
    }
    case SymKind::Min:
    case SymKind::Max: {
      SymExpr a = e.operands()[0], b = e.operands()[1];
      if (b.is_const() && !a.is_const()) std::swap(a, b);
      return {std::string(e.kind() == SymKind::Min ? "min(" : "max(") + py(a, name).text + ", " +
                  py(b, name).text + ")",
              kPrecFunc};
    }
  }
  return {"?", kPrecAtom};
}

// Splits lhs - rhs (canonical `lhs rel constant`) into positive and negative sides for printing.
std::pair<SymExpr, SymExpr> sides(const SymBool& b) {
  SymExpr pos = 0, neg = 0;
  SymExpr l = b.lhs();
  std::vector<SymExpr> terms;
  if (l.kind() == SymKind::Add) {
    terms.assign(l.operands().begin(), l.operands().end());
  } else {
    terms.push_back(l);
  }
  for (SymExpr t : terms) {
    bool negative = t.kind() == SymKind::Mul && t.operands().back().is_const() &&
                    t.operands().back().value() < 0;
    if (negative) {
      neg = neg - t;
    } else {
      pos = pos + t;
    }
  }
  int64_t c = b.rhs().value();
  if (neg != SymExpr(0) && c < 0) return {pos - c, neg};
  if (pos == SymExpr(0)) return {l, b.rhs()};
  return {pos, neg + c};
}

std::string py_rel(const SymBool& b, const NameOf& name) {
  if (auto k = b.as_const()) return *k ? "True" : "False";
  auto [l, r] = sides(b);
  Py pl = py(l, name), pr = py(r, name);
  const char* op = "==";
  bool eq = false;
  switch (b.rel()) {
    case Rel::Eq:
      op = "==";
      eq = true;
      break;
    case Rel::Ne:
      op = "!=";
      eq = true;
      break;
    case Rel::Lt:
      op = "<";
      break;
    case Rel::Le:
      op = "<=";
      break;
    case Rel::Gt:
      op = ">";
      break;
    case Rel::Ge:
      op = ">=";
      break;
  }
  // Eq/Ne parenthesize every operand that is not an atom or a call; inequalities only those
  // binding weaker than a comparison (// and %).
  double level = eq ? kPrecFunc - 1 : kPrecDivMod;
  return paren(pl, level) + " " + op + " " + paren(pr, level);
}

// ---------------------------------------------------------------------------------------------
// A solver over fixed assumptions, queried with push/pop. The provers of one analysis share a
// z3::context (declared before them), so that making one per component is cheap.

class Prover {
 public:
  Prover(z3::context& ctx, const CheckOptions& opts, const std::vector<SymBool>& assumptions)
      : lw_(ctx), solver_(make_solver(ctx, opts.budget)) {
    try {
      z3::expr_vector defined(ctx);
      for (const SymBool& a : assumptions) {
        solver_.add(lw_.lower(a));
        lw_.definedness_of(a, defined);
      }
      for (const z3::expr& d : defined) solver_.add(d);
    } catch (const z3::exception&) {
      broken_ = true;
    }
  }

  /// Do the assumptions and `facts` imply `claim`? On False, `model` (if given) gets a
  /// counterexample: the values of the claim's symbols.
  Truth implies(const SymBool& claim, Assignment* model = nullptr, std::vector<SymBool> facts = {}) {
    if (auto k = claim.as_const(); k && *k) return Truth::True;
    facts.push_back(claim.negated());
    std::vector<SymExpr> want = claim.free_symbols();
    Truth sat = check(facts, model, &want);
    if (sat == Truth::False) return Truth::True;
    if (sat == Truth::True) return Truth::False;
    return Truth::Unknown;
  }

  /// Are the assumptions and `extra` satisfiable together? If so, `model` (if given) gets the
  /// values of `want` (default: of every symbol lowered so far).
  Truth check(const std::vector<SymBool>& extra, Assignment* model = nullptr,
              const std::vector<SymExpr>* want = nullptr) {
    if (broken_) return Truth::Unknown;
    try {
      solver_.push();
      z3::expr_vector defined(lw_.ctx());
      for (const SymBool& e : extra) {
        solver_.add(lw_.lower(e));
        lw_.definedness_of(e, defined);
      }
      for (const z3::expr& d : defined) solver_.add(d);
      Truth t = satisfiable(solver_);
      if (t == Truth::True && model) {
        *model = want ? model_values(solver_.get_model(), lw_, *want) : model_values(solver_.get_model(), lw_);
      }
      solver_.pop();
      return t;
    } catch (const z3::exception&) {
      try {
        solver_.pop();
      } catch (const z3::exception&) {
        broken_ = true;
      }
      return Truth::Unknown;
    }
  }

 private:
  Z3Lowering lw_;
  z3::solver solver_;
  bool broken_ = false;
};

// ---------------------------------------------------------------------------------------------

std::vector<SymBool> range_facts(SymExpr s, const Range& r) {
  std::vector<SymBool> out{sym_ge(s, r.min)};
  if (r.max) out.push_back(sym_le(s, *r.max));
  return out;
}

// torch's _default_value_range lower bound for sizes: it assumes >= 2 (0/1 are specialized).
Range check_range(const Range& r) {
  Range c = r;
  if (c.min < 2 && (!c.max || *c.max >= 2)) c.min = 2;
  return c;
}

// A guard that is a bound on one symbol: s >= c, s <= c, Eq(s, c).
bool is_bound_on(const SymBool& b, SymExpr s) {
  return !b.as_const() && b.lhs() == s && (b.rel() == Rel::Ge || b.rel() == Rel::Le || b.rel() == Rel::Eq);
}

bool same(const Range& a, const Range& b) { return a.min == b.min && a.max == b.max; }

std::string render_range(const SymbolInfo& info) {
  // torch's _render_range_for_constraint_violation: bounds at the default (<= 2, int_oo) vanish.
  std::string src = info.sources.empty() ? info.user_name : info.sources.front();
  std::string out = info.user_name + " = " + src + " in the specified range";
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

std::string dim_form(const std::string& name, std::optional<int64_t> lo, std::optional<int64_t> hi,
                     bool input_dim) {
  // torch's prettify_results: min=2 is the default and is left out; an input dim's solved range
  // never starts below 2 (torch's 0/1 specialization), a new root's may.
  int64_t min = lo.value_or(2);
  if (input_dim && min < 2) min = 2;
  std::string out = name + " = Dim('" + name + "'";
  if (lo && min != 2) out += ", min=" + std::to_string(min);
  if (hi) out += ", max=" + std::to_string(*hi);
  return out + ")";
}

std::string flag_range(const std::string& name, const Range& r) {
  return "--dynamic " + name + "=" + std::to_string(r.min) + ":" + (r.max ? std::to_string(*r.max) : "");
}

// k*root + m in sympy style with the root's user name: "2*dx", "dx + 1", "2*dx - 1".
std::string linear_text(int64_t k, const std::string& root, int64_t m) {
  std::string out = k == 1 ? root : std::to_string(k) + "*" + root;
  if (m > 0) out += " + " + std::to_string(m);
  if (m < 0) out += " - " + std::to_string(-m);
  return out;
}
std::string linear_flag(int64_t k, const std::string& root, int64_t m) {
  std::string out = k == 1 ? root : std::to_string(k) + "*" + root;
  if (m > 0) out += "+" + std::to_string(m);
  if (m < 0) out += "-" + std::to_string(-m);
  return out;
}

// A linear relation between exactly two symbols, solved for the later one:
// newer == k*older + m (k > 0). nullopt if the guard is not of that form.
struct Relation {
  SymExpr older, newer;
  int64_t k, m;
};
std::optional<Relation> as_relation(const SymBool& b) {
  if (b.as_const() || b.rel() != Rel::Eq) return std::nullopt;
  SymExpr l = b.lhs();
  if (l.kind() != SymKind::Add || l.operands().size() != 2) return std::nullopt;
  std::vector<std::pair<SymExpr, int64_t>> t;
  for (SymExpr op : l.operands()) {
    if (op.is_symbol()) {
      t.emplace_back(op, 1);
    } else if (op.kind() == SymKind::Mul && op.operands().size() == 2 && op.operands()[0].is_symbol() &&
               op.operands()[1].is_const()) {
      t.emplace_back(op.operands()[0], op.operands()[1].value());
    } else {
      return std::nullopt;
    }
  }
  if (t[0].first.symbol_id() > t[1].first.symbol_id()) std::swap(t[0], t[1]);
  // a*older + b*newer == c  =>  newer == (c - a*older) / b
  int64_t a = t[0].second, bc = t[1].second, c = b.rhs().value();
  if (bc != 1 && bc != -1) return std::nullopt;
  int64_t k = -a * bc, m = c * bc;
  if (k <= 0) return std::nullopt;
  return Relation{t[0].first, t[1].first, k, m};
}

// Eq(Mod(c*s + a, k), 0) on one symbol, solved for s: s == k'*_s - a' (k' = k / gcd(c, k), and
// -a' the smallest residue that satisfies it), e.g. Eq(Mod(3*s, 2), 0) -> s == 2*_s.
struct Congruence {
  SymExpr sym;
  int64_t k, a;
};
std::optional<Congruence> as_congruence(const SymBool& b) {
  if (b.as_const() || b.rel() != Rel::Eq || b.rhs() != SymExpr(0)) return std::nullopt;
  SymExpr l = b.lhs();
  if (l.kind() != SymKind::Mod || !l.operands()[1].is_const()) return std::nullopt;
  const int64_t k = l.operands()[1].value();
  if (k < 2 || k > (int64_t{1} << 20)) return std::nullopt;
  // base = c*sym + a
  SymExpr base = l.operands()[0];
  int64_t a = 0;
  if (base.kind() == SymKind::Add && base.operands().size() == 2 && base.operands()[1].is_const()) {
    a = base.operands()[1].value();
    base = base.operands()[0];
  }
  int64_t c = 1;
  if (base.kind() == SymKind::Mul && base.operands().size() == 2 && base.operands()[1].is_const()) {
    c = base.operands()[1].value();
    base = base.operands()[0];
  }
  if (!base.is_symbol() || c <= 0) return std::nullopt;
  const auto mod = [](int64_t x, int64_t m) { return ((x % m) + m) % m; };
  const int64_t step = k / std::gcd(mod(c, k) == 0 ? k : mod(c, k), k);
  for (int64_t r = 0; r < step; ++r) {
    if (mod(mod(c, k) * r + mod(a, k), k) == 0) return Congruence{base, step, -r};
  }
  return std::nullopt;  // no residue satisfies it: no dynamic value does
}

int64_t floordiv64(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

std::string note_for(const Guard& g) {
  std::string out = "      required by " + g.origin.str();
  if (!g.origin.code.empty()) out += ": " + g.origin.code;
  return out;
}

// The analysis without suggestions; `suggest` adds and re-checks them.
// `narrower` (if given) receives, per named symbol whose requested range is too wide, the range the
// guards allow (torch semantics: sizes >= 2).
CheckResult analyze(const ShapeEnv& env, const CheckOptions& opts, std::map<int, Range>* narrower);

// ---------------------------------------------------------------------------------------------
// Tightest range of one symbol under the requested ranges and the guards.

class RangeFinder {
 public:
  /// The prover of `s`'s component: it holds the ranges and the guards considered (made on demand).
  using ProverOf = std::function<Prover&(SymExpr s)>;
  /// Is the sample, with `s` set to `v`, a model of the assumptions of s's prover? A model found by
  /// evaluation, without Z3; false when it cannot tell.
  using Witness = std::function<bool(SymExpr s, int64_t v)>;

  /// `guards`: the guards considered.
  RangeFinder(const std::vector<const Guard*>& guards, ProverOf prover, Witness witness)
      : prover_(std::move(prover)), witness_(std::move(witness)) {
    for (const Guard* g : guards) {
      for (SymExpr s : g->cond.free_symbols()) by_symbol_[s.symbol_id()].push_back(g);
    }
  }

  /// The tightest range of `info.sym` inside `start` (which must contain the sample).
  Range tightest(const SymbolInfo& info, Range start) {
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

 private:
  // The extreme feasible value between `end` and `hint` (the sample is feasible), or a sound
  // bound if the solver gives up. Invariant: no value beyond [lo, hi] on the searched side is
  // feasible, and the extreme lies in [lo, hi]. A model of a satisfiable step is a feasible value
  // and moves the inner end up to it.
  int64_t search(SymExpr s, int64_t end, int64_t hint, bool lower) {
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

  std::unordered_map<int, std::vector<const Guard*>> by_symbol_;
  ProverOf prover_;
  Witness witness_;
};

// One prover at a time, for the component being worked on; the previous one is freed first, so a
// model with thousands of components does not hold thousands of solvers.
class ComponentProvers {
 public:
  using Facts = std::function<std::vector<SymBool>(size_t component)>;
  ComponentProvers(z3::context& ctx, const CheckOptions& opts, Facts facts)
      : ctx_(ctx), opts_(opts), facts_(std::move(facts)) {}
  Prover& of(size_t component) {
    if (!prover_ || component != component_) {
      prover_.reset();
      prover_ = std::make_unique<Prover>(ctx_, opts_, facts_(component));
      component_ = component;
    }
    return *prover_;
  }

 private:
  z3::context& ctx_;
  const CheckOptions& opts_;
  Facts facts_;
  std::unique_ptr<Prover> prover_;
  size_t component_ = 0;
};

// The guards' connected components: two symbols are in one component when a guard mentions both
// (a derived dim is an expression of its root, so it is in the root's component). When the sample
// is a model of every requested range and every guard, a question about one component needs only
// its own symbols' ranges and guards: the other components are satisfiable on their own (by the
// sample) and share no symbol with it, so they change no answer. Otherwise (`split` false) there is
// one component holding everything, as if nothing were split.
struct Components {
  static constexpr size_t kNone = SIZE_MAX;
  bool split = false;
  std::vector<size_t> of_symbol;             // symbol position -> component
  std::vector<std::vector<size_t>> symbols;  // component -> symbol positions, in env order
  std::vector<std::vector<size_t>> guards;   // component -> guard indices, in env order
  std::vector<size_t> of_guard;              // guard index -> component (kNone: a constant guard)
};

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

// Decides `cond` by evaluating it at every point of its symbols' bounds when there are at most
// `limit` of them: exact where Z3 gives up on nonlinear guards over small ranges (window padding:
// products of floor divisions and remainders of two sizes). The limit comes from the solver budget
// (one point per kStepsPerPoint steps, at most kEnumerationLimit), so --solver-timeout bounds it too. False comes with the first
// point that breaks it in `cex`; a point where a term is undefined (division by zero) is skipped, as
// the prover claims guards only where their terms are defined. nullopt: too many points.
constexpr uint64_t kEnumerationLimit = uint64_t{1} << 18;
constexpr uint64_t kStepsPerPoint = 16;
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

struct Item {  // one "  - ..." line of the violation text, with its notes
  std::string debug_name;
  std::string text;
  std::vector<const Guard*> guards;
};

CheckResult analyze(const ShapeEnv& env, const CheckOptions& opts, std::map<int, Range>* narrower) {
  CheckResult res;
  const auto& infos = env.symbols();
  std::unordered_map<int, size_t> index;  // symbol id -> position
  for (size_t i = 0; i < infos.size(); ++i) index[infos[i].sym.symbol_id()] = i;
  auto info_of = [&](SymExpr s) -> const SymbolInfo& { return infos.at(index.at(s.symbol_id())); };
  auto first_source = [&](SymExpr s) { return info_of(s).sources.empty() ? info_of(s).user_name : info_of(s).sources.front(); };
  NameOf source_name = [&](SymExpr s) { return index.count(s.symbol_id()) ? first_source(s) : s.str(); };

  std::vector<SymBool> check_facts, exact_facts;
  for (const SymbolInfo& s : infos) {
    for (const SymBool& f : range_facts(s.sym, check_range(s.requested))) check_facts.push_back(f);
    for (const SymBool& f : range_facts(s.sym, s.requested)) exact_facts.push_back(f);
  }
  auto check_bounds = [&](SymExpr s) {
    if (!index.count(s.symbol_id())) return Interval::all();
    Range r = check_range(info_of(s).requested);
    return Interval{r.min, r.max};
  };

  const std::vector<Guard>& guards = env.guards();
  std::vector<std::vector<SymExpr>> guard_symbols(guards.size());
  for (size_t i = 0; i < guards.size(); ++i) guard_symbols[i] = guards[i].cond.free_symbols();
  const Components comps = split_components(env, index, guard_symbols, opts.split_components);
  // The range facts of some symbols (those the env knows).
  auto facts_of = [&](const std::vector<SymExpr>& syms, auto range_of) {
    std::vector<SymBool> out;
    for (SymExpr s : syms) {
      auto it = index.find(s.symbol_id());
      if (it == index.end()) continue;
      for (const SymBool& f : range_facts(s, range_of(it->second))) out.push_back(f);
    }
    return out;
  };
  auto check_range_at = [&](size_t p) { return check_range(infos[p].requested); };

  z3::context ctx;  // shared by every prover below (declared before them)

  // 1. Does each guard follow from the (0/1-free) requested ranges? Split, each query holds only the
  // ranges of the guard's own symbols (the others' ranges are not empty and share no symbol).
  Prover check_prover(ctx, opts, comps.split ? std::vector<SymBool>{} : check_facts);
  std::vector<Truth> implied(guards.size(), Truth::Unknown);
  std::vector<Assignment> cex(guards.size());
  for (size_t i = 0; i < guards.size(); ++i) {
    const SymBool& g = guards[i].cond;
    if (g.as_const()) {
      implied[i] = *g.as_const() ? Truth::True : Truth::False;
      continue;
    }
    if (decide_by_bounds(g, check_bounds) == std::optional<bool>(true)) {
      implied[i] = Truth::True;
      continue;
    }
    // A guard on a Dim.DYNAMIC or Dim.AUTO symbol is never charged (step 3): no need to ask.
    bool all_named = true;
    for (SymExpr s : guard_symbols[i]) {
      auto it = index.find(s.symbol_id());
      all_named = all_named && it != index.end() && infos[it->second].kind == DimHint::kNamed;
    }
    if (!all_named) continue;
    implied[i] = check_prover.implies(g, &cex[i], comps.split ? facts_of(guard_symbols[i], check_range_at)
                                                              : std::vector<SymBool>{});
    if (implied[i] == Truth::Unknown) {
      const uint64_t limit = std::min(kEnumerationLimit, solver_budget(opts).rlimit / kStepsPerPoint);
      if (auto t = decide_by_enumeration(g, guard_symbols[i], check_bounds, limit, &cex[i])) implied[i] = *t;
    }
  }

  // 2. Proven ranges, 0 and 1, verdicts: per component, on a prover holding its symbols' requested
  // ranges and its guards.
  std::vector<const Guard*> all_guards;
  std::unordered_map<int, std::vector<size_t>> guards_of;  // symbol id -> guard indices
  for (size_t i = 0; i < guards.size(); ++i) {
    all_guards.push_back(&guards[i]);
    for (SymExpr s : guard_symbols[i]) guards_of[s.symbol_id()].push_back(i);
  }
  ComponentProvers full(ctx, opts, [&](size_t c) {
    std::vector<SymBool> facts;
    for (size_t p : comps.symbols[c]) {
      for (const SymBool& f : range_facts(infos[p].sym, infos[p].requested)) facts.push_back(f);
    }
    for (size_t gi : comps.guards[c]) facts.push_back(guards[gi].cond);
    return facts;
  });
  Assignment probe = env.hints();
  // Split, the sample satisfies every range and guard: with s = v it is still a model if v is in
  // s's range and s's guards hold there.
  auto full_witness = [&](SymExpr s, int64_t v) {
    return comps.split && info_of(s).requested.contains(v) &&
           holds_with(probe, s, v, guards, guards_of[s.symbol_id()]);
  };
  auto component_of = [&](SymExpr s) { return comps.of_symbol[index.at(s.symbol_id())]; };
  RangeFinder finder(all_guards, [&](SymExpr s) -> Prover& { return full.of(component_of(s)); }, full_witness);
  // A symbol equal to one already searched (a guard Eq(s, t)) takes its range and its answers at 0
  // and 1: every model gives both the same value (split, every component is satisfiable). One
  // search then serves every symbol that broadcasting made equal.
  struct Searched {
    Range proven;
    std::optional<bool> feasible_at[2];
  };
  std::unordered_map<int, Searched> searched;  // symbol id ->
  auto equal_searched = [&](SymExpr s) -> const Searched* {
    if (!comps.split) return nullptr;
    for (size_t gi : guards_of[s.symbol_id()]) {
      auto rel = as_relation(guards[gi].cond);
      if (!rel || rel->k != 1 || rel->m != 0) continue;
      SymExpr other = rel->older == s ? rel->newer : rel->older;
      auto it = searched.find(other.symbol_id());
      if (it != searched.end()) return &it->second;
    }
    return nullptr;
  };
  res.symbols.resize(infos.size());
  for (size_t c = 0; c < comps.symbols.size(); ++c) {
    for (size_t p : comps.symbols[c]) {
      const SymbolInfo& info = infos[p];
      SymbolVerdict& v = res.symbols[p];
      v.name = info.user_name;
      v.symbol = info.sym;
      v.kind = info.kind;
      v.hint = info.hint;
      v.sources = info.sources;
      v.requested = info.requested;
      const Searched* same = equal_searched(info.sym);
      v.proven = same ? same->proven : finder.tightest(info, info.requested);
      Searched mine{v.proven, {}};
      for (size_t gi : guards_of[info.sym.symbol_id()]) v.guards.push_back(guards[gi]);
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
      if (v.proven.max && *v.proven.max == v.proven.min) v.verdict = Verdict::kSpecialized;
    }
  }

  // 3. Charge the guards that do not follow to named symbols.
  std::vector<Item> specialized_items, relation_items, guard_items, range_items;
  std::vector<const Guard*> unknown_guards;
  std::set<int> specialized_ids;
  for (SymbolVerdict& v : res.symbols) {
    if (v.verdict != Verdict::kSpecialized) continue;
    const SymbolInfo& info = info_of(v.symbol);
    if (info.kind == DimHint::kAuto) {
      res.specializations[info.user_name] = v.proven.min;
      continue;
    }
    specialized_ids.insert(v.symbol.symbol_id());
    Item it;
    it.debug_name = info.user_name;
    it.text = "You marked " + info.user_name + " as dynamic but your code specialized it to be a constant (" +
              std::to_string(v.proven.min) +
              "). If you're using mark_dynamic, either remove it or use maybe_mark_dynamic. If you're using "
              "Dim.DYNAMIC, replace it with either Dim.STATIC or Dim.AUTO.";
    for (const Guard& g : v.guards) {
      if (!g.cond.as_const()) it.guards.push_back(&g);
    }
    specialized_items.push_back(std::move(it));
  }
  std::vector<const Guard*> range_relevant;  // violated bound guards and relations
  for (size_t i = 0; i < guards.size(); ++i) {
    if (implied[i] == Truth::True) continue;
    const Guard& g = guards[i];
    const std::vector<SymExpr>& fs = guard_symbols[i];
    bool all_named = !fs.empty();
    bool touches_specialized = false;
    for (SymExpr s : fs) {
      all_named = all_named && index.count(s.symbol_id()) && info_of(s).kind == DimHint::kNamed;
      touches_specialized = touches_specialized || specialized_ids.count(s.symbol_id());
    }
    if (!all_named && !(fs.empty() && implied[i] == Truth::False)) continue;
    for (SymExpr s : fs) {
      SymbolVerdict& v = res.symbols[index.at(s.symbol_id())];
      v.violated.push_back(g);
      if (implied[i] == Truth::Unknown && v.verdict == Verdict::kOk) v.verdict = Verdict::kUnknown;
      if (implied[i] == Truth::False && v.verdict != Verdict::kSpecialized) {
        v.verdict = Verdict::kViolated;
        auto it = cex[i].find(s.symbol_id());
        if (!v.counterexample && it != cex[i].end()) v.counterexample = it->second;
      }
    }
    if (implied[i] == Truth::Unknown) {
      unknown_guards.push_back(&g);
      continue;
    }
    if (touches_specialized) continue;  // the forced constant says it all
    if (fs.size() > 1 || (fs.size() == 1 && is_bound_on(g.cond, fs[0]))) range_relevant.push_back(&g);
    if (fs.size() == 1 && is_bound_on(g.cond, fs[0])) continue;  // in the range item below
    if (auto rel = as_relation(g.cond)) {
      const SymbolInfo& newer = info_of(rel->newer);
      const SymbolInfo& older = info_of(rel->older);
      Item it;
      it.debug_name = newer.user_name;
      if (rel->k == 1 && rel->m == 0) {
        it.text = "The values of " + newer.user_name + " = " + first_source(rel->newer) + " and " +
                  older.user_name + " = " + first_source(rel->older) + " must always be equal.";
      } else {
        it.text = "The values of " + newer.user_name + " = " + first_source(rel->newer) +
                  " must always be related to the values of " + older.user_name + " = " +
                  first_source(rel->older) + " by " + newer.user_name + " = " +
                  linear_text(rel->k, older.user_name, rel->m) + ".";
      }
      it.guards.push_back(&g);
      relation_items.push_back(std::move(it));
      continue;
    }
    Item it;
    std::string vars;
    for (SymExpr s : fs) {
      vars += (vars.empty() ? "" : ", ") + render_range(info_of(s));
      it.debug_name += (it.debug_name.empty() ? "" : ", ") + info_of(s).user_name;
    }
    if (fs.empty()) {
      it.text = "The generated guard " + g.cond.str() + " is never satisfied.";
    } else {
      it.text = "Not all values of " + vars + " satisfy the generated guard " +
                python_guard_text(g.cond, env) + ".";
    }
    it.guards.push_back(&g);
    guard_items.push_back(std::move(it));
  }
  // Ranges too wide: the tightest range each named symbol can have under the (0/1-free) requested
  // ranges and the violated bound and relation guards (torch's refined var_to_range; a guard like
  // divisibility on one symbol has its own item and does not count here).
  {
    std::vector<const Guard*> range_guard_list;
    std::set<int> range_syms;
    std::vector<SymBool> facts = check_facts;
    std::set<int> derived;  // the later symbol of a relation is expressed by the earlier one
    for (const Guard* g : range_relevant) {
      range_guard_list.push_back(g);
      facts.push_back(g->cond);
      for (SymExpr s : g->cond.free_symbols()) range_syms.insert(s.symbol_id());
      if (auto rel = as_relation(g->cond)) derived.insert(rel->newer.symbol_id());
    }
    for (int id : derived) range_syms.erase(id);
    std::unordered_map<int, std::vector<const Guard*>> range_guards_of;  // symbol id -> its guards
    std::unordered_map<int, std::vector<size_t>> range_guard_index;     // symbol id -> guard indices
    std::vector<std::vector<SymBool>> range_guards_in(comps.symbols.size());
    for (const Guard* g : range_guard_list) {
      size_t gi = static_cast<size_t>(g - guards.data());
      for (SymExpr s : guard_symbols[gi]) {
        range_guards_of[s.symbol_id()].push_back(g);
        range_guard_index[s.symbol_id()].push_back(gi);
      }
      range_guards_in[comps.split ? comps.of_guard[gi] : 0].push_back(g->cond);
    }
    ComponentProvers range_prover(ctx, opts, [&](size_t c) {
      if (!comps.split) return facts;
      std::vector<SymBool> f;
      for (size_t p : comps.symbols[c]) {
        for (const SymBool& x : range_facts(infos[p].sym, check_range(infos[p].requested))) f.push_back(x);
      }
      for (const SymBool& x : range_guards_in[c]) f.push_back(x);
      return f;
    });
    // Symbols whose sample is outside the 0/1-free range, per component: the sample is no model.
    std::vector<size_t> outside(comps.symbols.size(), 0);
    for (size_t p = 0; p < infos.size(); ++p) outside[comps.of_symbol[p]] += !check_range_at(p).contains(infos[p].hint);
    auto range_witness = [&](SymExpr s, int64_t v) {
      size_t p = index.at(s.symbol_id());
      size_t others_outside = outside[comps.of_symbol[p]] - !check_range_at(p).contains(infos[p].hint);
      return comps.split && others_outside == 0 && check_range_at(p).contains(v) &&
             holds_with(probe, s, v, guards, range_guard_index[s.symbol_id()]);
    };
    RangeFinder range_finder(range_guard_list, [&](SymExpr s) -> Prover& { return range_prover.of(component_of(s)); },
                             range_witness);
    // Searched component by component (one prover at a time), reported in symbol id order.
    std::vector<int> by_component(range_syms.begin(), range_syms.end());
    std::stable_sort(by_component.begin(), by_component.end(),
                     [&](int a, int b) { return comps.of_symbol[index.at(a)] < comps.of_symbol[index.at(b)]; });
    std::unordered_map<int, Range> found;
    for (int id : by_component) {
      const SymbolInfo& info = infos[index.at(id)];
      found[id] = range_finder.tightest(info, check_range(info.requested));
    }
    for (int id : range_syms) {
      const SymbolInfo& info = infos[index.at(id)];
      Range want = check_range(info.requested);
      Range r = found.at(id);
      if (same(r, want)) continue;
      if (narrower) (*narrower)[id] = r;
      SymbolVerdict& v = res.symbols[index.at(id)];
      if (v.verdict != Verdict::kSpecialized) v.verdict = Verdict::kViolated;
      if (!v.counterexample) v.counterexample = r.min > want.min ? r.min - 1 : *r.max + 1;
      std::string src = info.sources.empty() ? info.user_name : info.sources.front();
      std::string guard = std::to_string(r.min) + " <= " + src + " and " + src + " <= " +
                          (r.max ? std::to_string(*r.max) : std::string("IntInfinity()"));
      Item it;
      it.debug_name = info.user_name;
      it.text = "Not all values of " + render_range(info) + " satisfy the generated guard " + guard;
      it.guards = range_guards_of[id];
      range_items.push_back(std::move(it));
    }
  }

  // 4. Final ranges and runtime asserts.
  std::vector<SymBool> final_facts;
  for (const SymbolVerdict& v : res.symbols) {
    res.final_ranges[v.symbol.str()] = v.proven;
    if (!comps.split) {
      for (const SymBool& f : range_facts(v.symbol, v.proven)) final_facts.push_back(f);
    }
  }
  // Split, each query holds the final ranges of the guard's own symbols only (they all contain the
  // sample, so none is empty).
  Prover final_prover(ctx, opts, final_facts);
  auto final_range_at = [&](size_t p) { return res.symbols[p].proven; };
  std::function<const Range&(SymExpr)> final_range_of = [&](SymExpr s) -> const Range& {
    return res.symbols[index.at(s.symbol_id())].proven;
  };
  auto final_bounds = [&](SymExpr s) {
    if (!index.count(s.symbol_id())) return Interval::all();
    const Range& r = res.symbols[index.at(s.symbol_id())].proven;
    return Interval{r.min, r.max};
  };
  for (size_t i = 0; i < guards.size(); ++i) {
    const Guard& g = guards[i];
    if (g.cond.as_const()) continue;
    if (decide_by_bounds(g.cond, final_bounds) == std::optional<bool>(true)) continue;
    if (comps.split && refuted_in_box(g.cond, guard_symbols[i], probe, final_range_of)) {
      res.runtime_asserts.push_back(g);
      continue;
    }
    if (final_prover.implies(g.cond, nullptr,
                             comps.split ? facts_of(guard_symbols[i], final_range_at) : std::vector<SymBool>{}) ==
        Truth::True) {
      continue;
    }
    res.runtime_asserts.push_back(g);
  }

  // 5. The text.
  std::vector<Item> items;
  for (auto* group : {&specialized_items, &relation_items, &guard_items, &range_items}) {
    for (Item& it : *group) items.push_back(std::move(it));
  }
  if (!items.empty()) {
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
    res.violation_text = "Constraints violated (" + joined +
                         ")! For more information, run with TORCH_LOGS=\"+dynamic\".";
    for (const Item& it : items) {
      res.violation_text += "\n  - " + it.text;
      for (const Guard* g : it.guards) res.violation_text += "\n" + note_for(*g);
    }
    res.ok = false;
  }
  if (!unknown_guards.empty()) {
    res.ok = false;
    res.unknown = items.empty();
  }
  return res;
}

// ---------------------------------------------------------------------------------------------
// Suggested fixes: a repaired spec, checked by analyzing the env it describes.

struct Fix {
  enum Kind { kRange, kStatic, kRelation, kCongruence } kind;
  SymExpr sym;
  Range range;           // kRange; kCongruence: the new root's range
  int64_t value = 0;     // kStatic
  SymExpr root;          // kRelation
  int64_t k = 1, m = 0;  // kRelation: sym == k*root + m; kCongruence: sym == k*_root - m
};

std::vector<std::string> targets_of(const SymbolInfo& info) {
  std::vector<std::string> out;
  for (const std::string& s : info.sources) out.push_back(source_to_target(s));
  return out;
}

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

  // Render in torch's order: Dim(...) lines by source, then equalities by source.
  std::vector<std::pair<std::string, Suggestion>> dims, others;
  for (const Fix& f : fixes) {
    const SymbolInfo& info = *info_of(f.sym);
    std::string key = info.sources.empty() ? info.user_name : info.sources.front();
    switch (f.kind) {
      case Fix::kRange:
        dims.push_back({key, {info.user_name, dim_form(info.user_name, f.range.min, f.range.max, true),
                              flag_range(info.user_name, f.range)}});
        break;
      case Fix::kStatic: {
        std::string flags;
        for (const std::string& t : targets_of(info)) flags += (flags.empty() ? "" : " ") + ("--dynamic " + t + "=static");
        // torch names no fix for an unnamed (Dim.DYNAMIC) dim; the flag form still applies.
        std::string torch_form = info.kind == DimHint::kNamed ? info.user_name + " = " + std::to_string(f.value) : "";
        others.push_back({key, {info.user_name, torch_form, flags}});
        break;
      }
      case Fix::kRelation: {
        const SymbolInfo& root = *info_of(f.root);
        std::string flags;
        for (const std::string& t : targets_of(info)) {
          flags += (flags.empty() ? "" : " ") + ("--dynamic " + t + "=" + linear_flag(f.k, root.user_name, f.m));
        }
        others.push_back({key, {info.user_name, info.user_name + " = " + linear_text(f.k, root.user_name, f.m), flags}});
        break;
      }
      case Fix::kCongruence: {
        std::string root = "_" + info.user_name;
        dims.push_back({key, {root, dim_form(root, f.range.min, f.range.max, false), flag_range(root, f.range)}});
        std::string flags;
        for (const std::string& t : targets_of(info)) {
          flags += (flags.empty() ? "" : " ") + ("--dynamic " + t + "=" + linear_flag(f.k, root, -f.m));
        }
        others.push_back({key, {info.user_name, info.user_name + " = " + linear_text(f.k, root, -f.m), flags}});
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

}  // namespace

std::string python_guard_text(const SymBool& cond, const ShapeEnv& env) {
  NameOf name = [&](SymExpr s) {
    const SymbolInfo* info = env.find_symbol(s);
    if (!info) return s.str();
    return info->sources.empty() ? info->user_name : info->sources.front();
  };
  return py_rel(cond, name);
}

std::string source_to_target(const std::string& source) {
  const std::string marker = ".size()[";
  size_t p = source.rfind(marker);
  if (p == std::string::npos || source.back() != ']') return source;
  std::string idx = source.substr(p + marker.size(), source.size() - p - marker.size() - 1);
  if (idx.empty() || idx.find_first_not_of("-0123456789") != std::string::npos) return source;
  return source.substr(0, p) + "." + idx;
}

SolverBudget solver_budget(const CheckOptions& opts) {
  SolverBudget b = opts.budget;
  if (opts.timeout_ms) b.rlimit = std::max<uint64_t>(1, uint64_t{opts.timeout_ms} * kRlimitPerMs);
  return b;
}

CheckResult check_constraints(const ShapeEnv& env, const CheckOptions& given) {
  CheckOptions opts = given;
  opts.budget = solver_budget(given);
  opts.timeout_ms = 0;
  std::map<int, Range> narrower;
  CheckResult res = analyze(env, opts, &narrower);
  if (!res.ok && !res.unknown) suggest(env, opts, narrower, res);
  if (!res.violation_text.empty()) {
    res.message = res.violation_text;
    if (!res.suggestions.empty()) {
      res.message += "\nSuggested fixes:";
      for (const Suggestion& s : res.suggestions) {
        if (!s.torch_form.empty()) res.message += "\n  " + s.torch_form;
      }
      for (const Suggestion& s : res.suggestions) res.message += "\n  " + s.flag_form;
    } else {
      res.message += "\nNo suggested fix: no dynamic range implies every guard above";
    }
  }
  if (res.unknown || (!res.ok && res.violation_text.empty())) {
    std::string text = "the solver could not decide, within its budget, whether the dynamic shape spec implies:";
    for (const SymbolVerdict& v : res.symbols) {
      if (v.verdict != Verdict::kUnknown) continue;
      for (const Guard& g : v.violated) text += "\n  - " + g.cond.str() + "\n" + note_for(g);
    }
    res.message = text;
  }
  return res;
}

nlohmann::json CheckResult::to_json() const {
  auto range_json = [](const Range& r) {
    return nlohmann::json{{"min", r.min}, {"max", r.max ? nlohmann::json(*r.max) : nlohmann::json(nullptr)}};
  };
  auto guard_json = [](const Guard& g) {
    return nlohmann::json{{"guard", g.cond.str()}, {"op", g.origin.op},     {"node", g.origin.node},
                          {"source", g.origin.source}, {"code", g.origin.code}, {"reason", g.origin.reason}};
  };
  nlohmann::json j;
  j["ok"] = ok;
  j["unknown"] = unknown;
  j["symbols"] = nlohmann::json::array();
  for (const SymbolVerdict& v : symbols) {
    nlohmann::json s{{"name", v.name},
                     {"symbol", v.symbol.str()},
                     {"kind", v.kind == DimHint::kNamed ? "named" : v.kind == DimHint::kDynamic ? "dynamic" : "auto"},
                     {"hint", v.hint},
                     {"sources", v.sources},
                     {"requested", range_json(v.requested)},
                     {"proven", range_json(v.proven)},
                     {"verdict", to_string(v.verdict)},
                     {"counterexample", v.counterexample ? nlohmann::json(*v.counterexample) : nlohmann::json(nullptr)},
                     {"allowed_at_0", v.allowed_at_0},
                     {"allowed_at_1", v.allowed_at_1}};
    // 0 or 1 inside the proven range where the guards fail: the artifact refuses them at run time
    // (a runtime assert), so the range alone would overstate it. Present only when non-empty.
    nlohmann::json excluded = nlohmann::json::array();
    for (int64_t k : {0, 1}) {
      if (v.proven.contains(k) && !(k == 0 ? v.allowed_at_0 : v.allowed_at_1)) excluded.push_back(k);
    }
    if (!excluded.empty()) s["excluded"] = excluded;
    s["guards"] = nlohmann::json::array();
    for (const Guard& g : v.guards) s["guards"].push_back(guard_json(g));
    s["violated"] = nlohmann::json::array();
    for (const Guard& g : v.violated) s["violated"].push_back(guard_json(g));
    j["symbols"].push_back(std::move(s));
  }
  j["violation_text"] = violation_text;
  j["suggestions"] = nlohmann::json::array();
  for (const Suggestion& s : suggestions) {
    j["suggestions"].push_back({{"symbol", s.symbol}, {"torch", s.torch_form}, {"flag", s.flag_form}});
  }
  j["runtime_asserts"] = nlohmann::json::array();
  for (const Guard& g : runtime_asserts) j["runtime_asserts"].push_back(guard_json(g));
  j["specializations"] = specializations;
  j["final_ranges"] = nlohmann::json::object();
  for (const auto& [name, r] : final_ranges) j["final_ranges"][name] = range_json(r);
  return j;
}

}  // namespace ptx::shapes
