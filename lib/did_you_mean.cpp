// lib/did_you_mean.cpp: see lib/did_you_mean.h.
#include "lib/did_you_mean.h"

#include <algorithm>
#include <cctype>

namespace ptx {

size_t edit_distance(std::string_view a, std::string_view b) {
  const size_t n = a.size(), m = b.size();
  // Three rows: i-2, i-1, i (transpositions look two rows back).
  std::vector<size_t> prev2(m + 1), prev(m + 1), cur(m + 1);
  for (size_t j = 0; j <= m; ++j) prev[j] = j;
  for (size_t i = 1; i <= n; ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= m; ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        cur[j] = std::min(cur[j], prev2[j - 2] + 1);
      }
    }
    std::swap(prev2, prev);
    std::swap(prev, cur);
  }
  return prev[m];
}

namespace {
bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}
}  // namespace

std::optional<std::string> closest_name(std::string_view name, const std::vector<std::string>& candidates) {
  for (const std::string& c : candidates) {
    if (equal_ignoring_case(name, c)) return c;
  }
  std::optional<std::string> best;
  size_t best_distance = 0;
  for (const std::string& c : candidates) {
    const size_t longer = std::max(name.size(), c.size());
    const size_t limit = std::max<size_t>(1, longer / 3);
    const size_t d = edit_distance(name, c);
    if (d > limit || d >= longer) continue;
    if (!best || d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

std::string did_you_mean(std::string_view name, const std::vector<std::string>& candidates) {
  const auto c = closest_name(name, candidates);
  return c ? "; did you mean '" + *c + "'?" : "";
}

std::string suggest_and_list(std::string_view name, const std::vector<std::string>& candidates,
                             std::string_view what) {
  const std::string dym = did_you_mean(name, candidates);
  return (dym.empty() ? std::string(";") : dym) + " " + std::string(what) + " are: " + join_names(candidates);
}

std::string join_names(const std::vector<std::string>& names) {
  if (names.empty()) return "(none)";
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += ", ";
    out += names[i];
  }
  return out;
}

}  // namespace ptx
