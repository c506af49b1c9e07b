// cmd/main.cpp: the ptexport executable. All logic lives in ptx_cmd (cmd/cli.h) so that tests
// can run it in-process.
#include <signal.h>

#include "cmd/cli.h"

namespace {

// Note [Signals before main]: LibTorch's shared libraries take about a second of static
// initialisation before main() runs, and OpenBLAS starts its threads there. A SIGINT or SIGTERM
// in that second would kill the process by the default action (no exit 130/143, no JSON
// document). A .preinit_array function runs before any shared library's initialiser: it blocks
// both signals (SIGINT only when not ignored, as for a background job), so that every thread
// started before main inherits the mask and a signal that arrives stays pending until
// install_interrupt_handlers() (cmd/signals.h) starts the thread that takes it.
void block_signals_before_libraries(int, char**, char**) {
  sigset_t set;
  sigemptyset(&set);
  struct sigaction old {};
  if (::sigaction(SIGINT, nullptr, &old) == 0 && old.sa_handler != SIG_IGN) sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
}

__attribute__((section(".preinit_array"), used)) void (*const kBlockSignalsEarly)(int, char**, char**) =
    block_signals_before_libraries;

}  // namespace

int main(int argc, char** argv) { return ptx::cmd::run_cli(argc, argv); }
