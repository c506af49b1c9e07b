// cmd/cli.cpp: the command line of docs/cli.md.
#include "cmd/cli.h"

#include <CLI/CLI.hpp>

#include <iostream>

#include "cmd/version.h"
#include "shapes/error.h"

namespace ptx::cmd {

int run_cli(int argc, char** argv) {
  CLI::App app{"ptexport: export TorchScript models to torch.export .pt2 artifacts, with sound dynamic shapes"};
  app.set_version_flag("--version", [] {
    const Versions v = versions();
    return "ptexport " + v.ptexport + "\nLibTorch " + v.libtorch + "\nZ3 " + v.z3 + "\npt2 schema " + v.pt2_schema;
  });
  app.require_subcommand(0, 1);
  app.footer(
      "Commands:\n"
      "  ptexport MODEL INPUTS [options]            shorthand for `ptexport export`\n"
      "  export  MODEL INPUTS [-o OUT.pt2]         trace, check shapes with Z3, write .pt2 + report\n"
      "  check   MODEL INPUTS                      the same analysis, no artifact\n"
      "  inspect ARTIFACT.pt2                      signature, symbols and ranges, guards, graph\n"
      "  run     ARTIFACT.pt2 INPUTS               execute the artifact\n"
      "  verify  ARTIFACT.pt2 MODEL INPUTS         compare the artifact with the eager model\n");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : static_cast<int>(ExitCode::kUsage);
  }
  return 0;
}

}  // namespace ptx::cmd
