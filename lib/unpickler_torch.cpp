// lib/unpickler_torch.cpp: torch's side of unpickling: storages by persistent id, tensors and
// parameters rebuilt (torch/_utils.py), the zip layout of torch.save (torch/serialization.py
// _save) and load_torch_save. See lib/unpickler_impl.h.
#include <ATen/ATen.h>
#include <zip.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include "lib/unpickler_impl.h"
#include "shapes/error.h"

namespace ptx {

// ---------------------------------------------------------------------------------------------------
// Unpickler: storages and tensors

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
