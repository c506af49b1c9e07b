// tests/fuzz/fuzz_pt2_reader.cpp: the .pt2 reader (serialize/pt2_reader.h). The input holds the
// parts of an archive separated by "\n====\n": models/model.json, the weights config, one weight
// file; they are stored in a well-formed zip with archive_format and archive_version, so that
// mutations reach the JSON, the sympy text and the graph. Input with a zip's magic ("PK") is read
// as a whole archive instead.
#include <string>

#include "serialize/pt2_reader.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ptx::fuzz::MemFile file;
  const std::string archive =
      ptx::fuzz::archive_of(std::string_view(reinterpret_cast<const char*>(data), size),
                            {{"m/archive_format", "pt2"}, {"m/archive_version", "0"}},
                            {"m/models/model.json", "m/data/weights/model_weights_config.json", "m/data/weights/weight_0"});
  const std::string path = file.write(archive);
  ptx::fuzz::expect_user_error_or_success([&] { (void)ptx::serialize::read_pt2(path); });
  return 0;
}
