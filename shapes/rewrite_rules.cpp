// shapes/rewrite_rules.cpp: the rule table (see rewrite_rules.h). Keep grouped by constructor.
#include "shapes/rewrite_rules.h"

namespace ptx::shapes {

namespace {
using O = RewriteRule::Order;

const RewriteRule kRules[] = {
    // operator+ / operator*: identities, like terms, expansion.
    {"add-zero", "x + 0", "x", "True", O::kShrinks},
    {"add-cancel", "x - x", "0", "True", O::kShrinks},
    {"add-collect", "c*x + d*x", "(c + d)*x", "True", O::kShrinks},
    {"add-collect-one", "x + c*x", "(c + 1)*x", "True", O::kShrinks},
    {"add-fold", "(x + c) + d", "x + (c + d)", "True", O::kShrinks},
    {"mul-one", "x*1", "x", "True", O::kShrinks},
    {"mul-zero", "x*0", "0", "True", O::kShrinks},
    {"mul-fold", "(c*x)*d", "(c*d)*x", "True", O::kShrinks},
    {"mul-distribute", "c*(x + y)", "c*x + c*y", "True", O::kNormalizes},
    {"mul-expand", "(x + y)*z", "x*z + y*z", "True", O::kNormalizes},
    // floor_div.
    {"div-one", "x // 1", "x", "True", O::kShrinks},
    {"div-minus-one", "x // (-1)", "-x", "True", O::kShrinks},
    {"div-negative", "x // (-c)", "(-x) // c", "c > 0", O::kNormalizes},
    {"div-zero", "0 // x", "0", "x != 0", O::kShrinks},
    {"div-self", "x // x", "1", "x != 0", O::kShrinks},
    {"div-multiple", "(c*x) // c", "x", "c != 0", O::kShrinks},
    {"div-pull-multiple", "(c*x + y) // c", "x + y // c", "c != 0", O::kShrinks},
    {"div-symbolic-multiple", "(x*y + z) // y", "x + z // y", "y != 0", O::kShrinks},
    {"div-gcd", "(k*x) // (k*d)", "x // d", "k > 0 and d > 0", O::kShrinks},
    {"div-gcd-sum", "(k*x + k*y) // (k*d)", "(x + y) // d", "k > 0 and d > 0", O::kShrinks},
    {"div-nested", "(x // c) // d", "x // (c*d)", "c > 0 and d > 0", O::kShrinks},
    {"div-of-mod", "Mod(x, c) // c", "0", "c > 0", O::kShrinks},
    // python_mod.
    {"mod-one", "Mod(x, 1)", "0", "True", O::kShrinks},
    {"mod-minus-one", "Mod(x, -1)", "0", "True", O::kShrinks},
    {"mod-negative", "Mod(x, -c)", "-Mod(-x, c)", "c > 0", O::kNormalizes},
    {"mod-zero", "Mod(0, x)", "0", "x != 0", O::kShrinks},
    {"mod-self", "Mod(x, x)", "0", "x != 0", O::kShrinks},
    {"mod-self-negated", "Mod(-x, x)", "0", "x != 0", O::kShrinks},
    {"mod-multiple", "Mod(c*x, c)", "0", "c != 0", O::kShrinks},
    {"mod-drop-multiple", "Mod(c*x + y, c)", "Mod(y, c)", "c != 0", O::kShrinks},
    {"mod-symbolic-multiple", "Mod(x*y + z, y)", "Mod(z, y)", "y != 0", O::kShrinks},
    {"mod-reduce-constant", "Mod(x + c, d)", "Mod(x + Mod(c, d), d)", "d > 0", O::kNormalizes},
    {"mod-nested", "Mod(Mod(x, c*d), c)", "Mod(x, c)", "c > 0 and d > 0", O::kShrinks},
    // Sums of a quotient and its remainder.
    {"div-mod-identity", "c*(x // c) + Mod(x, c)", "x", "c != 0", O::kShrinks},
    {"div-mod-identity-scaled", "k*c*(x // c) + k*Mod(x, c)", "k*x", "c != 0", O::kShrinks},
    {"div-mod-identity-symbolic", "y*(x // y) + Mod(x, y)", "x", "y != 0", O::kShrinks},
    // sym_min / sym_max.
    {"min-self", "Min(x, x)", "x", "True", O::kShrinks},
    {"max-self", "Max(x, x)", "x", "True", O::kShrinks},
    {"min-const-offset", "Min(x + c, x + d)", "x + Min(c, d)", "True", O::kShrinks},
    {"max-const-offset", "Max(x + c, x + d)", "x + Max(c, d)", "True", O::kShrinks},
    {"min-absorb-min", "Min(x, Min(x, y))", "Min(x, y)", "True", O::kShrinks},
    {"min-absorb-max", "Min(x, Max(x, y))", "x", "True", O::kShrinks},
    {"max-absorb-max", "Max(x, Max(x, y))", "Max(x, y)", "True", O::kShrinks},
    {"max-absorb-min", "Max(x, Min(x, y))", "x", "True", O::kShrinks},
    {"min-commute", "Min(y, x)", "Min(x, y)", "True", O::kNormalizes},
    // SymBool: relations become `expr rel constant`, non-strict, with the gcd divided out.
    {"lt-to-le", "x < c", "x <= c - 1", "True", O::kNormalizes},
    {"gt-to-ge", "x > c", "x >= c + 1", "True", O::kNormalizes},
    {"rel-move", "x + c <= y", "x - y <= -c", "True", O::kNormalizes},
    {"eq-gcd", "k*x == k*c", "x == c", "k != 0", O::kShrinks},
    {"eq-gcd-false", "k*x == c", "False", "k > 1 and Mod(c, k) != 0", O::kShrinks},
    {"ne-gcd-true", "k*x != c", "True", "k > 1 and Mod(c, k) != 0", O::kShrinks},
    {"ge-gcd", "k*x >= c", "x >= -((-c) // k)", "k > 0", O::kShrinks},
    {"le-gcd", "k*x <= c", "x <= c // k", "k > 0", O::kShrinks},
    {"ge-flip", "-x >= c", "x <= -c", "True", O::kShrinks},
};
}  // namespace

std::span<const RewriteRule> rewrite_rules() { return kRules; }

bool is_rule_constant(const std::string& var) { return var == "c" || var == "d" || var == "k"; }

}  // namespace ptx::shapes
