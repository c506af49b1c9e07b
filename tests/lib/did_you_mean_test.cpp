// tests/lib/did_you_mean_test.cpp: edit distances and suggestions (lib/did_you_mean.h).
#include "lib/did_you_mean.h"

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

using namespace ptx;

TEST_CASE("edit distance: optimal string alignment", "[lib][did_you_mean]") {
  auto [a, b, d] = GENERATE(table<std::string, std::string, size_t>({
      {"", "", 0},
      {"", "abc", 3},
      {"x", "x", 0},
      {"xx", "x", 1},
      {"batch", "bacth", 1},  // one transposition
      {"kitten", "sitting", 3},
      {"ca", "abc", 3},  // OSA, not Damerau: no edit of a transposed pair
      {"mask", "task", 1},
  }));
  INFO(a << " / " << b);
  CHECK(edit_distance(a, b) == d);
  CHECK(edit_distance(b, a) == d);
}

TEST_CASE("suggestions only for plausible typos", "[lib][did_you_mean]") {
  const std::vector<std::string> inputs = {"x", "mask", "ys[0]"};
  CHECK(closest_name("xx", inputs) == "x");
  CHECK(closest_name("msk", inputs) == "mask");
  CHECK(closest_name("MASK", inputs) == "mask");
  CHECK(closest_name("ys[1]", inputs) == "ys[0]");
  CHECK_FALSE(closest_name("q", inputs));       // a one-letter name is never "close" to another
  CHECK_FALSE(closest_name("attention", inputs));
  CHECK(did_you_mean("bach", {"batch", "seq"}) == "; did you mean 'batch'?");
  CHECK(did_you_mean("zzz", {"batch", "seq"}).empty());
  CHECK(suggest_and_list("xx", {"x", "mask"}, "inputs") == "; did you mean 'x'? inputs are: x, mask");
  CHECK(suggest_and_list("q", {"x", "mask"}, "inputs") == "; inputs are: x, mask");
  CHECK(suggest_and_list("q", {}, "inputs") == "; inputs are: (none)");
  CHECK(join_names({"a", "b"}) == "a, b");
}
