// tests/fuzz/fuzz_inputs_json.cpp: inputs.json (lib/inputs.h) bound to forward(x: Tensor, n: int,
// ys: List[Tensor]), with the --dynamic flags of the input's first line ("--dynamic a --dynamic b").
#include <ATen/core/function_schema.h>
#include <ATen/core/jit_type.h>

#include "lib/inputs.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ptx::fuzz::MemFile file;
  static const c10::FunctionSchema schema(
      "forward", "",
      {c10::Argument("self", c10::AnyType::get()), c10::Argument("x", c10::TensorType::get()),
       c10::Argument("n", c10::IntType::get(), std::nullopt, c10::IValue(int64_t{3})),
       c10::Argument("ys", c10::ListType::ofTensors(), std::nullopt, c10::IValue(c10::List<at::Tensor>()))},
      {c10::Argument("", c10::TensorType::get())});
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> flags;
  if (text.starts_with("--dynamic ")) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(10, nl == std::string_view::npos ? std::string_view::npos : nl - 10);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    for (size_t p; (p = line.find(" --dynamic ")) != std::string_view::npos; line.remove_prefix(p + 11)) {
      flags.emplace_back(line.substr(0, p));
    }
    flags.emplace_back(line);
  }
  const std::string path = file.write(text);
  ptx::fuzz::expect_user_error_or_success([&] { ptx::load_inputs(path, flags, schema); });
  return 0;
}
