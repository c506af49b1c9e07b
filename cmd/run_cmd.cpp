// cmd/run_cmd.cpp: `ptexport run ARTIFACT.pt2 INPUTS` (docs/commands/run.md).
//
// An artifact records the structure of forward's arguments (its pytree spec) but not their
// names, so the inputs are bound by position: the schema that lib/inputs.h binds to is made from
// the artifact's spec, with the names inputs.json itself uses for its positional arguments and the
// artifact's keyword names. Non-tensor arguments were specialized at export: their recorded value
// is the default, and a different value is an input error. The tensors are checked against the
// artifact's recorded ranges (lib/interpreter.h check_inputs) before the program runs.
#include <ATen/ATen.h>
#include <ATen/core/function_schema.h>
#include <ATen/core/jit_type.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <set>
#include <sstream>

#include "cmd/commands.h"
#include "cmd/report.h"
#include "cmd/stages.h"
#include "ir/graph.h"
#include "lib/inputs.h"
#include "lib/interpreter.h"
#include "lib/op_policy.h"
#include "lib/torch_convert.h"
#include "serialize/pt2_reader.h"
#include "shapes/error.h"

namespace ptx::cmd {
namespace {

using nlohmann::json;

/// The names inputs.json uses: its positional arguments (of `args`, or of the first of `samples`;
/// "" where it gives none) and its keyword arguments, in file order. Unreadable JSON is left to
/// load_inputs to report.
struct JsonNames {
  std::vector<std::string> positional, keywords;
};

JsonNames json_names(const std::filesystem::path& file) {
  JsonNames names;
  std::ifstream f(file);
  if (!f) return names;
  const json doc = json::parse(f, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return names;
  const json* set = &doc;
  if (!doc.contains("args") && doc.contains("samples") && doc["samples"].is_array() && !doc["samples"].empty()) {
    set = &doc["samples"][0];
  }
  if (!set->is_object()) return names;
  if (set->contains("args") && (*set)["args"].is_array()) {
    for (const json& a : (*set)["args"]) {
      names.positional.push_back(a.is_object() && a.contains("name") && a["name"].is_string() ? a["name"].get<std::string>()
                                                                                                : "");
    }
  }
  if (set->contains("kwargs") && (*set)["kwargs"].is_object()) {
    for (const auto& [key, value] : (*set)["kwargs"].items()) names.keywords.push_back(key);
  }
  return names;
}

c10::TypePtr constant_type(const json& v) {
  if (v.is_boolean()) return c10::BoolType::get();
  if (v.is_number_integer()) return c10::IntType::get();
  if (v.is_number()) return c10::FloatType::get();
  if (v.is_string()) return c10::StringType::get();
  return c10::NoneType::get();
}

c10::IValue constant_ivalue(const json& v) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) return v.get<std::string>();
  return c10::IValue();
}

/// The TorchScript type of one argument of the artifact's input spec.
c10::TypePtr type_of(const ir::PyTree& t) {
  switch (t.kind) {
    case ir::PyTree::Kind::kLeaf: return c10::TensorType::get();
    case ir::PyTree::Kind::kConstant: return constant_type(json::parse(t.constant_json, nullptr, false));
    case ir::PyTree::Kind::kNone: return c10::OptionalType::create(c10::TensorType::get());
    case ir::PyTree::Kind::kTuple: {
      std::vector<c10::TypePtr> elems;
      for (const ir::PyTree& c : t.children) elems.push_back(type_of(c));
      return c10::TupleType::create(elems);
    }
    case ir::PyTree::Kind::kList: return c10::ListType::create(t.children.empty() ? c10::TensorType::get() : type_of(t.children[0]));
    case ir::PyTree::Kind::kDict:
      return c10::DictType::create(c10::StringType::get(),
                                   t.children.empty() ? c10::TensorType::get() : type_of(t.children[0]));
  }
  return c10::AnyType::get();
}

c10::Argument argument(const std::string& name, const ir::PyTree& t, bool kwarg_only) {
  std::optional<c10::IValue> default_value;
  if (t.kind == ir::PyTree::Kind::kConstant) default_value = constant_ivalue(json::parse(t.constant_json, nullptr, false));
  if (t.kind == ir::PyTree::Kind::kNone) default_value = c10::IValue();
  return c10::Argument(name, type_of(t), std::nullopt, default_value, kwarg_only);
}

/// forward's schema as the artifact sees it. Names: inputs.json's positional names by position;
/// then a tensor argument is named after its placeholder (torch names those after the argument);
/// the other arguments take, in order, the keyword names of inputs.json that no argument has yet
/// (TorchScript has no keyword-only arguments, so an export records keywords by position).
c10::FunctionSchema schema_of(const ir::ExportedProgram& program, const JsonNames& names) {
  const auto& children = program.args_spec.children;
  std::vector<std::string> arg_names(children.size());
  std::set<std::string> used;
  for (size_t i = 0; i < children.size(); ++i) {
    if (i < names.positional.size() && !names.positional[i].empty()) {
      arg_names[i] = names.positional[i];
    } else if (children[i].kind == ir::PyTree::Kind::kLeaf && !children[i].leaf.empty()) {
      arg_names[i] = children[i].leaf;
    }
    if (!arg_names[i].empty()) used.insert(arg_names[i]);
  }
  size_t next_keyword = 0;
  for (size_t i = 0; i < children.size(); ++i) {
    if (!arg_names[i].empty()) continue;
    while (next_keyword < names.keywords.size() && used.count(names.keywords[next_keyword])) ++next_keyword;
    arg_names[i] = next_keyword < names.keywords.size() ? names.keywords[next_keyword++] : "arg" + std::to_string(i);
    used.insert(arg_names[i]);
  }
  std::vector<c10::Argument> args;
  for (size_t i = 0; i < children.size(); ++i) args.push_back(argument(arg_names[i], children[i], false));
  for (size_t i = 0; i < program.kwargs_spec.children.size() && i < program.kwargs_spec.keys.size(); ++i) {
    args.push_back(argument(program.kwargs_spec.keys[i], program.kwargs_spec.children[i], true));
  }
  return c10::FunctionSchema("forward", "", std::move(args), {});
}

std::string ivalue_text(const c10::IValue& v) {
  if (v.isInt()) return std::to_string(v.toInt());
  if (v.isDouble()) return json(v.toDouble()).dump();
  if (v.isBool()) return v.toBool() ? "true" : "false";
  if (v.isString()) return json(v.toStringRef()).dump();
  if (v.isNone()) return "null";
  return v.tagKind();
}

/// Non-tensor inputs must equal what the artifact was specialized to.
void check_constants(const ir::PyTree& spec, const c10::IValue& v, const std::string& path) {
  switch (spec.kind) {
    case ir::PyTree::Kind::kConstant: {
      const c10::IValue want = constant_ivalue(json::parse(spec.constant_json, nullptr, false));
      const bool same = (want.isInt() && v.isInt() && want.toInt() == v.toInt()) ||
                        (want.isDouble() && (v.isDouble() || v.isInt()) && want.toDouble() == v.toScalar().toDouble()) ||
                        (want.isBool() && v.isBool() && want.toBool() == v.toBool()) ||
                        (want.isString() && v.isString() && want.toStringRef() == v.toStringRef()) ||
                        (want.isNone() && v.isNone());
      PTX_USER_CHECK(same, ExitCode::kInput, "E_RUN_CONSTANT")
          << "input " << path << ": the artifact was exported with " << path << " = " << spec.constant_json
          << " (non-tensor inputs are specialized at export); got " << ivalue_text(v);
      return;
    }
    case ir::PyTree::Kind::kTuple:
    case ir::PyTree::Kind::kList:
      if (v.isTuple() || v.isList()) {
        std::vector<c10::IValue> elems;
        if (v.isTuple()) {
          for (const auto& e : v.toTupleRef().elements()) elems.push_back(e);
        } else {
          for (const auto& e : v.toListRef()) elems.push_back(e);
        }
        PTX_USER_CHECK(elems.size() == spec.children.size(), ExitCode::kInput, "E_RUN_STRUCTURE")
            << "input " << path << ": the artifact expects " << spec.children.size() << " elements, got " << elems.size();
        for (size_t i = 0; i < elems.size(); ++i) check_constants(spec.children[i], elems[i], path + "[" + std::to_string(i) + "]");
      }
      return;
    default: return;
  }
}

/// Output paths from the artifact's out_spec: "output", "output[0]", "output['k']".
void output_paths(const ir::PyTree& t, const std::string& path, std::vector<std::string>& out) {
  switch (t.kind) {
    case ir::PyTree::Kind::kLeaf: out.push_back(path); return;
    case ir::PyTree::Kind::kTuple:
    case ir::PyTree::Kind::kList:
      for (size_t i = 0; i < t.children.size(); ++i) output_paths(t.children[i], path + "[" + std::to_string(i) + "]", out);
      return;
    case ir::PyTree::Kind::kDict:
      for (size_t i = 0; i < t.children.size(); ++i) {
        output_paths(t.children[i], path + "['" + (i < t.keys.size() ? t.keys[i] : std::to_string(i)) + "']", out);
      }
      return;
    default: return;
  }
}

json tensor_values(const at::Tensor& t) {
  if (t.dim() == 0) {
    if (t.is_floating_point()) return t.item<double>();
    if (t.scalar_type() == at::kBool) return t.item<bool>();
    return t.item<int64_t>();
  }
  json arr = json::array();
  for (int64_t i = 0; i < t.size(0); ++i) arr.push_back(tensor_values(t[i]));
  return arr;
}

/// "float32", "int64", ... (ir::DType is numbered as c10::ScalarType).
std::string dtype_text(const at::Tensor& t) { return ir::dtype_name(static_cast<ir::DType>(t.scalar_type())); }

json summarize(const at::Tensor& t, const std::string& path) {
  json s = {{"path", path},
            {"dtype", dtype_text(t)},
            {"shape", t.sizes().vec()}};
  if (t.numel() > 0 && !t.is_complex()) {
    const at::Tensor d = t.to(at::kDouble);
    if (t.is_floating_point()) {
      const at::Tensor finite = d.masked_select(at::isfinite(d));
      s["nan"] = at::isnan(d).sum().item<int64_t>();
      s["inf"] = at::isinf(d).sum().item<int64_t>();
      if (finite.numel() > 0) {
        s["min"] = finite.min().item<double>();
        s["max"] = finite.max().item<double>();
        s["mean"] = finite.mean().item<double>();
      }
    } else {
      s["min"] = d.min().item<double>();
      s["max"] = d.max().item<double>();
    }
  }
  return s;
}

std::string format_number(double v) {
  std::ostringstream os;
  os.precision(6);
  os << v;
  return os.str();
}

}  // namespace

void run_run_command(const RunArgs& args, Context& ctx, CommandOutput& out) {
  StageRunner stages(stage_observer(ctx), 3);
  const ir::ExportedProgram program = stages.run("read artifact", [&](std::string& detail) {
    ir::ExportedProgram p = serialize::read_pt2(args.artifact);
    if (!args.allow_unsafe_ops) refuse_ops(refused_ops(p), args.artifact.string(), "--allow-unsafe-ops");
    detail = std::to_string(p.graph->nodes().size()) + " nodes";
    return p;
  });

  std::vector<at::Tensor> flat;
  stages.run("load inputs", [&](std::string& detail) {
    const Inputs inputs = load_inputs(args.inputs, {}, schema_of(program, json_names(args.inputs)));
    const SampleSet& set = inputs.sets.at(0);
    for (size_t i = 0; i < set.args.size() && i < program.args_spec.children.size(); ++i) {
      check_constants(program.args_spec.children[i], set.args[i], i < set.names.size() ? set.names[i] : "");
    }
    for (const c10::IValue& v : set.args) flatten_tensors(v, flat);
    check_inputs(program, flat);
    detail = std::to_string(flat.size()) + " tensors, within the artifact's ranges";
  });

  const std::vector<at::Tensor> results = stages.run("run", [&](std::string& detail) {
    std::vector<at::Tensor> r = run_program(program, flat);
    detail = std::to_string(r.size()) + " outputs";
    return r;
  });

  std::vector<std::string> paths;
  output_paths(program.out_spec, "output", paths);
  json outputs = json::array();
  std::ostringstream text;
  for (size_t i = 0; i < results.size(); ++i) {
    const std::string path = i < paths.size() ? paths[i] : "output[" + std::to_string(i) + "]";
    json s = summarize(results[i], path);
    text << path << ": " << s["dtype"].get<std::string>() << results[i].sizes();
    if (s.contains("min")) {
      text << "  min " << format_number(s["min"]) << "  max " << format_number(s["max"]);
      if (s.contains("mean")) text << "  mean " << format_number(s["mean"]);
    }
    if (s.value("nan", 0) > 0) text << "  nan " << s["nan"].get<int64_t>();
    if (s.value("inf", 0) > 0) text << "  inf " << s["inf"].get<int64_t>();
    text << "\n";
    if (args.values) {
      s["values"] = tensor_values(results[i].contiguous());
      text << results[i] << "\n";
    }
    outputs.push_back(s);
  }
  json inputs = json::array();
  for (const at::Tensor& t : flat) {
    inputs.push_back({{"dtype", dtype_text(t)}, {"shape", t.sizes().vec()}});
  }
  out.document = {{"schema", "ptexport.run/v1"},
                  {"artifact", args.artifact.string()},
                  {"inputs_file", args.inputs.string()},
                  {"inputs", inputs},
                  {"outputs", outputs},
                  {"timings", timings_json(stages.timings())}};
  out.text = text.str();
}

}  // namespace ptx::cmd
