// lib/verify.h: does an exported program give the eager model's results?
//
// For each requested point (symbol values; the sample itself is the point of hints), inputs are
// made at those sizes: the sample's tensors when the sizes are the sample's, otherwise fresh
// seeded tensors of the same dtypes (floats normal; integer tensors drawn from the sample's own
// [min, max] so that indices stay valid; bools uniform). The program runs through lib/interpreter.h
// and the model through TorchScript, on identical inputs, and every output is compared.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ir/program.h"
#include "lib/inputs.h"
#include "lib/model.h"
#include "shapes/shape_env.h"

namespace ptx {

struct VerifyPoint {
  std::string label;                      // "sample", "min", "max", "interior", ...
  std::map<std::string, int64_t> values;  // by symbol name ("s0"); symbols not given keep their hint
};

struct VerifyCase {
  VerifyPoint point;
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
  nlohmann::json to_json() const;
};

struct VerifyOptions {
  double atol = 1e-4, rtol = 1e-4;
  int64_t element_budget = 1 << 24;  // a point whose inputs exceed it is skipped (noted)
  uint64_t seed = 0;
  /// --draft: a point (other than the sample) where the program stops at one of its runtime
  /// assertions is skipped with a note (a data-dependent decision taken on the sample that the
  /// point's data does not meet), not an error.
  bool draft = false;
};

/// The points to check: the sample, and for each symbol its min, its max (capped so the inputs stay
/// within the element budget) and an interior value, each adjusted to satisfy every guard of `env`
/// (other symbols at their hints). Ranges are `ranges` (by symbol name), falling back to env's.
/// A max is lowered until the program's inputs fit in `element_budget` elements; an unbounded
/// range is tried up to 4x the sample.
std::vector<VerifyPoint> choose_points(const shapes::ShapeEnv& env, const std::map<std::string, shapes::Range>& ranges,
                                       const ir::ExportedProgram& program, int64_t element_budget);

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
