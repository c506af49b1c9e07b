// tests/cmd/progress_test.cpp: the stage lines, and the live line on a terminal.
#include <catch2/catch_test_macros.hpp>

#include <sstream>
#include <thread>

#include "cmd/progress.h"

using namespace ptx::cmd;

namespace {

TermEnv plain_env() {
  TermEnv e;
  e.term = "xterm";
  e.locale = "C.UTF-8";
  return e;
}


}  // namespace

TEST_CASE("format_seconds: 2 decimals below 10 s, 1 below a minute, then minutes", "[cmd][progress]") {
  CHECK(format_seconds(0.04) == "0.04s");
  CHECK(format_seconds(0) == "0.00s");
  CHECK(format_seconds(9.994) == "9.99s");
  CHECK(format_seconds(12.34) == "12.3s");
  CHECK(format_seconds(125) == "2m05s");
  CHECK(format_seconds(-1) == "0.00s");
}

TEST_CASE("stage_line is the documented format", "[cmd][progress]") {
  CHECK(stage_line(3, 6, "propagate shapes", "412 nodes, 2 symbols", 0.04, Style{false}) ==
        "[3/6] propagate shapes (412 nodes, 2 symbols) 0.04s");
  CHECK(stage_line(1, 4, "load model", "", 1.5, Style{false}) == "[1/4] load model 1.50s");
  CHECK(stage_line(2, 4, "x", "(already)", 0.1, Style{false}) == "[2/4] x (already) 0.10s");
  CHECK(failed_stage_line(4, 6, "solve", 0.31, Style{false}) == "[4/6] solve failed after 0.31s");
}

TEST_CASE("live_line shows a spinner, the counter, the name and the elapsed time", "[cmd][progress]") {
  CHECK(live_line(5, 6, "write artifact", 1.3, 0, /*utf8=*/false, Style{false}) == "| [5/6] write artifact 1.30s");
  CHECK(live_line(5, 6, "write artifact", 1.3, 1, /*utf8=*/false, Style{false}) == "/ [5/6] write artifact 1.30s");
  CHECK(live_line(5, 6, "write artifact", 1.3, 0, /*utf8=*/true, Style{false}) == "⠋ [5/6] write artifact 1.30s");
}

TEST_CASE("Progress off a terminal prints one line per finished stage and nothing else", "[cmd][progress]") {
  std::ostringstream os;
  Console console(os, decide_term_caps(false, ColorMode::kAuto, plain_env()));
  {
    Progress p(console, true);
    StageObserver o = p.observer();
    o.begin(1, 2, "load model");
    o.end(1, 0.25, "torchscript");
    o.begin(2, 2, "trace");
    p.fail();
    p.fail();  // nothing in flight any more
  }
  CHECK(os.str() == "[1/2] load model (torchscript) 0.25s\n[2/2] trace failed after 0.00s\n");
}

TEST_CASE("Progress disabled prints nothing", "[cmd][progress]") {
  std::ostringstream os;
  Console console(os, decide_term_caps(true, ColorMode::kAuto, plain_env()));
  {
    Progress p(console, false);
    p.begin(1, 1, "x");
    p.end(1, 0.1, "");
  }
  CHECK(os.str().empty());
}

TEST_CASE("a StageRunner times each stage; Progress marks the one that threw failed", "[cmd][progress]") {
  std::ostringstream os;
  Console console(os, decide_term_caps(false, ColorMode::kAuto, plain_env()));
  Progress p(console, true);
  StageRunner stages(p.observer(), 2);
  stages.run("first", [](std::string& detail) { detail = "ok"; });
  CHECK_THROWS(stages.run("second", [](std::string&) -> int { throw std::runtime_error("boom"); }));
  p.fail();  // as the CLI does after a command throws
  REQUIRE(stages.timings().size() == 2);
  CHECK(stages.timings()[0].name == "first");
  CHECK(stages.timings()[1].name == "second");
  const std::string s = os.str();
  CHECK(s.rfind("[1/2] first (ok) ", 0) == 0);
  CHECK(s.find("[2/2] second failed after ") != std::string::npos);
}

TEST_CASE("Progress on a terminal shows a live line for a slow stage, then the final line", "[cmd][progress]") {
  // The ticker thread writes into this stream; read it only after the Progress (and its thread)
  // is gone, and detect the live line by polling Console::live_shown(), which locks.
  std::ostringstream os;
  Console console(os, decide_term_caps(true, ColorMode::kNever, plain_env(), 100));
  {
    Progress p(console, true);
    p.begin(1, 1, "write artifact");
    // Wait (without a deadline on success) until the ticker has drawn; 60 s is a safety net only.
    for (int i = 0; i < 6000 && !console.live_shown(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(console.live_shown());
    p.end(1, 0.5, "12 bytes");
    CHECK_FALSE(console.live_shown());
  }
  const std::string s = os.str();
  INFO(s);
  CHECK(s.rfind("⠋ [1/1] write artifact ", 0) == 0);  // the first frame, drawn in place
  CHECK(s.find('\r') != std::string::npos);            // erased with \r and spaces
  CHECK_FALSE(has_escape(s));                          // --color never: no escapes even on a terminal
  CHECK(s.size() > std::string("[1/1] write artifact (12 bytes) 0.50s\n").size());
  CHECK(s.substr(s.size() - std::string("[1/1] write artifact (12 bytes) 0.50s\n").size()) ==
        "[1/1] write artifact (12 bytes) 0.50s\n");
}
