// tests/lib/json_text_test.cpp: untrusted JSON text (lib/json_text.h): depth bound, numbers out of
// range and syntax errors, each with the JSON path where it happened.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <string>

#include "lib/json_text.h"

using ptx::JsonTextError;
using ptx::parse_json_text;

namespace {
JsonTextError error_of(const std::string& text, int depth = 64) {
  try {
    (void)parse_json_text(text, depth);
  } catch (const JsonTextError& e) {
    return e;
  }
  FAIL("no error for " << text);
  return {};
}
}  // namespace

TEST_CASE("parse_json_text: nesting is bounded, with the path of the deepest value", "[lib][json][security]") {
  CHECK(parse_json_text(std::string(64, '[') + std::string(64, ']'), 64).is_array());
  const JsonTextError e = error_of(R"({"args": [{"value": )" + std::string(100000, '[') + std::string(100000, ']') + "}]}");
  CHECK(e.message == "nested deeper than 64 levels");
  CHECK(e.path.starts_with("args[0].value[0][0]"));
}

TEST_CASE("parse_json_text: a number beyond a double names its path", "[lib][json][security]") {
  JsonTextError e = error_of(R"({"args": [{"name": "x", "data": {"fill": 1e400}}]})");
  CHECK(e.path == "args[0].data.fill");
  CHECK(e.message == "number 1e400 is out of range of a double");
  e = error_of(R"({"a b": [1, 2, -1e999]})");
  CHECK(e.path == "[\"a b\"][2]");
  CHECK(parse_json_text("[1e300, 9223372036854775807]", 64).size() == 2);
}

TEST_CASE("parse_json_text: syntax errors keep nlohmann's position", "[lib][json]") {
  const JsonTextError e = error_of("{\"a\": [1, 2,]}");
  CHECK(e.path.empty());
  CHECK_THAT(e.message, Catch::Matchers::StartsWith("malformed JSON: parse error at line 1"));
}
