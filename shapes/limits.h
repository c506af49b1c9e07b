// shapes/limits.h: the bounds ptexport puts on untrusted files (models, pickles, inputs.json, npy,
// .pt2 archives), in one place so that docs/security.md can list them. They sit in the bottom
// layer (like shapes/error.h) so that every layer can use them.
//
// Each bound is far above what real files need (the measured largest is noted) and low enough that
// a hostile file cannot exhaust memory or the stack.
#pragma once

#include <cstdint>

namespace ptx::limits {

/// A compressed (deflated) zip entry may inflate to at most this many bytes: TorchScript code/ and
/// .pkl entries, .pt2 JSON and weight entries, .npz arrays. Stored (uncompressed) entries, which is
/// how torch writes weights, are bounded by the file itself. Deflate's best ratio is about 1032:1,
/// so a 256 KiB entry can claim at most this size honestly.
inline constexpr uint64_t kMaxInflatedEntryBytes = uint64_t{256} << 20;

/// A metadata entry read whole into memory (TorchScript code/*.py, data.pkl, constants.pkl, .pt2
/// model JSON), stored or compressed. The full vit_b_16's largest is a few MiB.
inline constexpr uint64_t kMaxMetadataEntryBytes = uint64_t{256} << 20;

/// Nesting of brackets in TorchScript code (LibTorch's parser recurses per level; 5k overflow it).
/// torchvision's deepest is below 20.
inline constexpr int kMaxCodeNesting = 200;

/// Nesting of containers in a pickle (data.pkl, constants.pkl, torch.save files): LibTorch's
/// unpickler and every walk over the result recurse per level. Real modules nest below 50 levels
/// (a submodule is two levels).
inline constexpr int kMaxPickleNesting = 1000;

/// Nesting of JSON in .pt2 archives (model JSON; treespecs inside it).
inline constexpr int kMaxArchiveJsonDepth = 512;

/// Symbolic integers are kept expanded, as sums of monomials (shapes/sym.cpp): multiplying an
/// m-term by an n-term sum makes m*n monomials before like terms are collected, and a power of a
/// sum of k symbols about binomial(k + e - 1, e). An expression, or a product before collecting,
/// may have at most kMaxSymTerms monomials and kMaxSymFactors factors over all of them (symbols
/// written out: s0**3*s1 is 4); beyond, it is refused (exit 3). A .pt2's 75-byte size text
/// `(a - b - ... - o)**7` asked for 116k monomials, 20 s and 2 GiB, and `(((s0**64)**64)**64)**64`
/// for one monomial of 16.7M factors. Real models' shape expressions multiply sums of a few terms
/// (conv and pool output sizes, flattening a few dims).
inline constexpr uint64_t kMaxSymTerms = 100000;
inline constexpr uint64_t kMaxSymFactors = 1000000;

}  // namespace ptx::limits
