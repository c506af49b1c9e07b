// tests/ir/graph_names_test.cpp: every name Graph gives is a python identifier (torch.export.load
// compiles the graph as python), unique, and names that already are identifiers stay as they are.
#include <catch2/catch_test_macros.hpp>

#include "ir/graph.h"

using namespace ptx::ir;

TEST_CASE("python_identifier makes names python identifiers") {
  CHECK(python_identifier("x") == "x");
  CHECK(python_identifier("p_fc1_weight") == "p_fc1_weight");
  CHECK(python_identifier("p_trunk_block1-0_weight") == "p_trunk_block1_0_weight");  // regnet's block1-0
  CHECK(python_identifier("xs.0") == "xs_0");
  CHECK(python_identifier("0_weight") == "_0_weight");
  CHECK(python_identifier("lambda") == "lambda_");
  CHECK(python_identifier("None") == "None_");
  CHECK(python_identifier("") == "v");
  CHECK(python_identifier("a b\xc3\xa9") == "a_b__");
}

TEST_CASE("Graph::unique_name: identifiers, unique, suffixed on collision") {
  Graph g;
  const std::string a = g.unique_name("block1-0");
  const std::string b = g.unique_name("block1_0");
  const std::string c = g.unique_name("block1.0");
  CHECK(a == "block1_0");
  CHECK(b == "block1_0_1");
  CHECK(c == "block1_0_2");
  CHECK(g.unique_name("in") == "in_");
  CHECK(g.unique_name("in") == "in__1");
}
