// lib/inputs.h: inputs.json (`ptexport.inputs/v1`, docs/inputs.md) and the `--dynamic` grammar,
// parsed, validated and bound to the model's forward schema, with the sample values made.
//
// Errors: UserError with ExitCode::kUsage for bad specs, unknown input or symbol names (with a
// did-you-mean), and ExitCode::kInput for unreadable/malformed JSON or npy, dtype/rank mismatches;
// every message names the file and the JSON path ("inputs.json: args[1].shape: ...").
#pragma once

#include <ATen/core/ivalue.h>
#include <ATen/core/function_schema.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ptx {

/// How one dimension of one input tensor is marked (`dims` entry or `--dynamic TARGET=...`).
struct DimMark {
  enum class Kind : uint8_t {
    kStatic,   // null, or "static": specialized to the sample size
    kSymbol,   // a named symbol, or a derived dim A*sym+B (A > 0); A = 1, B = 0 for a plain symbol
    kAuto,     // Dim.AUTO: dynamic if the model allows, specialization reported, never an error
    kDynamic,  // Dim.DYNAMIC: dynamic, ranges refined freely, specialization is an error
  };
  Kind kind = Kind::kStatic;
  std::string symbol;  // kSymbol: the root symbol's name ("batch")
  int64_t a = 1, b = 0;  // kSymbol: size = a * symbol + b
  /// kDynamic only: set by `samples` because the size differs between sample sets (not asked
  /// for by the user; the report says so).
  bool from_samples = false;
};

/// The user's range for a named symbol (inclusive; nullopt: unbounded on that side).
struct SymbolSpec {
  std::string name;
  std::optional<int64_t> min, max;
};

/// One tensor inside the inputs, wherever it sits (a top-level arg, an element of a list arg ...).
struct TensorLeaf {
  std::string path;             // "x", "ys[0]", "d['k']": used in messages and as source names
  std::vector<int64_t> shape;   // the sample shape
  std::vector<DimMark> dims;    // one per dimension
};

/// How one of forward's arguments got its value.
enum class ArgSource : uint8_t { kPositional, kKeyword, kDefault };

/// A complete, bound set of sample inputs.
struct SampleSet {
  /// forward's arguments in schema order, excluding self; kwargs already placed by name.
  std::vector<c10::IValue> args;
  /// forward's argument names in the same order.
  std::vector<std::string> names;
  /// How each argument was given (same order): in `args`, in `kwargs`, or the schema's default.
  std::vector<ArgSource> sources;
  /// Every tensor in `args`, depth first in argument order (the order of the flattened pytree).
  std::vector<TensorLeaf> tensors;
};

struct Inputs {
  std::filesystem::path file;      // the inputs.json path (for messages)
  std::string method = "forward";  // which method to export
  /// One set normally; several for `samples` (torch's AdditionalInputs). For several sets, dims
  /// whose sizes differ between sets are marked kDynamic in sets[0] and reported.
  std::vector<SampleSet> sets;
  /// Named symbols' ranges, from `dims` in the JSON and `--dynamic SYM=MIN:MAX`, by name.
  std::map<std::string, SymbolSpec> symbols;
};

/// The `method` field of inputs.json ("forward" when absent), so that the caller can pick the
/// schema to bind to before calling load_inputs. Same errors as load_inputs for a bad file.
std::string read_inputs_method(const std::filesystem::path& json_file);

/// Reads inputs.json, applies the `--dynamic` flags (each "SYM=[MIN]:[MAX]", "INPUT.DIM=SYM",
/// "INPUT.DIM=A*SYM+B", "INPUT.DIM=auto|dynamic|static"), binds to `schema` (forward's; its first
/// argument is self, skipped when named "self"), makes the sample tensors, and checks every name.
/// `symbols` lists every symbol some input uses (unbounded sides as nullopt); every TensorLeaf's
/// `dims` has one entry per dimension; the sample sizes satisfy every symbol's range and
/// derived-dimension relation. Grammar, defaults and error texts: docs/inputs.md.
Inputs load_inputs(const std::filesystem::path& json_file, const std::vector<std::string>& dynamic_flags,
                   const c10::FunctionSchema& schema);

}  // namespace ptx
