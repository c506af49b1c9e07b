// tests/fuzz/fuzz_dynamic.cpp: one --dynamic flag (lib/dim_spec.h), and the input as a MARK.
#include <string>

#include "lib/dim_spec.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  ptx::fuzz::expect_user_error_or_success([&] {
    const ptx::DynamicFlag f = ptx::parse_dynamic_flag(text);
    if (f.kind == ptx::DynamicFlag::Kind::kRange) (void)ptx::to_flag(f.range);
    if (f.kind == ptx::DynamicFlag::Kind::kMark) (void)ptx::to_string(f.mark);
  });
  ptx::fuzz::expect_user_error_or_success([&] { (void)ptx::parse_dim_mark(text, "fuzz"); });
  ptx::fuzz::expect_user_error_or_success([&] { (void)ptx::normalize_input_path(text); });
  return 0;
}
