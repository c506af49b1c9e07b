// cmd/verify_cmd.cpp: `ptexport verify ARTIFACT.pt2 MODEL INPUTS` (docs/commands/verify.md).
//
// The artifact is compared with the eager model the way export's verification stage compares the
// program it is about to write (lib/verify.h): at the sample, and at each symbol's min, max and an
// interior value (within the artifact's range constraints, adjusted to satisfy the guards). The
// model is traced on INPUTS (with the same --dynamic flags) to know which input dimension each
// symbol is and which guards hold; the artifact must have the same user inputs with the same
// symbolic shapes, which is the case for an artifact ptexport exported from this model and inputs.
#include <nlohmann/json.hpp>

#include <chrono>
#include <sstream>

#include "cmd/commands.h"
#include "ir/printer.h"
#include "lib/frontend.h"
#include "lib/inputs.h"
#include "lib/interpreter.h"
#include "lib/method.h"
#include "lib/op_policy.h"
#include "lib/model.h"
#include "lib/verify.h"
#include "serialize/pt2_reader.h"
#include "shapes/error.h"

namespace ptx::cmd {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string shape_text(const ir::Value& v) {
  return v.type() == ir::ValueType::kTensor ? ir::tensor_annotation(v.meta()) : std::string("non-tensor");
}

/// The artifact must take the same user inputs, with the same symbolic shapes, as the traced model.
void check_same_signature(const ir::ExportedProgram& artifact, const ir::ExportedProgram& traced,
                          const VerifyArgs& args) {
  const auto a = user_input_values(artifact);
  const auto t = user_input_values(traced);
  PTX_USER_CHECK(a.size() == t.size(), ExitCode::kInput, "E_VERIFY_SIGNATURE")
      << args.artifact.string() << ": takes " << a.size() << " input tensors, but " << args.model.string()
      << " on " << args.inputs.string() << " takes " << t.size();
  for (size_t i = 0; i < a.size(); ++i) {
    PTX_USER_CHECK(shape_text(*a[i]) == shape_text(*t[i]), ExitCode::kInput, "E_VERIFY_SIGNATURE")
        << args.artifact.string() << ": input " << a[i]->name() << " is " << shape_text(*a[i]) << ", but "
        << args.model.string() << " on " << args.inputs.string() << " traces it as " << shape_text(*t[i])
        << " (pass the --dynamic flags the artifact was exported with)";
  }
}

}  // namespace

void run_verify_command(const VerifyArgs& args, Context& ctx, CommandOutput& out) {
  constexpr int kStages = 5;
  json timings = json::object();
  auto timed = [&](int index, const char* name, auto&& fn) {
    const auto t0 = Clock::now();
    ctx.progress.stage(index, kStages, name, fn);
    timings[name] = std::chrono::duration<double>(Clock::now() - t0).count();
  };
  out.document = {{"schema", "ptexport.verify/v1"},
                  {"artifact", args.artifact.string()},
                  {"model", args.model.string()},
                  {"inputs_file", args.inputs.string()},
                  {"dynamic_flags", args.dynamic},
                  {"atol", args.atol},
                  {"rtol", args.rtol}};

  LoadedModel model;
  timed(1, "load model", [&] {
    model = load_model(args.model);
    return model.kind;
  });
  Inputs inputs;
  timed(2, "load inputs", [&] {
    MethodChoice c = choose_method(model.module, args.model, args.inputs, args.dynamic,
                                   args.method.empty() ? std::nullopt : std::optional<std::string>(args.method));
    inputs = std::move(c.inputs);
    return std::to_string(inputs.sets.at(0).tensors.size()) + " tensors" + (c.name == "forward" ? "" : ", method " + c.name);
  });
  std::optional<TraceResult> trace;
  timed(3, "trace", [&] {
    if (!args.allow_unsafe_ops) {
      refuse_ops(refused_ops(model.module, inputs.method), args.model.string(), "--allow-unsafe-ops");
    }
    trace.emplace(trace_module(model, inputs));
    return std::to_string(trace->env.symbols().size()) + " symbols, " + std::to_string(trace->env.guards().size()) +
           " guards";
  });
  ir::ExportedProgram artifact;
  timed(4, "read artifact", [&] {
    artifact = serialize::read_pt2(args.artifact);
    if (!args.allow_unsafe_ops) refuse_ops(refused_ops(artifact), args.artifact.string(), "--allow-unsafe-ops");
    check_same_signature(artifact, trace->program, args);
    return std::to_string(artifact.range_constraints.size()) + " symbols";
  });
  VerifyResult result;
  timed(5, "verify", [&] {
    ptx::VerifyOptions vo;
    vo.atol = args.atol;
    vo.rtol = args.rtol;
    vo.element_budget = args.element_budget;
    const auto points = choose_points(trace->env, artifact.range_constraints, trace->program, args.element_budget);
    result = verify_program(trace->program, model, inputs, trace->env, points, vo, &artifact);
    int ok = 0, skipped = 0;
    for (const VerifyCase& c : result.cases) {
      ok += c.ok;
      skipped += c.skipped;
    }
    return std::to_string(ok) + "/" + std::to_string(result.cases.size()) + " points match" +
           (skipped ? ", " + std::to_string(skipped) + " skipped" : "");
  });
  out.document["verification"] = result.to_json();
  out.document["timings"] = timings;

  std::ostringstream text;
  for (const VerifyCase& c : result.cases) {
    text << c.point.label << ": " << (c.skipped ? "skipped" : c.ok ? "ok" : "MISMATCH");
    if (!c.skipped) text << " (max abs err " << c.max_abs_err << ", max rel err " << c.max_rel_err << ")";
    if (!c.note.empty()) text << ": " << c.note;
    text << "\n";
  }
  out.text = text.str();
  if (!result.ok()) {
    std::string first;
    for (const VerifyCase& c : result.cases) {
      if (!c.ok && !c.skipped) {
        first = c.point.label + ": " + c.note;
        break;
      }
    }
    PTX_USER_FAIL(ExitCode::kVerifyMismatch, "E_VERIFY_MISMATCH")
        << args.artifact.string() << " differs from the eager model (" << first
        << "); --atol/--rtol set the tolerances, --json lists every point";
  }
}

}  // namespace ptx::cmd
