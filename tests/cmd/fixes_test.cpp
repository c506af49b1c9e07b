// tests/cmd/fixes_test.cpp: suggested fixes applied to the user's command line (cmd/fixes.h): which
// --dynamic flags each fix replaces, and the whole command line with the fixes in place of them.
// tests/e2e/test_suggested_fixes.py runs such command lines and checks the artifacts against eager.
#include "cmd/fixes.h"

// Torch (c10/util/logging) defines a glog-style CHECK that aborts; Catch2's CHECK must win.
#undef CHECK
#include <catch2/catch_test_macros.hpp>

using namespace ptx;
using namespace ptx::cmd;
using shapes::Suggestion;

namespace {

DimMark sym(const std::string& name) {
  DimMark m;
  m.kind = DimMark::Kind::kSymbol;
  m.symbol = name;
  return m;
}

TensorLeaf leaf(const std::string& path, std::vector<int64_t> shape, std::vector<DimMark> dims) {
  dims.resize(shape.size());
  return TensorLeaf{path, std::move(shape), std::move(dims)};
}

Suggestion range(const std::string& symbol, int64_t min, int64_t max) {
  Suggestion s;
  s.kind = Suggestion::Kind::kRange;
  s.symbol = symbol;
  s.range = shapes::Range{min, max};
  return s;
}

Suggestion relation(const std::string& symbol, std::vector<std::string> sources, const std::string& root, int64_t k) {
  Suggestion s;
  s.kind = Suggestion::Kind::kRelation;
  s.symbol = symbol;
  s.sources = std::move(sources);
  s.root = root;
  s.k = k;
  return s;
}

}  // namespace

TEST_CASE("a narrower range replaces the symbol's range flag in place", "[cmd][fixes]") {
  const std::vector<std::string> argv = {"ptexport", "check", "m.pt", "in.json", "--dynamic", "x.0=batch",
                                         "--dynamic", "batch=1:512", "--json"};
  const AppliedFixes f = apply_fixes({range("batch", 5, 512)}, {"x.0=batch", "batch=1:512"}, argv,
                                     {leaf("x", {8, 3}, {sym("batch")})});
  REQUIRE(f.replaces.size() == 1);
  CHECK((f.replaces[0] == std::vector<std::string>{"--dynamic batch=1:512"}));
  CHECK((f.argv == std::vector<std::string>{"ptexport", "check", "m.pt", "in.json", "--dynamic", "x.0=batch",
                                           "--dynamic", "batch=5:512", "--json"}));
}

TEST_CASE("a derived dim replaces the mark (x.-2 is x.0) and the range of the symbol it leaves unused",
          "[cmd][fixes]") {
  const std::vector<std::string> argv = {"./ptexport", "m.pt", "in.json", "--dynamic", "x.-2=batch",
                                         "--dynamic=batch=1:1024", "-o", "out dir/m.pt2"};
  const AppliedFixes f =
      apply_fixes({range("_batch", 1, 512), relation("batch", {"x.size()[0]"}, "_batch", 2)},
                  {"x.-2=batch", "batch=1:1024"}, argv, {leaf("x", {8, 6}, {sym("batch")})});
  CHECK(f.replaces[0].empty());  // a new symbol: added
  CHECK((f.replaces[1] == std::vector<std::string>{"--dynamic x.-2=batch", "--dynamic batch=1:1024"}));
  CHECK((f.argv == std::vector<std::string>{"./ptexport", "m.pt", "in.json", "--dynamic", "x.0=2*_batch", "--dynamic",
                                           "_batch=1:512", "-o", "out dir/m.pt2"}));
  CHECK(shell_join(f.argv) == "./ptexport m.pt in.json --dynamic 'x.0=2*_batch' --dynamic _batch=1:512 -o 'out dir/m.pt2'");
}

TEST_CASE("marks from inputs.json: an equality replaces the range flag of the symbol it removes", "[cmd][fixes]") {
  // x.0 = batch and y.0 = other come from inputs.json; only other's range is a flag.
  const std::vector<std::string> argv = {"ptexport", "export", "m.pt", "in.json", "--dynamic", "other=1:64"};
  const AppliedFixes f = apply_fixes({relation("other", {"y.size()[0]"}, "batch", 1)}, {"other=1:64"}, argv,
                                     {leaf("x", {4, 8}, {sym("batch")}), leaf("y", {4, 8}, {sym("other")})});
  CHECK((f.replaces[0] == std::vector<std::string>{"--dynamic other=1:64"}));
  CHECK((f.argv == std::vector<std::string>{"ptexport", "export", "m.pt", "in.json", "--dynamic", "y.0=batch"}));
}

TEST_CASE("a range flag of a symbol another input still uses stays", "[cmd][fixes]") {
  Suggestion stat;
  stat.kind = Suggestion::Kind::kStatic;
  stat.symbol = "n";
  stat.sources = {"x.size()[1]"};
  stat.value = 3;
  const AppliedFixes f = apply_fixes({stat}, {"x.1=n", "y.0=n", "n=1:64"},
                                     {"p", "check", "m.pt", "in.json", "--dynamic", "x.1=n", "--dynamic", "y.0=n",
                                      "--dynamic", "n=1:64"},
                                     {leaf("x", {2, 3}, {{}, sym("n")}), leaf("y", {3}, {sym("n")})});
  CHECK((f.replaces[0] == std::vector<std::string>{"--dynamic x.1=n"}));
  CHECK((f.argv == std::vector<std::string>{"p", "check", "m.pt", "in.json", "--dynamic", "x.1=static", "--dynamic",
                                           "y.0=n", "--dynamic", "n=1:64"}));
}

TEST_CASE("without --dynamic flags the fixes go before -- (or at the end)", "[cmd][fixes]") {
  const std::vector<TensorLeaf> leaves = {leaf("x", {8}, {sym("batch")})};
  AppliedFixes f = apply_fixes({range("batch", 5, 64)}, {}, {"p", "export", "--json", "--", "m.pt", "in.json"}, leaves);
  CHECK(f.replaces[0].empty());
  CHECK((f.argv == std::vector<std::string>{"p", "export", "--json", "--dynamic", "batch=5:64", "--", "m.pt", "in.json"}));
  f = apply_fixes({range("batch", 5, 64)}, {}, {"p", "m.pt", "in.json"}, leaves);
  CHECK((f.argv == std::vector<std::string>{"p", "m.pt", "in.json", "--dynamic", "batch=5:64"}));
}

TEST_CASE("no command line, or one whose flags are not the run's: replacements only", "[cmd][fixes]") {
  const std::vector<TensorLeaf> leaves = {leaf("x", {8}, {sym("batch")})};
  AppliedFixes f = apply_fixes({range("batch", 5, 64)}, {"batch=1:64"}, {}, leaves);
  CHECK((f.replaces[0] == std::vector<std::string>{"--dynamic batch=1:64"}));
  CHECK(f.argv.empty());
  f = apply_fixes({range("batch", 5, 64)}, {"batch=1:64"}, {"p", "m.pt", "in.json", "--dynamic", "batch=1:32"}, leaves);
  CHECK(f.argv.empty());
}

TEST_CASE("shell quoting", "[cmd][fixes]") {
  CHECK(shell_quote("batch=1:64") == "batch=1:64");
  CHECK(shell_quote("/a/b-c_d.pt") == "/a/b-c_d.pt");
  CHECK(shell_quote("x.0=2*_n") == "'x.0=2*_n'");
  CHECK(shell_quote("d['k'].0=n") == "'d['\\''k'\\''].0=n'");
  CHECK(shell_quote("") == "''");
  CHECK(shell_quote("$HOME") == "'$HOME'");
}
