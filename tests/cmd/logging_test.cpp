// tests/cmd/logging_test.cpp: levels from -v/-q/--log-level, PTEXPORT_LOGS / TORCH_LOGS, and
// where records go (stderr console per stage level, the log file at debug).
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "cmd/logging.h"
#include "shapes/error.h"

using namespace ptx::cmd;
using Catch::Matchers::ContainsSubstring;
using L = spdlog::level::level_enum;

TEST_CASE("stderr level: warning by default, -v steps down, -q up, --log-level wins", "[cmd][logging]") {
  CHECK(stderr_level(0, 0, "") == L::warn);
  CHECK(stderr_level(1, 0, "") == L::info);
  CHECK(stderr_level(2, 0, "") == L::debug);
  CHECK(stderr_level(5, 0, "") == L::trace);
  CHECK(stderr_level(0, 1, "") == L::err);
  CHECK(stderr_level(0, 2, "") == L::off);
  CHECK(stderr_level(3, 1, "info") == L::info);
}

TEST_CASE("log spec: +name is debug, -name error, name info, name=level any", "[cmd][logging]") {
  const auto m = parse_log_spec("+shapes,-trace load, solver=trace", true);
  CHECK(m.at("shapes") == L::debug);
  CHECK(m.at("trace") == L::err);
  CHECK(m.at("load") == L::info);
  CHECK(m.at("solver") == L::trace);
  CHECK(m.size() == 4);
}

TEST_CASE("log spec: torch's +dynamic means the shapes and solver loggers at debug", "[cmd][logging]") {
  const auto m = parse_log_spec("+dynamic", true);
  CHECK(m.size() == 2);
  CHECK(m.at("shapes") == L::debug);
  CHECK(m.at("solver") == L::debug);
  const auto all = parse_log_spec("all", true);
  CHECK(all.size() == stage_names().size());
}

TEST_CASE("log spec: an unknown name is a usage error with a did-you-mean (PTEXPORT_LOGS)", "[cmd][logging]") {
  try {
    parse_log_spec("+shape", true);
    FAIL("no error");
  } catch (const ptx::UserError& e) {
    CHECK(e.code() == ptx::ExitCode::kUsage);
    CHECK_THAT(e.what(), ContainsSubstring("PTEXPORT_LOGS: unknown log name 'shape'; did you mean 'shapes'?"));
  }
  CHECK_THROWS_AS(parse_log_spec("shapes=loud", true), ptx::UserError);
}

TEST_CASE("log spec: TORCH_LOGS names ptexport lacks are skipped and named", "[cmd][logging]") {
  std::vector<std::string> ignored;
  const auto m = parse_log_spec("+inductor,+dynamo", false, &ignored, "TORCH_LOGS");
  CHECK(ignored == std::vector<std::string>{"inductor"});
  CHECK(m.at("trace") == L::debug);
}

TEST_CASE("format_record: 'warning: msg' for the driver, the stage in brackets for a stage logger", "[cmd][logging]") {
  CHECK(format_record(L::warn, "ptexport", "sample size 1", Style{false}) == "warning: sample size 1");
  CHECK(format_record(L::debug, "shapes", "s0 created", Style{false}) == "debug[shapes]: s0 created");
  CHECK(format_record(L::warn, "ptexport", "x", Style{true}) == "\x1b[33mwarning\x1b[0m: x");
}

TEST_CASE("setup_logging: stderr shows each stage at its level; the file gets debug of all", "[cmd][logging]") {
  const std::filesystem::path file =
      std::filesystem::temp_directory_path() / ("ptx_logging_test_" + std::to_string(::getpid()) + ".log");
  std::ostringstream err;
  {
    TermEnv env;
    Console console(err, decide_term_caps(false, ColorMode::kAuto, env));
    LogConfig config;
    config.level = L::warn;
    config.stage_levels = parse_log_spec("+dynamic", true);
    config.file = file;
    setup_logging(config, console);
    stage_log("shapes").debug("created s0 for x.size()[0]");
    stage_log("trace").debug("a trace detail");
    stage_log("trace").warn("a trace warning");
    spdlog::get("solver")->debug("reached through the registry");
    log().info("driver info");
    shutdown_logging();
  }
  CHECK(err.str() ==
        "debug[shapes]: created s0 for x.size()[0]\n"
        "warning[trace]: a trace warning\n"
        "debug[solver]: reached through the registry\n");
  std::ifstream f(file);
  std::stringstream text;
  text << f.rdbuf();
  CHECK_THAT(text.str(), ContainsSubstring("[trace] [debug] a trace detail"));
  CHECK_THAT(text.str(), ContainsSubstring("[ptexport] [info] driver info"));
  CHECK_THAT(text.str(), ContainsSubstring("[shapes] [debug] created s0"));
  std::filesystem::remove(file);
  // After shutdown the loggers are gone and writing to them is harmless.
  CHECK(spdlog::get("shapes") == nullptr);
  stage_log("shapes").error("dropped");
}

TEST_CASE("setup_logging: an unwritable log file is an output error (exit 8)", "[cmd][logging]") {
  std::ostringstream err;
  Console console(err, TermCaps{});
  LogConfig config;
  config.file = "/proc/ptexport-no-such-dir/log.txt";
  try {
    setup_logging(config, console);
    FAIL("no error");
  } catch (const ptx::UserError& e) {
    CHECK(e.code() == ptx::ExitCode::kOutput);
    CHECK_THAT(e.what(), ContainsSubstring("--log-file /proc/ptexport-no-such-dir/log.txt: cannot open"));
  }
  shutdown_logging();
}
