// lib/did_you_mean.h: "did you mean ...?" suggestions for misspelled names (inputs, symbols,
// JSON fields, flags), shared by lib/ and the CLI.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ptx {

/// Optimal string alignment distance (Levenshtein plus adjacent transpositions, each cost 1).
size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate closest to `name`, if it is close enough to be a plausible typo: its distance is
/// at most max(1, longer length / 3) and smaller than the longer length (so "q" never suggests
/// "x"). A candidate equal to `name` ignoring case always wins. Ties keep the earlier candidate.
std::optional<std::string> closest_name(std::string_view name, const std::vector<std::string>& candidates);

/// "; did you mean 'x'?" when closest_name finds one, else "".
std::string did_you_mean(std::string_view name, const std::vector<std::string>& candidates);

/// What follows a message about an unknown `name`: "; did you mean 'x'? inputs are: x, mask", or
/// "; inputs are: x, mask" without a suggestion (`what` = "inputs"; "(none)" for an empty list).
std::string suggest_and_list(std::string_view name, const std::vector<std::string>& candidates,
                             std::string_view what);

/// "x, mask" (the candidates joined with ", "), or "(none)" when there are none.
std::string join_names(const std::vector<std::string>& names);

}  // namespace ptx
