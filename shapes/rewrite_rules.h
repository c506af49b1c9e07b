// shapes/rewrite_rules.h: the simplifier's rewrite rules, as data.
//
// shapes/sym.cpp canonicalizes every expression as it is built; each rewrite it performs is listed
// here as `lhs -> rhs if guard`, in the syntax of shapes/sym_parse.h. Variables x, y, z stand for
// any integer expression; c, d, k stand for integer constants (the guard restricts them).
// tests/shapes/rewrite_rules_test.cpp proves every rule with Z3 (no integer values satisfy the
// guard and make the two sides differ, where both are defined), checks that each kShrinks rule
// makes the expression smaller, and checks that building the lhs with the SymExpr constructors
// gives exactly the rhs, for a grid of constants that satisfy the guard.
#pragma once

#include <span>
#include <string>

namespace ptx::shapes {

struct RewriteRule {
  enum class Order {
    kShrinks,     // size(rhs) < size(rhs): the rule terminates on its own
    kNormalizes,  // same size or larger, but moves toward the canonical form (expanded sums,
                  // positive divisors, reduced constants), which is unique
  };
  const char* name;
  const char* lhs;
  const char* rhs;
  const char* guard;  // "True" when unconditional
  Order order;
};

/// Every rule the canonicalizing constructors implement, grouped by the constructor.
std::span<const RewriteRule> rewrite_rules();

/// True for the names of constant variables in rules (c, d, k).
bool is_rule_constant(const std::string& var);

}  // namespace ptx::shapes
