// shapes/error.h: the error types and exit codes every layer uses. It sits in the bottom layer
// (shapes/) so that shapes, ir, lib, passes, serialize and cmd can all throw them.
//
// UserError: the user's input is wrong (bad flag, file, spec) or the model cannot be exported.
//   Carries the documented exit code of docs/cli.md and a stable diagnostic code ("E_INPUT_JSON").
// InternalError: a bug in ptexport. Exit 1, and the message asks for a report.
// Messages start lowercase, name the thing first (file, input, op), and have no trailing period.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace ptx {

/// Stable exit codes (docs/cli.md, "Exit codes").
enum class ExitCode : int {
  kOk = 0,
  kInternal = 1,
  kUsage = 2,
  kInput = 3,
  kExportFailed = 4,
  kConstraintViolation = 5,
  kVerifyMismatch = 6,
  kSolverUnknown = 7,
  kOutput = 8,
  kDraftWritten = 9,  // --draft: an artifact was written, with problems listed in the report
  kInterrupted = 130,
};

class Error : public std::runtime_error {
 public:
  Error(ExitCode code, std::string diag_code, const std::string& message)
      : std::runtime_error(message), code_(code), diag_code_(std::move(diag_code)) {}
  ExitCode code() const { return code_; }
  /// Stable diagnostic code for reports, e.g. "E_INPUT_JSON".
  const std::string& diag_code() const { return diag_code_; }

 private:
  ExitCode code_;
  std::string diag_code_;
};

class UserError : public Error {
 public:
  UserError(ExitCode code, std::string diag_code, const std::string& message)
      : Error(code, std::move(diag_code), message) {}
};

class InternalError : public Error {
 public:
  explicit InternalError(const std::string& message)
      : Error(ExitCode::kInternal, "E_INTERNAL", message) {}
};

namespace detail {
/// Collects a streamed message and throws on destruction of the full expression.
template <typename E>
class Thrower {
 public:
  Thrower(ExitCode code, const char* diag) : code_(code), diag_(diag) {}
  template <typename T>
  Thrower& operator<<(const T& v) {
    os_ << v;
    return *this;
  }
  [[noreturn]] void raise() const {
    if constexpr (std::is_same_v<E, InternalError>) {
      throw InternalError(os_.str());
    } else {
      throw E(code_, diag_, os_.str());
    }
  }

 private:
  ExitCode code_;
  const char* diag_;
  std::ostringstream os_;
};
struct Raise {
  template <typename E>
  [[noreturn]] void operator&(const Thrower<E>& t) const { t.raise(); }
};
}  // namespace detail

}  // namespace ptx

/// PTX_USER_CHECK(cond, ExitCode::kInput, "E_INPUT_JSON") << "inputs.json: ...";
#define PTX_USER_CHECK(cond, code, diag)                                              \
  if (cond) {                                                                         \
  } else                                                                              \
    ::ptx::detail::Raise{} & ::ptx::detail::Thrower<::ptx::UserError>(code, diag)

/// PTX_USER_FAIL(ExitCode::kUsage, "E_USAGE") << "...";  always throws
#define PTX_USER_FAIL(code, diag) \
  ::ptx::detail::Raise{} & ::ptx::detail::Thrower<::ptx::UserError>(code, diag)

/// PTX_INTERNAL_CHECK(value->graph() == this) << "value belongs to another graph";
#define PTX_INTERNAL_CHECK(cond)                                                                  \
  if (cond) {                                                                                     \
  } else                                                                                          \
    ::ptx::detail::Raise{} & ::ptx::detail::Thrower<::ptx::InternalError>(::ptx::ExitCode::kInternal, \
                                                                          "E_INTERNAL")           \
                                 << __FILE__ << ":" << __LINE__ << ": check failed: " #cond ": "
