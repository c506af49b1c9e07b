// cmd/signals.cpp: see cmd/signals.h.
#include "cmd/signals.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "serialize/temp_file.h"

namespace ptx::cmd {
namespace {

constexpr size_t kMaxDocument = 8192;
char g_document[kMaxDocument];
std::atomic<size_t> g_document_size{0};
std::atomic<bool> g_stdout_started{false};
std::atomic<bool> g_installed{false};
std::atomic<bool> g_live_terminal{false};

void write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n <= 0) return;  // EINTR cannot leave us stuck forever here; give up on any error
    data += n;
    size -= static_cast<size_t>(n);
  }
}

extern "C" void on_interrupt(int sig) {
  serialize::remove_inflight_temp_files();
  // On a terminal the cursor may sit at the end of a live progress line (or after the echoed ^C).
  static const char kMessage[] = "\nerror: interrupted\n";
  const size_t skip = g_live_terminal.load() ? 0 : 1;
  write_all(STDERR_FILENO, kMessage + skip, sizeof kMessage - 1 - skip);
  if (!g_stdout_started.load()) {
    const size_t n = g_document_size.load();
    if (n > 0) write_all(STDOUT_FILENO, g_document, n);
  }
  ::_exit(sig == SIGINT ? 130 : 128 + sig);
}

}  // namespace

namespace {

/// SIGINT (unless ignored: a shell starts background jobs with SIGINT ignored, and they must stay
/// deaf to the terminal's ^C) and SIGTERM.
sigset_t interrupt_signals(bool& int_ignored) {
  struct sigaction old {};
  int_ignored = ::sigaction(SIGINT, nullptr, &old) == 0 && old.sa_handler == SIG_IGN;
  sigset_t set;
  sigemptyset(&set);
  if (!int_ignored) sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

void block_interrupt_signals() {
  bool int_ignored = false;
  const sigset_t set = interrupt_signals(int_ignored);
  ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void install_interrupt_handlers() {
  if (g_installed.exchange(true)) return;
  bool int_ignored = false;
  const sigset_t set = interrupt_signals(int_ignored);
  // Note [Signals go to one thread]: libraries install SIGINT handlers of their own (Z3 does,
  // for the length of every check, and turns ^C into "unknown"). So the signals are blocked in
  // this thread and in every thread started after it, and one thread takes them with sigwait.
  // The handler below stays for threads that existed before (none, normally).
  ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set] {
    for (;;) {
      int sig = 0;
      if (::sigwait(&set, &sig) == 0) on_interrupt(sig);
    }
  }).detach();
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sa.sa_mask = set;
  sa.sa_flags = 0;
  if (!int_ignored) ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

void set_interrupt_live_terminal(bool live) { g_live_terminal.store(live); }

void set_interrupt_stdout_document(const std::string& text) {
  g_document_size.store(0);
  if (text.size() > kMaxDocument) return;
  std::memcpy(g_document, text.data(), text.size());
  g_document_size.store(text.size());
}

void mark_stdout_started() { g_stdout_started.store(true); }

}  // namespace ptx::cmd
