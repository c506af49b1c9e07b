// tests/cmd/term_test.cpp: when ANSI escapes and live lines are allowed, and how Console keeps a
// live line intact around log lines.
#include <catch2/catch_test_macros.hpp>

#include <sstream>

#include "cmd/term.h"

using namespace ptx::cmd;

namespace {
TermEnv env_with(std::optional<std::string> no_color, std::optional<std::string> term) {
  TermEnv e;
  e.no_color = std::move(no_color);
  e.term = std::move(term);
  e.locale = "C.UTF-8";
  return e;
}
}  // namespace

TEST_CASE("color: auto needs a terminal, no NO_COLOR and a TERM other than dumb", "[cmd][term]") {
  CHECK(decide_term_caps(true, ColorMode::kAuto, env_with(std::nullopt, "xterm")).color);
  CHECK_FALSE(decide_term_caps(false, ColorMode::kAuto, env_with(std::nullopt, "xterm")).color);
  CHECK_FALSE(decide_term_caps(true, ColorMode::kAuto, env_with("1", "xterm")).color);
  CHECK_FALSE(decide_term_caps(true, ColorMode::kAuto, env_with(std::nullopt, "dumb")).color);
  // no-color.org: an empty NO_COLOR does not count.
  CHECK(decide_term_caps(true, ColorMode::kAuto, env_with("", "xterm")).color);
}

TEST_CASE("color: --color always and never override the environment", "[cmd][term]") {
  CHECK(decide_term_caps(false, ColorMode::kAlways, env_with("1", "dumb")).color);
  CHECK_FALSE(decide_term_caps(true, ColorMode::kNever, env_with(std::nullopt, "xterm")).color);
}

TEST_CASE("live line: only on a terminal that is not dumb, whatever the color", "[cmd][term]") {
  CHECK(decide_term_caps(true, ColorMode::kNever, env_with("1", "xterm")).live);
  CHECK_FALSE(decide_term_caps(true, ColorMode::kAlways, env_with(std::nullopt, "dumb")).live);
  CHECK_FALSE(decide_term_caps(false, ColorMode::kAlways, env_with(std::nullopt, "xterm")).live);
}

TEST_CASE("width: the terminal's, else COLUMNS, else 80", "[cmd][term]") {
  TermEnv e = env_with(std::nullopt, "xterm");
  CHECK(decide_term_caps(true, ColorMode::kAuto, e, 132).width == 132);
  e.columns = "100";
  CHECK(decide_term_caps(true, ColorMode::kAuto, e, 0).width == 100);
  e.columns = "junk";
  CHECK(decide_term_caps(true, ColorMode::kAuto, e, 0).width == 80);
}

TEST_CASE("parse_color_mode accepts exactly auto, always, never", "[cmd][term]") {
  CHECK(parse_color_mode("auto") == ColorMode::kAuto);
  CHECK(parse_color_mode("always") == ColorMode::kAlways);
  CHECK(parse_color_mode("never") == ColorMode::kNever);
  CHECK_FALSE(parse_color_mode("Always").has_value());
}

TEST_CASE("Style adds SGR sequences only with color", "[cmd][term]") {
  CHECK(Style{false}.red("x") == "x");
  CHECK(Style{true}.red("x") == "\x1b[31mx\x1b[0m");
  CHECK(has_escape(Style{true}.dim("x")));
  CHECK(display_width(Style{true}.bold("abc") + "⠋") == 4);
}

TEST_CASE("Console without a live line writes plain lines", "[cmd][term]") {
  std::ostringstream os;
  Console c(os, decide_term_caps(false, ColorMode::kAuto, env_with(std::nullopt, "xterm")));
  c.set_live("ignored: not a terminal");
  c.write_line("one");
  c.write_line("two");
  CHECK(os.str() == "one\ntwo\n");
}

TEST_CASE("Console erases the live line with spaces when color is off, and redraws it", "[cmd][term]") {
  std::ostringstream os;
  Console c(os, decide_term_caps(true, ColorMode::kNever, env_with(std::nullopt, "xterm")));
  c.set_live("abc");
  c.write_line("log");
  CHECK(os.str() == "abc\r   \rlog\nabc");
  CHECK_FALSE(has_escape(os.str()));
  c.clear_live();
  CHECK(os.str() == "abc\r   \rlog\nabc\r   \r");
  CHECK_FALSE(c.live_shown());
}

TEST_CASE("Console erases the live line with the erase-line escape when color is on", "[cmd][term]") {
  std::ostringstream os;
  Console c(os, decide_term_caps(true, ColorMode::kAuto, env_with(std::nullopt, "xterm")));
  c.set_live("abc");
  c.set_live("abcd");
  CHECK(os.str() == "abc\r\x1b[2Kabcd");
}

TEST_CASE("Console cuts the live line to the terminal width", "[cmd][term]") {
  std::ostringstream os;
  Console c(os, decide_term_caps(true, ColorMode::kNever, env_with(std::nullopt, "xterm"), 20));
  c.set_live(std::string(50, 'x'));
  CHECK(os.str() == std::string(19, 'x'));
}

TEST_CASE("escape_controls: text from files cannot drive the terminal", "[cmd][term][security]") {
  CHECK(escape_controls("global '\x1b]0;pwned\x07' refused") == "global '\\x1b]0;pwned\\x07' refused");
  CHECK(escape_controls("a\tb\nc") == "a\tb\nc");                       // tab and newline stay
  CHECK(escape_controls("\x7f\r") == "\\x7f\\x0d");
  CHECK(escape_controls("caf\xc3\xa9 \xe2\xa0\x99") == "caf\xc3\xa9 \xe2\xa0\x99");  // UTF-8 stays
  CHECK(escape_controls("\xc2\x9b" "31m") == "\\u009b31m");             // C1 CSI as UTF-8
  CHECK(escape_controls("\x9b" "31m \xff") == "\\x9b31m \\xff");          // bytes that are not UTF-8
  CHECK_FALSE(has_escape(escape_controls("\x1b[2J\x1b[31mred")));
}
