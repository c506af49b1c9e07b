// cmd/main.cpp: the ptexport executable. All logic lives in ptx_cmd (cmd/cli.h) so that tests
// can run it in-process.
#include "cmd/cli.h"

int main(int argc, char** argv) { return ptx::cmd::run_cli(argc, argv); }
