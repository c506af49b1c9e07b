// cmd/version.cpp
#include "cmd/version.h"

#include "serialize/schema_version.h"

#include <torch/version.h>
#include <z3.h>

namespace ptx::cmd {

Versions versions() {
  Versions v;
  v.ptexport = PTX_VERSION;
  v.libtorch = TORCH_VERSION;
  unsigned major = 0, minor = 0, build = 0, rev = 0;
  Z3_get_version(&major, &minor, &build, &rev);
  v.z3 = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(build);
  v.pt2_schema = std::to_string(serialize::kSchemaMajor) + "." + std::to_string(serialize::kSchemaMinor);
  return v;
}

}  // namespace ptx::cmd
