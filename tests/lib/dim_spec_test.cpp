// tests/lib/dim_spec_test.cpp: the `--dynamic` / `dims` grammar (lib/dim_spec.h), valid and
// invalid forms with their exact messages.

#include "lib/dim_spec.h"
#include "shapes/error.h"

// Torch (c10/util/logging) defines a glog-style CHECK that aborts; Catch2's CHECK must win.
#undef CHECK
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/matchers/catch_matchers_exception.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

using namespace ptx;
using Catch::Matchers::Message;

namespace {
std::string describe(const DimMark& m) {
  switch (m.kind) {
    case DimMark::Kind::kStatic: return "static";
    case DimMark::Kind::kAuto: return "auto";
    case DimMark::Kind::kDynamic: return "dynamic";
    case DimMark::Kind::kSymbol: break;
  }
  return "sym " + m.symbol + " a=" + std::to_string(m.a) + " b=" + std::to_string(m.b);
}
}  // namespace

TEST_CASE("dim marks: valid forms", "[lib][dim_spec]") {
  auto [text, fields, printed] = GENERATE(table<std::string, std::string, std::string>({
      {"batch", "sym batch a=1 b=0", "batch"},
      {"_s1", "sym _s1 a=1 b=0", "_s1"},
      {"2*batch+1", "sym batch a=2 b=1", "2*batch+1"},
      {"2 * batch + 1", "sym batch a=2 b=1", "2*batch+1"},
      {"batch-1", "sym batch a=1 b=-1", "batch-1"},
      {"batch+0", "sym batch a=1 b=0", "batch"},
      {"3*n", "sym n a=3 b=0", "3*n"},
      {"1*n-7", "sym n a=1 b=-7", "n-7"},
      {"auto", "auto", "auto"},
      {"dynamic", "dynamic", "dynamic"},
      {"static", "static", "static"},
      {" auto ", "auto", "auto"},
      {"autox", "sym autox a=1 b=0", "autox"},
  }));
  INFO("mark: " << text);
  const DimMark m = parse_dim_mark(text, "where");
  CHECK(describe(m) == fields);
  CHECK(to_string(m) == printed);
}

TEST_CASE("dim marks: invalid forms and their messages", "[lib][dim_spec]") {
  auto [text, message] = GENERATE(table<std::string, std::string>({
      {"", "w: '': empty mark; expected a symbol (batch), an expression (2*batch+1), auto, dynamic or static"},
      {"8", "w: '8': a number is not a mark (the size comes from shape); use null or static for a static dimension"},
      {"2*", "w: '2*': expected a symbol after '*'"},
      {"2 batch", "w: '2 batch': expected '*' after the factor 2"},
      {"0*batch", "w: '0*batch': the factor must be positive"},
      {"-2*batch", "w: '-2*batch': the factor must be positive"},
      {"batch*2", "w: 'batch*2': write the factor before the symbol (2*batch)"},
      {"batch+", "w: 'batch+': expected an integer after '+'"},
      {"batch-x", "w: 'batch-x': expected an integer after '-'"},
      {"batch+1+2", "w: 'batch+1+2': unexpected '+'"},
      {"batch//2", "w: 'batch//2': unexpected '//'"},
      {"2*auto", "w: '2*auto': 'auto' is a reserved word, not a symbol"},
      {"static+1", "w: 'static+1': 'static' is a reserved word, not a symbol"},
      {"1b", "w: '1b': '1b' is not an integer"},
      {"99999999999999999999*b", "w: '99999999999999999999*b': '99999999999999999999' is not an integer"},
      {"(batch)", "w: '(batch)': expected a symbol (batch), an expression (2*batch+1), auto, dynamic or static"},
      {"b c", "w: 'b c': unexpected 'c'"},
  }));
  INFO("mark: " << text);
  CHECK_THROWS_MATCHES(parse_dim_mark(text, "w"), UserError, Message(message));
  try {
    (void)parse_dim_mark(text, "w");
    FAIL("no exception");
  } catch (const UserError& e) {
    CHECK(e.code() == ExitCode::kUsage);
    CHECK(e.diag_code() == "E_DYNAMIC_SPEC");
  }
}

TEST_CASE("dynamic flags: valid forms", "[lib][dim_spec]") {
  auto [text, parsed] = GENERATE(table<std::string, std::string>({
      {"batch=0:1024", "range batch=0:1024"},
      {"batch=1:", "range batch=1:"},
      {"batch=:64", "range batch=:64"},
      {"batch=:", "range batch=:"},
      {"batch = 2 : 8", "range batch=2:8"},
      {"b=3:3", "range b=3:3"},
      {"x.0=batch", "mark x 0 batch"},
      {"mask.-1=seq", "mark mask -1 seq"},
      {"y.0=2*batch+1", "mark y 0 2*batch+1"},
      {"y.1=batch-1", "mark y 1 batch-1"},
      {"x.1=auto", "mark x 1 auto"},
      {"x.1=dynamic", "mark x 1 dynamic"},
      {"x.1=static", "mark x 1 static"},
      {"ys[0].0=n", "mark ys[0] 0 n"},
      {"ys[10].-2=n", "mark ys[10] -2 n"},
      {"d['k'].0=n", "mark d['k'] 0 n"},
      {"d[\"k\"].0=n", "mark d['k'] 0 n"},
      {"d['a.b'].0=n", "mark d['a.b'] 0 n"},
      {"t[1][0].0=n", "mark t[1][0] 0 n"},
  }));
  INFO("flag: " << text);
  const DynamicFlag f = parse_dynamic_flag(text);
  CHECK(f.text == text);
  if (f.kind == DynamicFlag::Kind::kRange) {
    CHECK("range " + to_flag(f.range) == parsed);
  } else {
    CHECK("mark " + f.input + " " + std::to_string(f.dim) + " " + to_string(f.mark) == parsed);
  }
}

TEST_CASE("dynamic flags: invalid forms and their messages", "[lib][dim_spec]") {
  const std::string forms =
      "expected SYM=[MIN]:[MAX], INPUT.DIM=SYM, INPUT.DIM=A*SYM+B or INPUT.DIM=auto|dynamic|static";
  auto [text, message] = GENERATE_COPY(table<std::string, std::string>({
      {"batch", "--dynamic 'batch': " + forms},
      {"=1:2", "--dynamic '=1:2': missing a symbol or INPUT.DIM before '='"},
      {"x.0=", "--dynamic 'x.0=': missing a value after '='; " + forms},
      {"b=1:2=3", "--dynamic 'b=1:2=3': more than one '='"},
      {"1b=1:2", "--dynamic '1b=1:2': '1b' is not a valid symbol name (letters, digits and _, not starting with a digit)"},
      {"auto=1:2", "--dynamic 'auto=1:2': 'auto' is a reserved word, not a symbol"},
      {"b=a:2", "--dynamic 'b=a:2': min 'a' is not a non-negative integer"},
      {"b=-1:2", "--dynamic 'b=-1:2': min '-1' is not a non-negative integer"},
      {"b=1:2.5", "--dynamic 'b=1:2.5': max '2.5' is not a non-negative integer"},
      {"b=5:2", "--dynamic 'b=5:2': min 5 is greater than max 2"},
      {"b=1:2:3", "--dynamic 'b=1:2:3': expected MIN:MAX with a single ':'"},
      {"x.0=1:10", "--dynamic 'x.0=1:10': a range belongs to a symbol: write x.0=SYM and SYM=1:10"},
      {"x=batch", "--dynamic 'x=batch': 'x' has no dimension: write INPUT.DIM (x.0=batch) to mark a dimension, or "
                  "x=MIN:MAX for a symbol's range"},
      {"x.a=batch", "--dynamic 'x.a=batch': dimension 'a' is not an integer (INPUT.DIM, e.g. x.0 or x.-1)"},
      {"x.=batch", "--dynamic 'x.=batch': dimension '' is not an integer (INPUT.DIM, e.g. x.0 or x.-1)"},
      {"ys[a].0=n", "--dynamic 'ys[a].0=n': 'ys[a]' is not an input path (NAME, NAME[INDEX] or NAME['KEY'], e.g. x, "
                    "ys[0], d['k'])"},
      {"ys[0.0=n", "--dynamic 'ys[0.0=n': 'ys[0' is not an input path (NAME, NAME[INDEX] or NAME['KEY'], e.g. x, "
                   "ys[0], d['k'])"},
      {"x.0=2*", "--dynamic 'x.0=2*': '2*': expected a symbol after '*'"},
      {"x.0=batch*2", "--dynamic 'x.0=batch*2': 'batch*2': write the factor before the symbol (2*batch)"},
      {"x.0=0*b", "--dynamic 'x.0=0*b': '0*b': the factor must be positive"},
      {"x.0=8", "--dynamic 'x.0=8': '8': a number is not a mark (the size comes from shape); use null or static for a "
                "static dimension"},
  }));
  INFO("flag: " << text);
  CHECK_THROWS_MATCHES(parse_dynamic_flag(text), UserError, Message(message));
  try {
    (void)parse_dynamic_flag(text);
    FAIL("no exception");
  } catch (const UserError& e) {
    CHECK(e.code() == ExitCode::kUsage);
  }
}

TEST_CASE("input paths normalize to the TensorLeaf form", "[lib][dim_spec]") {
  CHECK(normalize_input_path("x") == "x");
  CHECK(normalize_input_path("d[\"k\"][2]") == "d['k'][2]");
  CHECK(normalize_input_path("ys[007]") == "ys[7]");
  CHECK_FALSE(normalize_input_path("ys[-1]"));
  CHECK_FALSE(normalize_input_path("ys[]"));
  CHECK_FALSE(normalize_input_path("0x"));
  CHECK_FALSE(normalize_input_path("d['it's']"));
  CHECK(is_symbol_name("batch"));
  CHECK_FALSE(is_symbol_name("static"));
  CHECK_FALSE(is_symbol_name("2b"));
}
