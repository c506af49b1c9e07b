// cmd/verify_cmd.cpp: `ptexport verify ARTIFACT.pt2 MODEL INPUTS` (docs/commands/verify.md).
//
// The artifact is compared with the eager model the way export's verification stage compares the
// program it is about to write (lib/verify.h): at the sample, and at each symbol's min, max and an
// interior value (within the artifact's range constraints, adjusted to satisfy the guards). The
// model is traced on INPUTS (with the same --dynamic flags) to know which input dimension each
// symbol is and which guards hold; the artifact must have the same user inputs with the same
// symbolic shapes, which is the case for an artifact ptexport exported from this model and inputs.
#include <c10/util/ScopeExit.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <sstream>

#include "cmd/commands.h"
#include "cmd/report.h"
#include "cmd/stages.h"
#include "ir/printer.h"
#include "lib/interpreter.h"
#include "lib/method.h"
#include "lib/op_policy.h"
#include "lib/teardown.h"
#include "lib/verify.h"
#include "serialize/pt2_reader.h"
#include "shapes/error.h"

namespace ptx::cmd {
namespace {

using nlohmann::json;

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
  StageRunner stages(stage_observer(ctx), 5);
  out.document = {{"schema", "ptexport.verify/v1"},
                  {"artifact", args.artifact.string()},
                  {"model", args.model.string()},
                  {"inputs_file", args.inputs.string()},
                  {"dynamic_flags", args.dynamic},
                  {"atol", args.atol},
                  {"rtol", args.rtol}};

  LoadAndTraceOptions lo;
  lo.allow_unsafe_ops = args.allow_unsafe_ops;
  lo.method = args.method;
  // The model, its trace and the artifact outlive the command in ptexport's own process, which exits
  // without freeing them (lib/teardown.h), as export's do.
  auto traced = std::make_shared<Traced>(load_and_trace(stages, args.model, args.inputs, args.dynamic, lo));
  const auto keep_traced = c10::make_scope_exit([&] { keep_until_exit(std::shared_ptr<const void>(std::move(traced))); });
  const Traced& t = *traced;
  auto read = std::make_shared<const ir::ExportedProgram>(stages.run("read artifact", [&](std::string& detail) {
    ir::ExportedProgram a = serialize::read_pt2(args.artifact);
    if (!args.allow_unsafe_ops) refuse_ops(refused_ops(a), args.artifact.string(), "--allow-unsafe-ops");
    check_same_signature(a, t.trace.program, args);
    detail = std::to_string(a.range_constraints.size()) + " symbols";
    return a;
  }));
  const auto keep_read = c10::make_scope_exit([&] { keep_until_exit(std::shared_ptr<const void>(std::move(read))); });
  const ir::ExportedProgram& artifact = *read;
  const VerifyResult result = stages.run("verify", [&](std::string& detail) {
    ptx::VerifyOptions vo;
    vo.atol = args.atol;
    vo.rtol = args.rtol;
    vo.element_budget = args.element_budget;
    const auto points = choose_points(t.trace.env, artifact.range_constraints, t.trace.program, args.element_budget);
    VerifyResult r = verify_program(t.trace.program, t.model, t.inputs, t.trace.env, points, vo, &artifact);
    int ok = 0, skipped = 0;
    for (const VerifyCase& c : r.cases) {
      ok += c.ok;
      skipped += c.skipped;
    }
    detail = std::to_string(ok) + "/" + std::to_string(r.cases.size()) + " points match" +
             (skipped ? ", " + std::to_string(skipped) + " skipped" : "");
    return r;
  });
  out.document["verification"] = verification_json(result);
  out.document["timings"] = timings_json(stages.timings());

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
