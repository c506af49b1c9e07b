// tests/shapes/rules_table_test.cpp: the rule table is sorted, has no duplicates, finds in-place
// variants under their functional name, and has a rule for every op in tests/data/ops_seen.txt.
#include <catch2/catch_test_macros.hpp>

#include <fstream>
#include <sstream>
#include <string>

#include "shapes/rules.h"

using namespace ptx::shapes;

TEST_CASE("the rule table is sorted and has no duplicates", "[shapes][rules]") {
  const auto rules = shape_rules();
  REQUIRE(rules.size() > 100);
  for (size_t i = 1; i < rules.size(); ++i) {
    INFO(rules[i - 1].op << " then " << rules[i].op);
    CHECK(std::string_view(rules[i - 1].op) < std::string_view(rules[i].op));
  }
  for (const ShapeRule& r : rules) {
    INFO(r.op);
    CHECK((std::string_view(r.op).starts_with("aten::") || std::string_view(r.op).starts_with("torchvision::")));
    CHECK(r.fn != nullptr);
    CHECK(find_shape_rule(r.op) == &r);
  }
}

TEST_CASE("find_shape_rule: functional names, in-place variants, unknown ops", "[shapes][rules]") {
  REQUIRE(find_shape_rule("aten::relu") != nullptr);
  CHECK(find_shape_rule("aten::relu_") == find_shape_rule("aten::relu"));
  CHECK(find_shape_rule("aten::add_") == find_shape_rule("aten::add"));
  CHECK(find_shape_rule("aten::__and__") != nullptr);
  CHECK(find_shape_rule("aten::__iand__") == nullptr);
  CHECK(find_shape_rule("aten::no_such_op") == nullptr);
  CHECK(find_shape_rule("aten::") == nullptr);
  CHECK(find_shape_rule("") == nullptr);
  CHECK(find_shape_rule("aten::relu.default") == nullptr);  // names carry no overload
}

TEST_CASE("every tensor op seen in the test models has a rule", "[shapes][rules]") {
  std::ifstream in(std::string(PTX_SOURCE_DIR) + "/tests/data/ops_seen.txt");
  REQUIRE(in.good());
  std::string line;
  int ops = 0;
  while (std::getline(in, line)) {
    if (line.starts_with("# frontend-evaluated")) break;  // ops the frontend evaluates itself
    if (line.empty() || line[0] == '#') continue;
    const std::string op = line.substr(0, line.find('\t'));
    INFO(line.substr(0, 200));
    CHECK(find_shape_rule(op) != nullptr);
    ++ops;
  }
  CHECK(ops >= 60);
}
