// tests/passes/pipeline_test.cpp: passes::run_pipeline runs DCE then runtime asserts, verifies after
// each pass that changed the program, and prints after a named pass.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <sstream>

#include "ir/parser.h"
#include "ir/printer.h"
#include "passes/pipeline.h"
#include "shapes/error.h"

using namespace ptx;
using Catch::Matchers::ContainsSubstring;

namespace {
const char* const kProgram = R"txt(ExportedProgram:
    class GraphModule(torch.nn.Module):
        def forward(self, x: "f32[s0]"):
            dead: "f32[s0]" = torch.ops.aten.neg.default(x)
            view: "f32[(s0//4), 4]" = torch.ops.aten.view.default(x, [-1, 4])
            return (view,)
Graph signature:
    # inputs
    x: USER_INPUT
    # outputs
    view: USER_OUTPUT
Range constraints: {s0: VR[2, int_oo]}
)txt";
}

TEST_CASE("the pipeline runs its passes in order and prints after one", "[passes][pipeline]") {
  CHECK(passes::pipeline_pass_names() ==
        std::vector<std::string>{"lower_script_overloads", "decompose", "eliminate_dead_code", "insert_runtime_asserts"});
  auto p = ir::parse_program(kProgram);
  const shapes::SymExpr s0 = p->graph->placeholders()[0]->meta().sizes[0];
  std::ostringstream printed;
  passes::PipelineOptions opts;
  opts.runtime_asserts = {{shapes::sym_eq(shapes::python_mod(s0, 4), 0), {}}};
  opts.print_after = "eliminate_dead_code";
  opts.print_to = &printed;
  auto runs = passes::run_pipeline(*p, opts);
  REQUIRE(runs.size() == 4);
  CHECK(runs[0].name == "lower_script_overloads");
  CHECK_FALSE(runs[0].changed);
  CHECK(runs[1].name == "decompose");
  CHECK_FALSE(runs[1].changed);  // the default level (training) decomposes nothing
  runs.erase(runs.begin() + 1);
  CHECK(runs[1].name == "eliminate_dead_code");
  CHECK(runs[1].changed);
  CHECK(runs[2].name == "insert_runtime_asserts");
  CHECK(runs[2].changed);
  // Printed after DCE: no `dead`, no assert yet.
  CHECK(printed.str().rfind("# after eliminate_dead_code\nExportedProgram:\n", 0) == 0);
  CHECK_THAT(printed.str(), !ContainsSubstring("dead:"));
  CHECK_THAT(printed.str(), !ContainsSubstring("_assert_scalar"));
  // The final program has the assert, which DCE would not remove either.
  const std::string final_text = ir::to_string(*p);
  CHECK_THAT(final_text, ContainsSubstring("torch.ops.aten._assert_scalar.default(eq, \"Runtime assertion failed for "
                                           "expression Eq(Mod(s0, 4), 0) on node 'eq'\")"));
  // The range's lower bound 2, which torch.export.load's input check skips, is asserted too.
  CHECK_THAT(final_text, ContainsSubstring("expression s0 >= 2 on node"));
  const auto again = passes::run_pipeline(*p, opts);
  CHECK_FALSE(again[0].changed);
  CHECK_FALSE(again[1].changed);
  CHECK_FALSE(again[2].changed);
  CHECK(ir::to_string(*p) == final_text);
}

TEST_CASE("a pass that leaves a broken program is named", "[passes][pipeline]") {
  // The program is already broken (no range for s0), which verify reports after the first pass
  // that changes it.
  auto p = ir::parse_program(kProgram);
  p->range_constraints.clear();
  CHECK_THROWS_WITH(passes::run_pipeline(*p, {}),
                    ContainsSubstring("after pass eliminate_dead_code: ir verify: tensor value 'x' uses symbol s0, "
                                      "which has no range constraint"));
}

TEST_CASE("print_after names a pass or all", "[passes][pipeline]") {
  auto p = ir::parse_program(kProgram);
  passes::PipelineOptions opts;
  opts.print_after = "nope";
  try {
    passes::run_pipeline(*p, opts);
    FAIL("no error");
  } catch (const UserError& e) {
    CHECK(e.code() == ExitCode::kUsage);
    CHECK_THAT(e.what(), ContainsSubstring("no pass named 'nope' (passes: lower_script_overloads, decompose, eliminate_dead_code, "
                                                 "insert_runtime_asserts, all)"));
  }
  std::ostringstream printed;
  opts.print_after = "all";
  opts.print_to = &printed;
  passes::run_pipeline(*p, opts);
  CHECK_THAT(printed.str(), ContainsSubstring("# after lower_script_overloads (unchanged)\n"));
  CHECK_THAT(printed.str(), ContainsSubstring("# after eliminate_dead_code\n"));
  // s0 >= 2 (the range's lower bound, which torch.export.load does not check) is asserted.
  CHECK_THAT(printed.str(), ContainsSubstring("# after insert_runtime_asserts\n"));
}
