// tests/fuzz/fuzz_npy.cpp: the .npy parser (lib/npy.h), from memory and from a file (the
// header-first reader).
#include <string>

#include "lib/npy.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ptx::fuzz::MemFile file;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  ptx::fuzz::expect_user_error_or_success([&] { (void)ptx::parse_npy(bytes, "fuzz.npy"); });
  const std::string path = file.write(bytes);
  ptx::fuzz::expect_user_error_or_success([&] { (void)ptx::read_npy(path); });
  return 0;
}
