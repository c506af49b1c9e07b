// lib/unpickler.cpp: the restricted unpickler of lib/unpickler.h and torch's zip layout.
//
// Opcode semantics follow CPython's Lib/pickle.py (_Unpickler) and torch/_weights_only_unpickler.py;
// the tensor-rebuild globals follow torch/_utils.py and the zip layout torch/serialization.py (_save).
#include "lib/unpickler.h"

#include "shapes/error.h"

#include <ATen/ATen.h>
#include <zip.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

namespace ptx {
namespace {

constexpr const char* kDiagPickle = "E_MODEL_PICKLE";
constexpr const char* kDiagGlobal = "E_MODEL_GLOBAL";
constexpr const char* kDiagUserClass = "E_MODEL_USER_CLASS";
constexpr const char* kDiagZip = "E_MODEL_ZIP";

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

struct AllowedGlobal {
  std::string_view name;
  GlobalKind kind;
  at::ScalarType dtype = at::ScalarType::Undefined;  // kStorageType, kDtype
};

// Keep sorted by name (checked by find_allowed_global's binary search in a debug check below).
constexpr AllowedGlobal kAllowedGlobals[] = {
    {"_codecs.encode", GlobalKind::kCodecsEncode},
    {"builtins.frozenset", GlobalKind::kFrozenSet},
    {"builtins.object", GlobalKind::kObjectBase},
    {"builtins.set", GlobalKind::kSet},
    {"collections.OrderedDict", GlobalKind::kOrderedDict},
    {"copyreg._reconstructor", GlobalKind::kReconstructor},
    {"torch.BFloat16Storage", GlobalKind::kStorageType, at::kBFloat16},
    {"torch.BoolStorage", GlobalKind::kStorageType, at::kBool},
    {"torch.ByteStorage", GlobalKind::kStorageType, at::kByte},
    {"torch.CharStorage", GlobalKind::kStorageType, at::kChar},
    {"torch.ComplexDoubleStorage", GlobalKind::kStorageType, at::kComplexDouble},
    {"torch.ComplexFloatStorage", GlobalKind::kStorageType, at::kComplexFloat},
    {"torch.DoubleStorage", GlobalKind::kStorageType, at::kDouble},
    {"torch.FloatStorage", GlobalKind::kStorageType, at::kFloat},
    {"torch.HalfStorage", GlobalKind::kStorageType, at::kHalf},
    {"torch.IntStorage", GlobalKind::kStorageType, at::kInt},
    {"torch.LongStorage", GlobalKind::kStorageType, at::kLong},
    {"torch.ShortStorage", GlobalKind::kStorageType, at::kShort},
    {"torch.Size", GlobalKind::kTorchSize},
    {"torch.UntypedStorage", GlobalKind::kStorageType, at::kByte},
    {"torch._utils._rebuild_parameter", GlobalKind::kRebuildParameter},
    {"torch._utils._rebuild_parameter_with_state", GlobalKind::kRebuildParameterWithState},
    {"torch._utils._rebuild_tensor", GlobalKind::kRebuildTensor},
    {"torch._utils._rebuild_tensor_v2", GlobalKind::kRebuildTensorV2},
    {"torch.bfloat16", GlobalKind::kDtype, at::kBFloat16},
    {"torch.bool", GlobalKind::kDtype, at::kBool},
    {"torch.complex128", GlobalKind::kDtype, at::kComplexDouble},
    {"torch.complex64", GlobalKind::kDtype, at::kComplexFloat},
    {"torch.float16", GlobalKind::kDtype, at::kHalf},
    {"torch.float32", GlobalKind::kDtype, at::kFloat},
    {"torch.float64", GlobalKind::kDtype, at::kDouble},
    {"torch.int16", GlobalKind::kDtype, at::kShort},
    {"torch.int32", GlobalKind::kDtype, at::kInt},
    {"torch.int64", GlobalKind::kDtype, at::kLong},
    {"torch.int8", GlobalKind::kDtype, at::kChar},
    {"torch.uint8", GlobalKind::kDtype, at::kByte},
};

constexpr bool allowlist_sorted() {
  for (size_t i = 1; i < std::size(kAllowedGlobals); ++i) {
    if (!(kAllowedGlobals[i - 1].name < kAllowedGlobals[i].name)) return false;
  }
  return true;
}
static_assert(allowlist_sorted(), "kAllowedGlobals must stay sorted by name");

bool is_identifier(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

// torch.nn layer classes: "torch.nn.modules.<file>.<Class>", Class starting with an upper-case letter.
// Instances are inert data (class name + state); lib/pickled_module.cpp decides which it supports.
bool is_torch_nn_class(std::string_view module, std::string_view name) {
  constexpr std::string_view kPrefix = "torch.nn.modules.";
  if (!module.starts_with(kPrefix)) return false;
  std::string_view file = module.substr(kPrefix.size());
  if (!is_identifier(file) || !is_identifier(name)) return false;
  return std::isupper(static_cast<unsigned char>(name[0])) != 0;
}

const AllowedGlobal* find_allowed_global(std::string_view qualified) {
  auto it = std::lower_bound(std::begin(kAllowedGlobals), std::end(kAllowedGlobals), qualified,
                             [](const AllowedGlobal& g, std::string_view n) { return g.name < n; });
  if (it != std::end(kAllowedGlobals) && it->name == qualified) return &*it;
  return nullptr;
}

// CPython's _compat_pickle mapping of Python 2 names, as torch's weights_only unpickler applies it.
std::string map_python2_module(std::string_view module) {
  if (module == "__builtin__") return "builtins";
  if (module == "copy_reg") return "copyreg";
  return std::string(module);
}

// Modules whose globals can run commands, touch files or evaluate code; named in the refusal.
bool is_dangerous_module(std::string_view module) {
  static constexpr std::string_view kModules[] = {
      "builtins", "os", "posix", "nt", "sys", "subprocess", "shutil", "socket", "importlib",
      "runpy", "pickle", "marshal", "ctypes", "code", "codeop", "pty", "webbrowser", "io",
      "functools", "operator", "types", "torch", "numpy", "_codecs", "copyreg", "collections"};
  std::string_view root = module.substr(0, module.find('.'));
  return std::find(std::begin(kModules), std::end(kModules), root) != std::end(kModules);
}

// Structural UTF-8 check (CPython decodes with "surrogatepass", so encoded surrogates are accepted).
bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    if (c < 0x80) {
      n = 0;
    } else if ((c >> 5) == 0x6) {
      n = 1;
    } else if ((c >> 4) == 0xe) {
      n = 2;
    } else if ((c >> 3) == 0x1e) {
      n = 3;
    } else {
      return false;
    }
    if (n > s.size() - i - 1) return false;
    for (size_t k = 1; k <= n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
    }
    i += n + 1;
  }
  return true;
}

}  // namespace

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

namespace {
// Pickle opcodes (CPython Lib/pickle.py). Text-mode protocol 0 opcodes and out-of-band buffers
// (protocol 5) are not accepted; torch.save writes protocol 2.
enum Op : uint8_t {
  MARK = '(', STOP = '.', POP = '0', POP_MARK = '1', DUP = '2', BININT = 'J', BININT1 = 'K',
  BININT2 = 'M', NONE = 'N', BINPERSID = 'Q', REDUCE = 'R', BINSTRING = 'T', SHORT_BINSTRING = 'U',
  BINUNICODE = 'X', APPEND = 'a', BUILD = 'b', GLOBAL = 'c', DICT = 'd', EMPTY_DICT = '}',
  APPENDS = 'e', BINGET = 'h', LONG_BINGET = 'j', LIST = 'l', EMPTY_LIST = ']', BINPUT = 'q',
  LONG_BINPUT = 'r', SETITEM = 's', TUPLE = 't', EMPTY_TUPLE = ')', SETITEMS = 'u', BINFLOAT = 'G',
  PROTO = 0x80, NEWOBJ = 0x81, TUPLE1 = 0x85, TUPLE2 = 0x86, TUPLE3 = 0x87, NEWTRUE = 0x88,
  NEWFALSE = 0x89, LONG1 = 0x8a, LONG4 = 0x8b, BINBYTES = 'B', SHORT_BINBYTES = 'C',
  SHORT_BINUNICODE = 0x8c, BINUNICODE8 = 0x8d, BINBYTES8 = 0x8e, EMPTY_SET = 0x8f, ADDITEMS = 0x90,
  FROZENSET = 0x91, NEWOBJ_EX = 0x92, STACK_GLOBAL = 0x93, MEMOIZE = 0x94, FRAME = 0x95,
};
}  // namespace

PickleValuePtr Unpickler::run() {
  using K = PickleValue::Kind;
  none_ = make(K::kNone);
  if (data_.empty()) fail("empty pickle");
  while (true) {
    op_pos_ = pos_;
    const uint8_t op = u8();
    switch (op) {
      case PROTO: {
        const uint8_t proto = u8();
        if (proto < 2 || proto > 5) fail("unsupported pickle protocol " + std::to_string(proto));
        break;
      }
      case FRAME: take(8); break;  // a length prefix for buffering; no meaning here
      case STOP: {
        Ptr result = pop();
        if (!stack_.empty() || !marks_.empty()) fail("values left on the stack at STOP");
        return result;
      }
      case MARK:
        if (marks_.size() >= kMaxPickleDepth) fail("MARKs nest deeper than " + std::to_string(kMaxPickleDepth));
        marks_.push_back(std::move(stack_));
        stack_.clear();
        break;
      case POP:
        if (stack_.empty()) {
          pop_mark();  // CPython: POP with an empty stack after a MARK pops the mark
        } else {
          pop();
        }
        break;
      case POP_MARK: pop_mark(); break;
      case DUP: push(top()); break;

      // Scalars.
      case NONE: push(none_); break;
      case NEWTRUE:
      case NEWFALSE: {
        Ptr b = make(K::kBool);
        b->int_ = op == NEWTRUE;
        push(b);
        break;
      }
      case BININT: push(make_int(static_cast<int32_t>(little<uint32_t>()))); break;
      case BININT1: push(make_int(u8())); break;
      case BININT2: push(make_int(little<uint16_t>())); break;
      case LONG1:
      case LONG4: {
        uint64_t n = op == LONG1 ? u8() : little<uint32_t>();
        if (n > 0x7fffffff) fail("negative LONG4 length");
        const char* p = take(n);
        // Two's complement, little endian; it must fit in int64 (sign extension bytes allowed).
        uint64_t v = 0;
        for (uint64_t i = 0; i < std::min<uint64_t>(n, 8); ++i) {
          v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
        }
        const bool negative = n > 0 && (static_cast<uint8_t>(p[n - 1]) & 0x80);
        if (n < 8 && n > 0 && negative) v |= ~uint64_t{0} << (8 * n);
        if (n > 8) {
          for (uint64_t i = 8; i < n; ++i) {
            if (static_cast<uint8_t>(p[i]) != (negative ? 0xff : 0x00)) fail("integer does not fit in 64 bits");
          }
          if (((v >> 63) != 0) != negative) fail("integer does not fit in 64 bits");
        }
        push(make_int(static_cast<int64_t>(v)));
        break;
      }
      case BINFLOAT: {
        const char* p = take(8);
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = (bits << 8) | static_cast<uint8_t>(p[i]);  // big endian
        Ptr f = make(K::kFloat);
        f->float_ = std::bit_cast<double>(bits);
        push(f);
        break;
      }
      case SHORT_BINUNICODE: { uint64_t n = u8(); push(make_str(K::kStr, {take(n), n})); break; }
      case BINUNICODE: { uint64_t n = little<uint32_t>(); push(make_str(K::kStr, {take(n), n})); break; }
      case BINUNICODE8: { uint64_t n = little<uint64_t>(); push(make_str(K::kStr, {take(n), n})); break; }
      // Python 2 str: torch.load decodes it as UTF-8 text.
      case SHORT_BINSTRING: { uint64_t n = u8(); push(make_str(K::kStr, {take(n), n})); break; }
      case BINSTRING: {
        int32_t n = static_cast<int32_t>(little<uint32_t>());
        if (n < 0) fail("negative BINSTRING length");
        push(make_str(K::kStr, {take(static_cast<size_t>(n)), static_cast<size_t>(n)}));
        break;
      }
      case SHORT_BINBYTES: { uint64_t n = u8(); push(make_str(K::kBytes, {take(n), n})); break; }
      case BINBYTES: { uint64_t n = little<uint32_t>(); push(make_str(K::kBytes, {take(n), n})); break; }
      case BINBYTES8: { uint64_t n = little<uint64_t>(); push(make_str(K::kBytes, {take(n), n})); break; }

      // Containers.
      case EMPTY_TUPLE: push(make_tuple({})); break;
      case TUPLE1:
      case TUPLE2:
      case TUPLE3: {
        const size_t n = op - TUPLE1 + 1;
        if (stack_.size() < n) fail("stack underflow");
        std::vector<Ptr> items(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end());
        stack_.resize(stack_.size() - n);
        push(make_tuple(std::move(items)));
        break;
      }
      case TUPLE: push(make_tuple(pop_mark())); break;
      case EMPTY_LIST: push(make(K::kList)); break;
      case LIST: {
        std::vector<Ptr> items = pop_mark();
        Ptr l = make(K::kList);
        for (const Ptr& item : items) adopt(*l, item);
        l->items_ = std::move(items);
        push(l);
        break;
      }
      case EMPTY_DICT: push(make(K::kDict)); break;
      case DICT: {
        std::vector<Ptr> items = pop_mark();
        if (items.size() % 2) fail("DICT with an odd number of items");
        Ptr d = make(K::kDict);
        for (size_t i = 0; i < items.size(); i += 2) dict_set(*d, items[i], items[i + 1]);
        push(d);
        break;
      }
      case EMPTY_SET: push(make(K::kSet)); break;
      case FROZENSET: {
        std::vector<Ptr> items = pop_mark();
        Ptr s = make(K::kSet);
        for (const Ptr& item : items) adopt(*s, item);
        s->items_ = std::move(items);
        s->frozen_ = true;
        push(s);
        break;
      }
      case APPEND:
      case APPENDS:
      case ADDITEMS: {
        std::vector<Ptr> items;
        if (op == APPEND) {
          items.push_back(pop());
        } else {
          items = pop_mark();
        }
        PickleValue& target = *top();
        const K want = op == ADDITEMS ? K::kSet : K::kList;
        if (target.kind_ != want) fail(std::string(op == ADDITEMS ? "ADDITEMS" : "APPEND") + " to a " + target.type_name());
        check_mutable(target, "APPEND");
        for (const Ptr& item : items) {
          adopt(target, item);
          target.items_.push_back(item);
        }
        break;
      }
      case SETITEM:
      case SETITEMS: {
        std::vector<Ptr> items;
        if (op == SETITEM) {
          Ptr value = pop();
          Ptr key = pop();
          items = {key, value};
        } else {
          items = pop_mark();
          if (items.size() % 2) fail("SETITEMS with an odd number of items");
        }
        PickleValue& target = *top();
        if (target.kind_ != K::kDict) fail("SETITEM on a " + target.type_name());
        check_mutable(target, "SETITEM");
        for (size_t i = 0; i < items.size(); i += 2) dict_set(target, items[i], items[i + 1]);
        break;
      }

      // Memo.
      case BINPUT: memo_[u8()] = top(); break;
      case LONG_BINPUT: memo_[little<uint32_t>()] = top(); break;
      case MEMOIZE: memo_[memo_.size()] = top(); break;
      case BINGET:
      case LONG_BINGET: {
        const uint64_t i = op == BINGET ? u8() : little<uint32_t>();
        auto it = memo_.find(i);
        if (it == memo_.end()) fail("memo entry " + std::to_string(i) + " was never stored");
        push(it->second);
        break;
      }

      // Globals and objects.
      case GLOBAL: {
        std::string module(line());
        std::string name(line());
        op_global(std::move(module), std::move(name));
        break;
      }
      case STACK_GLOBAL: {
        Ptr name = pop();
        Ptr module = pop();
        if (!module->is(K::kStr) || !name->is(K::kStr)) fail("STACK_GLOBAL needs two strings");
        op_global(module->str_, name->str_);
        break;
      }
      case REDUCE: op_reduce(); break;
      case NEWOBJ: op_newobj(false); break;
      case NEWOBJ_EX: op_newobj(true); break;
      case BUILD: op_build(); break;
      case BINPERSID: op_persistent_id(); break;

      default: {
        std::ostringstream os;
        os << "unsupported opcode 0x" << std::hex << static_cast<int>(op);
        if (op >= 0x20 && op < 0x7f) os << " ('" << static_cast<char>(op) << "')";
        fail(os.str());
      }
    }
  }
}

void Unpickler::op_global(std::string module, std::string name) {
  module = map_python2_module(module);
  if (module.empty() || name.empty()) fail("GLOBAL with an empty name");
  const std::string qualified = module + "." + name;
  const AllowedGlobal* allowed = find_allowed_global(qualified);
  GlobalKind kind = allowed ? allowed->kind : GlobalKind::kNone;
  if (!allowed && is_torch_nn_class(module, name)) kind = GlobalKind::kModuleClass;
  if (kind == GlobalKind::kNone && check_only_) kind = GlobalKind::kOpaque;
  if (kind == GlobalKind::kNone) {
    // Refuse right here: nothing the pickle names outside the allowlist is ever looked at again.
    const bool looks_like_class = std::isupper(static_cast<unsigned char>(name[0])) != 0;
    if (looks_like_class && !is_dangerous_module(module)) {
      PTX_USER_FAIL(ExitCode::kInput, kDiagUserClass)
          << what_ << ": class '" << qualified << "' is not a standard torch.nn layer: a torch.save "
          << "file stores only its name and attributes, and its forward is Python code that the file "
          << "does not contain (ptexport never imports or runs code from a model file); save the model "
          << "as TorchScript instead, e.g. torch.jit.script(model).save(\"model.pt\") or "
          << "torch.jit.trace(model, example_inputs).save(\"model.pt\"), and export that file";
    }
    PTX_USER_FAIL(ExitCode::kInput, kDiagGlobal)
        << what_ << ": global '" << qualified << "' is refused: a torch.save file may only name "
        << "torch.nn layers, tensor storages and torch's tensor-rebuild functions, and ptexport never "
        << "runs code from a model file";
  }
  Ptr g = make(PickleValue::Kind::kGlobal);
  g->str_ = qualified;
  g->global_kind_ = static_cast<uint8_t>(kind);
  if (allowed && allowed->dtype != at::ScalarType::Undefined) g->int_ = static_cast<int64_t>(allowed->dtype);
  push(g);
}

PickleValuePtr Unpickler::make_object(const PickleValue& cls) {
  Ptr obj = make(PickleValue::Kind::kObject);
  obj->str_ = cls.str_;
  return obj;
}

void Unpickler::op_newobj(bool ex) {
  using K = PickleValue::Kind;
  Ptr kwargs = ex ? pop() : nullptr;
  Ptr args = pop();
  Ptr cls = pop();
  if (check_only_ && cls->is(K::kGlobal)) {  // __torch__.<Class>: an object holding its arguments
    Ptr obj = make_object(*cls);
    adopt(*obj, args);
    if (kwargs) adopt(*obj, kwargs);
    push(obj);
    return;
  }
  if (!cls->is(K::kGlobal) || static_cast<GlobalKind>(cls->global_kind_) != GlobalKind::kModuleClass) {
    fail("NEWOBJ of " + (cls->is(K::kGlobal) ? "'" + cls->str_ + "'" : "a " + cls->type_name()) +
         ": only torch.nn layer classes can be instantiated");
  }
  if (!args->is(K::kTuple) || !args->items_.empty()) fail("NEWOBJ of " + cls->str_ + " with arguments");
  if (kwargs && !(kwargs->is(K::kDict) && kwargs->entries_.empty())) {
    fail("NEWOBJ_EX of " + cls->str_ + " with keyword arguments");
  }
  push(make_object(*cls));
}

void Unpickler::op_build() {
  using K = PickleValue::Kind;
  Ptr state = pop();
  PickleValue& inst = *top();
  if (check_only_) {  // LibTorch sets any object's state (__setstate__); only its depth matters here
    check_mutable(inst, "BUILD");
    adopt(inst, state);
    return;
  }
  if (inst.is(K::kObject)) {
    check_mutable(inst, "BUILD");
    if (inst.built_) fail("BUILD twice on " + inst.type_name());
    if (!state->is(K::kDict)) fail("BUILD of " + inst.type_name() + " with a " + state->type_name() + " state");
    adopt(inst, state);
    inst.state_ = state;
    inst.built_ = true;
    return;
  }
  // OrderedDict.__reduce__ passes its instance __dict__ as the state (a state_dict's `_metadata`).
  if (inst.is(K::kDict) && inst.ordered_ && (state->is_none() || state->is(K::kDict))) {
    check_mutable(inst, "BUILD");
    if (inst.built_) fail("BUILD twice on " + inst.type_name());
    if (state->is(K::kDict)) {
      adopt(inst, state);
      inst.state_ = state;
    }
    inst.built_ = true;
    return;
  }
  fail("BUILD of a " + inst.type_name() + " with a " + state->type_name() + " state is not supported");
}

void Unpickler::op_reduce() {
  using K = PickleValue::Kind;
  Ptr args_value = pop();
  Ptr func = pop();
  if (!args_value->is(K::kTuple)) fail("REDUCE arguments are a " + args_value->type_name() + ", not a tuple");
  const std::vector<Ptr>& args = args_value->items_;
  const GlobalKind kind = func->is(K::kGlobal) ? static_cast<GlobalKind>(func->global_kind_) : GlobalKind::kNone;
  const std::string name = func->is(K::kGlobal) ? func->str_ : func->type_name();
  auto want_args = [&](size_t lo, size_t hi) {
    if (args.size() < lo || args.size() > hi) {
      fail(name + " takes " + std::to_string(lo) + (lo == hi ? "" : "-" + std::to_string(hi)) +
           " arguments, got " + std::to_string(args.size()));
    }
  };
  switch (kind) {
    case GlobalKind::kRebuildTensor:
      want_args(4, 4);
      push(rebuild_tensor(args, false));
      return;
    case GlobalKind::kRebuildTensorV2:
      want_args(6, 7);
      push(rebuild_tensor(args, true));
      return;
    case GlobalKind::kRebuildParameter:
      want_args(3, 3);
      push(rebuild_parameter(args, false));
      return;
    case GlobalKind::kRebuildParameterWithState:
      want_args(4, 4);
      push(rebuild_parameter(args, true));
      return;
    case GlobalKind::kOrderedDict: {
      want_args(0, 0);
      Ptr d = make(K::kDict);
      d->ordered_ = true;
      push(d);
      return;
    }
    case GlobalKind::kSet:
    case GlobalKind::kFrozenSet: {
      want_args(0, 1);
      Ptr s = make(K::kSet);
      if (!args.empty()) {
        if (!args[0]->is(K::kList) && !args[0]->is(K::kTuple)) fail(name + " of a " + args[0]->type_name());
        for (const Ptr& item : args[0]->items_) {
          adopt(*s, item);
          s->items_.push_back(item);
        }
      }
      s->frozen_ = kind == GlobalKind::kFrozenSet;
      push(s);
      return;
    }
    case GlobalKind::kTorchSize: {
      want_args(0, 1);
      std::vector<Ptr> dims;
      if (!args.empty()) {
        if (!args[0]->is(K::kTuple) && !args[0]->is(K::kList)) fail("torch.Size of a " + args[0]->type_name());
        dims = args[0]->items_;
      }
      for (const Ptr& d : dims) {
        if (!d->is(K::kInt)) fail("torch.Size with a " + d->type_name() + " element");
      }
      push(make_tuple(std::move(dims)));
      return;
    }
    case GlobalKind::kCodecsEncode: {
      want_args(2, 2);
      if (!args[0]->is(K::kStr) || !args[1]->is(K::kStr) || args[1]->str_ != "latin1") {
        fail("_codecs.encode is only accepted as encode(str, 'latin1')");
      }
      // Decode UTF-8 code points, each must be < 256 (latin1).
      std::string out;
      const std::string& s = args[0]->str_;
      for (size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
          out += static_cast<char>(c);
          i += 1;
        } else if ((c >> 5) == 0x6 && i + 1 < s.size()) {
          const unsigned cp = ((c & 0x1fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3fu);
          if (cp > 0xff) fail("_codecs.encode: a character is not latin1");
          out += static_cast<char>(cp);
          i += 2;
        } else {
          fail("_codecs.encode: a character is not latin1");
        }
      }
      push(make_str(K::kBytes, out));
      return;
    }
    case GlobalKind::kReconstructor: {
      want_args(3, 3);
      const PickleValue& cls = *args[0];
      if (!cls.is(K::kGlobal) || static_cast<GlobalKind>(cls.global_kind_) != GlobalKind::kModuleClass) {
        fail("copyreg._reconstructor of a " + cls.type_name() + ": only torch.nn layer classes can be instantiated");
      }
      if (!args[1]->is(K::kGlobal) || static_cast<GlobalKind>(args[1]->global_kind_) != GlobalKind::kObjectBase ||
          !args[2]->is_none()) {
        fail("copyreg._reconstructor is only accepted as _reconstructor(cls, object, None)");
      }
      push(make_object(cls));
      return;
    }
    default:
      break;
  }
  if (check_only_ && func->is(K::kGlobal)) {  // torch.jit._pickle.build_intlist(...) and the like
    Ptr obj = make_object(*func);
    adopt(*obj, args_value);
    push(obj);
    return;
  }
  fail("'" + name + "' cannot be called");
}

void Unpickler::op_persistent_id() {
  using K = PickleValue::Kind;
  Ptr pid = pop();
  // ('storage', torch.<Type>Storage, key, location, numel), as torch.serialization._save writes it.
  if (!pid->is(K::kTuple) || pid->items_.size() != 5 || !pid->items_[0]->is(K::kStr) ||
      pid->items_[0]->str_ != "storage") {
    fail("persistent id " + pid->repr(120) + " is not ('storage', type, key, location, numel)");
  }
  const auto& f = pid->items_;
  if (!f[1]->is(K::kGlobal) || static_cast<GlobalKind>(f[1]->global_kind_) != GlobalKind::kStorageType) {
    fail("storage type " + f[1]->repr(80) + " is not a torch storage type");
  }
  if (!f[2]->is(K::kStr) || f[2]->str_.empty() || f[2]->str_.size() > 64 ||
      !std::all_of(f[2]->str_.begin(), f[2]->str_.end(),
                   [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; })) {
    fail("storage key " + f[2]->repr(80) + " is not a plain name");
  }
  if (!f[3]->is(K::kStr)) fail("storage location " + f[3]->repr(80) + " is not a string");
  if (f[3]->str_ == "meta") fail("storage '" + f[2]->str_ + "' is on the meta device and has no data");
  if (!f[4]->is(K::kInt) || f[4]->int_ < 0) fail("storage size " + f[4]->repr(80) + " is not a count");
  const auto dtype = static_cast<at::ScalarType>(f[1]->int_);
  const std::string& key = f[2]->str_;
  const int64_t numel = f[4]->int_;
  auto it = storage_cache_.find(key);
  if (it != storage_cache_.end()) {
    const at::Tensor& t = it->second->tensor_;
    if (t.scalar_type() != dtype || t.numel() != numel) {
      fail("storage '" + key + "' is used with two different types or sizes");
    }
    push(it->second);
    return;
  }
  if (!storages_) fail("a persistent id (tensor storage '" + key + "') where none is expected");
  Ptr s = make(K::kStorage);
  s->str_ = key;
  s->tensor_ = storages_(key, dtype, numel);
  PTX_INTERNAL_CHECK(s->tensor_.defined() && s->tensor_.dim() == 1 && s->tensor_.numel() == numel &&
                     s->tensor_.scalar_type() == dtype)
      << "storage loader returned a wrong tensor for '" << key << "'";
  storage_cache_.emplace(key, s);
  push(s);
}

PickleValuePtr Unpickler::rebuild_tensor(const std::vector<Ptr>& args, bool v2) {
  using K = PickleValue::Kind;
  const PickleValue& storage = *args[0];
  if (!storage.is(K::kStorage)) fail("tensor storage is a " + storage.type_name());
  auto int_list = [&](const PickleValue& v, const char* what) {
    if (!v.is(K::kTuple) && !v.is(K::kList)) fail(std::string("tensor ") + what + " is a " + v.type_name());
    if (v.items_.size() > 64) fail(std::string("tensor ") + what + " has more than 64 dimensions");
    std::vector<int64_t> out;
    for (const Ptr& d : v.items_) {
      if (!d->is(K::kInt) || d->int_ < 0) fail(std::string("tensor ") + what + " " + v.repr(120) + " is not a list of counts");
      out.push_back(d->int_);
    }
    return out;
  };
  if (!args[1]->is(K::kInt) || args[1]->int_ < 0) fail("tensor storage offset " + args[1]->repr(40) + " is not a count");
  const int64_t offset = args[1]->int_;
  const std::vector<int64_t> sizes = int_list(*args[2], "size");
  const std::vector<int64_t> strides = int_list(*args[3], "stride");
  if (sizes.size() != strides.size()) fail("tensor size and stride have different lengths");
  // The view must lie inside the storage and not be larger than it (no expanded views).
  const int64_t storage_numel = storage.tensor_.numel();
  int64_t numel = 1, last = offset;
  bool empty = false;
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] == 0) empty = true;
    if (__builtin_mul_overflow(numel, sizes[i], &numel)) fail("tensor size overflows");
  }
  if (!empty) {
    for (size_t i = 0; i < sizes.size(); ++i) {
      int64_t extent = 0;
      if (__builtin_mul_overflow(sizes[i] - 1, strides[i], &extent) || __builtin_add_overflow(last, extent, &last)) {
        fail("tensor stride overflows");
      }
    }
    if (last >= storage_numel) {
      fail("tensor of size " + args[2]->repr(80) + " and stride " + args[3]->repr(80) + " at offset " +
           std::to_string(offset) + " reaches past its storage '" + storage.str_ + "' of " +
           std::to_string(storage_numel) + " elements");
    }
    if (numel > storage_numel && !check_only_) {  // TorchScript keeps expanded views (stride 0)
      fail("tensor of size " + args[2]->repr(80) + " has more elements than its storage '" + storage.str_ + "'");
    }
  } else if (offset > storage_numel) {
    fail("tensor offset " + std::to_string(offset) + " is past its storage '" + storage.str_ + "'");
  }
  bool requires_grad = false;
  if (v2) {
    if (!args[4]->is(K::kBool)) fail("tensor requires_grad is a " + args[4]->type_name());
    requires_grad = args[4]->int_ != 0;
    const PickleValue& hooks = *args[5];
    if (!(hooks.is(K::kDict) && hooks.entries_.empty()) && !hooks.is_none()) {
      fail("tensor has backward hooks (Python code), which cannot be loaded");
    }
    if (args.size() == 7 && !args[6]->is_none() && !(args[6]->is(K::kDict) && args[6]->entries_.empty())) {
      fail("tensor metadata " + args[6]->repr(80) + " is not supported");
    }
  }
  Ptr t = make(K::kTensor);
  t->tensor_ = storage.tensor_.as_strided(sizes, strides, offset);
  t->requires_grad_ = requires_grad;
  t->height_ = 2;
  return t;
}

PickleValuePtr Unpickler::rebuild_parameter(const std::vector<Ptr>& args, bool with_state) {
  using K = PickleValue::Kind;
  if (!args[0]->is(K::kTensor) || args[0]->is_parameter_) fail("parameter data is a " + args[0]->type_name());
  if (!args[1]->is(K::kBool)) fail("parameter requires_grad is a " + args[1]->type_name());
  const PickleValue& hooks = *args[2];
  if (!(hooks.is(K::kDict) && hooks.entries_.empty()) && !hooks.is_none()) {
    fail("parameter has backward hooks (Python code), which cannot be loaded");
  }
  if (with_state) {
    const PickleValue& state = *args[3];
    const bool empty = state.is_none() || (state.is(K::kDict) && state.entries_.empty()) ||
                       (state.is(K::kTuple) && std::all_of(state.items_.begin(), state.items_.end(), [](const Ptr& v) {
                          return v->is_none() || (v->is(K::kDict) && v->entries_.empty());
                        }));
    if (!empty) fail("parameter with extra Python state " + state.repr(80) + " is not supported");
  }
  Ptr p = make(K::kTensor);
  p->tensor_ = args[0]->tensor_;
  p->is_parameter_ = true;
  p->requires_grad_ = args[1]->int_ != 0;
  p->height_ = 2;
  return p;
}

PickleValuePtr unpickle(std::string_view data, const std::string& what, const StorageLoader& storages,
                        UnpickleMode mode) {
  if (data.size() > kMaxPickleBytes) {
    PTX_USER_FAIL(ExitCode::kInput, kDiagPickle)
        << what << ": pickle of " << data.size() << " bytes is larger than the limit of " << kMaxPickleBytes;
  }
  Unpickler u(data, what, storages, mode);
  try {
    return u.run();
  } catch (const Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    PTX_USER_FAIL(ExitCode::kInput, kDiagPickle) << what << ": out of memory while unpickling";
  } catch (const c10::Error& e) {
    // A storage loader or at::as_strided refusing its arguments: still the file's fault.
    PTX_USER_FAIL(ExitCode::kInput, kDiagPickle) << what << ": " << e.what_without_backtrace();
  }
}

// ---------------------------------------------------------------------------------------------------
// TorchZipArchive

namespace {
zip_t* as_zip(void* z) { return static_cast<zip_t*>(z); }
}  // namespace

TorchZipArchive::TorchZipArchive(const std::filesystem::path& file) : file_(file) {
  std::error_code ec;
  file_size_ = std::filesystem::file_size(file, ec);
  PTX_USER_CHECK(!ec, ExitCode::kInput, kDiagZip) << file.string() << ": cannot read the file: " << ec.message();
  int err = 0;
  zip_t* z = zip_open(file.c_str(), ZIP_RDONLY, &err);
  if (!z) {
    zip_error_t ze;
    zip_error_init_with_code(&ze, err);
    std::string msg = zip_error_strerror(&ze);
    zip_error_fini(&ze);
    PTX_USER_FAIL(ExitCode::kInput, kDiagZip) << file.string() << ": not a zip archive (" << msg << ")";
  }
  zip_ = z;
  const zip_int64_t n = zip_get_num_entries(z, 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(z, static_cast<zip_uint64_t>(i), 0, &st) != 0 || !(st.valid & ZIP_STAT_NAME)) continue;
    std::string name = st.name;
    const size_t slash = name.find('/');
    if (slash == std::string::npos || slash == 0) continue;  // torch writes every record under <top>/
    if (top_.empty()) top_ = name.substr(0, slash);
    if (name.compare(0, slash, top_) != 0) continue;
    std::string rel = name.substr(slash + 1);
    if (rel.empty()) continue;
    // LibTorch's zip reader (miniz) finds records by name without regard to case, among duplicates
    // any one: such names are recorded for the TorchScript check to refuse.
    std::string folded = name;
    for (char& c : folded) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!folded_names_.insert(folded).second) colliding_.push_back(name);
    if (entries_.count(rel)) continue;
    Entry e{i, (st.valid & ZIP_STAT_SIZE) ? st.size : 0,
            (st.valid & ZIP_STAT_COMP_SIZE) ? st.comp_size : 0,
            !(st.valid & ZIP_STAT_COMP_METHOD) || st.comp_method == ZIP_CM_STORE};
    entries_.emplace(rel, e);
    records_.push_back(std::move(rel));
  }
}

TorchZipArchive::~TorchZipArchive() {
  if (zip_) zip_discard(as_zip(zip_));
}

bool TorchZipArchive::has_record(std::string_view name) const { return entries_.count(std::string(name)) != 0; }

bool TorchZipArchive::record_compressed(std::string_view name) const {
  auto it = entries_.find(std::string(name));
  return it != entries_.end() && !it->second.stored;
}

std::optional<uint64_t> TorchZipArchive::record_size(std::string_view name) const {
  auto it = entries_.find(std::string(name));
  if (it == entries_.end()) return std::nullopt;
  return it->second.size;
}

const TorchZipArchive::Entry& TorchZipArchive::entry(std::string_view name) const {
  auto it = entries_.find(std::string(name));
  PTX_USER_CHECK(it != entries_.end(), ExitCode::kInput, kDiagZip)
      << file_.string() << ": the archive has no record '" << (top_.empty() ? "archive" : top_) << "/" << name << "'";
  const Entry& e = it->second;
  // A size the archive cannot hold is a forged header: refuse before allocating anything.
  const bool plausible = e.stored ? (e.size == e.compressed_size && e.size <= file_size_)
                                  : (e.compressed_size <= file_size_ && e.size / 1032 <= e.compressed_size);
  PTX_USER_CHECK(plausible, ExitCode::kInput, kDiagZip)
      << file_.string() << ": record '" << name << "' states a size of " << e.size
      << " bytes that the archive cannot hold";
  return e;
}

void TorchZipArchive::read_record_into(std::string_view name, void* dst, uint64_t size) const {
  const Entry& e = entry(name);
  PTX_USER_CHECK(e.size == size, ExitCode::kInput, kDiagZip)
      << file_.string() << ": record '" << name << "' has " << e.size << " bytes, expected " << size;
  zip_file_t* f = zip_fopen_index(as_zip(zip_), static_cast<zip_uint64_t>(e.index), 0);
  PTX_USER_CHECK(f != nullptr, ExitCode::kInput, kDiagZip)
      << file_.string() << ": cannot open record '" << name << "': " << zip_strerror(as_zip(zip_));
  uint64_t done = 0;
  auto* out = static_cast<char*>(dst);
  while (done < size) {
    const zip_int64_t got = zip_fread(f, out + done, size - done);
    if (got <= 0) break;
    done += static_cast<uint64_t>(got);
  }
  // One more read must hit the end: the record is not longer than it claims.
  char extra;
  const zip_int64_t more = done == size ? zip_fread(f, &extra, 1) : 0;
  std::string err = zip_file_strerror(f);
  zip_fclose(f);
  PTX_USER_CHECK(done == size && more == 0, ExitCode::kInput, kDiagZip)
      << file_.string() << ": record '" << name << "' is damaged or truncated (read " << done << " of "
      << size << " bytes: " << err << ")";
}

std::string TorchZipArchive::read_record(std::string_view name, uint64_t max_bytes) const {
  const Entry& e = entry(name);
  PTX_USER_CHECK(e.size <= max_bytes, ExitCode::kInput, kDiagZip)
      << file_.string() << ": record '" << name << "' of " << e.size << " bytes is larger than the limit of "
      << max_bytes;
  std::string out(e.size, '\0');
  read_record_into(name, out.data(), e.size);
  return out;
}

PickleValuePtr load_torch_save(const std::filesystem::path& file) {
  TorchZipArchive zip(file);
  const std::string what = file.string();
  PTX_USER_CHECK(zip.has_record("data.pkl"), ExitCode::kInput, kDiagZip)
      << what << ": not a torch.save archive (no data.pkl record)";
  if (zip.has_record("byteorder")) {
    const std::string order = zip.read_record("byteorder", 16);
    PTX_USER_CHECK(order == "little", ExitCode::kInput, kDiagZip)
        << what << ": byteorder '" << order.substr(0, 16) << "' is not supported (only little-endian files)";
  }
  const std::string pickle = zip.read_record("data.pkl", kMaxPickleBytes);
  StorageLoader loader = [&](const std::string& key, at::ScalarType dtype, int64_t numel) {
    const std::string record = "data/" + key;
    const auto size = zip.record_size(record);
    PTX_USER_CHECK(size.has_value(), ExitCode::kInput, kDiagZip)
        << what << ": storage '" << key << "' has no record " << zip.top() << "/" << record;
    const uint64_t item = c10::elementSize(dtype);
    PTX_USER_CHECK(static_cast<uint64_t>(numel) <= *size / item && *size == static_cast<uint64_t>(numel) * item,
                   ExitCode::kInput, kDiagZip)
        << what << ": storage '" << key << "' should hold " << numel << " " << c10::toString(dtype)
        << " elements (" << static_cast<uint64_t>(numel) * item << " bytes), but its record has " << *size << " bytes";
    at::Tensor t = at::empty({numel}, at::TensorOptions().dtype(dtype));
    zip.read_record_into(record, t.data_ptr(), *size);
    return t;
  };
  return unpickle(pickle, what + ": data.pkl", loader);
}

}  // namespace ptx
