// serialize/temp_file.cpp: see serialize/temp_file.h.
#include "serialize/temp_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "shapes/error.h"

namespace ptx::serialize {
namespace {

// Fixed storage, so the signal handler never touches the heap. A slot is claimed by setting
// `used` from 0 to 1 after its path is written, and released by setting it back to 0.
constexpr int kSlots = 32;
constexpr size_t kMaxPath = 4096;
struct Slot {
  std::atomic<int> used{0};
  char path[kMaxPath];
};
std::array<Slot, kSlots> g_slots;
std::atomic<int> g_counter{0};

int claim_slot(const std::string& path) {
  if (path.size() + 1 > kMaxPath) return -1;
  for (int i = 0; i < kSlots; ++i) {
    int expected = 0;
    // 2 = being filled: invisible to the handler until the path is complete.
    if (g_slots[i].used.compare_exchange_strong(expected, 2)) {
      std::memcpy(g_slots[i].path, path.c_str(), path.size() + 1);
      g_slots[i].used.store(1);
      return i;
    }
  }
  return -1;  // not tracked for signals; the destructor still cleans up
}

void release_slot(int slot) {
  if (slot >= 0) g_slots[slot].used.store(0);
}

std::string errno_text() { return std::strerror(errno); }

/// Whether `name` is "<stem>.ptx-tmp-<pid>-<n>" of a process that no longer exists.
bool stale_temp_name(const std::string& name) {
  const size_t at = name.rfind(".ptx-tmp-");
  if (at == std::string::npos) return false;
  const std::string rest = name.substr(at + 9);
  const size_t dash = rest.find('-');
  if (dash == 0 || dash == std::string::npos || dash + 1 == rest.size()) return false;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (i != dash && !std::isdigit(static_cast<unsigned char>(rest[i]))) return false;
  }
  if (dash > 9) return false;
  const long pid = std::stol(rest.substr(0, dash));
  if (pid <= 0 || pid == ::getpid()) return false;
  return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

}  // namespace

void remove_stale_temp_files(const std::filesystem::path& dir) noexcept {
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec) || !stale_temp_name(it->path().filename().string())) continue;
    std::error_code rm_ec;
    std::filesystem::remove(it->path(), rm_ec);  // best effort: another run may have removed it
  }
}

void check_destination(const std::filesystem::path& dest) {
  PTX_USER_CHECK(!dest.empty(), ExitCode::kOutput, "E_OUTPUT") << "cannot write to an empty file name";
  struct stat st {};
  if (::lstat(dest.c_str(), &st) != 0) return;  // a new file
  if (S_ISLNK(st.st_mode) && ::stat(dest.c_str(), &st) != 0) return;  // a dangling link is replaced
  PTX_USER_CHECK(S_ISREG(st.st_mode), ExitCode::kOutput, "E_OUTPUT")
      << "cannot write " << dest.string() << ": it exists and is not a regular file ("
      << (S_ISDIR(st.st_mode) ? "a folder" : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device" :
          S_ISFIFO(st.st_mode) ? "a FIFO" : S_ISSOCK(st.st_mode) ? "a socket" : "not a file")
      << "); ptexport replaces files only";
}

TempFile::TempFile(const std::filesystem::path& dest) : dest_(dest) {
  check_destination(dest);
  const std::filesystem::path dir = dest.has_parent_path() ? dest.parent_path() : ".";
  remove_stale_temp_files(dir);
  std::string stem = dest.stem().string();
  if (stem.empty()) stem = "archive";
  for (;;) {
    path_ = dir / (stem + ".ptx-tmp-" + std::to_string(::getpid()) + "-" +
                   std::to_string(g_counter.fetch_add(1)));
    std::error_code ec;
    if (!std::filesystem::exists(path_, ec)) break;
  }
  slot_ = claim_slot(path_.string());
}

TempFile::~TempFile() {
  if (!committed_) ::unlink(path_.c_str());
  release_slot(slot_);
}

void TempFile::commit() {
  const std::string what = "cannot write " + dest_.string() + ": ";
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  PTX_USER_CHECK(fd >= 0, ExitCode::kOutput, "E_OUTPUT") << what << "cannot reopen " << path_.string()
                                                         << ": " << errno_text();
  const int rc = ::fsync(fd);
  const std::string sync_err = rc != 0 ? errno_text() : "";
  ::close(fd);
  PTX_USER_CHECK(rc == 0, ExitCode::kOutput, "E_OUTPUT") << what << "fsync failed: " << sync_err;
  PTX_USER_CHECK(::rename(path_.c_str(), dest_.c_str()) == 0, ExitCode::kOutput, "E_OUTPUT")
      << what << errno_text();
  committed_ = true;
  const std::filesystem::path dir = dest_.has_parent_path() ? dest_.parent_path() : ".";
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);  // best effort: the rename is done; a failure here cannot be undone
    ::close(dfd);
  }
}

void remove_inflight_temp_files() noexcept {
  for (Slot& s : g_slots) {
    if (s.used.load() == 1) ::unlink(s.path);
  }
}

int inflight_temp_file_count() noexcept {
  int n = 0;
  for (const Slot& s : g_slots) n += (s.used.load() == 1);
  return n;
}

}  // namespace ptx::serialize
