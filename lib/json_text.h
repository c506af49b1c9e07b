// lib/json_text.h: reading untrusted JSON text (inputs.json) with bounds, and the JSON paths that
// messages name ("args[0].value[3]", "kwargs[\"a b\"]").
//
// nlohmann's parser itself is iterative, but everything that walks the document afterwards
// (conversion, dump, our own binders) recurses once per level: 100k nested arrays overflow the
// stack. parse_json_text refuses nesting deeper than `max_depth`, and reports a number nlohmann
// cannot hold (1e400, out of range of a double) with the path of the value instead of a bare
// out_of_range exception.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>

namespace ptx {

/// A syntax error, a number out of range or nesting too deep: `path` is where ("" at the top),
/// `message` what ("number 1e400 is out of range of a double").
struct JsonTextError {
  std::string path;
  std::string message;
};

/// Parses `text`. Throws JsonTextError (never nlohmann's exceptions).
nlohmann::ordered_json parse_json_text(const std::string& text, int max_depth);

/// JSON path of a member: "kwargs.x", "value[\"a b\"]" (a key that is not an identifier is quoted).
std::string json_member_path(const std::string& base, const std::string& key);
/// JSON path of an element: "args[2]".
std::string json_index_path(const std::string& base, size_t i);

}  // namespace ptx
