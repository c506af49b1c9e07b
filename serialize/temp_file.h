// serialize/temp_file.h: temporary files that become an artifact by an atomic rename, and the
// list of such files still in flight, for a signal handler to remove.
//
// A writer creates its output under a temporary name in the destination folder, fsyncs it and
// renames it over the destination: readers see either the old artifact or the complete new one,
// never a partial file. TempFile removes the temporary in its destructor unless commit() renamed
// it, so an exception leaves nothing behind. A Ctrl-C handler (cmd/) calls
// remove_inflight_temp_files(), which only uses async-signal-safe calls (unlink).
#pragma once

#include <filesystem>
#include <string>

namespace ptx::serialize {

class TempFile {
 public:
  /// A fresh temporary path next to `dest` (same folder, so rename is atomic), named
  /// "<stem>.ptx-tmp-<pid>-<n>": the part before the last '.' stays the destination's stem, which
  /// torch's archive writer uses as the archive's top folder. Registers it as in flight. The file
  /// itself is not created here. Throws UserError(kOutput) when `dest` is empty or exists and is
  /// not a regular file (a device, FIFO or folder; a symbolic link is judged by its target), and
  /// removes the stale temporaries of dead processes in the folder (remove_stale_temp_files).
  explicit TempFile(const std::filesystem::path& dest);
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  /// Removes the temporary unless committed, and unregisters it.
  ~TempFile();

  const std::filesystem::path& path() const { return path_; }
  const std::filesystem::path& dest() const { return dest_; }
  /// fsyncs the temporary, renames it over the destination and fsyncs the folder.
  /// Throws UserError(kOutput) "cannot write <dest>: ..." on failure (the temporary is then
  /// removed by the destructor and the destination is untouched).
  void commit();

 private:
  std::filesystem::path dest_;
  std::filesystem::path path_;
  int slot_ = -1;
  bool committed_ = false;
};

/// Throws UserError(kOutput) unless `dest` may be replaced by a rename: not empty, and either absent
/// or a regular file (a device, FIFO or folder there is refused; a symbolic link is judged by its
/// target). TempFile's constructor checks it; callers check it early to fail before any work.
void check_destination(const std::filesystem::path& dest);

/// Removes the "*.ptx-tmp-<pid>-<n>" files in `dir` whose process no longer exists (left by a
/// SIGKILL or a crash). Every TempFile does it for its folder. Best effort; never throws.
void remove_stale_temp_files(const std::filesystem::path& dir) noexcept;

/// Unlinks every temporary file still in flight. Async-signal-safe; for signal handlers.
void remove_inflight_temp_files() noexcept;

/// The number of temporaries in flight (tests).
int inflight_temp_file_count() noexcept;

}  // namespace ptx::serialize
