// cmd/signals.h: Ctrl-C and termination.
//
// SIGINT (Ctrl-C) and SIGTERM stop ptexport at once, from any stage (a Z3 query or a LibTorch
// kernel cannot be cancelled cooperatively). They are taken by one thread (sigwait; every other
// thread blocks them, so a library's own SIGINT handler, such as Z3's, never sees them), which
// uses only async-signal-safe calls:
//   1. removes every temporary file still in flight (serialize/temp_file.h): the artifact and the
//      report are written to temporaries and renamed, so no partial output remains and an existing
//      artifact is never replaced by a partial one;
//   2. writes "error: interrupted" to stderr (on a new line on a terminal) and, under --json, the prepared JSON document
//      (status "interrupted", exit_code 130) to stdout, unless stdout output already began;
//   3. exits with 130 (SIGINT) or 143 (SIGTERM) without running destructors.
#pragma once

#include <string>

namespace ptx::cmd {

/// Blocks SIGINT (unless ignored) and SIGTERM in the calling thread and every thread it starts
/// later, without taking them yet: a signal that arrives stays pending until
/// install_interrupt_handlers(). The executable does this before any library initialiser runs
/// (cmd/main.cpp, Note [Signals before main]); run_cli does it again first thing.
void block_interrupt_signals();

/// Blocks SIGINT and SIGTERM in the calling thread (and so in every thread it starts later) and
/// starts the thread that takes them (idempotent). Call it before other threads start. SIGINT
/// stays ignored when it was ignored at startup (a background job of a non-interactive shell).
void install_interrupt_handlers();

/// Whether stderr is a terminal with a live line: then the message starts on a new line.
void set_interrupt_live_terminal(bool live);

/// The document the handler writes to stdout (empty: nothing). At most 8 KiB; longer is dropped.
void set_interrupt_stdout_document(const std::string& text);

/// Call just before writing results to stdout: from then on the handler writes nothing there.
void mark_stdout_started();

}  // namespace ptx::cmd
