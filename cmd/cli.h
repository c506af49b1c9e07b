// cmd/cli.h: the command line of docs/cli.md. Returns the process exit code (never throws).
#pragma once

namespace ptx::cmd {

int run_cli(int argc, char** argv);

}  // namespace ptx::cmd
