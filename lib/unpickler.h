// lib/unpickler.h: a restricted unpickler for torch.save files. It never runs code from the file.
//
// A `torch.save` file is a zip archive `<top>/data.pkl` (a pickle, protocol 2 by default) plus one
// record `<top>/data/<key>` per tensor storage. Python's unpickler calls whatever the pickle names;
// this one is a pure data reader: it turns the pickle into a small value tree (PickleValue) and only
// accepts the globals of a fixed allowlist, modelled on torch's `weights_only` unpickler
// (torch/_weights_only_unpickler.py), each with a meaning implemented here in C++:
//
//   torch.nn.modules.<file>.<Class>          inert object: NEWOBJ (or copyreg._reconstructor) makes a
//                                            PickleValue::Kind::kObject of that class, BUILD stores its
//                                            state dict; nothing of the class is run
//   torch._utils._rebuild_tensor(_v2)        a tensor view of a storage (sizes/strides checked)
//   torch._utils._rebuild_parameter(_with_state)  a tensor marked as a parameter
//   torch.<Type>Storage, torch.UntypedStorage the element type inside a storage persistent id
//   collections.OrderedDict, builtins.set, torch.Size, _codecs.encode, torch.<dtype>,
//   copyreg._reconstructor + builtins.object (protocol 0/1 module pickles)
//
// Every other global (`os.system`, `builtins.eval`, a user class `__main__.Net`) is refused when the
// GLOBAL opcode names it, before anything else happens: UserError ExitCode::kInput naming the global.
// A refused class name gets the explanation that its forward is Python code the file does not contain
// and how to save the model as TorchScript instead.
//
// Malformed input (truncated data, unknown opcode, stack/memo misuse, nesting deeper than
// kMaxPickleDepth, storage records whose size disagrees with the pickle, tensor views outside their
// storage) is a UserError with ExitCode::kInput, never a crash. Values cannot form cycles: a container
// is frozen once it is placed inside another value, and mutating a frozen container is an error.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace ptx {

/// Values nest at most this deep (a Sequential nested 30 levels deep needs about 100).
inline constexpr uint32_t kMaxPickleDepth = 1000;
/// data.pkl larger than this is refused (a 1000-layer Sequential pickles to about 2 MB).
inline constexpr size_t kMaxPickleBytes = 64u << 20;
/// At most this many values are created while unpickling.
inline constexpr size_t kMaxPickleValues = 4u << 20;

class PickleValue;
using PickleValuePtr = std::shared_ptr<PickleValue>;

/// One value of an unpickled tree. Read-only once unpickle() returns.
class PickleValue {
 public:
  enum class Kind : uint8_t {
    kNone, kBool, kInt, kFloat, kStr, kBytes,
    kTuple, kList, kSet, kDict,
    kGlobal,   // an allowlisted global used as a value (a class, a dtype, a function)
    kObject,   // an instance of an allowlisted class: class name + state (BUILD), never executed
    kStorage,  // a tensor storage from a persistent id: a 1-D tensor over the whole storage
    kTensor,   // a tensor (a view of a storage); is_parameter() for nn.Parameter
  };

  Kind kind() const { return kind_; }
  /// "None", "int", "dict", "torch.nn.modules.linear.Linear object" ...: for messages.
  std::string type_name() const;
  bool is(Kind k) const { return kind_ == k; }
  bool is_none() const { return kind_ == Kind::kNone; }

  bool as_bool() const;             // kBool
  int64_t as_int() const;           // kInt, or kBool as 0/1 (as Python does)
  double as_float() const;          // kFloat, or kInt/kBool converted
  const std::string& as_str() const;  // kStr (UTF-8) or kBytes
  /// Elements of a kTuple, kList or kSet, in order.
  const std::vector<PickleValuePtr>& items() const;
  /// Entries of a kDict in insertion order (a later SETITEM of the same key replaced the value).
  const std::vector<std::pair<PickleValuePtr, PickleValuePtr>>& entries() const;
  /// kDict lookup by string key; nullptr when absent.
  PickleValuePtr get(std::string_view key) const;
  /// kGlobal: the global; kObject: its class. "module.name", e.g. "torch.nn.modules.linear.Linear".
  const std::string& qualified_name() const;
  /// kObject: the BUILD state (a dict for nn.Module), nullptr if the pickle never built it.
  /// kDict: an OrderedDict's instance attributes (a state_dict's `_metadata`), or nullptr.
  const PickleValuePtr& state() const;
  /// kStorage, kTensor: the tensor (kStorage: 1-D, all the storage's elements).
  const at::Tensor& tensor() const;
  /// kTensor: rebuilt through torch._utils._rebuild_parameter.
  bool is_parameter() const;
  /// kTensor: its requires_grad flag in the file.
  bool requires_grad() const;
  /// kStorage: the key of its record (data/<key>).
  const std::string& storage_key() const;
  /// A short, Python-like rendering, cut after about `max_chars` characters.
  std::string repr(size_t max_chars = 200) const;

 private:
  friend class Unpickler;
  explicit PickleValue(Kind kind) : kind_(kind) {}
  void repr_into(std::string& out, size_t max_chars, uint32_t depth) const;

  Kind kind_;
  bool frozen_ = false;       // placed inside another value: no longer mutable
  bool ordered_ = false;      // kDict: an OrderedDict
  bool built_ = false;        // kObject: BUILD has run
  bool is_parameter_ = false;
  bool requires_grad_ = false;
  uint8_t global_kind_ = 0;   // kGlobal: what the allowlist says it is (unpickler.cpp)
  uint32_t height_ = 1;       // 1 + the height of the deepest element
  int64_t int_ = 0;
  double float_ = 0.0;
  std::string str_;           // kStr/kBytes text; kGlobal/kObject qualified name; kStorage key
  std::vector<PickleValuePtr> items_;
  std::vector<std::pair<PickleValuePtr, PickleValuePtr>> entries_;
  std::unordered_map<std::string, size_t> index_;  // kDict: key text -> entries_ index
  PickleValuePtr state_;
  at::Tensor tensor_;
};

/// Resolves the storage persistent id ('storage', <Type>Storage, key, location, numel): returns a
/// 1-D CPU tensor of `dtype` with exactly `numel` elements, or throws UserError (ExitCode::kInput).
using StorageLoader =
    std::function<at::Tensor(const std::string& key, at::ScalarType dtype, int64_t numel)>;

/// kTorchSave: the allowlist above, for torch.save files whose values ptexport builds a module from.
/// kTorchScriptCheck: for the pickles of a TorchScript archive, which LibTorch's own unpickler reads
/// afterwards (lib/torchscript_check.h): any global is accepted as an inert name and any call or
/// BUILD as an inert object holding its arguments (nothing is ever called), so that the structure
/// can be checked: nesting depth, value count, persistent ids, and every tensor view against its
/// storage (expanded views allowed).
enum class UnpickleMode : uint8_t { kTorchSave, kTorchScriptCheck };

/// Unpickles `data`. `what` names the pickle in messages ("model.pt: data.pkl"). Persistent ids are
/// resolved through `storages` (each key once; later uses share the tensor); when `storages` is
/// empty a persistent id is an error. Throws UserError (ExitCode::kInput) for any refused global or
/// malformed input.
PickleValuePtr unpickle(std::string_view data, const std::string& what,
                        const StorageLoader& storages = {}, UnpickleMode mode = UnpickleMode::kTorchSave);

/// A zip archive in torch's layout: every record sits under one top folder (`<top>/data.pkl`).
/// Opening a file that is not a readable zip throws UserError (ExitCode::kInput).
class TorchZipArchive {
 public:
  explicit TorchZipArchive(const std::filesystem::path& file);
  ~TorchZipArchive();
  TorchZipArchive(const TorchZipArchive&) = delete;
  TorchZipArchive& operator=(const TorchZipArchive&) = delete;

  /// The top folder shared by all records ("archive" for "archive/data.pkl").
  const std::string& top() const { return top_; }
  /// Record names relative to the top folder, in archive order ("data.pkl", "data/0", "code/...").
  const std::vector<std::string>& records() const { return records_; }
  bool has_record(std::string_view name) const;
  /// Whether a record is deflated (not stored); false for no such record.
  bool record_compressed(std::string_view name) const;
  /// Entry names that equal an earlier one when case is ignored (LibTorch's reader may take either).
  const std::vector<std::string>& colliding_names() const { return colliding_; }
  /// The uncompressed size the archive states for a record (nullopt: no such record).
  std::optional<uint64_t> record_size(std::string_view name) const;
  /// Reads a whole record; refuses one larger than `max_bytes` or whose stated size is implausible
  /// for the archive (larger than the file for a stored record, or beyond deflate's ratio).
  std::string read_record(std::string_view name, uint64_t max_bytes) const;
  /// Reads a record into `dst`, which must be exactly the record's size.
  void read_record_into(std::string_view name, void* dst, uint64_t size) const;
  const std::filesystem::path& file() const { return file_; }

 private:
  struct Entry {
    int64_t index;
    uint64_t size, compressed_size;
    bool stored;  // no compression
  };
  const Entry& entry(std::string_view name) const;

  std::filesystem::path file_;
  uint64_t file_size_ = 0;
  void* zip_ = nullptr;  // zip_t*
  std::string top_;
  std::vector<std::string> records_;
  std::unordered_map<std::string, Entry> entries_;
  std::unordered_set<std::string> folded_names_;
  std::vector<std::string> colliding_;
};

/// Reads `<top>/data.pkl` of a torch.save archive and unpickles it, loading each storage from
/// `<top>/data/<key>` as a CPU tensor (whatever device the file names). Refuses big-endian files.
PickleValuePtr load_torch_save(const std::filesystem::path& file);

}  // namespace ptx
