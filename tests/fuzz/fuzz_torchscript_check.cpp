// tests/fuzz/fuzz_torchscript_check.cpp: the checks a TorchScript archive passes before
// torch::jit::load (lib/torchscript_check.h): the zip, the code nesting, the structural unpickling
// of data.pkl and constants.pkl (lib/unpickler.h, UnpickleMode::kTorchScriptCheck) and the storage
// records against the views. The input holds the parts separated by "\n====\n": data.pkl,
// code/__torch__.py, constants.pkl, data/0, data/1; they are stored in a well-formed zip. Input with
// a zip's magic ("PK") is checked as a whole archive instead. LibTorch's loader is not run: the
// target is the check itself, which must refuse or accept, never crash.
#include <string>

#include "lib/torchscript_check.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ptx::fuzz::MemFile file;
  const std::string archive =
      ptx::fuzz::archive_of(std::string_view(reinterpret_cast<const char*>(data), size), {},
                            {"m/data.pkl", "m/code/__torch__.py", "m/constants.pkl", "m/data/0", "m/data/1"});
  const std::string path = file.write(archive);
  ptx::fuzz::expect_user_error_or_success([&] { ptx::check_torchscript_archive(path); });
  return 0;
}
