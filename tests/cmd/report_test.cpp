// tests/cmd/report_test.cpp: the user's view of a check (cmd/report.h): the suggested fixes as
// --dynamic flags, the message of a failed check, the report's "constraints" object. The cases and
// their torch texts are tests/shapes/violation_cases.h; the flag forms are those a user applies
// (tests/e2e/test_suggested_fixes.py applies them and exports again).
#include "cmd/report.h"

// Torch (c10/util/logging) defines a glog-style CHECK that aborts; Catch2's CHECK must win.
#undef CHECK
#include <catch2/catch_test_macros.hpp>

#include "tests/shapes/violation_cases.h"

using namespace ptx::shapes;
using namespace ptx::shapes::test;
using ptx::cmd::check_message;
using ptx::cmd::constraints_json;
using ptx::cmd::flag_form;  // cmd/fixes.h, through cmd/report.h
using ptx::cmd::source_to_target;

TEST_CASE("suggested fixes as --dynamic flags, and the message with both forms", "[cmd][report]") {
  for (const ViolationCase& vc : violation_cases()) {
    INFO(vc.c.label);
    CheckResult r = check_constraints(make_env(vc.c));
    REQUIRE(r.suggestions.size() == vc.fixes.size());
    for (size_t i = 0; i < vc.fixes.size(); ++i) CHECK(flag_form(r.suggestions[i]) == vc.fixes[i].second);
    const std::string message = check_message(r);
    CHECK(message.rfind(r.violation_text, 0) == 0);
    for (const auto& [torch_form, flags] : vc.fixes) {
      if (!torch_form.empty()) CHECK(message.find("\n  " + torch_form) != std::string::npos);
      CHECK(message.find("\n  " + flags) != std::string::npos);
    }
    if (vc.fixes.empty()) CHECK(message.find("No suggested fix") != std::string::npos);
  }
}

TEST_CASE("a check that passes has no message", "[cmd][report]") {
  ShapeEnv env = make_env({"gt4 fixed", {{"batch", 8, {5, 1024}, DimHint::kNamed, "x.size()[0]"}}, {"s0 >= 5"}});
  CHECK(check_message(check_constraints(env)).empty());
}

TEST_CASE("the message of an undecided guard names it and its origin", "[cmd][report]") {
  ShapeEnv env = make_env({"nonlinear",
                           {{"a", 3, {1, 64}, DimHint::kNamed, "x.size()[0]"},
                            {"b", 4, {1, 64}, DimHint::kNamed, "y.size()[0]"}},
                           {"s0*s0*s0 + s1*s1*s1 != 1000"}});
  CheckOptions opts;
  opts.budget.rlimit = 1;
  const std::string message = check_message(check_constraints(env, opts));
  CHECK(message.rfind("the solver could not decide", 0) == 0);
  CHECK(message.find("required by aten::op at model.py:10") != std::string::npos);
}

TEST_CASE("source_to_target", "[cmd][report]") {
  CHECK(source_to_target("x.size()[0]") == "x.0");
  CHECK(source_to_target("mask.size()[-1]") == "mask.-1");
  CHECK(source_to_target("args.0.size()[2]") == "args.0.2");
  CHECK(source_to_target("_batch") == "_batch");
}

TEST_CASE("the constraints object carries the report fields", "[cmd][report]") {
  ShapeEnv env = make_env({"gt4", {{"batch", 8, kR1_1024, DimHint::kNamed, "x.size()[0]"}}, {"s0 >= 5"}});
  nlohmann::json j = constraints_json(check_constraints(env));
  CHECK(j["ok"] == false);
  CHECK(j["symbols"][0]["name"] == "batch");
  CHECK(j["symbols"][0]["verdict"] == "violated");
  CHECK(j["symbols"][0]["requested"]["max"] == 1024);
  CHECK(j["symbols"][0]["proven"]["min"] == 5);
  CHECK(j["symbols"][0]["violated"][0]["guard"] == "s0 >= 5");
  CHECK(j["symbols"][0]["violated"][0]["source"] == "model.py:10");
  CHECK(j["suggestions"][0]["flag"] == "--dynamic batch=5:1024");
  CHECK(j["final_ranges"]["s0"]["min"] == 5);
}

TEST_CASE("a range narrowed below 2 without a violation says what was cut and why", "[cmd][report]") {
  // An unranged dim whose guard fails at 0: checked from 2 up (torch's 0/1 rule), proven [1, int_oo].
  ShapeEnv env = make_env({"pool", {{"L", 8, Range{0, std::nullopt}, DimHint::kNamed, "x.size()[2]"}}, {"s0 >= 1"}});
  const CheckResult r = check_constraints(env);
  REQUIRE(r.ok);
  REQUIRE(r.symbols[0].proven.min == 1);
  nlohmann::json j = constraints_json(r);
  const nlohmann::json& n = j["symbols"][0]["narrowed"];
  CHECK(n["reason"] == "zero_one");
  CHECK(n["guards"][0]["guard"] == "s0 >= 1");
  CHECK(n["guards"][0]["source"] == "model.py:10");
  CHECK(n["note"].get<std::string>().rfind("narrowed from the requested [0, int_oo]: size 0 breaks s0 >= 1 (aten::op at model.py:10); "
                                           "sizes 0 and 1 are not held to the guards (torch.export's 0/1 specialization rule",
                                           0) == 0);
  // As requested: no note.
  ShapeEnv same = make_env({"pool", {{"L", 8, Range{1, std::nullopt}, DimHint::kNamed, "x.size()[2]"}}, {"s0 >= 1"}});
  CHECK_FALSE(constraints_json(check_constraints(same))["symbols"][0].contains("narrowed"));
}
