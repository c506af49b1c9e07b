// tests/shapes/rules_cases_test.cpp: every case of tests/shapes/rules_cases.json (made by
// rules_cases.py with real ATen) checked against our rules at every sample:
//   1. with the sample as the hint, the rule's symbolic shapes evaluate to ATen's shapes;
//   2. at every other sample where the guards recorded under (1) hold, the same symbolic shapes
//      evaluate to ATen's shapes there (the guards are sufficient for the formulas);
//   3. at a sample where ATen fails, the rule fails too when given it as the hint, and no valid
//      sample's guards admit it (the guards exclude inputs the op rejects).
#include <catch2/catch_test_macros.hpp>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "tests/shapes/rules_harness.h"

using namespace ptx::shapes;
using namespace ptx::shapes::test;
using nlohmann::json;

namespace {

json load_cases() {
  std::ifstream in(std::string(PTX_SOURCE_DIR) + "/tests/shapes/rules_cases.json");
  REQUIRE(in.good());
  return json::parse(in);
}

int dtype_code(const std::string& name) {
  if (name == "bool") return 11;
  if (name == "int64") return 4;
  return 6;  // float32
}

struct Built {
  Harness h;
  std::map<std::string, SymExpr> syms;
  RuleResult result;
};

SymExpr dim_of(const json& v, const std::map<std::string, SymExpr>& syms) {
  if (v.is_string()) return syms.at(v.get<std::string>());
  return SymExpr(v.get<int64_t>());
}

SymShape shape_of(const json& dims, const std::map<std::string, SymExpr>& syms) {
  SymShape s;
  for (const json& d : dims) s.push_back(dim_of(d, syms));
  return s;
}

RuleArg arg_of(const json& a, const std::map<std::string, SymExpr>& syms) {
  if (a.is_null()) return N();
  if (a.contains("t")) return T(shape_of(a["t"], syms), dtype_code(a["dtype"]));
  if (a.contains("i")) return I(dim_of(a["i"], syms));
  if (a.contains("l")) return L(shape_of(a["l"], syms));
  if (a.contains("f")) return F(a["f"].get<double>());
  if (a.contains("b")) return B(a["b"].get<bool>());
  if (a.contains("s")) return S(a["s"].get<std::string>());
  if (a.contains("dt")) return I(dtype_code(a["dt"]));  // a dtype arrives as its ScalarType code
  if (a.contains("fl")) {  // a float[]: the frontend passes it as kOther with `floats`
    RuleArg r;
    r.kind = RuleArg::Kind::kOther;
    r.floats = a["fl"].get<std::vector<double>>();
    return r;
  }
  if (a.contains("tl")) {
    std::vector<std::optional<SymShape>> l;
    for (const json& s : a["tl"]) {
      if (s.is_null()) {
        l.emplace_back(std::nullopt);
      } else {
        l.emplace_back(shape_of(s, syms));
      }
    }
    return TL(l);
  }
  FAIL("unknown argument spec " << a.dump());
  return N();
}

/// Runs the case's rule with `sample` as the hints.
void build(Built& b, const json& c, const json& sample) {
  for (const json& s : c["symbols"]) {
    const std::string name = s["name"];
    const json& r = s["range"];
    Range range{r[0].get<int64_t>(), r[1].is_null() ? std::nullopt : std::optional<int64_t>(r[1].get<int64_t>())};
    b.syms[name] = b.h.sym(sample["values"][name].get<int64_t>(), range);
  }
  std::vector<RuleArg> args;
  for (const json& a : c["args"]) args.push_back(arg_of(a, b.syms));
  const std::string op = c["op"];
  b.result = b.h.run(op, args, c["overload"], op.back() == '_' && op[op.size() - 2] != '_');
}

Assignment values_of(const Built& b, const json& sample) {
  Assignment a;
  for (const auto& [name, sym] : b.syms) a[sym.symbol_id()] = sample["values"][name].get<int64_t>();
  return a;
}

/// Compares the symbolic outputs at `values` with ATen's outputs; "" when equal.
std::string compare(const RuleResult& r, const Assignment& values, const json& want) {
  std::ostringstream os;
  if (r.shapes.size() != want.size()) {
    os << "rule gives " << r.shapes.size() << " outputs, ATen " << want.size();
    return os.str();
  }
  for (size_t k = 0; k < want.size(); ++k) {
    const bool undefined = std::find(r.undefined.begin(), r.undefined.end(), k) != r.undefined.end();
    if (want[k].is_null() != undefined) {
      os << "output " << k << ": undefined mismatch";
      return os.str();
    }
    if (undefined) continue;
    std::vector<int64_t> got;
    for (const SymExpr& d : r.shapes[k]) {
      auto v = evaluate(d, values);
      if (!v) return "output " + std::to_string(k) + ": cannot evaluate " + d.str();
      got.push_back(*v);
    }
    if (got != want[k].get<std::vector<int64_t>>()) {
      os << "output " << k << ": " << to_string(r.shapes[k]) << " gives [";
      for (size_t i = 0; i < got.size(); ++i) os << (i ? ", " : "") << got[i];
      os << "], ATen " << want[k].dump();
      return os.str();
    }
  }
  return "";
}

bool guards_hold(const ShapeEnv& env, const Assignment& values) {
  for (const Guard& g : env.guards()) {
    auto v = g.cond.evaluate(values);
    REQUIRE(v.has_value());
    if (!*v) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("shape rules agree with ATen on every case of rules_cases.json", "[shapes][rules][aten]") {
  const json all = load_cases();
  int cases = 0, checks = 0, cross_checks = 0, error_checks = 0;
  for (const json& c : all["cases"]) {
    ++cases;
    const json& samples = c["samples"];
    for (size_t i = 0; i < samples.size(); ++i) {
      const json& si = samples[i];
      INFO("case " << c["op"].get<std::string>() << "." << c["overload"].get<std::string>() << " args "
                   << c["args"].dump() << " hint " << si["values"].dump());
      Built b;
      build(b, c, si);
      if (si.contains("error")) {
        INFO("ATen: " << si["error"].get<std::string>());
        CHECK_FALSE(b.result.error.empty());
        ++error_checks;
        continue;
      }
      REQUIRE(b.result.error == "");
      CHECK(compare(b.result, b.h.env.hints(), si["out"]) == "");
      ++checks;
      for (size_t j = 0; j < samples.size(); ++j) {
        if (j == i) continue;
        const json& sj = samples[j];
        const Assignment at_j = values_of(b, sj);
        if (!guards_hold(b.h.env, at_j)) continue;
        INFO("guards " << [&] {
          std::string g;
          for (const std::string& s : b.h.guards()) g += s + "; ";
          return g;
        }() << " hold at " << sj["values"].dump());
        if (sj.contains("error")) {
          FAIL("the guards admit a sample where ATen fails: " << sj["error"].get<std::string>());
        }
        CHECK(compare(b.result, at_j, sj["out"]) == "");
        ++cross_checks;
      }
    }
  }
  INFO(cases << " cases, " << checks << " checks at the hint, " << cross_checks << " at other samples, " << error_checks
             << " errors");
  CHECK(cases >= 150);
  CHECK(cross_checks >= 1000);
  CHECK(error_checks >= 10);
}
