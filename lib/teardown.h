// lib/teardown.h: objects whose destruction a command-line process may leave to the exit.
//
// At the end of an export the process frees what it built: the inlined TorchScript graph the trace
// walked, the loaded module with its weights, the program and its copy read back from the artifact.
// That is work (vit_b_16: tens of thousands of graph nodes and 330 MiB of tensors) whose only effect is
// on memory that the exiting process returns anyway. The command line (cmd/cli.cpp) turns keeping on,
// flushes its streams and ends with std::_Exit, which runs no destructor; anything else that links
// ptx_lib (the unit tests, a library user) never turns it on, and keep_until_exit destroys at once.
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

namespace ptx {

/// Turns keeping on (the command line's process only).
void keep_objects_until_exit();

/// Keeps `object` alive until the process exits when keeping is on; otherwise releases it now.
void keep_until_exit(std::shared_ptr<const void> object);

/// Moves `value` into a holder kept until exit (see keep_until_exit).
template <class T>
void keep_until_exit(T&& value) {
  static_assert(!std::is_lvalue_reference_v<T>, "pass an rvalue: the value is moved");
  keep_until_exit(std::shared_ptr<const void>(std::make_shared<std::decay_t<T>>(std::forward<T>(value))));
}

}  // namespace ptx
