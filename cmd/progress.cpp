// cmd/progress.cpp: see cmd/progress.h.
#include "cmd/progress.h"

#include <array>
#include <cmath>
#include <cstdio>

namespace ptx::cmd {

std::string format_seconds(double seconds) {
  if (!(seconds >= 0)) seconds = 0;
  char buf[32];
  if (seconds < 10) {
    std::snprintf(buf, sizeof buf, "%.2fs", seconds);
  } else if (seconds < 60) {
    std::snprintf(buf, sizeof buf, "%.1fs", seconds);
  } else {
    const long total = std::lround(seconds);
    std::snprintf(buf, sizeof buf, "%ldm%02lds", total / 60, total % 60);
  }
  return buf;
}

namespace {

std::string counter(int index, int total) { return "[" + std::to_string(index) + "/" + std::to_string(total) + "]"; }

}  // namespace

std::string stage_line(int index, int total, const std::string& name, const std::string& detail, double seconds,
                       const Style& style) {
  std::string line = style.dim(counter(index, total)) + " " + name;
  if (!detail.empty()) {
    line += detail.front() == '(' ? " " + detail : " (" + detail + ")";
  }
  line += " " + style.dim(format_seconds(seconds));
  return line;
}

std::string failed_stage_line(int index, int total, const std::string& name, double seconds, const Style& style) {
  return style.dim(counter(index, total)) + " " + name + " " + style.red("failed") + " after " +
         format_seconds(seconds);
}

std::string live_line(int index, int total, const std::string& name, double seconds, int frame, bool utf8,
                      const Style& style) {
  static constexpr std::array<const char*, 10> kBraille = {"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"};
  static constexpr std::array<const char*, 4> kAscii = {"|", "/", "-", "\\"};
  const char* glyph = utf8 ? kBraille[static_cast<size_t>(frame) % kBraille.size()]
                           : kAscii[static_cast<size_t>(frame) % kAscii.size()];
  return style.cyan(glyph) + " " + style.dim(counter(index, total)) + " " + name + " " + format_seconds(seconds);
}

Progress::Progress(Console& console, bool enabled) : console_(console), enabled_(enabled) {
  if (enabled_ && console_.caps().live) thread_ = std::thread([this] { ticker(); });
}

Progress::~Progress() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  console_.clear_live();
}

void Progress::begin(int index, int total, const std::string& name) {
  std::lock_guard lock(mu_);
  active_ = true;
  index_ = index;
  total_ = total;
  name_ = name;
  start_ = std::chrono::steady_clock::now();
  cv_.notify_all();
}

void Progress::end(int index, double seconds, const std::string& detail) {
  std::string name;
  int total = 0;
  {
    std::lock_guard lock(mu_);
    if (!active_ || index != index_) return;  // end without begin: nothing to close
    active_ = false;
    name = name_;
    total = total_;
  }
  if (!enabled_) return;
  console_.clear_live();
  console_.write_line(stage_line(index, total, name, detail, seconds, console_.style()));
}

void Progress::fail() {
  std::string name;
  int index = 0, total = 0;
  double seconds = 0;
  {
    std::lock_guard lock(mu_);
    if (!active_) return;
    active_ = false;
    name = name_;
    index = index_;
    total = total_;
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  if (!enabled_) return;
  console_.clear_live();
  console_.write_line(failed_stage_line(index, total, name, seconds, console_.style()));
}

StageObserver Progress::observer() {
  StageObserver o;
  o.begin = [this](int index, int total, const std::string& name) { begin(index, total, name); };
  o.end = [this](int index, double seconds, const std::string& detail) { end(index, seconds, detail); };
  return o;
}

void Progress::ticker() {
  int frame = 0;
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, kTick);
    if (stop_) break;
    if (!active_) continue;
    const auto elapsed = std::chrono::steady_clock::now() - start_;
    if (elapsed < kLiveDelay) continue;
    const std::string line = live_line(index_, total_, name_, std::chrono::duration<double>(elapsed).count(),
                                       frame++, console_.caps().utf8, console_.style());
    // Drawn while holding mu_: end() and fail() take mu_ before clearing the live line, so a line
    // drawn here is always cleared by the end() that follows it.
    console_.set_live(line);
  }
}

}  // namespace ptx::cmd
