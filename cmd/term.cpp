// cmd/term.cpp: see cmd/term.h.
#include "cmd/term.h"

#include <cstdio>

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace ptx::cmd {
namespace {

std::optional<std::string> env_var(const char* name) {
  if (const char* v = std::getenv(name)) return std::string(v);
  return std::nullopt;
}

std::string lower(std::string_view s) {
  std::string r(s);
  std::transform(r.begin(), r.end(), r.begin(), [](unsigned char c) { return std::tolower(c); });
  return r;
}

std::string sgr(bool on, std::string_view code, std::string_view text) {
  if (!on) return std::string(text);
  std::string r = "\x1b[";
  r += code;
  r += 'm';
  r += text;
  r += "\x1b[0m";
  return r;
}

/// Length of the ANSI escape sequence starting at text[i] (text[i] == ESC).
size_t escape_length(std::string_view text, size_t i) {
  size_t j = i + 1;
  if (j < text.size() && text[j] == '[') {
    ++j;
    while (j < text.size() && !(text[j] >= 0x40 && text[j] <= 0x7e)) ++j;
    return std::min(text.size(), j + 1) - i;
  }
  return std::min(text.size(), j + 1) - i;
}

bool is_continuation(unsigned char c) { return (c & 0xc0) == 0x80; }

/// `text` cut to at most `width` columns; escape sequences are kept (they take no room).
std::string cut_to_width(std::string_view text, size_t width, bool color) {
  std::string out;
  size_t cols = 0;
  bool cut = false;
  for (size_t i = 0; i < text.size();) {
    if (text[i] == '\x1b') {
      const size_t n = escape_length(text, i);
      out.append(text.substr(i, n));
      i += n;
      continue;
    }
    size_t n = 1;
    while (i + n < text.size() && is_continuation(static_cast<unsigned char>(text[i + n]))) ++n;
    if (cols + 1 > width) {
      cut = true;
      break;
    }
    out.append(text.substr(i, n));
    ++cols;
    i += n;
  }
  if (cut && color) out += "\x1b[0m";
  return out;
}

}  // namespace

std::optional<ColorMode> parse_color_mode(std::string_view text) {
  if (text == "auto") return ColorMode::kAuto;
  if (text == "always") return ColorMode::kAlways;
  if (text == "never") return ColorMode::kNever;
  return std::nullopt;
}

TermEnv TermEnv::from_process() {
  TermEnv e;
  e.no_color = env_var("NO_COLOR");
  e.term = env_var("TERM");
  for (const char* name : {"LC_ALL", "LC_CTYPE", "LANG"}) {
    if (auto v = env_var(name); v && !v->empty()) {
      e.locale = v;
      break;
    }
  }
  e.columns = env_var("COLUMNS");
  return e;
}

TermCaps decide_term_caps(bool is_tty, ColorMode mode, const TermEnv& env, int tty_columns) {
  TermCaps caps;
  caps.tty = is_tty;
  const bool dumb = env.term && *env.term == "dumb";
  const bool no_color = env.no_color && !env.no_color->empty();
  switch (mode) {
    case ColorMode::kAlways: caps.color = true; break;
    case ColorMode::kNever: caps.color = false; break;
    case ColorMode::kAuto: caps.color = is_tty && !no_color && !dumb; break;
  }
  caps.live = is_tty && !dumb;
  if (env.locale) {
    const std::string l = lower(*env.locale);
    caps.utf8 = l.find("utf-8") != std::string::npos || l.find("utf8") != std::string::npos;
  }
  int width = tty_columns;
  if (width <= 0 && env.columns) width = std::atoi(env.columns->c_str());
  caps.width = width >= 20 ? width : 80;
  return caps;
}

bool fd_is_tty(int fd) { return ::isatty(fd) == 1; }

int fd_columns(int fd) {
  struct winsize ws {};
  if (::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 0;
}

std::string Style::bold(std::string_view text) const { return sgr(color, "1", text); }
std::string Style::dim(std::string_view text) const { return sgr(color, "2", text); }
std::string Style::red(std::string_view text) const { return sgr(color, "31", text); }
std::string Style::green(std::string_view text) const { return sgr(color, "32", text); }
std::string Style::yellow(std::string_view text) const { return sgr(color, "33", text); }
std::string Style::cyan(std::string_view text) const { return sgr(color, "36", text); }

bool has_escape(std::string_view text) { return text.find('\x1b') != std::string_view::npos; }

size_t display_width(std::string_view text) {
  size_t cols = 0;
  for (size_t i = 0; i < text.size();) {
    if (text[i] == '\x1b') {
      i += escape_length(text, i);
      continue;
    }
    if (!is_continuation(static_cast<unsigned char>(text[i]))) ++cols;
    ++i;
  }
  return cols;
}

Console::Console(std::ostream& out, TermCaps caps) : out_(out), caps_(caps) {}

void Console::erase_locked() {
  if (live_.empty()) return;
  if (caps_.color) {
    out_ << "\r\x1b[2K";
  } else {
    out_ << '\r' << std::string(drawn_width_, ' ') << '\r';
  }
}

void Console::draw_locked() {
  if (live_.empty()) return;
  const std::string cut = cut_to_width(live_, static_cast<size_t>(std::max(1, caps_.width - 1)), caps_.color);
  drawn_width_ = display_width(cut);
  out_ << cut;
  out_.flush();
}

std::string escape_controls(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  char buf[8];
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
        std::snprintf(buf, sizeof buf, "\\x%02x", c);
        out += buf;
      } else {
        out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    // A UTF-8 sequence: its length from the lead byte, continuation bytes checked.
    const size_t n = (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    bool ok = n != 0 && i + n <= text.size();
    for (size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(text[i + k]) >> 6) == 0x2;
    if (!ok) {
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
      ++i;
      continue;
    }
    const unsigned cp = n == 2 ? ((c & 0x1fu) << 6) | (static_cast<unsigned char>(text[i + 1]) & 0x3fu) : 0x100;
    if (cp >= 0x80 && cp <= 0x9f) {
      std::snprintf(buf, sizeof buf, "\\u%04x", cp);
      out += buf;
    } else {
      out.append(text.substr(i, n));
    }
    i += n;
  }
  return out;
}

void Console::write_line(std::string_view line) {
  std::lock_guard lock(mu_);
  erase_locked();
  out_ << line << '\n';
  draw_locked();
  out_.flush();
}

void Console::set_live(std::string_view line) {
  if (!caps_.live) return;
  std::lock_guard lock(mu_);
  erase_locked();
  live_ = std::string(line);
  draw_locked();
}

void Console::clear_live() {
  std::lock_guard lock(mu_);
  erase_locked();
  live_.clear();
  drawn_width_ = 0;
  out_.flush();
}

bool Console::live_shown() const {
  std::lock_guard lock(mu_);
  return !live_.empty();
}

}  // namespace ptx::cmd
