// cmd/progress.h: stage progress on stderr.
//
// Every finished stage prints one line, terminal or not:
//     [3/6] propagate shapes (412 nodes, 2 symbols) 0.04s
// On a terminal that allows a live line (cmd/term.h), a stage still running after kLiveDelay also
// shows a live line, redrawn every kTick by a ticker thread, with a spinner and the elapsed time:
//     ⠙ [5/6] write artifact 1.3s
// The live line is replaced by the stage's final line when the stage ends. Nothing is printed when
// progress is disabled (-q, --log-level error/off).
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "cmd/stages.h"
#include "cmd/term.h"

namespace ptx::cmd {

/// "0.04s", "12.3s", "2m05s".
std::string format_seconds(double seconds);

/// The line of a finished stage: "[3/6] propagate shapes (412 nodes, 2 symbols) 0.04s". `detail`
/// may be empty; parentheses are added unless it already has them.
std::string stage_line(int index, int total, const std::string& name, const std::string& detail,
                       double seconds, const Style& style);

/// The line of a stage that failed: "[4/6] solve failed after 0.31s".
std::string failed_stage_line(int index, int total, const std::string& name, double seconds, const Style& style);

/// The live line: "<spinner> [5/6] write artifact 1.3s". `frame` picks the spinner glyph.
std::string live_line(int index, int total, const std::string& name, double seconds, int frame, bool utf8,
                      const Style& style);

class Progress {
 public:
  static constexpr std::chrono::milliseconds kLiveDelay{250};
  static constexpr std::chrono::milliseconds kTick{100};

  Progress(Console& console, bool enabled);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void begin(int index, int total, const std::string& name);
  void end(int index, double seconds, const std::string& detail);
  /// The stage in flight (if any) failed: prints its failed line and stops the live line.
  void fail();

  /// Callbacks bound to this object, for a StageRunner (cmd/stages.h).
  StageObserver observer();

 private:
  void ticker();

  Console& console_;
  bool enabled_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool active_ = false;  // a stage is in flight
  int index_ = 0, total_ = 0;
  std::string name_;
  std::chrono::steady_clock::time_point start_;
  std::thread thread_;
};

}  // namespace ptx::cmd
