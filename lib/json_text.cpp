// lib/json_text.cpp: see lib/json_text.h.
#include "lib/json_text.h"

#include <cctype>
#include <vector>

namespace ptx {
namespace {

using Json = nlohmann::ordered_json;

bool is_plain_key(const std::string& k) {
  if (k.empty() || !(std::isalpha(static_cast<unsigned char>(k[0])) || k[0] == '_')) return false;
  for (char c : k) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

/// Where the parser is: one frame per open object or array, with the member key or element index
/// of the value being read inside it.
class PathTracker {
 public:
  explicit PathTracker(int max_depth) : max_depth_(max_depth) {}

  bool on_event(Json::parse_event_t event, Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
      case Json::parse_event_t::array_start:
        if (static_cast<int>(frames_.size()) >= max_depth_) {
          throw JsonTextError{path(), "nested deeper than " + std::to_string(max_depth_) + " levels"};
        }
        frames_.push_back({event == Json::parse_event_t::array_start, {}, 0});
        break;
      case Json::parse_event_t::key:
        frames_.back().key = parsed.get<std::string>();
        break;
      case Json::parse_event_t::object_end:
      case Json::parse_event_t::array_end:
        frames_.pop_back();
        next();
        break;
      case Json::parse_event_t::value:
        next();
        break;
    }
    return true;
  }

  /// The path of the value being read.
  std::string path() const {
    std::string p;
    for (const Frame& f : frames_) p = f.array ? json_index_path(p, f.index) : json_member_path(p, f.key);
    return p;
  }

 private:
  struct Frame {
    bool array;
    std::string key;
    size_t index;
  };
  void next() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
  }
  int max_depth_;
  std::vector<Frame> frames_;
};

/// nlohmann's message without its "[json.exception.parse_error.101] " prefix.
std::string bare(const std::string& what) {
  if (const size_t p = what.find("] "); what.starts_with("[json.exception") && p != std::string::npos) {
    return what.substr(p + 2);
  }
  return what;
}

}  // namespace

nlohmann::ordered_json parse_json_text(const std::string& text, int max_depth) {
  PathTracker tracker(max_depth);
  try {
    return Json::parse(text, [&](int, Json::parse_event_t event, Json& parsed) { return tracker.on_event(event, parsed); });
  } catch (const Json::out_of_range& e) {
    // 406: a number literal beyond a double (1e400); the tracker still points at its value.
    std::string msg = bare(e.what());
    if (e.id == 406) {
      const size_t q = msg.find('\'');
      const std::string literal = q == std::string::npos ? "" : msg.substr(q + 1, msg.rfind('\'') - q - 1);
      msg = "number " + literal + " is out of range of a double";
    }
    throw JsonTextError{tracker.path(), msg};
  } catch (const Json::exception& e) {
    throw JsonTextError{"", "malformed JSON: " + bare(e.what())};
  }
}

std::string json_member_path(const std::string& base, const std::string& key) {
  if (is_plain_key(key)) return base.empty() ? key : base + "." + key;
  return base + "[" + Json(key).dump() + "]";
}

std::string json_index_path(const std::string& base, size_t i) { return base + "[" + std::to_string(i) + "]"; }

}  // namespace ptx
