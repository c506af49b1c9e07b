// tests/cmd/cli_test.cpp: the parser in-process: help, version, usage errors with did-you-mean,
// the JSON document of a failure, and the `ptexport MODEL INPUTS` shorthand.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <nlohmann/json.hpp>

#include <sstream>

#include "cmd/cli.h"
#include "shapes/error.h"

using namespace ptx::cmd;
using Catch::Matchers::ContainsSubstring;
using Catch::Matchers::StartsWith;

namespace {

struct Run {
  int rc;
  std::string out, err;
};

Run cli(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  CliIo io{out, err};
  io.logs_from_process = false;
  const int rc = run_cli(args, io);
  return {rc, out.str(), err.str()};
}

}  // namespace

TEST_CASE("help: --help and COMMAND --help, stdout, exit 0, every flag, examples, exit codes", "[cmd][cli]") {
  for (const std::string command : {"", "export", "check", "inspect", "run", "verify"}) {
    INFO(command);
    std::vector<std::string> args;
    if (!command.empty()) args.push_back(command);
    args.push_back("--help");
    const Run r = cli(args);
    CHECK(r.rc == 0);
    CHECK(r.err.empty());
    for (const char* flag : {"--help", "--verbose", "--quiet", "--log-level", "--log-file", "--color", "--json"}) {
      CHECK_THAT(r.out, ContainsSubstring(flag));
    }
    CHECK_THAT(r.out, ContainsSubstring("Examples:"));
    CHECK_THAT(r.out, ContainsSubstring("Exit codes:"));
    CHECK_THAT(r.out, ContainsSubstring("130  interrupted"));
  }
  const Run e = cli({"export", "--help"});
  for (const char* flag : {"--output", "--dynamic", "--no-verify", "--atol", "--rtol", "--solver-timeout", "--report"}) {
    CHECK_THAT(e.out, ContainsSubstring(flag));
  }
  CHECK(cli({"help", "export"}).out == e.out);
}

TEST_CASE("version: --version prints every component, --version --json one document", "[cmd][cli]") {
  const Run r = cli({"--version"});
  CHECK(r.rc == 0);
  CHECK_THAT(r.out, StartsWith("ptexport 0."));
  CHECK_THAT(r.out, ContainsSubstring("\nLibTorch 2.14"));
  CHECK_THAT(r.out, ContainsSubstring("\nZ3 4."));
  CHECK_THAT(r.out, ContainsSubstring("\npt2 schema 8.20\n"));
  const Run j = cli({"--version", "--json"});
  CHECK(j.rc == 0);
  const auto doc = nlohmann::json::parse(j.out);
  CHECK(doc.at("status") == "ok");
  CHECK(doc.at("exit_code") == 0);
  CHECK(doc.at("libtorch").get<std::string>().rfind("2.14", 0) == 0);
  CHECK(doc.at("pt2_schema") == "8.20");
}

TEST_CASE("usage errors exit 2 with the message on stderr and nothing on stdout", "[cmd][cli]") {
  const Run none = cli({});
  CHECK(none.rc == 2);
  CHECK(none.out.empty());
  CHECK_THAT(none.err, StartsWith("error: no command given"));

  const Run missing = cli({"export", "model.pt"});
  CHECK(missing.rc == 2);
  CHECK_THAT(missing.err, ContainsSubstring("INPUTS is required"));
  CHECK_THAT(missing.err, ContainsSubstring("ptexport export --help"));

  const Run extra = cli({"inspect", "a.pt2", "b.pt2"});
  CHECK(extra.rc == 2);
  CHECK_THAT(extra.err, ContainsSubstring("unexpected argument 'b.pt2'"));

  const Run number = cli({"export", "m.pt", "i.json", "--atol", "-1"});
  CHECK(number.rc == 2);
  CHECK_THAT(number.err, ContainsSubstring("--atol"));
}

TEST_CASE("did-you-mean for flags, option values and commands", "[cmd][cli]") {
  const Run flag = cli({"m.pt", "i.json", "--dynamc", "batch=0:1024"});
  CHECK(flag.rc == 2);
  CHECK_THAT(flag.err, ContainsSubstring("unknown option '--dynamc' for export; did you mean '--dynamic'?"));

  const Run value = cli({"export", "m.pt", "i.json", "--color", "alwys"});
  CHECK(value.rc == 2);
  CHECK_THAT(value.err, ContainsSubstring("'alwys' is not one of auto, always, never; did you mean 'always'?"));

  const Run level = cli({"check", "m.pt", "i.json", "--log-level", "warn1ng"});
  CHECK(level.rc == 2);
  CHECK_THAT(level.err, ContainsSubstring("did you mean 'warning'?"));

  const Run command = cli({"inpsect", "model.pt2"});
  CHECK(command.rc == 2);
  CHECK_THAT(command.err, ContainsSubstring("unknown command 'inpsect'; did you mean 'inspect'?"));

  const Run elsewhere = cli({"check", "m.pt", "i.json", "--atol", "1"});
  CHECK(elsewhere.rc == 2);
  CHECK_THAT(elsewhere.err, ContainsSubstring("unknown option '--atol' for check (it is an option of export, verify)"));
}

TEST_CASE("under --json a usage error is one JSON document on stdout", "[cmd][cli]") {
  const Run r = cli({"export", "m.pt", "i.json", "--json", "--no-verfy"});
  CHECK(r.rc == 2);
  const auto doc = nlohmann::json::parse(r.out);
  CHECK(doc.at("status") == "error");
  CHECK(doc.at("exit_code") == 2);
  CHECK(doc.at("command") == "export");
  CHECK(doc.at("schema") == "ptexport.report/v1");
  REQUIRE(doc.at("diagnostics").size() == 1);
  CHECK(doc["diagnostics"][0].at("code") == "E_USAGE");
  CHECK_THAT(doc["diagnostics"][0].at("message").get<std::string>(), ContainsSubstring("did you mean '--no-verify'?"));
}

TEST_CASE("expand_shorthand: a first argument that is no command means export", "[cmd][cli]") {
  using V = std::vector<std::string>;
  CHECK(expand_shorthand({"model.pt", "inputs.json", "--dynamic", "batch=0:1024"}) ==
        V{"export", "model.pt", "inputs.json", "--dynamic", "batch=0:1024"});
  CHECK(expand_shorthand({"-v", "--color", "never", "model.pt", "in.json"}) ==
        V{"export", "-v", "--color", "never", "model.pt", "in.json"});
  CHECK(expand_shorthand({"--dynamic", "check", "m.pt", "i.json"}) == V{"export", "--dynamic", "check", "m.pt", "i.json"});
  CHECK(expand_shorthand({"check", "m.pt", "i.json"}) == V{"check", "m.pt", "i.json"});
  CHECK(expand_shorthand({"--version"}) == V{"--version"});
  CHECK(expand_shorthand({"help", "run"}) == V{"run", "--help"});
  CHECK_THROWS_AS(expand_shorthand({"expotr", "m.pt", "i.json"}), ptx::UserError);
  // A file may be named like a command's misspelling: then it is a model.
  CHECK(expand_shorthand({"runn.pt", "i.json"}) == V{"export", "runn.pt", "i.json"});
}
