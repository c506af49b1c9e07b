// serialize/pt2_format.cpp: see serialize/pt2_format.h.
#include "serialize/pt2_format.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "shapes/error.h"
#include "shapes/limits.h"

namespace ptx::serialize {
namespace {

struct DTypePair {
  ir::DType ir;
  tx::ScalarType schema;
};
constexpr std::array<DTypePair, 13> kDTypes = {{
    {ir::DType::kUInt8, tx::ScalarType::BYTE},
    {ir::DType::kInt8, tx::ScalarType::CHAR},
    {ir::DType::kInt16, tx::ScalarType::SHORT},
    {ir::DType::kInt32, tx::ScalarType::INT},
    {ir::DType::kInt64, tx::ScalarType::LONG},
    {ir::DType::kFloat16, tx::ScalarType::HALF},
    {ir::DType::kFloat32, tx::ScalarType::FLOAT},
    {ir::DType::kFloat64, tx::ScalarType::DOUBLE},
    {ir::DType::kComplex32, tx::ScalarType::COMPLEXHALF},
    {ir::DType::kComplex64, tx::ScalarType::COMPLEXFLOAT},
    {ir::DType::kComplex128, tx::ScalarType::COMPLEXDOUBLE},
    {ir::DType::kBool, tx::ScalarType::BOOL},
    {ir::DType::kBFloat16, tx::ScalarType::BFLOAT16},
}};

// c10::Layout numbering: Strided 0, Sparse 1, SparseCsr 2, Mkldnn 3, SparseCsc 4, SparseBsr 5,
// SparseBsc 6.
constexpr std::array<std::pair<int, tx::Layout>, 7> kLayouts = {{
    {0, tx::Layout::Strided},
    {1, tx::Layout::SparseCoo},
    {2, tx::Layout::SparseCsr},
    {3, tx::Layout::_mkldnn},
    {4, tx::Layout::SparseCsc},
    {5, tx::Layout::SparseBsr},
    {6, tx::Layout::SparseBsc},
}};

// c10::MemoryFormat numbering: Contiguous 0, Preserve 1, ChannelsLast 2, ChannelsLast3d 3.
constexpr std::array<std::pair<int, tx::MemoryFormat>, 4> kMemoryFormats = {{
    {0, tx::MemoryFormat::ContiguousFormat},
    {1, tx::MemoryFormat::PreserveFormat},
    {2, tx::MemoryFormat::ChannelsLast},
    {3, tx::MemoryFormat::ChannelsLast3d},
}};

constexpr std::string_view kTorchOps = "torch.ops.";

void dumps_spec(const ir::PyTree& spec, std::string& out) {
  auto node = [&](const char* type, const std::string& context_json) {
    out += "{\"type\": \"";
    out += type;
    out += "\", \"context\": ";
    out += py_json_string(context_json);
    out += ", \"children_spec\": [";
    for (size_t i = 0; i < spec.children.size(); ++i) {
      if (i) out += ", ";
      dumps_spec(spec.children[i], out);
    }
    out += "]}";
  };
  switch (spec.kind) {
    case ir::PyTree::Kind::kLeaf:
    case ir::PyTree::Kind::kConstant:
    case ir::PyTree::Kind::kNone:
      out += "{\"type\": null, \"context\": null, \"children_spec\": []}";
      return;
    case ir::PyTree::Kind::kTuple:
      node("builtins.tuple", "null");
      return;
    case ir::PyTree::Kind::kList:
      node("builtins.list", "null");
      return;
    case ir::PyTree::Kind::kDict: {
      PTX_INTERNAL_CHECK(spec.keys.size() == spec.children.size()) << "dict spec with "
          << spec.keys.size() << " keys and " << spec.children.size() << " children";
      std::string ctx = "[";
      for (size_t i = 0; i < spec.keys.size(); ++i) {
        if (i) ctx += ", ";
        ctx += py_json_string(spec.keys[i]);
      }
      ctx += "]";
      node("builtins.dict", ctx);
      return;
    }
  }
}

ir::PyTree loads_spec(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("type") || !j.contains("children_spec") ||
      !j.at("children_spec").is_array()) {
    throw std::runtime_error("treespec node is not {type, context, children_spec}");
  }
  ir::PyTree out;
  const nlohmann::json& type = j.at("type");
  if (type.is_null()) {
    out.kind = ir::PyTree::Kind::kLeaf;
    if (!j.at("children_spec").empty()) throw std::runtime_error("treespec leaf with children");
    return out;
  }
  if (!type.is_string()) throw std::runtime_error("treespec type is not a string");
  const std::string t = type.get<std::string>();
  for (const nlohmann::json& c : j.at("children_spec")) out.children.push_back(loads_spec(c));
  if (t == "builtins.tuple") {
    out.kind = ir::PyTree::Kind::kTuple;
  } else if (t == "builtins.list") {
    out.kind = ir::PyTree::Kind::kList;
  } else if (t == "builtins.dict" || t == "collections.OrderedDict") {
    out.kind = ir::PyTree::Kind::kDict;
    if (!j.contains("context") || !j.at("context").is_string()) {
      throw std::runtime_error("treespec dict without a context");
    }
    const nlohmann::json keys = nlohmann::json::parse(j.at("context").get<std::string>());
    if (!keys.is_array()) throw std::runtime_error("treespec dict context is not a list");
    for (const nlohmann::json& k : keys) {
      if (k.is_string()) {
        out.keys.push_back(k.get<std::string>());
      } else {
        throw std::runtime_error("treespec dict key " + k.dump() + " is not a string");
      }
    }
    if (out.keys.size() != out.children.size()) {
      throw std::runtime_error("treespec dict has " + std::to_string(out.keys.size()) + " keys and " +
                               std::to_string(out.children.size()) + " children");
    }
  } else {
    throw std::runtime_error("unsupported pytree node type '" + t + "'");
  }
  return out;
}

}  // namespace

std::string format_archive_path(std::string_view format, const std::string& name) {
  std::string f(format);
  const size_t at = f.find("{}");
  PTX_INTERNAL_CHECK(at != std::string::npos) << "no {} in " << f;
  return f.replace(at, 2, name);
}

tx::ScalarType to_schema_dtype(ir::DType t) {
  for (const auto& p : kDTypes) {
    if (p.ir == t) return p.schema;
  }
  PTX_INTERNAL_CHECK(false) << "dtype " << static_cast<int>(t) << " has no schema number";
  return tx::ScalarType::UNKNOWN;
}

std::optional<ir::DType> from_schema_dtype(tx::ScalarType t) {
  for (const auto& p : kDTypes) {
    if (p.schema == t) return p.ir;
  }
  return std::nullopt;
}

tx::Layout to_schema_layout(int c10_layout) {
  for (const auto& [c, s] : kLayouts) {
    if (c == c10_layout) return s;
  }
  PTX_INTERNAL_CHECK(false) << "layout " << c10_layout << " has no schema number";
  return tx::Layout::Unknown;
}

std::optional<int> from_schema_layout(tx::Layout l) {
  for (const auto& [c, s] : kLayouts) {
    if (s == l) return c;
  }
  return std::nullopt;
}

tx::MemoryFormat to_schema_memory_format(int c10_format) {
  for (const auto& [c, s] : kMemoryFormats) {
    if (c == c10_format) return s;
  }
  PTX_INTERNAL_CHECK(false) << "memory format " << c10_format << " has no schema number";
  return tx::MemoryFormat::Unknown;
}

std::optional<int> from_schema_memory_format(tx::MemoryFormat f) {
  for (const auto& [c, s] : kMemoryFormats) {
    if (s == f) return c;
  }
  return std::nullopt;
}

tx::Device to_schema_device(const std::string& device) {
  tx::Device d;
  const size_t colon = device.find(':');
  if (colon == std::string::npos) {
    d.set_type(device);
  } else {
    d.set_type(device.substr(0, colon));
    d.set_index(std::optional<int64_t>(std::stoll(device.substr(colon + 1))));
  }
  return d;
}

std::string from_schema_device(const tx::Device& d) {
  if (d.get_index()) return d.get_type() + ":" + std::to_string(*d.get_index());
  return d.get_type();
}

std::string to_schema_target(const std::string& ir_target) {
  const size_t sep = ir_target.find("::");
  if (sep == std::string::npos) return ir_target;
  // Higher-order ops have no overload: higher_order::cond -> torch.ops.higher_order.cond.
  if (ir_target.rfind("higher_order::", 0) == 0) return std::string(kTorchOps) + "higher_order." + ir_target.substr(sep + 2);
  std::string rest = ir_target.substr(sep + 2);
  if (rest.find('.') == std::string::npos) rest += ".default";
  return std::string(kTorchOps) + ir_target.substr(0, sep) + "." + rest;
}

std::string from_schema_target(const std::string& schema_target) {
  if (schema_target.compare(0, kTorchOps.size(), kTorchOps) != 0) return schema_target;
  const std::string rest = schema_target.substr(kTorchOps.size());
  const size_t dot = rest.find('.');
  if (dot == std::string::npos) return schema_target;
  return rest.substr(0, dot) + "::" + rest.substr(dot + 1);
}

std::string treespec_dumps(const ir::PyTree& spec) {
  std::string out = "[" + std::to_string(kTreeSpecProtocol) + ", ";
  dumps_spec(spec, out);
  out += "]";
  return out;
}

namespace {

/// The keys under which torch's schema holds a double (F64 in generated_serialization_types.h).
bool holds_a_double(const std::string& key) {
  return key == "as_float" || key == "as_floats" || key == "as_float_lists" || key == "real" || key == "imag";
}

}  // namespace

nlohmann::json parse_archive_json(const std::string& text) {
  using Event = nlohmann::json::parse_event_t;
  // keys[d]: the key of the member being read at depth d ("" for none). torch's from_json reads an
  // int64 field with a cast from whatever number is there: a double outside int64's range (1e110 as a
  // size, found by tests/fuzz/fuzz_pt2_reader) is undefined behaviour, so such a number is refused
  // unless it sits under a key that holds a double.
  std::vector<std::string> keys;
  return nlohmann::json::parse(text, [&keys](int depth, Event event, nlohmann::json& parsed) {
    const auto d = static_cast<size_t>(depth);
    if ((event == Event::object_start || event == Event::array_start) && depth >= limits::kMaxArchiveJsonDepth) {
      throw std::length_error("JSON nested deeper than " + std::to_string(limits::kMaxArchiveJsonDepth) + " levels");
    }
    if (event == Event::key) {
      keys.resize(d + 1);
      keys[d] = parsed.get<std::string>();
    } else if (event == Event::object_end || event == Event::array_end) {
      if (keys.size() > d + 1) keys.resize(d + 1);
    } else if (event == Event::value && parsed.is_number_float()) {
      const double v = parsed.get<double>();
      if (!(v >= -0x1p63 && v < 0x1p63)) {
        const std::string* key = nullptr;
        for (size_t i = std::min(d + 1, keys.size()); i-- > 0 && key == nullptr;) {
          if (!keys[i].empty()) key = &keys[i];
        }
        if (key == nullptr || !holds_a_double(*key)) {
          throw std::length_error("the number " + parsed.dump() + (key ? " under '" + *key + "'" : "") +
                                  " does not fit a 64-bit integer, and only a float field may hold it");
        }
      }
    }
    return true;
  });
}

ir::PyTree treespec_loads(const std::string& text) {
  const nlohmann::json j = parse_archive_json(text);
  if (!j.is_array() || j.size() != 2 || !j[0].is_number_integer()) {
    throw std::runtime_error("treespec is not [protocol, spec]");
  }
  if (j[0].get<int>() != kTreeSpecProtocol) {
    throw std::runtime_error("treespec protocol " + j[0].dump() + " is not supported");
  }
  return loads_spec(j[1]);
}

std::string py_json_string(const std::string& s) {
  std::string out = "\"";
  auto hex4 = [&](unsigned v) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\u%04x", v & 0xffffu);
    out += buf;
  };
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
          if (c < 0x20 || c == 0x7f) {
            if (c == 0x7f) {
              out += static_cast<char>(c);
            } else {
              hex4(c);
            }
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    // Decode one UTF-8 sequence (invalid bytes are written as U+FFFD).
    unsigned cp = 0xfffd;
    size_t len = 1;
    if ((c & 0xe0) == 0xc0 && i + 1 < s.size()) {
      cp = ((c & 0x1fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3fu);
      len = 2;
    } else if ((c & 0xf0) == 0xe0 && i + 2 < s.size()) {
      cp = ((c & 0x0fu) << 12) | ((static_cast<unsigned char>(s[i + 1]) & 0x3fu) << 6) |
           (static_cast<unsigned char>(s[i + 2]) & 0x3fu);
      len = 3;
    } else if ((c & 0xf8) == 0xf0 && i + 3 < s.size()) {
      cp = ((c & 0x07u) << 18) | ((static_cast<unsigned char>(s[i + 1]) & 0x3fu) << 12) |
           ((static_cast<unsigned char>(s[i + 2]) & 0x3fu) << 6) |
           (static_cast<unsigned char>(s[i + 3]) & 0x3fu);
      len = 4;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      hex4(0xd800 + (cp >> 10));
      hex4(0xdc00 + (cp & 0x3ff));
    } else {
      hex4(cp);
    }
    i += len;
  }
  out += "\"";
  return out;
}

}  // namespace ptx::serialize
