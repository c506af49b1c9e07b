// lib/verify.h: does an exported program give the eager model's results?
//
// Each requested point (symbol values; the sample itself is the point of hints) is checked one of
// two ways (VerifyCheck):
// - values: inputs are made at the point's sizes (the sample's tensors when the sizes are the
//   sample's, otherwise fresh seeded tensors of the same dtypes: floats normal; integer tensors
//   drawn from the sample's own [min, max] so that indices stay valid; bools uniform). The program
//   runs through lib/interpreter.h and the model through TorchScript, on identical inputs, and
//   every output is compared within the tolerances.
// - shapes: the program runs on meta tensors (sizes and dtypes, no data, nothing computed) and the
//   sizes and dtypes of its outputs are compared with the ones its own metadata predicts at that
//   point. The eager model does not run. This is how the bounded default checks the large points.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ir/program.h"
#include "lib/inputs.h"
#include "lib/model.h"
#include "shapes/shape_env.h"

namespace ptx {

enum class VerifyCheck : uint8_t { kValues, kShapes };
/// "values" / "shapes", as the report writes them.
const char* to_string(VerifyCheck c);

/// kBounded (export's default): values at the sample and at small points (each symbol's min; a
/// small interior value unless the sample's value is already inside the range, when the interior
/// point is anywhere inside it and checked for shapes; every symbol at a small interior value
/// together), shapes at each symbol's max. kFull: values at every point, the max
/// capped by the element budget (`--verify=full`, and `ptexport verify`).
enum class VerifyMode : uint8_t { kBounded, kFull };

struct VerifyPoint {
  std::string label;                      // "sample", "min", "max", "interior", ...
  std::map<std::string, int64_t> values;  // by symbol name ("s0"); symbols not given keep their hint
  VerifyCheck check = VerifyCheck::kValues;
  /// A shapes point: where values are checked instead when the program cannot run on meta tensors
  /// (an op without a meta kernel): the point moved within the element budget. None: skipped then.
  std::optional<std::map<std::string, int64_t>> fallback;
};

struct VerifyCase {
  VerifyPoint point;
  VerifyCheck check = VerifyCheck::kValues;  // how it was checked (see VerifyOptions::time_budget_s)
  bool ok = false;
  bool skipped = false;
  std::string note;       // why skipped, or the first mismatching output
  double max_abs_err = 0;
  double max_rel_err = 0;
  double needed_atol = 0;  // the tolerance that would have passed
};

struct VerifyResult {
  std::vector<VerifyCase> cases;
  bool ok() const;
};

struct VerifyOptions {
  double atol = 1e-4, rtol = 1e-4;
  int64_t element_budget = 1 << 24;  // a point whose inputs exceed it is skipped (noted)
  uint64_t seed = 0;
  /// Seconds for the values checks (0: no limit). Once spent, the remaining points after the
  /// sample are checked for shapes only (noted in each case).
  double time_budget_s = 0;
  /// --draft: a point (other than the sample) where the program stops at one of its runtime
  /// assertions is skipped with a note (a data-dependent decision taken on the sample that the
  /// point's data does not meet), not an error.
  bool draft = false;
};

/// The points to check: the sample, and for each symbol its min, its max and an interior value,
/// each adjusted to satisfy every guard of `env` (other symbols at their hints), then all symbols
/// at an interior value together. Ranges are `ranges` (by symbol name), falling back to env's; an
/// unbounded range is tried up to 4x the sample. kFull: values everywhere; a max is lowered until
/// the program's inputs fit in `element_budget` elements; the interior is anywhere in the range.
/// kBounded: the max is the range's own, checked for shapes (its fallback is kFull's max); the
/// interior is small (at most twice the sample's value), or, when the sample's value is strictly
/// inside the range, anywhere inside it and checked for shapes (its fallback the small one).
std::vector<VerifyPoint> choose_points(const shapes::ShapeEnv& env, const std::map<std::string, shapes::Range>& ranges,
                                       const ir::ExportedProgram& program, int64_t element_budget,
                                       VerifyMode mode = VerifyMode::kFull);

/// `artifact`, when given, is the program that runs (e.g. one read back from a .pt2, whose
/// symbols are distinct objects from env's); inputs are still made from `program`'s placeholders,
/// which must be in the same order.
VerifyResult verify_program(const ir::ExportedProgram& program, const LoadedModel& model, const Inputs& inputs,
                            const shapes::ShapeEnv& env, const std::vector<VerifyPoint>& points,
                            const VerifyOptions& opts, const ir::ExportedProgram* artifact = nullptr);

/// The user inputs of `set`, with tensors remade for symbol values `values` (by symbol id);
/// returns the eager arguments and the flat tensors in placeholder order.
struct MadeInputs {
  std::vector<c10::IValue> args;
  std::vector<at::Tensor> flat;
};
MadeInputs make_inputs(const ir::ExportedProgram& program, const SampleSet& set, const shapes::Assignment& values,
                       uint64_t seed);

}  // namespace ptx
