// cmd/term.h: what the terminal on stderr can do, and the one writer of stderr (Console).
//
// Decisions (docs/cli.md, "Output"):
//   color (ANSI escapes of any kind): --color always -> yes; never -> no; auto -> only when the
//     stream is a terminal, NO_COLOR is unset or empty, and TERM is not "dumb".
//   live line (a progress line redrawn in place with '\r'): only when the stream is a terminal and
//     TERM is not "dumb"; without color it is redrawn with '\r' and spaces, never with escapes.
//
// Console serializes everything written to stderr (log lines, progress lines) so that a log line
// never tears the live progress line: it erases the live line, writes the log line, redraws it.
#pragma once

#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace ptx::cmd {

enum class ColorMode { kAuto, kAlways, kNever };

/// Parses "auto" | "always" | "never". nullopt for anything else.
std::optional<ColorMode> parse_color_mode(std::string_view text);

/// The environment variables that matter for terminal output.
struct TermEnv {
  std::optional<std::string> no_color;  // NO_COLOR
  std::optional<std::string> term;      // TERM
  std::optional<std::string> locale;    // LC_ALL, else LC_CTYPE, else LANG
  std::optional<std::string> columns;   // COLUMNS
  static TermEnv from_process();
};

struct TermCaps {
  bool tty = false;    // the stream is a terminal
  bool color = false;  // ANSI escapes allowed (colors, erase-line)
  bool live = false;   // a live progress line may be redrawn in place
  bool utf8 = false;   // the locale is UTF-8 (spinner glyphs)
  int width = 80;      // columns (the live line is cut to width - 1)
};

/// Decides the capabilities of a stream that is (`is_tty`) or is not a terminal.
TermCaps decide_term_caps(bool is_tty, ColorMode mode, const TermEnv& env, int tty_columns = 0);

/// isatty(fd), and the terminal's width (0 when unknown).
bool fd_is_tty(int fd);
int fd_columns(int fd);

/// ANSI SGR wrappers that return `text` unchanged when color is off.
struct Style {
  bool color = false;
  std::string bold(std::string_view text) const;
  std::string dim(std::string_view text) const;
  std::string red(std::string_view text) const;
  std::string green(std::string_view text) const;
  std::string yellow(std::string_view text) const;
  std::string cyan(std::string_view text) const;
};

/// `text` with every terminal control character written visibly: C0 controls other than newline and
/// tab, DEL, C1 controls (U+0080..U+009F) and bytes that are not UTF-8 become "\x1b", "\u009b",
/// "\xff". Text from files (a pickle GLOBAL, a dtype, a node target) reaches messages and stdout;
/// escapes in it must not drive the user's terminal.
std::string escape_controls(std::string_view text);

/// True when `text` contains an escape character (ESC, 0x1b). For tests and assertions.
bool has_escape(std::string_view text);

/// Display width of `text` in terminal columns, ignoring ANSI SGR sequences and counting each
/// UTF-8 code point as one column.
size_t display_width(std::string_view text);

/// The one writer of stderr. Thread-safe.
class Console {
 public:
  Console(std::ostream& out, TermCaps caps);
  Console(const Console&) = delete;
  Console& operator=(const Console&) = delete;

  const TermCaps& caps() const { return caps_; }
  Style style() const { return Style{caps_.color}; }

  /// Writes `line` and a newline, keeping the live line (if any) below it.
  void write_line(std::string_view line);
  /// Shows or replaces the live line (ignored unless caps().live). Cut to the terminal width.
  void set_live(std::string_view line);
  /// Erases the live line, if shown.
  void clear_live();
  /// Whether a live line is currently shown.
  bool live_shown() const;

 private:
  void erase_locked();
  void draw_locked();

  std::ostream& out_;
  TermCaps caps_;
  mutable std::mutex mu_;
  std::string live_;         // the live line's text, "" when none
  size_t drawn_width_ = 0;   // display width of the drawn live line (for erasing without escapes)
};

}  // namespace ptx::cmd
