// ir/graph.cpp: Graph construction and editing. See ir/graph.h.
#include "ir/graph.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <unordered_set>

#include "shapes/error.h"

namespace ptx::ir {
namespace {
struct DTypeName {
  DType t;
  const char* name;
};
constexpr std::array<DTypeName, 13> kDTypeNames = {{
    {DType::kUInt8, "uint8"},       {DType::kInt8, "int8"},         {DType::kInt16, "int16"},
    {DType::kInt32, "int32"},       {DType::kInt64, "int64"},       {DType::kFloat16, "float16"},
    {DType::kFloat32, "float32"},   {DType::kFloat64, "float64"},   {DType::kComplex32, "complex32"},
    {DType::kComplex64, "complex64"}, {DType::kComplex128, "complex128"}, {DType::kBool, "bool"},
    {DType::kBFloat16, "bfloat16"},
}};
}  // namespace

std::string dtype_name(DType t) {
  for (const auto& d : kDTypeNames) {
    if (d.t == t) return d.name;
  }
  return "dtype(" + std::to_string(static_cast<int>(t)) + ")";
}

std::optional<DType> dtype_from_name(const std::string& name) {
  for (const auto& d : kDTypeNames) {
    if (name == d.name) return d.t;
  }
  return std::nullopt;
}

const TensorMeta& Value::meta() const {
  PTX_INTERNAL_CHECK(meta_.has_value()) << "value " << name_ << " is not a tensor";
  return *meta_;
}

TensorMeta& Value::mutable_meta() {
  PTX_INTERNAL_CHECK(meta_.has_value()) << "value " << name_ << " is not a tensor";
  return *meta_;
}

std::vector<Value*> Node::input_values() const {
  std::vector<Value*> out;
  for (const NamedArg& a : inputs_) {
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, Value*>) {
            out.push_back(v);
          } else if constexpr (std::is_same_v<T, std::vector<Value*>>) {
            out.insert(out.end(), v.begin(), v.end());
          } else if constexpr (std::is_same_v<T, std::vector<std::optional<Value*>>>) {
            for (const auto& o : v) {
              if (o) out.push_back(*o);
            }
          } else if constexpr (std::is_same_v<T, std::vector<SymIntArg>>) {
            for (const auto& e : v) {
              if (const auto* p = std::get_if<Value*>(&e)) out.push_back(*p);
            }
          }
        },
        a.value);
  }
  return out;
}

std::string python_identifier(const std::string& text) {
  static const std::unordered_set<std::string> kKeywords = {
      "False", "None",   "True",    "and",      "as",   "assert", "async",  "await",    "break",
      "class", "continue", "def",   "del",      "elif", "else",   "except", "finally",  "for",
      "from",  "global", "if",      "import",   "in",   "is",     "lambda", "nonlocal", "not",
      "or",    "pass",   "raise",   "return",   "try",  "while",  "with",   "yield"};
  if (text.empty()) return "v";
  std::string out = text;
  for (char& c : out) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
  }
  if (std::isdigit(static_cast<unsigned char>(out[0]))) out.insert(out.begin(), '_');
  if (kKeywords.count(out)) out += '_';
  return out;
}

std::string Graph::unique_name(const std::string& hint) {
  const std::string base = python_identifier(hint);
  if (used_names_.insert(base).second) return base;
  int& n = name_counts_[base];
  std::string name;
  do {
    name = base + "_" + std::to_string(++n);
  } while (!used_names_.insert(name).second);
  return name;
}

Value* Graph::new_value(const std::string& name, ValueType type, Node* producer) {
  auto v = std::make_unique<Value>();
  v->name_ = name;
  v->type_ = type;
  v->producer_ = producer;
  values_.push_back(std::move(v));
  return values_.back().get();
}

Value* Graph::add_placeholder(const std::string& name, ValueType type, std::optional<TensorMeta> meta) {
  PTX_INTERNAL_CHECK(type != ValueType::kTensor || meta.has_value()) << "tensor placeholder without meta";
  auto node = std::make_unique<Node>();
  node->kind_ = NodeKind::kPlaceholder;
  node->name_ = unique_name(name);
  Value* v = new_value(node->name_, type, node.get());
  v->meta_ = std::move(meta);
  node->outputs_.push_back(v);
  auto pos = std::find_if(nodes_.begin(), nodes_.end(),
                          [](const auto& n) { return n->kind() != NodeKind::kPlaceholder; });
  nodes_.insert(pos, std::move(node));
  placeholders_.push_back(v);
  return v;
}

Node* Graph::add_call(const std::string& target, std::vector<NamedArg> inputs,
                      const std::vector<ValueType>& output_types, const std::string& name_hint) {
  return add_call(target, std::move(inputs), output_types, name_hint, {});
}

Node* Graph::add_call(const std::string& target, std::vector<NamedArg> inputs,
                      const std::vector<ValueType>& output_types, const std::string& name_hint,
                      const std::vector<std::string>& output_hints) {
  PTX_INTERNAL_CHECK(output_hints.empty() || output_hints.size() == output_types.size())
      << "add_call " << name_hint << ": " << output_hints.size() << " output names for " << output_types.size()
      << " outputs";
  auto node = std::make_unique<Node>();
  node->kind_ = NodeKind::kCall;
  node->name_ = unique_name(name_hint);
  node->target_ = target;
  node->inputs_ = std::move(inputs);
  for (size_t i = 0; i < output_types.size(); ++i) {
    const std::string vname = !output_hints.empty()      ? unique_name(output_hints[i])
                              : output_types.size() == 1 ? node->name_
                                                         : unique_name(node->name_);
    Value* v = new_value(vname, output_types[i], node.get());
    if (output_types[i] == ValueType::kTensor) v->meta_ = TensorMeta{};
    node->outputs_.push_back(v);
  }
  nodes_.push_back(std::move(node));
  return nodes_.back().get();
}

void Graph::set_outputs(std::vector<Value*> outputs) { outputs_ = std::move(outputs); }

/// Every use of `from` in one argument (a value, a list, an optional list, a SymInt list) becomes `to`.
static void replace_in_arg(NamedArg& a, Value* from, Value* to) {
  std::visit(
      [&](auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, Value*>) {
          if (v == from) v = to;
        } else if constexpr (std::is_same_v<T, std::vector<Value*>>) {
          std::replace(v.begin(), v.end(), from, to);
        } else if constexpr (std::is_same_v<T, std::vector<std::optional<Value*>>>) {
          for (auto& o : v) {
            if (o && *o == from) o = to;
          }
        } else if constexpr (std::is_same_v<T, std::vector<SymIntArg>>) {
          for (auto& e : v) {
            if (auto* p = std::get_if<Value*>(&e); p && *p == from) e = to;
          }
        }
      },
      a.value);
}

void Graph::replace_all_uses(Value* from, Value* to) {
  for (auto& n : nodes_) {
    for (NamedArg& a : n->inputs_) replace_in_arg(a, from, to);
  }
  std::replace(outputs_.begin(), outputs_.end(), from, to);
}

int Graph::use_count(const Value* v) const {
  int count = 0;
  for (const auto& n : nodes_) {
    for (const Value* in : n->input_values()) count += (in == v);
  }
  count += static_cast<int>(std::count(outputs_.begin(), outputs_.end(), v));
  return count;
}

void Graph::rename(Value* v, const std::string& name) {
  const std::string fresh = unique_name(name);
  v->name_ = fresh;
  if (v->producer_ && v->producer_->outputs_.size() == 1) v->producer_->name_ = fresh;
}

void Graph::rename_node(Node* n, const std::string& name) { n->name_ = unique_name(name); }

void Graph::move_placeholder(Value* v, size_t index) {
  auto it = std::find(placeholders_.begin(), placeholders_.end(), v);
  PTX_INTERNAL_CHECK(it != placeholders_.end()) << v->name() << " is not a placeholder";
  placeholders_.erase(it);
  placeholders_.insert(placeholders_.begin() + static_cast<std::ptrdiff_t>(std::min(index, placeholders_.size())), v);
  // Keep the node list's placeholder order equal to placeholders_.
  std::vector<std::unique_ptr<Node>> ph;
  auto first_call = std::stable_partition(nodes_.begin(), nodes_.end(),
                                          [](const auto& n) { return n->kind() == NodeKind::kPlaceholder; });
  for (auto i = nodes_.begin(); i != first_call; ++i) ph.push_back(std::move(*i));
  for (size_t i = 0; i < placeholders_.size(); ++i) {
    for (auto& p : ph) {
      if (p && p->outputs_[0] == placeholders_[i]) nodes_[i] = std::move(p);
    }
  }
}

void Graph::move_to_front(const std::vector<Node*>& calls) {
  std::unordered_set<const Node*> chosen(calls.begin(), calls.end());
  std::vector<std::unique_ptr<Node>> placeholders, front(calls.size()), rest;
  std::unordered_map<const Node*, size_t> position;
  for (size_t i = 0; i < calls.size(); ++i) position[calls[i]] = i;
  size_t found = 0;
  for (const auto& n : nodes_) {
    if (!chosen.count(n.get())) continue;
    PTX_INTERNAL_CHECK(n->kind() == NodeKind::kCall) << "move_to_front of non-call node " << n->name();
    ++found;
  }
  PTX_INTERNAL_CHECK(found == calls.size() && chosen.size() == calls.size())
      << "move_to_front of a node not in this graph, or twice";
  for (auto& n : nodes_) {
    if (n->kind() == NodeKind::kPlaceholder) {
      placeholders.push_back(std::move(n));
    } else if (chosen.count(n.get())) {
      front[position.at(n.get())] = std::move(n);
    } else {
      rest.push_back(std::move(n));
    }
  }
  nodes_.clear();
  for (auto* part : {&placeholders, &front, &rest}) {
    for (auto& n : *part) nodes_.push_back(std::move(n));
  }
}

std::shared_ptr<Graph> Graph::extract(const std::vector<Node*>& calls, const std::vector<Value*>& results,
                                      std::vector<Value*>& operands) {
  auto sub = std::make_shared<Graph>();
  std::unordered_set<const Node*> chosen(calls.begin(), calls.end());
  std::unordered_set<const Value*> inside;
  for (const Node* n : calls) {
    PTX_INTERNAL_CHECK(n->kind() == NodeKind::kCall) << "extract of non-call node " << n->name();
    inside.insert(n->outputs().begin(), n->outputs().end());
  }
  // Values read from outside, in order of first use: the subgraph's placeholders.
  std::unordered_map<Value*, Value*> outer_to_placeholder;
  auto placeholder_for = [&](Value* outer) {
    auto it = outer_to_placeholder.find(outer);
    if (it != outer_to_placeholder.end()) return it->second;
    std::optional<TensorMeta> meta;
    if (outer->has_meta()) meta = outer->meta();
    Value* p = sub->add_placeholder(outer->name(), outer->type(), meta);
    if (outer->has_sym()) p->set_sym(outer->sym());
    if (outer->sym_bool()) p->set_sym_bool(*outer->sym_bool());
    operands.push_back(outer);
    outer_to_placeholder.emplace(outer, p);
    return p;
  };
  for (const Node* n : calls) {
    for (Value* in : n->input_values()) {
      if (!inside.count(in)) placeholder_for(in);
    }
  }
  std::vector<Value*> outs;
  for (Value* r : results) outs.push_back(inside.count(r) ? r : placeholder_for(r));
  // Move the nodes and their values; reads of outside values now read the placeholders.
  std::vector<std::unique_ptr<Node>> rest;
  for (auto& n : nodes_) {
    if (!chosen.count(n.get())) {
      rest.push_back(std::move(n));
      continue;
    }
    for (const auto& [outer, p] : outer_to_placeholder) {
      for (NamedArg& a : n->inputs_) replace_in_arg(a, outer, p);
    }
    for (Value* v : n->outputs_) {
      sub->used_names_.insert(v->name_);
      auto it = std::find_if(values_.begin(), values_.end(), [&](const auto& u) { return u.get() == v; });
      PTX_INTERNAL_CHECK(it != values_.end()) << "extract: value " << v->name() << " is not owned by this graph";
      sub->values_.push_back(std::move(*it));
      values_.erase(it);
    }
    sub->used_names_.insert(n->name_);
    sub->nodes_.push_back(std::move(n));
  }
  nodes_ = std::move(rest);
  sub->set_outputs(std::move(outs));
  return sub;
}

void Graph::move_after(const Node* anchor, const std::vector<Node*>& calls) {
  std::unordered_set<const Node*> chosen(calls.begin(), calls.end());
  PTX_INTERNAL_CHECK(chosen.size() == calls.size() && !chosen.count(anchor)) << "move_after: repeated nodes";
  std::unordered_map<const Node*, size_t> position;
  for (size_t i = 0; i < calls.size(); ++i) position[calls[i]] = i;
  std::vector<std::unique_ptr<Node>> moved(calls.size()), rest;
  for (auto& n : nodes_) {
    if (chosen.count(n.get())) {
      PTX_INTERNAL_CHECK(n->kind() == NodeKind::kCall) << "move_after of non-call node " << n->name();
      moved[position.at(n.get())] = std::move(n);
    } else {
      rest.push_back(std::move(n));
    }
  }
  for (const auto& m : moved) PTX_INTERNAL_CHECK(m != nullptr) << "move_after of a node not in this graph";
  nodes_.clear();
  bool placed = false;
  for (auto& n : rest) {
    const bool here = n.get() == anchor;
    nodes_.push_back(std::move(n));
    if (here) {
      for (auto& m : moved) nodes_.push_back(std::move(m));
      placed = true;
    }
  }
  PTX_INTERNAL_CHECK(placed) << "move_after: the anchor is not in this graph";
}

}  // namespace ptx::ir
