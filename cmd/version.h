// cmd/version.h: versions of ptexport and of the parts it is built from.
#pragma once

#include <string>

namespace ptx::cmd {

struct Versions {
  std::string ptexport, libtorch, z3, pt2_schema;
};
Versions versions();

}  // namespace ptx::cmd
