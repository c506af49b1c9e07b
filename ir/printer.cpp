// ir/printer.cpp: torch-style text of graphs and programs. See ir/printer.h.
#include "ir/printer.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <regex>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

namespace ptx::ir {
namespace {

struct DTypeAbbr {
  DType t;
  const char* abbr;
};
// torch 2.14: {dt: dt.abbr for dt in torch._C._get_all_dtypes()}
constexpr std::array<DTypeAbbr, 13> kAbbrs = {{
    {DType::kUInt8, "u8"},     {DType::kInt8, "i8"},       {DType::kInt16, "i16"},   {DType::kInt32, "i32"},
    {DType::kInt64, "i64"},    {DType::kFloat16, "f16"},   {DType::kFloat32, "f32"}, {DType::kFloat64, "f64"},
    {DType::kComplex32, "c32"}, {DType::kComplex64, "c64"}, {DType::kComplex128, "c128"}, {DType::kBool, "b8"},
    {DType::kBFloat16, "bf16"},
}};

constexpr std::array<const char*, 8> kLayouts = {"torch.strided",    "torch.sparse_coo", "torch.sparse_csr",
                                                 "torch._mkldnn",    "torch.sparse_csc", "torch.sparse_bsr",
                                                 "torch.sparse_bsc", "torch.jagged"};
constexpr std::array<const char*, 4> kMemoryFormats = {"torch.contiguous_format", "torch.preserve_format",
                                                       "torch.channels_last", "torch.channels_last_3d"};

/// torch.fx's magic_methods for the _operator module.
struct OperatorFormat {
  const char* name;
  const char* infix;  // binary: " + "; unary: prefix "-"
  bool unary;
};
constexpr std::array<OperatorFormat, 21> kOperators = {{
    {"add", " + ", false},  {"sub", " - ", false},  {"mul", " * ", false},   {"floordiv", " // ", false},
    {"truediv", " / ", false}, {"mod", " % ", false}, {"pow", " ** ", false}, {"lshift", " << ", false},
    {"rshift", " >> ", false}, {"and_", " & ", false}, {"or_", " | ", false}, {"xor", " ^ ", false},
    {"eq", " == ", false},  {"ne", " != ", false},  {"lt", " < ", false},    {"gt", " > ", false},
    {"le", " <= ", false},  {"ge", " >= ", false},  {"pos", "+", true},      {"neg", "-", true},
    {"invert", "~", true},
}};

const OperatorFormat* operator_format(const std::string& target) {
  constexpr std::string_view kPrefix = "_operator.";
  if (target.rfind(kPrefix, 0) != 0) return nullptr;
  const std::string name = target.substr(kPrefix.size());
  for (const auto& op : kOperators) {
    if (name == op.name) return &op;
  }
  return nullptr;
}

std::string value_annotation(const Value& v) {
  switch (v.type()) {
    case ValueType::kTensor:
      return v.has_meta() ? tensor_annotation(v.meta()) : "";
    case ValueType::kSymInt:
      return v.has_sym() ? "Sym(" + v.sym().str() + ")" : "";
    case ValueType::kSymBool:
      return v.sym_bool() ? "Sym(" + v.sym_bool()->str() + ")" : "";
    case ValueType::kSymFloat:
      return v.float_symbol().empty() ? "" : "Sym(" + v.float_symbol() + ")";
    default:
      return "";
  }
}

std::string typed_name(const Value& v) {
  const std::string ann = value_annotation(v);
  return ann.empty() ? v.name() : v.name() + ": \"" + ann + "\"";
}

/// Positional arguments first, then kwarg-only ones, as FX prints args then kwargs.
std::vector<const NamedArg*> print_order(const Node& n) {
  std::vector<const NamedArg*> out;
  for (const NamedArg& a : n.inputs()) {
    if (!a.kwarg_only) out.push_back(&a);
  }
  for (const NamedArg& a : n.inputs()) {
    if (a.kwarg_only) out.push_back(&a);
  }
  return out;
}

std::string call_text(const Node& n) {
  const auto args = print_order(n);
  if (const OperatorFormat* op = operator_format(n.target())) {
    if (op->unary && args.size() == 1 && !args[0]->kwarg_only) return op->infix + arg_text(args[0]->value);
    if (!op->unary && args.size() == 2 && !args[0]->kwarg_only && !args[1]->kwarg_only) {
      return arg_text(args[0]->value) + op->infix + arg_text(args[1]->value);
    }
  }
  std::string out = target_text(n.target()) + "(";
  for (size_t i = 0; i < args.size(); ++i) {
    if (i) out += ", ";
    if (args[i]->kwarg_only) out += args[i]->name + " = ";
    out += arg_text(args[i]->value);
  }
  return out + ")";
}

/// The Values an argument reads, in order.
std::vector<Value*> arg_values(const ArgValue& value) {
  std::vector<Value*> r;
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, Value*>) {
          r.push_back(v);
        } else if constexpr (std::is_same_v<T, std::vector<Value*>>) {
          r.insert(r.end(), v.begin(), v.end());
        } else if constexpr (std::is_same_v<T, std::vector<std::optional<Value*>>>) {
          for (const auto& o : v) {
            if (o) r.push_back(*o);
          }
        } else if constexpr (std::is_same_v<T, std::vector<SymIntArg>>) {
          for (const auto& e : v) {
            if (const auto* p = std::get_if<Value*>(&e)) r.push_back(*p);
          }
        }
      },
      value);
  return r;
}

/// One printed line of the body; `defines` / `reads` are Values or Nodes (a multi-output node's
/// tuple, a no-output node), identified by address.
struct Line {
  std::string text;
  std::vector<const void*> reads;
  const void* defines = nullptr;
  std::string defines_name;
  const Node* node = nullptr;  // for the stack-trace summary; null for getitem lines
  bool is_output = false;
};

std::vector<Line> body_lines(const Graph& g) {
  std::vector<Line> lines;
  for (const auto& np : g.nodes()) {
    const Node& n = *np;
    if (n.kind() != NodeKind::kCall) continue;
    Line l;
    l.node = &n;
    for (const NamedArg* a : print_order(n)) {
      const std::vector<Value*> vs = arg_values(a->value);
      for (Value* v : vs) {
        if (std::find(l.reads.begin(), l.reads.end(), v) == l.reads.end()) l.reads.push_back(v);
      }
    }
    // A higher-order op (cond) prints as torch prints it: its subgraphs fetched from self first,
    // then the call, then one getitem per output.
    std::vector<const GraphArg*> subgraphs;
    for (const NamedArg& a : n.inputs()) {
      if (const auto* ga = std::get_if<GraphArg>(&a.value)) subgraphs.push_back(ga);
    }
    for (const GraphArg* ga : subgraphs) {
      Line fetch;
      fetch.text = ga->name + " = self." + ga->name;
      fetch.defines = ga;
      fetch.defines_name = ga->name;
      l.reads.push_back(ga);
      lines.push_back(std::move(fetch));
    }
    const bool single = n.outputs().size() == 1 && !n.returns_list() && subgraphs.empty();
    if (single) {
      l.defines = n.outputs()[0];
      l.defines_name = n.outputs()[0]->name();
      l.text = typed_name(*n.outputs()[0]) + " = " + call_text(n);
      lines.push_back(std::move(l));
      continue;
    }
    l.defines = &n;
    l.defines_name = n.name();
    l.text = n.name() + " = " + call_text(n);
    lines.push_back(std::move(l));
    for (size_t i = 0; i < n.outputs().size(); ++i) {
      Line item;
      item.reads = {&n};
      item.defines = n.outputs()[i];
      item.defines_name = n.outputs()[i]->name();
      item.text = typed_name(*n.outputs()[i]) + " = " + n.name() + "[" + std::to_string(i) + "]";
      lines.push_back(std::move(item));
    }
  }
  Line out;
  out.is_output = true;
  out.text = "return (";
  for (size_t i = 0; i < g.outputs().size(); ++i) {
    out.text += (i ? ", " : "") + g.outputs()[i]->name();
    out.reads.push_back(g.outputs()[i]);
  }
  out.text += g.outputs().size() == 1 ? ",)" : ")";
  lines.push_back(std::move(out));
  return lines;
}

std::string name_of(const void* p, const std::unordered_map<const void*, std::string>& names) {
  auto it = names.find(p);
  return it == names.end() ? "?" : it->second;
}

bool natural_less(const std::string& a, const std::string& b) {
  // "s2" < "s10": compare runs of digits by value.
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (std::isdigit(static_cast<unsigned char>(a[i])) && std::isdigit(static_cast<unsigned char>(b[j]))) {
      size_t i2 = i, j2 = j;
      while (i2 < a.size() && std::isdigit(static_cast<unsigned char>(a[i2]))) ++i2;
      while (j2 < b.size() && std::isdigit(static_cast<unsigned char>(b[j2]))) ++j2;
      std::string x = a.substr(i, i2 - i), y = b.substr(j, j2 - j);
      x.erase(0, std::min(x.find_first_not_of('0'), x.size() - 1));
      y.erase(0, std::min(y.find_first_not_of('0'), y.size() - 1));
      if (x.size() != y.size()) return x.size() < y.size();
      if (x != y) return x < y;
      i = i2;
      j = j2;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j || (a.size() - i == b.size() - j && a < b);
}

const char* input_kind_name(InputKind k) {
  switch (k) {
    case InputKind::kUserInput:
      return "USER_INPUT";
    case InputKind::kParameter:
      return "PARAMETER";
    case InputKind::kBuffer:
      return "BUFFER";
    case InputKind::kConstantTensor:
      return "CONSTANT_TENSOR";
  }
  return "?";
}

const char* output_kind_name(OutputKind k) {
  switch (k) {
    case OutputKind::kUserOutput:
      return "USER_OUTPUT";
    case OutputKind::kBufferMutation:
      return "BUFFER_MUTATION";
    case OutputKind::kUserInputMutation:
      return "USER_INPUT_MUTATION";
  }
  return "?";
}

std::string replace_newlines(const std::string& s, const std::string& with) {
  std::string out;
  for (char c : s) {
    if (c == '\n') {
      out += with;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string dtype_abbr(DType t) {
  for (const auto& a : kAbbrs) {
    if (a.t == t) return a.abbr;
  }
  return "dtype" + std::to_string(static_cast<int>(t));
}

std::optional<DType> dtype_from_abbr(const std::string& abbr) {
  for (const auto& a : kAbbrs) {
    if (abbr == a.abbr) return a.t;
  }
  return std::nullopt;
}

std::string tensor_annotation(const TensorMeta& meta) { return dtype_abbr(meta.dtype) + shapes::to_string(meta.sizes); }

std::string target_text(const std::string& target) {
  const auto colons = target.find("::");
  if (colons == std::string::npos) return target;
  return "torch.ops." + target.substr(0, colons) + "." + target.substr(colons + 2);
}

std::string python_float_repr(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  // Shortest round-trip digits, then Python's repr layout: fixed notation for 1e-4 <= |v| < 1e16,
  // else d.ddde[+-]XX.
  std::array<char, 64> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v, std::chars_format::scientific);
  (void)ec;
  const std::string sci(buf.data(), end);
  const auto e = sci.find('e');
  std::string mantissa = sci.substr(0, e);
  const int exp = std::stoi(sci.substr(e + 1));
  const bool neg = !mantissa.empty() && mantissa[0] == '-';
  if (neg) mantissa.erase(0, 1);
  std::string digits;
  for (char c : mantissa) {
    if (c != '.') digits += c;
  }
  std::string out;
  if (exp >= -4 && exp < 16) {
    if (exp < 0) {
      out = "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
    } else if (static_cast<size_t>(exp) + 1 >= digits.size()) {
      out = digits + std::string(static_cast<size_t>(exp) + 1 - digits.size(), '0') + ".0";
    } else {
      out = digits.substr(0, static_cast<size_t>(exp) + 1) + "." + digits.substr(static_cast<size_t>(exp) + 1);
    }
  }
  if (out.empty()) {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char ebuf[16];
    std::snprintf(ebuf, sizeof ebuf, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    out += ebuf;
  }
  return neg ? "-" + out : out;
}

std::string python_str_repr(const std::string& s) {
  const bool has_single = s.find('\'') != std::string::npos;
  const bool has_double = s.find('"') != std::string::npos;
  const char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, quote);
  for (unsigned char c : s) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c == quote) {
          out += '\\';
          out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f) {
          char hex[8];
          std::snprintf(hex, sizeof hex, "\\x%02x", c);
          out += hex;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + quote;
}

std::string layout_text(int layout) {
  if (layout >= 0 && layout < static_cast<int>(kLayouts.size())) return kLayouts[static_cast<size_t>(layout)];
  return "torch.layout(" + std::to_string(layout) + ")";
}

std::string memory_format_text(int memory_format) {
  if (memory_format >= 0 && memory_format < static_cast<int>(kMemoryFormats.size())) {
    return kMemoryFormats[static_cast<size_t>(memory_format)];
  }
  return "torch.memory_format(" + std::to_string(memory_format) + ")";
}

std::string arg_text(const ArgValue& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, NoneArg>) {
          return "None";
        } else if constexpr (std::is_same_v<T, bool>) {
          return v ? "True" : "False";
        } else if constexpr (std::is_same_v<T, int64_t>) {
          return std::to_string(v);
        } else if constexpr (std::is_same_v<T, double>) {
          return python_float_repr(v);
        } else if constexpr (std::is_same_v<T, std::string>) {
          return python_str_repr(v);
        } else if constexpr (std::is_same_v<T, Value*>) {
          return v->name();
        } else if constexpr (std::is_same_v<T, std::vector<SymIntArg>>) {
          std::string out = "[";
          for (size_t i = 0; i < v.size(); ++i) {
            if (i) out += ", ";
            if (const auto* c = std::get_if<int64_t>(&v[i])) {
              out += std::to_string(*c);
            } else {
              out += std::get<Value*>(v[i])->name();
            }
          }
          return out + "]";
        } else if constexpr (std::is_same_v<T, std::vector<Value*>>) {
          std::string out = "[";
          for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i]->name();
          return out + "]";
        } else if constexpr (std::is_same_v<T, std::vector<std::optional<Value*>>>) {
          std::string out = "[";
          for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + (v[i] ? (*v[i])->name() : std::string("None"));
          return out + "]";
        } else if constexpr (std::is_same_v<T, std::vector<double>>) {
          std::string out = "[";
          for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + python_float_repr(v[i]);
          return out + "]";
        } else if constexpr (std::is_same_v<T, std::vector<bool>>) {
          std::string out = "[";
          for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + std::string(v[i] ? "True" : "False");
          return out + "]";
        } else if constexpr (std::is_same_v<T, DTypeArg>) {
          return "torch." + dtype_name(v.v);
        } else if constexpr (std::is_same_v<T, LayoutArg>) {
          return layout_text(v.v);
        } else if constexpr (std::is_same_v<T, MemoryFormatArg>) {
          return memory_format_text(v.v);
        } else if constexpr (std::is_same_v<T, DeviceArg>) {
          const auto colon = v.v.find(':');
          if (colon == std::string::npos) return "device(type=" + python_str_repr(v.v) + ")";
          return "device(type=" + python_str_repr(v.v.substr(0, colon)) + ", index=" + v.v.substr(colon + 1) + ")";
        } else if constexpr (std::is_same_v<T, GraphArg>) {
          return v.name;
        }
      },
      value);
}

std::string stack_trace_summary(const std::string& stack_trace) {
  // torch.fx.graph._parse_stack_trace: the last `File "...", line N, in fn` line with a code line
  // after it.
  static const std::regex kFrame(R"re(^File "(.+)", line (\d+), in (.+)$)re");
  std::vector<std::string> lines;
  std::istringstream in(stack_trace);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  auto strip = [](const std::string& s) {
    const auto b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) return std::string();
    const auto e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
  };
  // torch strips the whole trace first, so a trailing blank line does not count as a code line.
  while (!lines.empty() && strip(lines.back()).empty()) lines.pop_back();
  for (size_t k = lines.size(); k-- > 1;) {
    const size_t idx = k - 1;
    std::smatch m;
    const std::string line = strip(lines[idx]);
    if (std::regex_match(line, m, kFrame)) {
      return "File: " + m[1].str() + ":" + m[2].str() + " in " + m[3].str() + ", code: " + strip(lines[idx + 1]);
    }
  }
  return "";
}

std::string to_string(const Graph& g) { return graph_class_text(g, "GraphModule"); }

std::string graph_class_text(const Graph& g, const std::string& class_name) {
  const std::vector<Line> lines = body_lines(g);
  std::unordered_map<const void*, std::string> names;
  std::unordered_set<const void*> has_users;
  for (const Line& l : lines) {
    if (l.defines) names[l.defines] = l.defines_name;
    for (const void* r : l.reads) has_users.insert(r);
  }
  for (const Value* p : g.placeholders()) names[p] = p->name();
  // Last uses, as FX computes them: walking backwards, the first line met that reads a value.
  std::unordered_set<const void*> seen;
  std::vector<std::vector<const void*>> frees(lines.size());
  for (size_t i = lines.size(); i-- > 0;) {
    for (const void* r : lines[i].reads) {
      if (seen.insert(r).second) frees[i].push_back(r);
    }
  }

  std::string body;
  std::optional<std::string> prev_summary;
  for (size_t i = 0; i < lines.size(); ++i) {
    const Line& l = lines[i];
    if (l.node != nullptr) {
      const std::string parsed = stack_trace_summary(l.node->meta().stack_trace);
      const std::string summary =
          "\n# " + (parsed.empty() ? std::string("No stacktrace found for following nodes") : parsed) + "\n";
      if (summary != prev_summary) {
        body += summary;
        prev_summary = summary;
      }
    }
    body += l.text;
    if (l.is_output) {
      body += "\n";
      continue;
    }
    std::vector<std::string> dead;
    for (const void* f : frees[i]) dead.push_back(name_of(f, names));
    if (l.defines && !has_users.count(l.defines)) dead.push_back(l.defines_name);
    if (!dead.empty()) {
      body += ";  ";
      for (const std::string& d : dead) body += d + " = ";
      body += "None";
    }
    body += "\n";
  }
  // FX: strip leading newlines, indent the body, blank lines stay empty after _addindent.
  body.erase(0, body.find_first_not_of('\n'));
  std::string params = "self";
  for (const Value* p : g.placeholders()) params += ", " + typed_name(*p);
  std::string out = "class " + class_name + "(torch.nn.Module):\n    def forward(" + params + "):\n";
  std::istringstream in(body);
  for (std::string line; std::getline(in, line);) {
    out += line.empty() ? "\n" : "        " + line + "\n";
  }
  // Subgraphs of higher-order ops, as nested classes (torch's print_readable).
  for (const auto& np : g.nodes()) {
    for (const NamedArg& a : np->inputs()) {
      const auto* ga = std::get_if<GraphArg>(&a.value);
      if (!ga || !ga->graph) continue;
      std::istringstream sub(graph_class_text(*ga->graph, ga->name));
      out += "\n";
      for (std::string line; std::getline(sub, line);) out += line.empty() ? "\n" : "    " + line + "\n";
    }
  }
  return out;
}

std::string to_string(const ExportedProgram& p) {
  std::string sig = "\n# inputs\n";
  for (size_t i = 0; i < p.input_specs.size(); ++i) {
    const InputSpec& s = p.input_specs[i];
    if (i) sig += "\n";
    sig += s.arg + ": " + input_kind_name(s.kind);
    if (s.kind != InputKind::kUserInput) sig += " target='" + s.target + "'";
    if (s.kind == InputKind::kBuffer) sig += std::string(" persistent=") + (s.persistent ? "True" : "False");
  }
  sig += "\n\n# outputs\n";
  for (size_t i = 0; i < p.output_specs.size(); ++i) {
    const OutputSpec& s = p.output_specs[i];
    if (i) sig += "\n";
    sig += s.arg + ": " + output_kind_name(s.kind);
    if (s.kind != OutputKind::kUserOutput) sig += " target='" + s.target + "'";
  }
  sig += "\n";

  std::vector<std::pair<std::string, shapes::Range>> ranges(p.range_constraints.begin(), p.range_constraints.end());
  std::stable_sort(ranges.begin(), ranges.end(), [](const auto& a, const auto& b) { return natural_less(a.first, b.first); });
  std::string rc = "{";
  for (size_t i = 0; i < ranges.size(); ++i) rc += (i ? ", " : "") + ranges[i].first + ": VR" + ranges[i].second.str();
  rc += "}";

  return "ExportedProgram:\n    " + replace_newlines(to_string(*p.graph), "\n    ") + "\nGraph signature:" +
         replace_newlines(sig, "\n    ") + "\nRange constraints: " + rc + "\n";
}

}  // namespace ptx::ir
