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
  /// itself is not created here.
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

/// Unlinks every temporary file still in flight. Async-signal-safe; for signal handlers.
void remove_inflight_temp_files() noexcept;

/// The number of temporaries in flight (tests).
int inflight_temp_file_count() noexcept;

}  // namespace ptx::serialize
