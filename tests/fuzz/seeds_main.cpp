// tests/fuzz/seeds_main.cpp: replays the committed fuzz seeds (tests/fuzz/corpus/TARGET/, the
// inputs of past findings among them) through the fuzz targets' entry points, built with the
// normal compiler (ctest fuzz_seeds.TARGET; tests/CMakeLists.txt). Each target's source is
// compiled with LLVMFuzzerTestOneInput renamed to ptx_fuzz_entry_TARGET, so that one program holds
// them all. A target accepts an input or refuses it with a UserError; anything else aborts (the
// test fails with the file's name printed before it). So a seed that once crashed stays a
// regression test, and under -DPTX_SANITIZE=ON runs with ASan and UBSan.
//
//   ptx_fuzz_seeds TARGET DIR_OR_FILE...
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#define PTX_FUZZ_ENTRY(name) extern "C" int ptx_fuzz_entry_##name(const uint8_t* data, size_t size);
PTX_FUZZ_ENTRY(dynamic)
PTX_FUZZ_ENTRY(inputs_json)
PTX_FUZZ_ENTRY(npy)
PTX_FUZZ_ENTRY(pt2_reader)
PTX_FUZZ_ENTRY(sym_parse)
PTX_FUZZ_ENTRY(torchscript_check)
PTX_FUZZ_ENTRY(unpickler)
#undef PTX_FUZZ_ENTRY

int main(int argc, char** argv) {
  using Entry = int (*)(const uint8_t*, size_t);
  const std::map<std::string, Entry> targets{
      {"dynamic", ptx_fuzz_entry_dynamic},     {"inputs_json", ptx_fuzz_entry_inputs_json},
      {"npy", ptx_fuzz_entry_npy},             {"pt2_reader", ptx_fuzz_entry_pt2_reader},
      {"sym_parse", ptx_fuzz_entry_sym_parse}, {"torchscript_check", ptx_fuzz_entry_torchscript_check},
      {"unpickler", ptx_fuzz_entry_unpickler}};
  if (argc < 3 || !targets.count(argv[1])) {
    std::fprintf(stderr, "usage: ptx_fuzz_seeds TARGET DIR_OR_FILE... (TARGET: dynamic, inputs_json, npy, "
                         "pt2_reader, sym_parse, torchscript_check, unpickler)\n");
    return 2;
  }
  std::vector<std::filesystem::path> files;
  for (int i = 2; i < argc; ++i) {
    const std::filesystem::path p = argv[i];
    if (std::filesystem::is_directory(p)) {
      for (const auto& e : std::filesystem::directory_iterator(p)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
    } else {
      files.push_back(p);
    }
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::fprintf(stderr, "ptx_fuzz_seeds: no seed files\n");
    return 1;
  }
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "ptx_fuzz_seeds: cannot read %s\n", f.c_str());
      return 1;
    }
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::printf("%s (%zu bytes): ", f.c_str(), bytes.size());
    std::fflush(stdout);
    targets.at(argv[1])(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    std::printf("ok\n");
  }
  std::printf("%zu seeds of %s replayed\n", files.size(), argv[1]);
  return 0;
}
