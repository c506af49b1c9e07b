// lib/unpickler_impl.h: the unpickler's private header (see lib/unpickler.h for the API).
//
// One Unpickler reads one pickle. Its work is split by job:
//   unpickler.cpp         the allowlist of globals; the opcodes that make objects (GLOBAL, NEWOBJ,
//                         BUILD, REDUCE) and what each allowlisted global does; unpickle()
//   unpickler_run.cpp     the opcode loop (Unpickler::run)
//   unpickler_torch.cpp   torch's storages and tensors (persistent ids, _rebuild_tensor,
//                         _rebuild_parameter), the zip layout (TorchZipArchive), load_torch_save
//   unpickler_value.cpp   PickleValue's accessors and repr
#pragma once

#include <ATen/ATen.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "lib/unpickler.h"
#include "shapes/error.h"

namespace ptx {

inline constexpr const char* kDiagPickle = "E_MODEL_PICKLE";
inline constexpr const char* kDiagGlobal = "E_MODEL_GLOBAL";
inline constexpr const char* kDiagUserClass = "E_MODEL_USER_CLASS";
inline constexpr const char* kDiagZip = "E_MODEL_ZIP";

// What an allowlisted global means here. Stored in PickleValue::global_kind_.
enum class GlobalKind : uint8_t {
  kNone = 0,
  kModuleClass,             // torch.nn.modules.<file>.<Class>: NEWOBJ makes an inert kObject
  kRebuildTensor,           // torch._utils._rebuild_tensor(storage, offset, size, stride)
  kRebuildTensorV2,         // ... v2(storage, offset, size, stride, requires_grad, hooks[, metadata])
  kRebuildParameter,        // torch._utils._rebuild_parameter(data, requires_grad, hooks)
  kRebuildParameterWithState,  // ... (data, requires_grad, hooks, state)
  kOrderedDict,             // collections.OrderedDict() -> an empty ordered dict
  kSet,                     // builtins.set([items]) -> kSet
  kFrozenSet,               // builtins.frozenset([items]) -> kSet
  kTorchSize,               // torch.Size((ints,)) -> kTuple
  kCodecsEncode,            // _codecs.encode(str, 'latin1') -> kBytes (how protocol 2 stores bytes)
  kReconstructor,           // copyreg._reconstructor(cls, builtins.object, None) -> inert kObject
  kObjectBase,              // builtins.object, only as _reconstructor's second argument
  kStorageType,             // torch.<Type>Storage, only inside a storage persistent id
  kDtype,                   // torch.float32 ...: a value
  kOpaque,                  // UnpickleMode::kTorchScriptCheck only: any other global, never called
};

// Structural UTF-8 check (CPython decodes with "surrogatepass", so encoded surrogates are accepted).
bool valid_utf8(std::string_view s);

// ---------------------------------------------------------------------------------------------------
// Unpickler

class Unpickler {
 public:
  Unpickler(std::string_view data, const std::string& what, const StorageLoader& storages, UnpickleMode mode)
      : data_(data), what_(what), storages_(storages), check_only_(mode == UnpickleMode::kTorchScriptCheck) {}

  PickleValuePtr run();

 private:
  using Ptr = PickleValuePtr;

  // Errors: every message names the pickle and the byte offset of the opcode.
  [[noreturn]] void fail(const std::string& msg) const {
    PTX_USER_FAIL(ExitCode::kInput, kDiagPickle)
        << what_ << ": malformed pickle at byte " << op_pos_ << ": " << msg;
  }

  // Input.
  const char* take(size_t n) {
    if (n > data_.size() - pos_) fail("truncated (needs " + std::to_string(n) + " more bytes)");
    const char* p = data_.data() + pos_;
    pos_ += n;
    return p;
  }
  uint8_t u8() { return static_cast<uint8_t>(*take(1)); }
  template <typename T>
  T little() {
    const char* p = take(sizeof(T));
    T v = 0;
    for (size_t i = 0; i < sizeof(T); ++i) {
      v |= static_cast<T>(static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i));
    }
    return v;
  }
  std::string_view line() {
    size_t end = data_.find('\n', pos_);
    if (end == std::string_view::npos) fail("truncated (a GLOBAL name has no end of line)");
    if (end - pos_ > 1024) fail("a GLOBAL name is longer than 1024 bytes");
    std::string_view s = data_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return s;
  }

  // Values.
  Ptr make(PickleValue::Kind kind) {
    if (++values_made_ > kMaxPickleValues) {
      fail("more than " + std::to_string(kMaxPickleValues) + " values");
    }
    return Ptr(new PickleValue(kind));
  }
  Ptr make_int(int64_t v) {
    Ptr p = make(PickleValue::Kind::kInt);
    p->int_ = v;
    return p;
  }
  Ptr make_str(PickleValue::Kind kind, std::string_view s) {
    if (kind == PickleValue::Kind::kStr && !valid_utf8(s)) fail("a string is not valid UTF-8");
    Ptr p = make(kind);
    p->str_ = std::string(s);
    return p;
  }
  // `child` goes inside `parent`: freeze it and grow parent's height (see Note in unpickler.h).
  void adopt(PickleValue& parent, const Ptr& child) {
    if (child.get() == &parent) fail(parent.type_name() + " would contain itself");
    child->frozen_ = true;
    parent.height_ = std::max(parent.height_, child->height_ + 1);
    if (parent.height_ > kMaxPickleDepth) {
      fail("values nest deeper than " + std::to_string(kMaxPickleDepth) + " levels");
    }
  }
  void check_mutable(const PickleValue& v, const char* op) {
    if (v.frozen_) fail(std::string(op) + " on a " + v.type_name() + " already placed inside another value");
  }
  static std::string key_text(const PickleValue& k) {
    switch (k.kind_) {
      case PickleValue::Kind::kStr: return "s:" + k.str_;
      case PickleValue::Kind::kBytes: return "b:" + k.str_;
      case PickleValue::Kind::kInt:
      case PickleValue::Kind::kBool: return "i:" + std::to_string(k.int_);
      case PickleValue::Kind::kNone: return "n:";
      default: return "";
    }
  }
  void dict_set(PickleValue& dict, const Ptr& key, const Ptr& value) {
    std::string k = key_text(*key);
    if (k.empty()) fail("a dict key of type " + key->type_name() + " is not supported");
    adopt(dict, key);
    adopt(dict, value);
    auto [it, inserted] = dict.index_.emplace(std::move(k), dict.entries_.size());
    if (inserted) {
      dict.entries_.emplace_back(key, value);
    } else {
      dict.entries_[it->second].second = value;
    }
  }
  Ptr make_tuple(std::vector<Ptr> items) {
    Ptr t = make(PickleValue::Kind::kTuple);
    for (const Ptr& item : items) adopt(*t, item);
    t->items_ = std::move(items);
    return t;
  }

  // Stack.
  Ptr pop() {
    if (stack_.empty()) fail("stack underflow");
    Ptr v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  Ptr& top() {
    if (stack_.empty()) fail("stack underflow");
    return stack_.back();
  }
  void push(Ptr v) { stack_.push_back(std::move(v)); }
  std::vector<Ptr> pop_mark() {
    if (marks_.empty()) fail("no MARK to pop to");
    std::vector<Ptr> items = std::move(stack_);
    stack_ = std::move(marks_.back());
    marks_.pop_back();
    return items;
  }

  // Opcodes with meaning.
  void op_global(std::string module, std::string name);
  void op_reduce();
  void op_newobj(bool ex);
  void op_build();
  void op_persistent_id();
  Ptr rebuild_tensor(const std::vector<Ptr>& args, bool v2);
  Ptr rebuild_parameter(const std::vector<Ptr>& args, bool with_state);
  Ptr make_object(const PickleValue& cls);

  std::string_view data_;
  const std::string& what_;
  const StorageLoader& storages_;
  bool check_only_;  // UnpickleMode::kTorchScriptCheck
  size_t pos_ = 0, op_pos_ = 0;
  size_t values_made_ = 0;
  std::vector<Ptr> stack_;
  std::vector<std::vector<Ptr>> marks_;
  std::unordered_map<uint64_t, Ptr> memo_;
  std::unordered_map<std::string, Ptr> storage_cache_;
  Ptr none_;
};

}  // namespace ptx
