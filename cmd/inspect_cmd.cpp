// cmd/inspect_cmd.cpp: `ptexport inspect ARTIFACT.pt2` (docs/commands/inspect.md).
//
// Describes an artifact from what serialize::read_pt2 gives back: the signature (every placeholder
// with its kind, dtype and symbolic shape; every output), the symbols with their ranges, sample
// values and the input dimensions that use them, the runtime assertions in the graph (the guards
// the artifact checks when it runs), the op histogram, where the graph's nodes came from (the
// source files of their stack traces), and the graph as torch's print(ep) shows it.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "cmd/commands.h"
#include "cmd/stages.h"
#include "ir/printer.h"
#include "lib/op_policy.h"
#include "serialize/pt2_reader.h"
#include "shapes/interval.h"

namespace ptx::cmd {
namespace {

using nlohmann::json;

const char* input_kind_name(ir::InputKind k) {
  switch (k) {
    case ir::InputKind::kUserInput: return "user_input";
    case ir::InputKind::kParameter: return "parameter";
    case ir::InputKind::kBuffer: return "buffer";
    case ir::InputKind::kConstantTensor: return "constant_tensor";
  }
  return "?";
}

const char* output_kind_name(ir::OutputKind k) {
  switch (k) {
    case ir::OutputKind::kUserOutput: return "user_output";
    case ir::OutputKind::kBufferMutation: return "buffer_mutation";
    case ir::OutputKind::kUserInputMutation: return "user_input_mutation";
  }
  return "?";
}

/// The value's type as print(ep) annotates it: "f32[s0, 4]", "Sym(s0)", "int".
std::string annotation(const ir::Value& v) {
  switch (v.type()) {
    case ir::ValueType::kTensor: return ir::tensor_annotation(v.meta());
    case ir::ValueType::kSymInt: return "Sym(" + v.sym().str() + ")";
    case ir::ValueType::kSymFloat: return "SymFloat";
    case ir::ValueType::kSymBool: return "SymBool";
    case ir::ValueType::kInt: return "int";
    case ir::ValueType::kFloat: return "float";
    case ir::ValueType::kBool: return "bool";
    case ir::ValueType::kNone: return "None";
  }
  return "?";
}

void collect_symbols(const shapes::SymExpr& e, std::set<std::string>& out) {
  if (e.is_symbol()) {
    out.insert(e.symbol_name());
    return;
  }
  for (const shapes::SymExpr& o : e.operands()) collect_symbols(o, out);
}

std::string pad(std::string s, size_t width) {
  if (s.size() < width) s += std::string(width - s.size(), ' ');
  return s;
}

std::string human_size(uintmax_t bytes) {
  std::ostringstream os;
  os.precision(3);
  if (bytes < 1024) {
    os << bytes << " bytes";
  } else if (bytes < 1024 * 1024) {
    os << static_cast<double>(bytes) / 1024 << " KiB";
  } else {
    os << static_cast<double>(bytes) / (1024 * 1024) << " MiB";
  }
  return os.str();
}

/// The string arguments of an assertion node: its message.
std::string assert_message(const ir::Node& n) {
  for (const ir::NamedArg& a : n.inputs()) {
    if (const auto* s = std::get_if<std::string>(&a.value)) return *s;
  }
  return "";
}

}  // namespace

json shape_json(const shapes::SymShape& shape) {
  json dims = json::array();
  for (const shapes::SymExpr& d : shape) {
    if (auto c = d.as_const()) {
      dims.push_back(*c);
    } else {
      dims.push_back(d.str());
    }
  }
  return dims;
}

/// Warnings for what a hand-made or damaged artifact may hold and torch never writes: a symbol whose
/// range is empty (min > max: no input satisfies it), an input size that overflows 64 bits within
/// its symbols' ranges.
void comment_on_ranges(const ir::ExportedProgram& program, std::vector<std::string>& warnings) {
  for (const auto& [name, range] : program.range_constraints) {
    if (range.max && range.min > *range.max) {
      warnings.push_back("symbol " + name + " has min " + std::to_string(range.min) + " > max " +
                         std::to_string(*range.max) + ": no input satisfies this artifact's ranges");
    }
  }
  const shapes::SymbolBounds bounds = [&](shapes::SymExpr s) {
    const auto it = program.range_constraints.find(s.symbol_name());
    if (it == program.range_constraints.end()) return shapes::Interval::all();
    return shapes::Interval{it->second.min, it->second.max};
  };
  for (const ir::Value* v : program.graph->placeholders()) {
    if (v->type() != ir::ValueType::kTensor) continue;
    for (size_t d = 0; d < v->meta().sizes.size(); ++d) {
      const shapes::SymExpr& e = v->meta().sizes[d];
      std::set<std::string> syms;
      collect_symbols(e, syms);
      const bool bounded = !syms.empty() && std::all_of(syms.begin(), syms.end(), [&](const std::string& s) {
        const auto it = program.range_constraints.find(s);
        return it != program.range_constraints.end() && it->second.max.has_value();
      });
      const shapes::Interval b = shapes::bounds_of(e, bounds);
      if (bounded && !b.empty() && (!b.hi || !b.lo)) {
        warnings.push_back("size " + e.str() + " of " + v->name() + "." + std::to_string(d) +
                           " overflows 64 bits within its symbols' ranges");
      }
    }
  }
}

void run_inspect_command(const InspectArgs& args, Context& ctx, CommandOutput& out) {
  std::map<std::string, int64_t> hints;
  StageRunner stages(stage_observer(ctx), 1);
  const ir::ExportedProgram program = stages.run("read artifact", [&](std::string& detail) {
    ir::ExportedProgram p = serialize::read_pt2(args.artifact, &hints);
    detail = std::to_string(p.graph->nodes().size()) + " nodes, " + std::to_string(p.range_constraints.size()) +
             " symbols";
    return p;
  });
  const ir::Graph& g = *program.graph;
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(args.artifact, ec);

  json doc = {{"schema", "ptexport.inspect/v1"}, {"artifact", args.artifact.string()}};
  if (!ec) doc["size_bytes"] = size;

  // Signature.
  json inputs = json::array();
  std::map<std::string, std::vector<std::string>> used_by;  // symbol -> "x.0"
  for (size_t i = 0; i < g.placeholders().size(); ++i) {
    const ir::Value& v = *g.placeholders()[i];
    const ir::InputSpec spec = i < program.input_specs.size() ? program.input_specs[i] : ir::InputSpec{};
    json in = {{"name", v.name()}, {"kind", input_kind_name(spec.kind)}, {"type", annotation(v)}};
    if (!spec.target.empty()) in["target"] = spec.target;
    if (v.type() == ir::ValueType::kTensor) {
      in["dtype"] = ir::dtype_name(v.meta().dtype);
      in["shape"] = shape_json(v.meta().sizes);
      if (spec.kind == ir::InputKind::kUserInput) {
        for (size_t d = 0; d < v.meta().sizes.size(); ++d) {
          std::set<std::string> syms;
          collect_symbols(v.meta().sizes[d], syms);
          for (const std::string& s : syms) used_by[s].push_back(v.name() + "." + std::to_string(d));
        }
      }
    }
    if (spec.kind == ir::InputKind::kBuffer) in["persistent"] = spec.persistent;
    inputs.push_back(in);
  }
  json outputs = json::array();
  for (size_t i = 0; i < g.outputs().size(); ++i) {
    const ir::Value& v = *g.outputs()[i];
    const ir::OutputSpec spec = i < program.output_specs.size() ? program.output_specs[i] : ir::OutputSpec{};
    json o = {{"name", v.name()}, {"kind", output_kind_name(spec.kind)}, {"type", annotation(v)}};
    if (!spec.target.empty()) o["target"] = spec.target;
    if (v.type() == ir::ValueType::kTensor) {
      o["dtype"] = ir::dtype_name(v.meta().dtype);
      o["shape"] = shape_json(v.meta().sizes);
    }
    outputs.push_back(o);
  }
  doc["inputs"] = inputs;
  doc["outputs"] = outputs;

  // Symbols. One no input dimension gives is read from data (unbacked: item(), nonzero's count):
  // the node that makes it is named.
  std::map<std::string, const ir::Node*> made_by;
  for (const auto& n : g.nodes()) {
    if (n->kind() != ir::NodeKind::kCall) continue;
    for (const ir::Value* v : n->outputs()) {
      std::vector<shapes::SymExpr> made;
      if (v->type() == ir::ValueType::kTensor && v->has_meta()) made = v->meta().sizes;
      if (v->type() == ir::ValueType::kSymInt && v->has_sym()) made.push_back(v->sym());
      for (const shapes::SymExpr& e : made) {
        if (e.is_symbol()) made_by.emplace(e.symbol_name(), n.get());
      }
    }
  }
  json symbols = json::array();
  for (const auto& [name, range] : program.range_constraints) {
    json s = {{"name", name},
              {"min", range.min == shapes::Range::kNoMin ? json(nullptr) : json(range.min)},
              {"max", range.max ? json(*range.max) : json(nullptr)}};
    if (auto it = hints.find(name); it != hints.end()) s["sample"] = it->second;
    s["used_by"] = used_by.count(name) ? json(used_by[name]) : json::array();
    const auto by = made_by.find(name);
    const bool unbacked = !used_by.count(name) && by != made_by.end();
    s["kind"] = unbacked ? "unbacked" : "input";
    if (unbacked) s["defined_by"] = {{"node", by->second->name()}, {"op", by->second->target()}};
    symbols.push_back(s);
  }
  doc["symbols"] = symbols;
  comment_on_ranges(program, out.warnings);
  for (const auto& [op, reason] : refused_ops(program)) {
    out.warnings.push_back("op " + op + " is not run by `run` and `verify` without --allow-unsafe-ops: " + reason);
  }

  // Subgraphs of higher-order ops (cond's branches).
  json subgraphs = json::array();
  for (const auto& n : g.nodes()) {
    for (const ir::NamedArg& a : n->inputs()) {
      const auto* ga = std::get_if<ir::GraphArg>(&a.value);
      if (!ga || !ga->graph) continue;
      std::map<std::string, int> ops;
      for (const auto& sn : ga->graph->nodes()) {
        if (sn->kind() == ir::NodeKind::kCall) ++ops[sn->target()];
      }
      subgraphs.push_back({{"name", ga->name},
                           {"node", n->name()},
                           {"op", n->target()},
                           {"inputs", ga->graph->placeholders().size()},
                           {"outputs", ga->graph->outputs().size()},
                           {"op_histogram", ops}});
    }
  }
  doc["subgraphs"] = subgraphs;

  // Runtime assertions, op histogram, provenance.
  json guards = json::array();
  std::map<std::string, int> histogram;
  std::set<std::string> files;
  int calls = 0, with_source = 0;
  for (const auto& n : g.nodes()) {
    if (n->kind() != ir::NodeKind::kCall) continue;
    ++calls;
    ++histogram[n->target()];
    if (n->target().find("_assert") != std::string::npos) {
      guards.push_back({{"node", n->name()}, {"op", n->target()}, {"message", assert_message(*n)}});
    }
    const ir::NodeMeta& m = n->meta();
    if (!m.stack_trace.empty() || !m.source_file.empty()) {
      ++with_source;
      if (!m.source_file.empty()) files.insert(m.source_file);
    }
  }
  doc["guards"] = guards;
  doc["op_histogram"] = histogram;
  doc["provenance"] = {{"nodes", calls},
                       {"nodes_with_stack_trace", with_source},
                       {"source_files", std::vector<std::string>(files.begin(), files.end())}};
  doc["module_type"] = program.module_type;
  const std::string graph_text = ir::to_string(program);
  doc["graph"] = graph_text;

  // Text.
  std::ostringstream t;
  t << args.artifact.string() << ": " << (ec ? std::string("?") : human_size(size)) << ", "
    << program.range_constraints.size() << " symbol" << (program.range_constraints.size() == 1 ? "" : "s") << ", "
    << calls << " op calls" << (program.module_type.empty() ? "" : ", module " + program.module_type) << "\n";
  t << "\nInputs:\n";
  for (const json& in : inputs) {
    t << "  " << pad(in["name"].get<std::string>(), 24) << " " << pad(in["type"].get<std::string>(), 20) << " "
      << in["kind"].get<std::string>() << (in.contains("target") ? " " + in["target"].get<std::string>() : "") << "\n";
  }
  t << "Outputs:\n";
  for (const json& o : outputs) {
    t << "  " << pad(o["name"].get<std::string>(), 24) << " " << pad(o["type"].get<std::string>(), 20) << " "
      << o["kind"].get<std::string>() << (o.contains("target") ? " " + o["target"].get<std::string>() : "") << "\n";
  }
  t << "\nSymbols:\n";
  if (symbols.empty()) t << "  (none: every dimension is static)\n";
  for (const json& s : symbols) {
    const std::string range =
        "[" + (s["min"].is_null() ? std::string("-int_oo") : std::to_string(s["min"].get<int64_t>())) + ", " +
        (s["max"].is_null() ? std::string("int_oo") : std::to_string(s["max"].get<int64_t>())) + "]";
    t << "  " << pad(s["name"].get<std::string>(), 6) << " " << pad(range, 16);
    if (s.contains("sample")) t << " sample " << pad(std::to_string(s["sample"].get<int64_t>()), 6);
    std::string users;
    for (const json& u : s["used_by"]) users += (users.empty() ? "" : ", ") + u.get<std::string>();
    t << (users.empty() ? "" : " used by " + users);
    if (s.contains("defined_by")) {
      t << " read from data by " << s["defined_by"]["node"].get<std::string>() << " ("
        << s["defined_by"]["op"].get<std::string>() << ")";
    }
    t << "\n";
  }
  if (!subgraphs.empty()) {
    t << "\nSubgraphs:\n";
    for (const json& sg : subgraphs) {
      int count = 0;
      std::string ops;
      for (const auto& [op, k] : sg["op_histogram"].items()) {
        count += k.get<int>();
        ops += (ops.empty() ? "" : ", ") + op;
      }
      t << "  " << pad(sg["name"].get<std::string>(), 16) << " of " << sg["node"].get<std::string>() << " ("
        << sg["op"].get<std::string>() << "): " << sg["inputs"].get<size_t>() << " inputs, " << count << " op calls"
        << (ops.empty() ? "" : " (" + ops + ")") << "\n";
    }
  }
  t << "\nRuntime assertions:\n";
  if (guards.empty()) t << "  (none)\n";
  for (const json& gd : guards) t << "  " << gd["node"].get<std::string>() << ": " << gd["message"].get<std::string>() << "\n";
  t << "\nOp histogram:\n";
  std::vector<std::pair<int, std::string>> by_count;
  for (const auto& [op, count] : histogram) by_count.emplace_back(-count, op);
  std::sort(by_count.begin(), by_count.end());
  for (const auto& [neg, op] : by_count) {
    const std::string count = std::to_string(-neg);
    t << "  " << std::string(count.size() < 5 ? 5 - count.size() : 0, ' ') << count << "  " << op << "\n";
  }
  t << "\nProvenance: " << with_source << " of " << calls << " op calls carry a stack trace";
  if (!files.empty()) {
    std::string list;
    for (const std::string& f : files) list += (list.empty() ? "" : ", ") + f;
    t << " (" << list << ")";
  }
  t << "\n";
  if (args.graph) t << "\n" << graph_text << (graph_text.empty() || graph_text.back() == '\n' ? "" : "\n");
  out.text = t.str();
  out.document = std::move(doc);
}

}  // namespace ptx::cmd
