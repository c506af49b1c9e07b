// tests/shapes/rewrite_rules_test.cpp: every rewrite rule of the simplifier is sound (proved with
// Z3), terminating (kShrinks rules shrink), and actually implemented by the SymExpr constructors.
#include <catch2/catch_test_macros.hpp>

#include <z3++.h>

#include <map>

#include "shapes/rewrite_rules.h"
#include "shapes/sym_parse.h"
#include "shapes/z3_lower.h"

using namespace ptx::shapes;

namespace {

using Op = SymAst::Op;

// Lowers a rule's AST as written (not canonicalized) with Python floor semantics; every divisor
// adds `divisor != 0` to `defined`. Variables are unconstrained Z3 integers.
struct AstLowering {
  z3::context& ctx;
  z3::expr_vector defined;  // divisors are not zero
  z3::expr_vector defs;     // definitions of the quotients and remainders
  std::map<std::string, z3::expr> vars;
  int fresh = 0;

  explicit AstLowering(z3::context& c) : ctx(c), defined(c), defs(c) {}

  z3::expr var(const std::string& name) {
    auto it = vars.find(name);
    if (it == vars.end()) it = vars.emplace(name, ctx.int_const(name.c_str())).first;
    return it->second;
  }

  z3::expr lower(const SymAst& a) {
    auto arg = [&](size_t i) { return lower(a.args[i]); };
    switch (a.op) {
      case Op::Int:
        return ctx.int_val(a.value);
      case Op::Var:
        return var(a.name);
      case Op::Add:
        return arg(0) + arg(1);
      case Op::Sub:
        return arg(0) - arg(1);
      case Op::Neg:
        return -arg(0);
      case Op::Mul:
        return arg(0) * arg(1);
      case Op::Pow: {
        z3::expr b = arg(0), r = b;
        for (int64_t i = 1; i < a.value; ++i) r = r * b;
        return r;
      }
      case Op::FloorDiv:
      case Op::Mod: {
        // x == y*q + r with the remainder's sign that of y: q is the floor quotient, r Python's
        // remainder. (Nonlinear facts like Mod(c*x, c) == 0 are out of reach of Z3's div/mod
        // with a variable divisor within the budget; this definition is not.)
        z3::expr x = arg(0), y = arg(1);
        std::string n = std::to_string(fresh++);
        z3::expr q = ctx.int_const(("q" + n).c_str()), r = ctx.int_const(("r" + n).c_str());
        defined.push_back(y != 0);
        defs.push_back(x == y * q + r);
        defs.push_back(z3::implies(y > 0, 0 <= r && r < y));
        defs.push_back(z3::implies(y < 0, y < r && r <= 0));
        return a.op == Op::FloorDiv ? q : r;
      }
      case Op::Min:
        return z3::min(arg(0), arg(1));
      case Op::Max:
        return z3::max(arg(0), arg(1));
      case Op::Eq:
        return arg(0) == arg(1);
      case Op::Ne:
        return arg(0) != arg(1);
      case Op::Lt:
        return arg(0) < arg(1);
      case Op::Le:
        return arg(0) <= arg(1);
      case Op::Gt:
        return arg(0) > arg(1);
      case Op::Ge:
        return arg(0) >= arg(1);
      case Op::True:
        return ctx.bool_val(true);
      case Op::False:
        return ctx.bool_val(false);
      case Op::And:
        return arg(0) && arg(1);
    }
    FAIL("unexpected op");
    return ctx.bool_val(false);
  }
};

z3::expr conj(z3::context& ctx, const z3::expr_vector& v) {
  z3::expr r = ctx.bool_val(true);
  for (const z3::expr& e : v) r = r && e;
  return r;
}

// Proves `guard and lhs defined => rhs defined and lhs == rhs` with the variables in `fixed`
// replaced by constants. Returns True when proved, False with a counterexample, Unknown otherwise.
Truth prove_rule(const RewriteRule& rule, const std::map<std::string, int64_t>& fixed,
                 uint64_t rlimit, std::string* counterexample) {
  SymAst lhs = parse_sym(rule.lhs), rhs = parse_sym(rule.rhs), guard = parse_sym(rule.guard);
  z3::context ctx;
  AstLowering lw(ctx);
  for (const auto& [name, value] : fixed) lw.vars.emplace(name, ctx.int_val(value));
  z3::expr g = lw.lower(guard);
  z3::expr l = lw.lower(lhs);
  z3::expr lhs_defined = conj(ctx, lw.defined);
  size_t before = lw.defined.size();
  z3::expr r = lw.lower(rhs);
  z3::expr_vector rhs_defs(ctx);
  for (unsigned i = before; i < lw.defined.size(); ++i) rhs_defs.push_back(lw.defined[i]);
  z3::solver s = make_solver(ctx, SolverBudget{rlimit, 0});
  s.add(g && lhs_defined && conj(ctx, lw.defs));
  s.add(!(conj(ctx, rhs_defs) && l == r));
  Truth t = satisfiable(s);
  if (t == Truth::True) {
    if (counterexample) *counterexample = s.get_model().to_string();
    return Truth::False;
  }
  return t == Truth::False ? Truth::True : Truth::Unknown;
}

}  // namespace

TEST_CASE("every rewrite rule is sound (Z3 finds no counterexample)", "[shapes][rules][z3]") {
  // First for all integers. Z3 cannot settle a few nonlinear remainder facts (Mod(c*x + y, c)
  // with c a variable) within the budget; those are proved for every constant c, d, k in
  // [-12, 12] (and a variable divisor y in that range), with x, y, z otherwise unbounded.
  std::vector<std::string> bounded;
  for (const RewriteRule& rule : rewrite_rules()) {
    INFO(rule.name << ": " << rule.lhs << " -> " << rule.rhs << " if " << rule.guard);
    std::string cex;
    Truth t = prove_rule(rule, {}, SolverBudget{}.rlimit, &cex);
    INFO("counterexample: " << cex);
    REQUIRE(t != Truth::False);
    if (t == Truth::True) continue;
    bounded.push_back(rule.name);
    std::string text = std::string(rule.lhs) + " " + rule.rhs + " " + rule.guard;
    std::vector<std::string> vars;
    for (const char* v : {"c", "d", "k", "y"}) {
      SymAst all = parse_sym(std::string(rule.lhs) + " == " + rule.rhs);
      std::function<bool(const SymAst&)> uses = [&](const SymAst& a) {
        if (a.op == Op::Var && a.name == v) return true;
        for (const SymAst& ch : a.args) {
          if (uses(ch)) return true;
        }
        return false;
      };
      // y is bounded only where it is a divisor of a symbolic remainder (no constants at all).
      if (uses(all) && (std::string(v) != "y" || text.find('c') == std::string::npos)) {
        vars.push_back(v);
      }
    }
    REQUIRE(!vars.empty());
    std::map<std::string, int64_t> fixed;
    int proved = 0;
    std::function<void(size_t)> enumerate = [&](size_t i) {
      if (i == vars.size()) {
        Truth tb = prove_rule(rule, fixed, SolverBudget{}.rlimit, &cex);
        INFO("at " << [&] {
          std::string o;
          for (const auto& [n, v] : fixed) o += n + "=" + std::to_string(v) + " ";
          return o;
        }() << "counterexample: " << cex);
        CHECK(tb == Truth::True);
        ++proved;
        return;
      }
      for (int64_t v = -12; v <= 12; ++v) {
        fixed[vars[i]] = v;
        enumerate(i + 1);
      }
      fixed.erase(vars[i]);
    };
    enumerate(0);
    CHECK(proved > 0);
  }
  // Keep the list honest: a rule moving between the two proofs shows up here.
  CHECK(bounded == std::vector<std::string>{"mod-drop-multiple", "mod-symbolic-multiple",
                                            "mod-reduce-constant", "mod-nested"});
}

TEST_CASE("the guard of every rule is satisfiable", "[shapes][rules][z3]") {
  for (const RewriteRule& rule : rewrite_rules()) {
    INFO(rule.name << " if " << rule.guard);
    z3::context ctx;
    AstLowering lw(ctx);
    z3::expr g = lw.lower(parse_sym(rule.guard));
    z3::expr l = lw.lower(parse_sym(rule.lhs));
    z3::solver s = make_solver(ctx, SolverBudget{});
    s.add(g && conj(ctx, lw.defined) && conj(ctx, lw.defs));
    CHECK(satisfiable(s) == Truth::True);
  }
}

TEST_CASE("rules marked as shrinking make the expression smaller", "[shapes][rules]") {
  for (const RewriteRule& rule : rewrite_rules()) {
    if (rule.order != RewriteRule::Order::kShrinks) continue;
    INFO(rule.name << ": " << rule.lhs << " -> " << rule.rhs);
    int l = parse_sym(rule.lhs).size(is_rule_constant);
    int r = parse_sym(rule.rhs).size(is_rule_constant);
    CHECK(r < l);
  }
}

TEST_CASE("the SymExpr constructors implement every rule", "[shapes][rules]") {
  // Variables x, y, z become symbols; constants c, d, k range over a grid, keeping the
  // combinations where the guard's constant part holds. Guards on x, y, z are definedness
  // conditions (a divisor is not zero), which the constructors assume.
  static const SymExpr x = SymExpr::new_symbol("x"), y = SymExpr::new_symbol("y"),
                       z = SymExpr::new_symbol("z");
  const int64_t grid[] = {-6, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 8, 12};
  for (const RewriteRule& rule : rewrite_rules()) {
    INFO(rule.name << ": " << rule.lhs << " -> " << rule.rhs << " if " << rule.guard);
    SymAst lhs = parse_sym(rule.lhs), rhs = parse_sym(rule.rhs), guard = parse_sym(rule.guard);
    int applied = 0;
    for (int64_t c : grid) {
      for (int64_t d : grid) {
        for (int64_t k : grid) {
          auto var = [&](const std::string& n) -> SymExpr {
            if (n == "x") return x;
            if (n == "y") return y;
            if (n == "z") return z;
            if (n == "c") return SymExpr(c);
            if (n == "d") return SymExpr(d);
            if (n == "k") return SymExpr(k);
            FAIL("unknown rule variable " << n);
            return SymExpr();
          };
          bool holds = true;
          for (const SymAst& g : conjuncts(guard)) {
            holds = holds && build_bool(g, var).as_const() != std::optional<bool>(false);
          }
          if (!holds) continue;
          // A grid point that divides by a constant zero is outside the rule's domain.
          bool zero_divisor = false;
          std::function<void(const SymAst&)> scan = [&](const SymAst& a) {
            if ((a.op == Op::FloorDiv || a.op == Op::Mod) &&
                build_expr(a.args[1], var).as_const() == std::optional<int64_t>(0)) {
              zero_divisor = true;
            }
            for (const SymAst& ch : a.args) scan(ch);
          };
          scan(lhs);
          scan(rhs);
          if (zero_divisor) continue;
          ++applied;
          INFO("c=" << c << " d=" << d << " k=" << k);
          if (lhs.is_bool()) {
            SymBool got = build_bool(lhs, var), want = build_bool(rhs, var);
            INFO(got.str() << " vs " << want.str());
            CHECK(got == want);
          } else {
            SymExpr got = build_expr(lhs, var), want = build_expr(rhs, var);
            INFO(got.str() << " vs " << want.str());
            CHECK(got == want);
          }
        }
      }
    }
    CHECK(applied > 0);
  }
}

TEST_CASE("rule table has unique names", "[shapes][rules]") {
  std::map<std::string, int> seen;
  for (const RewriteRule& rule : rewrite_rules()) CHECK(++seen[rule.name] == 1);
}
