// tests/serialize/write_fixture_main.cpp: a test-only tool for tests/e2e/test_serialize_conformance.py
// (built by tests/CMakeLists.txt as ptx_write_fixture; not part of ptexport).
//
//   ptx_write_fixture write OUT_DIR            writes OUT_DIR/<name>.pt2 for each hand-built program
//                                              of tests/serialize/fixtures.h
//   ptx_write_fixture dump FILE.pt2            reads FILE (ours or torch's) and prints its program
//   ptx_write_fixture rewrite IN.pt2 OUT.pt2   reads IN and writes it again with our writer
//
// Until the frontend exports real models, this is how torch.export.load gets to check our writer.
#include <cstdio>
#include <iostream>
#include <string>

#include "fixtures.h"
#include "serialize/pt2_reader.h"
#include "serialize/pt2_writer.h"
#include "shapes/error.h"

int main(int argc, char** argv) {
  const std::string cmd = argc > 1 ? argv[1] : "";
  try {
    if (cmd == "write" && argc == 3) {
      for (const auto& [name, make] : ptx::test::all_fixtures()) {
        ptx::test::Fixture f = make();
        ptx::serialize::write_pt2(f.ep, std::filesystem::path(argv[2]) / (name + ".pt2"), f.opts);
      }
      return 0;
    }
    if (cmd == "dump" && argc == 3) {
      std::map<std::string, int64_t> hints;
      const ptx::ir::ExportedProgram ep = ptx::serialize::read_pt2(argv[2], &hints);
      std::cout << ptx::test::describe(ep);
      for (const auto& [name, v] : hints) std::cout << "hint " << name << " " << v << "\n";
      return 0;
    }
    if (cmd == "rewrite" && argc == 4) {
      ptx::serialize::WriteOptions opts;
      const ptx::ir::ExportedProgram ep = ptx::serialize::read_pt2(argv[2], &opts.symbol_hints);
      ptx::serialize::write_pt2(ep, argv[3], opts);
      return 0;
    }
  } catch (const ptx::Error& e) {
    std::cerr << "ptx_write_fixture: " << e.what() << "\n";
    return static_cast<int>(e.code());
  }
  std::cerr << "usage: ptx_write_fixture write DIR | dump FILE | rewrite IN OUT\n";
  return 2;
}
