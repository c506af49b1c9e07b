// serialize/schema_version.h: the versions of the artifact format we write.
//
// LibTorch's generated_serialization_types.h has the schema's types but not its version; torch
// 2.14.1's torch/_export/serde/schema.py says SCHEMA_VERSION = (8, 20). Only the major version is
// compared on load. Bump these only together with the golden files of tests/serialize/.
#pragma once

namespace ptx::serialize {

inline constexpr int kSchemaMajor = 8;
inline constexpr int kSchemaMinor = 20;
inline constexpr const char* kArchiveVersion = "0";

}  // namespace ptx::serialize
