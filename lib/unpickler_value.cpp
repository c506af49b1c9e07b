// lib/unpickler_value.cpp: PickleValue, the inert values the unpickler makes: accessors, type
// names and repr. See lib/unpickler.h.
#include <ATen/ATen.h>

#include <algorithm>
#include <string>

#include "lib/unpickler.h"
#include "shapes/error.h"

namespace ptx {

// ---------------------------------------------------------------------------------------------------
// PickleValue

namespace {
const char* kind_name(PickleValue::Kind k) {
  switch (k) {
    case PickleValue::Kind::kNone: return "None";
    case PickleValue::Kind::kBool: return "bool";
    case PickleValue::Kind::kInt: return "int";
    case PickleValue::Kind::kFloat: return "float";
    case PickleValue::Kind::kStr: return "str";
    case PickleValue::Kind::kBytes: return "bytes";
    case PickleValue::Kind::kTuple: return "tuple";
    case PickleValue::Kind::kList: return "list";
    case PickleValue::Kind::kSet: return "set";
    case PickleValue::Kind::kDict: return "dict";
    case PickleValue::Kind::kGlobal: return "global";
    case PickleValue::Kind::kObject: return "object";
    case PickleValue::Kind::kStorage: return "storage";
    case PickleValue::Kind::kTensor: return "tensor";
  }
  return "?";
}
}  // namespace

std::string PickleValue::type_name() const {
  if (kind_ == Kind::kObject) return str_ + " object";
  if (kind_ == Kind::kGlobal) return "global " + str_;
  if (kind_ == Kind::kTensor && is_parameter_) return "parameter";
  if (kind_ == Kind::kDict && ordered_) return "OrderedDict";
  return kind_name(kind_);
}

bool PickleValue::as_bool() const {
  PTX_INTERNAL_CHECK(kind_ == Kind::kBool) << "as_bool on " << type_name();
  return int_ != 0;
}
int64_t PickleValue::as_int() const {
  PTX_INTERNAL_CHECK(kind_ == Kind::kInt || kind_ == Kind::kBool) << "as_int on " << type_name();
  return int_;
}
double PickleValue::as_float() const {
  if (kind_ == Kind::kInt || kind_ == Kind::kBool) return static_cast<double>(int_);
  PTX_INTERNAL_CHECK(kind_ == Kind::kFloat) << "as_float on " << type_name();
  return float_;
}
const std::string& PickleValue::as_str() const {
  PTX_INTERNAL_CHECK(kind_ == Kind::kStr || kind_ == Kind::kBytes) << "as_str on " << type_name();
  return str_;
}
const std::vector<PickleValuePtr>& PickleValue::items() const {
  PTX_INTERNAL_CHECK(kind_ == Kind::kTuple || kind_ == Kind::kList || kind_ == Kind::kSet)
      << "items on " << type_name();
  return items_;
}
const std::vector<std::pair<PickleValuePtr, PickleValuePtr>>& PickleValue::entries() const {
  PTX_INTERNAL_CHECK(kind_ == Kind::kDict) << "entries on " << type_name();
  return entries_;
}
PickleValuePtr PickleValue::get(std::string_view key) const {
  PTX_INTERNAL_CHECK(kind_ == Kind::kDict) << "get on " << type_name();
  std::string k = "s:";
  k += key;
  auto it = index_.find(k);
  return it == index_.end() ? nullptr : entries_[it->second].second;
}
const std::string& PickleValue::qualified_name() const {
  PTX_INTERNAL_CHECK(kind_ == Kind::kGlobal || kind_ == Kind::kObject)
      << "qualified_name on " << type_name();
  return str_;
}
const PickleValuePtr& PickleValue::state() const {
  PTX_INTERNAL_CHECK(kind_ == Kind::kObject || kind_ == Kind::kDict) << "state on " << type_name();
  return state_;
}
const at::Tensor& PickleValue::tensor() const {
  PTX_INTERNAL_CHECK(kind_ == Kind::kTensor || kind_ == Kind::kStorage) << "tensor on " << type_name();
  return tensor_;
}
bool PickleValue::is_parameter() const { return kind_ == Kind::kTensor && is_parameter_; }
bool PickleValue::requires_grad() const { return kind_ == Kind::kTensor && requires_grad_; }
const std::string& PickleValue::storage_key() const {
  PTX_INTERNAL_CHECK(kind_ == Kind::kStorage) << "storage_key on " << type_name();
  return str_;
}

std::string PickleValue::repr(size_t max_chars) const {
  std::string out;
  repr_into(out, max_chars, 0);
  if (out.size() > max_chars) {
    out.resize(max_chars);
    out += "...";
  }
  return out;
}

void PickleValue::repr_into(std::string& out, size_t max_chars, uint32_t depth) const {
  if (out.size() > max_chars) return;
  if (depth > 20) {
    out += "...";
    return;
  }
  auto quote = [&](const std::string& s) {
    out += '\'';
    for (char c : s.substr(0, 64)) out += (c == '\'' || c == '\\') ? '?' : c;
    if (s.size() > 64) out += "...";
    out += '\'';
  };
  auto seq = [&](const char* open, const char* close) {
    out += open;
    for (size_t i = 0; i < items_.size() && out.size() <= max_chars; ++i) {
      if (i) out += ", ";
      items_[i]->repr_into(out, max_chars, depth + 1);
    }
    if (kind_ == Kind::kTuple && items_.size() == 1) out += ",";
    out += close;
  };
  switch (kind_) {
    case Kind::kNone: out += "None"; break;
    case Kind::kBool: out += int_ ? "True" : "False"; break;
    case Kind::kInt: out += std::to_string(int_); break;
    case Kind::kFloat: {
      std::ostringstream os;
      os.precision(17);
      os << float_;
      out += os.str();
      break;
    }
    case Kind::kStr: quote(str_); break;
    case Kind::kBytes: out += "b"; quote(str_); break;
    case Kind::kTuple: seq("(", ")"); break;
    case Kind::kList: seq("[", "]"); break;
    case Kind::kSet: seq("{", "}"); break;
    case Kind::kDict:
      out += "{";
      for (size_t i = 0; i < entries_.size() && out.size() <= max_chars; ++i) {
        if (i) out += ", ";
        entries_[i].first->repr_into(out, max_chars, depth + 1);
        out += ": ";
        entries_[i].second->repr_into(out, max_chars, depth + 1);
      }
      out += "}";
      break;
    case Kind::kGlobal: out += str_; break;
    case Kind::kObject: out += str_ + "(...)"; break;
    case Kind::kStorage: out += "storage(" + str_ + ")"; break;
    case Kind::kTensor: {
      out += is_parameter_ ? "Parameter(" : "tensor(";
      out += std::string(c10::toString(tensor_.scalar_type())) + "[";
      for (size_t i = 0; i < static_cast<size_t>(tensor_.dim()); ++i) {
        if (i) out += ", ";
        out += std::to_string(tensor_.size(static_cast<int64_t>(i)));
      }
      out += "])";
      break;
    }
  }
}

}  // namespace ptx
