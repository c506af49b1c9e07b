// lib/unpickler.cpp: the restricted unpickler of lib/unpickler.h and torch's zip layout. This file
// holds the allowlist of globals, the opcodes that make objects (GLOBAL, NEWOBJ, BUILD, REDUCE) and
// unpickle(); the rest is in lib/unpickler_*.cpp (lib/unpickler_impl.h).
//
// Opcode semantics follow CPython's Lib/pickle.py (_Unpickler) and torch/_weights_only_unpickler.py;
// the tensor-rebuild globals follow torch/_utils.py and the zip layout torch/serialization.py (_save).
#include "lib/unpickler.h"

#include "shapes/error.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cctype>
#include <iterator>
#include <string>
#include <string_view>

#include "lib/unpickler_impl.h"

namespace ptx {
namespace {

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

}  // namespace

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

// ---------------------------------------------------------------------------------------------------
// Unpickler: the opcodes that make objects

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

}  // namespace ptx
