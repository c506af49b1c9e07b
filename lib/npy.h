// lib/npy.h: a small reader for NumPy's .npy files and .npz archives (a zip of .npy entries,
// stored or deflated), for inputs.json's `{"npy": ...}` data.
//
// Supported: format versions 1.0, 2.0 and 3.0; little-endian (or byte-order-free) float16,
// float32, float64, int8, int16, int32, int64, uint8 and bool; C order, and Fortran order
// (converted to a contiguous C-order tensor). Refused with a clear error: object arrays (their data
// is a pickle, which we never execute), structured and big-endian arrays, other dtypes, truncated
// or oversized data, bool bytes other than 0 and 1.
//
// Errors: UserError(ExitCode::kInput, "E_INPUT_NPY") whose message starts with the file
// ("data/y.npy: ...", or "data/a.npz: entry 'x': ..." for archives).
#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace ptx {

/// Reads a .npy file into a new contiguous CPU tensor.
at::Tensor read_npy(const std::filesystem::path& file);

/// Reads the array `key` from a .npz archive ("x" names the entry "x.npy"; "x.npy" works too).
/// An unknown key is an error listing the archive's keys, with a did-you-mean.
at::Tensor read_npz(const std::filesystem::path& file, const std::string& key);

/// The array names stored in a .npz archive, in archive order, without the ".npy" suffix.
std::vector<std::string> npz_keys(const std::filesystem::path& file);

/// Parses the bytes of one .npy file; error messages start with `what`.
at::Tensor parse_npy(std::string_view bytes, const std::string& what);

}  // namespace ptx
