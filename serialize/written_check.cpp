// serialize/written_check.cpp: see serialize/written_check.h.
#include "serialize/written_check.h"

#include <cstdio>
#include <tuple>

namespace ptx::serialize::detail {
namespace {

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

std::string ints(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

/// "parameter 'fc.weight'", or null when the written program has no tensor of that name.
const at::Tensor* find(const ir::ExportedProgram& p, const std::string& fqn, std::string& who) {
  for (const auto& [kind, map] : {std::pair{"parameter", &p.parameters}, std::pair{"buffer", &p.buffers},
                                  std::pair{"constant", &p.constants}}) {
    if (auto it = map->find(fqn); it != map->end()) {
      who = std::string(kind) + " '" + fqn + "'";
      return &it->second;
    }
  }
  who = "tensor '" + fqn + "'";
  return nullptr;
}

}  // namespace

void WrittenCheck::check_entry(const Archive& ar, const std::string& entry, const std::string& who) {
  if (checked_.count(entry)) return;
  const std::string where = "entry '" + ar.root() + entry + "'";
  auto it = entries_.find(entry);
  if (it == entries_.end()) throw Mismatch{who + " is in " + where + ", which was not written"};
  const WrittenEntry& w = it->second;
  EntryDigest d;
  try {
    d = ar.digest(entry, "the data of " + who);
  } catch (const Malformed& m) {
    throw Mismatch{who + ": " + m.message};
  }
  const std::string sizes = std::to_string(w.nbytes) + " bytes written";
  if (!d.stored) throw Mismatch{who + ": " + where + " is compressed; it was written stored"};
  if (d.size != w.nbytes) throw Mismatch{who + ": " + where + " declares " + std::to_string(d.size) + " bytes, " + sizes};
  if (d.read != w.nbytes) throw Mismatch{who + ": " + where + " holds " + std::to_string(d.read) + " bytes, " + sizes};
  if (d.crc != w.crc32 || d.declared_crc != w.crc32) {
    throw Mismatch{who + ": the bytes of " + where + " have CRC-32 " + hex32(d.crc) + " (declared " +
                   hex32(d.declared_crc) + "), the bytes written " + hex32(w.crc32)};
  }
  checked_.insert(entry);
}

at::Tensor WrittenCheck::tensor(const Archive& ar, const std::string& entry, const std::string& fqn, ir::DType dtype,
                                const std::vector<int64_t>& sizes, const std::vector<int64_t>& strides,
                                int64_t offset) {
  std::string who;
  const at::Tensor* t = find(written_, fqn, who);
  if (!t) throw Mismatch{who + " is in the archive but not in the program written"};
  check_entry(ar, entry, who);
  const std::string file_meta = ir::dtype_name(dtype) + ints(sizes) + ", strides " + ints(strides) + ", offset " +
                                std::to_string(offset);
  const auto written_dtype = static_cast<ir::DType>(static_cast<int>(t->scalar_type()));
  const std::string written_meta = ir::dtype_name(written_dtype) + ints(t->sizes().vec()) +
                                   ", strides " + ints(t->strides().vec()) + ", offset " +
                                   std::to_string(t->storage_offset());
  const bool same_meta = written_dtype == dtype && t->sizes().vec() == sizes &&
                         t->strides().vec() == strides && t->storage_offset() == offset;
  if (!same_meta) throw Mismatch{who + ": the archive says " + file_meta + ", written " + written_meta};
  const WrittenEntry& w = entries_.at(entry);
  if (!t->has_storage() || t->storage().data() != w.storage || t->storage().nbytes() != w.nbytes) {
    throw Mismatch{who + ": entry '" + ar.root() + entry + "' was written from another tensor's storage"};
  }
  return *t;
}

void WrittenCheck::check_complete(const ir::ExportedProgram& back) const {
  for (const auto& [kind, a, b] : {std::tuple{"parameter", &written_.parameters, &back.parameters},
                                   std::tuple{"buffer", &written_.buffers, &back.buffers},
                                   std::tuple{"constant", &written_.constants, &back.constants}}) {
    for (const auto& [name, t] : *a) {
      if (!b->count(name)) throw Mismatch{std::string(kind) + " '" + name + "' is not in the archive read back"};
    }
    for (const auto& [name, t] : *b) {
      if (!a->count(name)) throw Mismatch{std::string(kind) + " '" + name + "' of the archive was not written as one"};
    }
  }
}

}  // namespace ptx::serialize::detail
