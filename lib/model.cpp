// lib/model.cpp
#include "lib/model.h"

#include "lib/custom_ops.h"

#include <torch/csrc/jit/serialization/import.h>
#include <zip.h>

#include <fstream>
#include <vector>

#include "lib/pickled_module.h"
#include "lib/torchscript_check.h"
#include "shapes/error.h"

namespace ptx {
namespace {

/// The entry names of a zip archive, or an empty list with `why` set when it is not a readable zip.
std::vector<std::string> zip_entries(const std::filesystem::path& file, std::string& why) {
  int err = 0;
  zip_t* z = zip_open(file.c_str(), ZIP_RDONLY, &err);
  if (z == nullptr) {
    zip_error_t ze;
    zip_error_init_with_code(&ze, err);
    why = zip_error_strerror(&ze);
    zip_error_fini(&ze);
    return {};
  }
  std::vector<std::string> names;
  const zip_int64_t n = zip_get_num_entries(z, 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    if (const char* name = zip_get_name(z, static_cast<zip_uint64_t>(i), 0)) names.emplace_back(name);
  }
  zip_close(z);
  return names;
}

bool has_entry_part(const std::vector<std::string>& names, const std::string& part) {
  for (const auto& n : names) {
    if (n.find(part) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

LoadedModel load_model(const std::filesystem::path& file) {
  std::error_code ec;
  PTX_USER_CHECK(std::filesystem::exists(file, ec), ExitCode::kInput, "E_MODEL_MISSING")
      << file.string() << ": no such file";
  PTX_USER_CHECK(std::filesystem::is_regular_file(file, ec), ExitCode::kInput, "E_MODEL_NOT_FILE")
      << file.string() << ": not a regular file";
  {
    std::ifstream in(file, std::ios::binary);
    char magic[4] = {0, 0, 0, 0};
    in.read(magic, 4);
    PTX_USER_CHECK(in.gcount() == 4 && magic[0] == 'P' && magic[1] == 'K', ExitCode::kInput, "E_MODEL_NOT_ZIP")
        << file.string()
        << ": not a model archive (expected a zip written by torch.jit.save or torch.save; "
           "legacy non-zip torch.save files are not supported)";
  }
  std::string why;
  const auto names = zip_entries(file, why);
  PTX_USER_CHECK(!names.empty(), ExitCode::kInput, "E_MODEL_BAD_ZIP")
      << file.string() << ": unreadable zip archive (" << (why.empty() ? "no entries" : why)
      << "); the file may be truncated";
  const bool torchscript = has_entry_part(names, "/code/") || has_entry_part(names, "/constants.pkl");
  if (!torchscript) {
    if (has_entry_part(names, "/data.pkl")) {  // torch.save: restricted unpickler, generated forward
      LoadedModel out;
      out.file = file;
      out.kind = "pickled-module";
      out.module = load_pickled_module(file);
      return out;
    }
    PTX_USER_FAIL(ExitCode::kInput, "E_MODEL_NOT_TORCH")
        << file.string() << ": a zip archive, but neither TorchScript (no code/ folder) nor torch.save (no data.pkl)";
  }
  LoadedModel out;
  out.file = file;
  out.kind = "torchscript";
  check_torchscript_archive(file);  // LibTorch's loader trusts the archive: sizes and nesting first
  try {
    try {
      out.module = torch::jit::load(file.string());
    } catch (const std::exception& e) {  // c10::Error, or torch::jit::ErrorReport for an unknown op
      // torchvision's operators (a detection model's nms): its library, found beside LibTorch, is
      // loaded as --load-library would, and the archive loaded again (docs/op-rules.md).
      const std::string what = e.what();
      const auto lib = what.find("Unknown builtin op: torchvision::") == std::string::npos ? std::nullopt
                                                                                            : find_torchvision_library();
      if (!lib) throw;
      load_op_library(*lib);
      out.module = torch::jit::load(file.string());
      out.loaded_libraries.push_back(*lib);
    }
  } catch (const c10::Error& e) {
    std::string msg = e.what_without_backtrace();
    if (auto nl = msg.find('\n'); nl != std::string::npos) msg.resize(nl);
    PTX_USER_FAIL(ExitCode::kInput, "E_MODEL_LOAD") << file.string() << ": cannot load TorchScript: " << msg;
  } catch (const std::exception& e) {
    std::string msg = e.what();
    if (msg.find("Unknown builtin op: torchvision::") != std::string::npos) {
      msg += "\n(torchvision's operator library was not found beside LibTorch: install python3-torchvision "
             "for this LibTorch, or pass --load-library .../torchvision/_C.so; docs/op-rules.md)";
    }
    PTX_USER_FAIL(ExitCode::kInput, "E_MODEL_LOAD") << file.string() << ": cannot load TorchScript: " << msg;
  }
  out.module.eval();
  return out;
}

}  // namespace ptx
