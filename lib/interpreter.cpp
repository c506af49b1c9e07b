// lib/interpreter.cpp
#include "lib/interpreter.h"

#include <ATen/Functions.h>
#include <ATen/ScalarOps.h>
#include <ATen/core/dispatch/Dispatcher.h>

#include <map>
#include <stdexcept>
#include <limits>
#include <unordered_map>

#include "lib/torch_convert.h"
#include "shapes/error.h"
#include "shapes/sym_parse.h"

namespace ptx {
namespace {

using shapes::SymExpr;

/// Binds symbols from the inputs' sizes: each dim of a user input whose size is a*s+b with one
/// symbol gives s. Returns the assignment; relations are checked by check_inputs.
shapes::Assignment bind_symbols(const ir::ExportedProgram& p, const std::vector<at::Tensor>& inputs) {
  shapes::Assignment values;
  const auto phs = user_input_values(p);
  for (size_t i = 0; i < phs.size() && i < inputs.size(); ++i) {
    const auto& sizes = phs[i]->meta().sizes;
    for (size_t d = 0; d < sizes.size() && d < static_cast<size_t>(inputs[i].dim()); ++d) {
      const auto syms = shapes::free_symbols(sizes[d]);
      if (syms.size() != 1 || values.count(syms[0].symbol_id())) continue;
      const int id = syms[0].symbol_id();
      const auto at0 = shapes::evaluate(sizes[d], {{id, 0}});
      const auto at1 = shapes::evaluate(sizes[d], {{id, 1}});
      if (!at0 || !at1 || *at1 - *at0 <= 0) continue;
      const int64_t a = *at1 - *at0, b = *at0, v = inputs[i].size(static_cast<int64_t>(d));
      if ((v - b) % a == 0) values[id] = (v - b) / a;
    }
  }
  return values;
}

/// Meta tensors for `n`'s outputs, sized by their metadata at `values`; false when an output has
/// no tensor metadata or a size that `values` do not determine.
bool outputs_from_metadata(const ir::Node& n, const shapes::Assignment& values,
                           std::unordered_map<const ir::Value*, c10::IValue>& env) {
  std::vector<at::Tensor> made;
  for (const ir::Value* v : n.outputs()) {
    if (v->type() != ir::ValueType::kTensor || !v->has_meta()) return false;
    std::vector<int64_t> sizes;
    for (const SymExpr& e : v->meta().sizes) {
      const auto s = shapes::evaluate(e, values);
      if (!s) return false;
      sizes.push_back(*s);
    }
    made.push_back(at::empty(sizes, at::TensorOptions().dtype(to_scalar_type(v->meta().dtype)).device(at::kMeta)));
  }
  for (size_t i = 0; i < made.size(); ++i) env[n.outputs()[i]] = made[i];
  return true;
}

int64_t sym_int(const ir::SymIntArg& a, const std::unordered_map<const ir::Value*, c10::IValue>& env) {
  if (const auto* c = std::get_if<int64_t>(&a)) return *c;
  return env.at(std::get<ir::Value*>(a)).toInt();
}

c10::IValue to_ivalue(const ir::ArgValue& v, const std::unordered_map<const ir::Value*, c10::IValue>& env) {
  return std::visit(
      [&](const auto& x) -> c10::IValue {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, ir::NoneArg>) {
          return c10::IValue();
        } else if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, int64_t> || std::is_same_v<T, double> ||
                             std::is_same_v<T, std::string>) {
          return c10::IValue(x);
        } else if constexpr (std::is_same_v<T, ir::Value*>) {
          return env.at(x);
        } else if constexpr (std::is_same_v<T, std::vector<ir::SymIntArg>>) {
          std::vector<int64_t> out;
          for (const auto& e : x) out.push_back(sym_int(e, env));
          return c10::IValue(out);
        } else if constexpr (std::is_same_v<T, std::vector<ir::Value*>>) {
          std::vector<at::Tensor> out;
          for (const ir::Value* e : x) out.push_back(env.at(e).toTensor());
          return c10::IValue(out);
        } else if constexpr (std::is_same_v<T, std::vector<std::optional<ir::Value*>>>) {
          c10::List<std::optional<at::Tensor>> out;
          for (const auto& e : x) out.push_back(e ? std::optional<at::Tensor>(env.at(*e).toTensor()) : std::nullopt);
          return c10::IValue(out);
        } else if constexpr (std::is_same_v<T, std::vector<double>>) {
          return c10::IValue(x);
        } else if constexpr (std::is_same_v<T, std::vector<bool>>) {
          c10::List<bool> out;
          for (bool b : x) out.push_back(b);
          return c10::IValue(out);
        } else if constexpr (std::is_same_v<T, ir::DTypeArg>) {
          return c10::IValue(static_cast<int64_t>(x.v));
        } else if constexpr (std::is_same_v<T, ir::LayoutArg> || std::is_same_v<T, ir::MemoryFormatArg>) {
          return c10::IValue(static_cast<int64_t>(x.v));
        } else if constexpr (std::is_same_v<T, ir::DeviceArg>) {
          return c10::IValue(c10::Device(x.v));
        } else {
          static_assert(std::is_same_v<T, ir::GraphArg>);
          PTX_USER_FAIL(ExitCode::kInput, "E_BAD_ARGUMENT") << "subgraph " << x.name << " passed to an ATen operator";
        }
      },
      v);
}

/// Python's a // b. An artifact's graph may divide by anything: 0, and INT64_MIN // -1, are refused.
int64_t floordiv(int64_t a, int64_t b, const ir::Node& n) {
  PTX_USER_CHECK(b != 0 && !(a == std::numeric_limits<int64_t>::min() && b == -1), ExitCode::kInput, "E_SYM_ARITH")
      << "node " << n.name() << ": " << n.target() << "(" << a << ", " << b << ") is not defined";
  const int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/// a op b for op '+', '-', '*', refusing a result that overflows 64 bits.
int64_t checked(char op, int64_t a, int64_t b, const ir::Node& n) {
  int64_t r = 0;
  const bool overflow = op == '+'   ? __builtin_add_overflow(a, b, &r)
                        : op == '-' ? __builtin_sub_overflow(a, b, &r)
                                    : __builtin_mul_overflow(a, b, &r);
  PTX_USER_CHECK(!overflow, ExitCode::kInput, "E_SYM_ARITH")
      << "node " << n.name() << ": " << n.target() << " overflows 64 bits";
  return r;
}

/// Python-level ops on SymInts (sym_size, _operator.*, torch.sym_min/max, _assert_scalar).
bool run_sym_op(const ir::Node& n, std::unordered_map<const ir::Value*, c10::IValue>& env) {
  const std::string& t = n.target();
  // An artifact from a file may give these ops anything: every argument is checked.
  auto bad_arg = [&](size_t i, const char* what) {
    PTX_USER_FAIL(ExitCode::kInput, "E_ARG_TYPE") << "node " << n.name() << ": argument " << i << " of " << t << " "
                                                  << what;
  };
  auto arg_value = [&](size_t i) -> const c10::IValue& {
    if (i >= n.inputs().size()) bad_arg(i, "is missing");
    const auto* v = std::get_if<ir::Value*>(&n.inputs()[i].value);
    if (v == nullptr || !env.count(*v)) bad_arg(i, "is not a value of the graph");
    return env.at(*v);
  };
  auto arg_int = [&](size_t i) -> int64_t {
    if (i >= n.inputs().size()) bad_arg(i, "is missing");
    const ir::ArgValue& a = n.inputs()[i].value;
    if (const auto* c = std::get_if<int64_t>(&a)) return *c;
    if (const auto* b = std::get_if<bool>(&a)) return *b;
    const c10::IValue& v = arg_value(i);
    if (!v.isInt() && !v.isBool()) bad_arg(i, "must be an int");
    return v.isBool() ? v.toBool() : v.toInt();
  };
  c10::IValue out;
  if (t == "aten::sym_size.int") {
    const c10::IValue& x = arg_value(0);
    if (!x.isTensor()) bad_arg(0, "must be a tensor");
    const int64_t dim = arg_int(1), rank = x.toTensor().dim();
    if (dim < -rank || dim >= rank) bad_arg(1, "is not a dimension of the tensor");
    out = x.toTensor().size(dim);
  } else if (t == "_operator.add") {
    out = checked('+', arg_int(0), arg_int(1), n);
  } else if (t == "_operator.sub") {
    out = checked('-', arg_int(0), arg_int(1), n);
  } else if (t == "_operator.mul") {
    out = checked('*', arg_int(0), arg_int(1), n);
  } else if (t == "_operator.floordiv") {
    out = floordiv(arg_int(0), arg_int(1), n);
  } else if (t == "_operator.mod") {
    const int64_t a = arg_int(0), b = arg_int(1);
    out = a - floordiv(a, b, n) * b;
  } else if (t == "torch.sym_min") {
    out = std::min(arg_int(0), arg_int(1));
  } else if (t == "torch.sym_max") {
    out = std::max(arg_int(0), arg_int(1));
  } else if (t == "_operator.eq") {
    out = arg_int(0) == arg_int(1);
  } else if (t == "_operator.ne") {
    out = arg_int(0) != arg_int(1);
  } else if (t == "_operator.ge") {
    out = arg_int(0) >= arg_int(1);
  } else if (t == "_operator.gt") {
    out = arg_int(0) > arg_int(1);
  } else if (t == "_operator.le") {
    out = arg_int(0) <= arg_int(1);
  } else if (t == "_operator.lt") {
    out = arg_int(0) < arg_int(1);
  } else if (t == "torch.sym_not") {
    out = !arg_int(0);
  } else if (t == "aten::_assert_scalar.default") {
    if (!arg_int(0)) {
      const std::string* text = n.inputs().size() > 1 ? std::get_if<std::string>(&n.inputs()[1].value) : nullptr;
      const std::string msg = text ? *text : "";
      PTX_USER_FAIL(ExitCode::kInput, "E_RUNTIME_ASSERT") << "input violates a runtime assertion: " << msg;
    }
    return true;
  } else {
    return false;
  }
  if (n.outputs().empty()) bad_arg(0, "has no output to hold its result");
  env[n.outputs()[0]] = out;
  return true;
}

// The runtime assertions of the graph, decided on the input sizes before anything runs, so that a
// violation names the inputs and sizes. The condition is read from the assertion's message, which is
// torch's ("Runtime assertion failed for expression COND on node 'NAME'"); an assertion whose
// condition cannot be read (another writer's wording) is left to the graph's own node at run time.
void check_runtime_asserts(const ir::ExportedProgram& p, const shapes::Assignment& values) {
  std::map<std::string, SymExpr> by_name;
  std::map<int, std::string> first_use;  // symbol id -> "x.size()[0] = 7"
  for (const ir::Value* v : user_input_values(p)) {
    if (v->type() != ir::ValueType::kTensor || !v->has_meta()) continue;
    for (size_t d = 0; d < v->meta().sizes.size(); ++d) {
      for (const SymExpr& s : shapes::free_symbols(v->meta().sizes[d])) {
        by_name.emplace(s.symbol_name(), s);
        if (!first_use.count(s.symbol_id()) && values.count(s.symbol_id())) {
          first_use[s.symbol_id()] = v->name() + ".size()[" + std::to_string(d) + "]";
        }
      }
    }
  }
  const std::string prefix = "Runtime assertion failed for expression ", suffix = " on node '";
  for (const auto& node : p.graph->nodes()) {
    if (node->kind() != ir::NodeKind::kCall || node->target() != "aten::_assert_scalar.default") continue;
    if (node->inputs().size() < 2 || !std::holds_alternative<std::string>(node->inputs()[1].value)) continue;
    const std::string& msg = std::get<std::string>(node->inputs()[1].value);
    const size_t end = msg.rfind(suffix);
    if (msg.rfind(prefix, 0) != 0 || end == std::string::npos || end < prefix.size()) continue;
    const std::string text = msg.substr(prefix.size(), end - prefix.size());
    std::optional<shapes::SymBool> cond;
    try {
      cond = shapes::parse_sym_bool(text, [&](const std::string& n) -> SymExpr {
        auto it = by_name.find(n);
        if (it == by_name.end()) throw std::out_of_range(n);
        return it->second;
      });
    } catch (const std::exception&) {
      continue;
    }
    const auto holds = cond->evaluate(values);
    if (!holds || *holds) continue;
    std::string sizes;
    for (const SymExpr& s : cond->free_symbols()) {
      const auto it = first_use.find(s.symbol_id());
      sizes += (sizes.empty() ? "" : ", ") + s.str() + " = " + std::to_string(values.at(s.symbol_id())) +
               (it == first_use.end() ? "" : " (" + it->second + ")");
    }
    PTX_USER_FAIL(ExitCode::kInput, "E_RUNTIME_ASSERT")
        << "the inputs break the artifact's runtime assertion " << text << " (node " << node->name()
        << "): " << sizes;
  }
}

/// After an op failed: UserError(kInput) naming the node and the argument when one of `stack`'s
/// values is not of its schema type (a hand-made or corrupt artifact), else nothing (the failure is
/// the op's own, reported as it is).
void check_argument_types(const ir::Node& n, const c10::FunctionSchema& schema, const torch::jit::Stack& stack) {
  for (size_t i = 0; i < schema.arguments().size() && i < stack.size(); ++i) {
    const c10::Argument& a = schema.arguments()[i];
    const c10::TypePtr given = stack[i].type();
    if (given->isSubtypeOf(*a.type())) continue;
    // int is accepted where SymInt, float or Scalar are (the dispatcher converts).
    const c10::TypePtr want = c10::unshapedType(a.real_type());
    if (given->isSubtypeOf(*want)) continue;
    if (stack[i].isInt() && (want->kind() == c10::TypeKind::SymIntType || want->kind() == c10::TypeKind::FloatType ||
                             want->kind() == c10::TypeKind::NumberType)) {
      continue;
    }
    PTX_USER_FAIL(ExitCode::kInput, "E_ARG_TYPE")
        << "node " << n.name() << ": argument '" << a.name() << "' of " << n.target() << " must be "
        << a.type()->repr_str() << ", the artifact gives " << given->repr_str();
  }
}

using Env = std::unordered_map<const ir::Value*, c10::IValue>;
void run_nodes(const ir::Graph& g, Env& env, bool on_meta, const shapes::Assignment& meta_values);

/// One call of a higher-order op's subgraph on `inputs` (one per placeholder): its outputs.
std::vector<c10::IValue> call_subgraph(const ir::Graph& sub, const std::vector<c10::IValue>& inputs, bool on_meta,
                                       const shapes::Assignment& meta_values) {
  Env inner;
  for (size_t i = 0; i < inputs.size(); ++i) inner[sub.placeholders()[i]] = inputs[i];
  run_nodes(sub, inner, on_meta, meta_values);
  std::vector<c10::IValue> outs;
  for (const ir::Value* v : sub.outputs()) outs.push_back(inner.at(v));
  return outs;
}

/// torch.ops.higher_order.cond(pred, true_graph, false_graph, operands): runs the branch that
/// pred selects on the operands.
void run_cond(const ir::Node& n, Env& env, bool on_meta, const shapes::Assignment& meta_values) {
  PTX_USER_CHECK(n.inputs().size() == 4, ExitCode::kInput, "E_BAD_COND")
      << "node " << n.name() << ": cond takes (pred, true_graph, false_graph, operands)";
  const c10::IValue pred = to_ivalue(n.inputs()[0].value, env);
  PTX_USER_CHECK((pred.isTensor() && pred.toTensor().numel() == 1) || pred.isBool() || pred.isInt(), ExitCode::kInput,
                 "E_BAD_COND")
      << "node " << n.name() << ": cond's predicate must be a bool, an int or a one-element tensor";
  const bool taken = pred.isTensor() ? pred.toTensor().item<bool>() : (pred.isBool() ? pred.toBool() : pred.toInt() != 0);
  const auto* branch = std::get_if<ir::GraphArg>(&n.inputs()[taken ? 1 : 2].value);
  const auto* operands = std::get_if<std::vector<ir::Value*>>(&n.inputs()[3].value);
  PTX_USER_CHECK(branch && branch->graph && operands, ExitCode::kInput, "E_BAD_COND")
      << "node " << n.name() << ": cond's branches must be graphs and its operands a list";
  const ir::Graph& sub = *branch->graph;
  PTX_USER_CHECK(sub.placeholders().size() == operands->size() && sub.outputs().size() == n.outputs().size(),
                 ExitCode::kInput, "E_BAD_COND")
      << "node " << n.name() << ": branch " << branch->name << " takes " << sub.placeholders().size()
      << " inputs and returns " << sub.outputs().size() << " values, the node passes " << operands->size()
      << " and expects " << n.outputs().size();
  std::vector<c10::IValue> values;
  for (const ir::Value* v : *operands) values.push_back(env.at(v));
  std::vector<c10::IValue> outs = call_subgraph(sub, values, on_meta, meta_values);
  for (size_t i = 0; i < n.outputs().size(); ++i) env[n.outputs()[i]] = std::move(outs[i]);
}

/// torch.ops.higher_order.while_loop(cond_graph, body_graph, carried, additional): while cond_graph
/// of (carried..., additional...) is true, carried = body_graph(carried..., additional...).
void run_while_loop(const ir::Node& n, Env& env, bool on_meta, const shapes::Assignment& meta_values) {
  const auto* cond = n.inputs().size() == 4 ? std::get_if<ir::GraphArg>(&n.inputs()[0].value) : nullptr;
  const auto* body = n.inputs().size() == 4 ? std::get_if<ir::GraphArg>(&n.inputs()[1].value) : nullptr;
  const auto* carried = n.inputs().size() == 4 ? std::get_if<std::vector<ir::Value*>>(&n.inputs()[2].value) : nullptr;
  const auto* additional = n.inputs().size() == 4 ? std::get_if<std::vector<ir::Value*>>(&n.inputs()[3].value) : nullptr;
  PTX_USER_CHECK(cond && cond->graph && body && body->graph && carried && additional, ExitCode::kInput, "E_BAD_WHILE")
      << "node " << n.name() << ": while_loop takes (cond_graph, body_graph, carried_inputs, additional_inputs)";
  const size_t k = carried->size(), a = additional->size();
  PTX_USER_CHECK(cond->graph->placeholders().size() == k + a && body->graph->placeholders().size() == k + a &&
                     cond->graph->outputs().size() == 1 && body->graph->outputs().size() == k &&
                     n.outputs().size() == k,
                 ExitCode::kInput, "E_BAD_WHILE")
      << "node " << n.name() << ": while_loop's graphs must take the " << k << " carried and " << a
      << " additional inputs; the condition returns one value, the body and the node " << k;
  std::vector<c10::IValue> values;
  for (const ir::Value* v : *carried) values.push_back(env.at(v));
  for (const ir::Value* v : *additional) values.push_back(env.at(v));
  while (true) {
    const c10::IValue c = call_subgraph(*cond->graph, values, on_meta, meta_values).at(0);
    PTX_USER_CHECK((c.isTensor() && c.toTensor().numel() == 1) || c.isBool(), ExitCode::kInput, "E_BAD_WHILE")
        << "node " << n.name() << ": while_loop's condition must return a bool or a one-element tensor";
    if (!(c.isTensor() ? c.toTensor().item<bool>() : c.toBool())) break;  // on meta: c10::Error (data)
    std::vector<c10::IValue> next = call_subgraph(*body->graph, values, on_meta, meta_values);
    std::move(next.begin(), next.end(), values.begin());
  }
  for (size_t i = 0; i < k; ++i) env[n.outputs()[i]] = values[i];
}

/// Runs the call nodes of `g`; `env` holds the placeholders' values and receives every output.
/// on_meta: tensors are meta tensors; an op without a meta kernel takes its outputs' sizes from the
/// graph's metadata at `meta_values`.
void run_nodes(const ir::Graph& g, Env& env, bool on_meta, const shapes::Assignment& meta_values) {
  // Each intermediate is dropped after its last use (graph outputs never are).
  std::unordered_map<const ir::Value*, const ir::Node*> last_use;
  for (const auto& node_ptr : g.nodes()) {
    for (const ir::Value* v : node_ptr->input_values()) last_use[v] = node_ptr.get();
  }
  for (const ir::Value* v : g.outputs()) last_use[v] = nullptr;
  std::unordered_map<const ir::Node*, std::vector<const ir::Value*>> dies_after;
  for (const auto& [v, n] : last_use) {
    if (n != nullptr) dies_after[n].push_back(v);
  }
  auto& dispatcher = c10::Dispatcher::singleton();
  for (const auto& node_ptr : g.nodes()) {
    const ir::Node& n = *node_ptr;
    if (n.kind() != ir::NodeKind::kCall) continue;
    const auto drop_dead = [&] {
      if (auto d = dies_after.find(&n); d != dies_after.end()) {
        for (const ir::Value* v : d->second) env.erase(v);
      }
    };
    if (run_sym_op(n, env)) {
      drop_dead();
      continue;
    }
    if (n.target() == "higher_order::cond" || n.target() == "higher_order::while_loop") {
      (n.target() == "higher_order::cond" ? run_cond : run_while_loop)(n, env, on_meta, meta_values);
      drop_dead();
      continue;
    }
    const std::string& target = n.target();
    const auto dot = target.rfind('.');
    PTX_INTERNAL_CHECK(dot != std::string::npos) << "target without overload: " << target;
    std::string name = target.substr(0, dot), overload = target.substr(dot + 1);
    if (overload == "default") overload = "";
    auto op = dispatcher.findSchema({name, overload});
    PTX_USER_CHECK(op.has_value(), ExitCode::kInput, "E_UNKNOWN_OP")
        << "node " << n.name() << ": unknown operator " << target;
    const c10::FunctionSchema& schema = op->schema();
    torch::jit::Stack stack;
    torch::jit::Stack as_written;  // the arguments before numbers became wrapped-number tensors
    for (const c10::Argument& a : schema.arguments()) {
      const ir::NamedArg* given = nullptr;
      for (const ir::NamedArg& na : n.inputs()) {
        if (na.name == a.name()) given = &na;
      }
      if (given != nullptr) {
        try {
          c10::IValue v = to_ivalue(given->value, env);
          as_written.push_back(v);
          if (a.type()->kind() == c10::TypeKind::TensorType && (v.isInt() || v.isDouble() || v.isBool())) {
            // A Python number where the schema has a Tensor (torch writes add.Tensor(x, 3)): a wrapped
            // number, so type promotion treats it as a scalar, as torch's Python binding does.
            at::Tensor t = c10::scalar_to_tensor(v.toScalar());
            t.unsafeGetTensorImpl()->set_wrapped_number(true);
            v = t;
          }
          stack.push_back(std::move(v));
        } catch (const c10::Error&) {  // a tensor list naming a non-tensor value (a corrupt artifact)
          PTX_USER_FAIL(ExitCode::kInput, "E_ARG_TYPE")
              << "node " << n.name() << ": argument '" << a.name() << "' of " << target
              << " refers to a value of the wrong type";
        }
      } else {
        PTX_USER_CHECK(a.default_value().has_value(), ExitCode::kInput, "E_MISSING_ARG")
            << "node " << n.name() << ": " << target << " needs argument '" << a.name() << "'";
        stack.push_back(*a.default_value());
        as_written.push_back(stack.back());
      }
      // On meta, factory ops (device=None or cpu) make meta tensors too.
      if (on_meta && a.name() == "device" && (stack.back().isNone() || stack.back().isDevice())) {
        stack.back() = c10::Device(c10::kMeta);
      }
    }
    try {
      op->callBoxed(stack);
    } catch (const c10::Error&) {
      // An artifact's node with a wrongly typed argument: exit 3. A number where the schema has a
      // Tensor is legal (torch writes add.Tensor(x, 3)) unless the kernel refuses the wrapped number.
      check_argument_types(n, schema, as_written);
      // On meta, an op without a meta kernel (LibTorch's convolutions) takes its outputs' sizes
      // from the graph's own metadata at these symbol values.
      if (!on_meta || !outputs_from_metadata(n, meta_values, env)) throw;
      drop_dead();
      continue;
    }
    const auto& outs = n.outputs();
    if (n.returns_list()) {
      PTX_USER_CHECK(!stack.empty() && stack[0].isTensorList(), ExitCode::kInput, "E_ARG_TYPE")
          << "node " << n.name() << ": the artifact says " << target << " returns a list of tensors; it does not";
      const auto list = stack.at(0).toTensorVector();
      for (size_t i = 0; i < outs.size() && i < list.size(); ++i) env[outs[i]] = list[i];
    } else {
      for (size_t i = 0; i < outs.size() && i < stack.size(); ++i) env[outs[i]] = stack[i];
    }
    drop_dead();
  }
}

}  // namespace

std::vector<c10::IValue> run_subgraph(const ir::Graph& graph, const std::vector<c10::IValue>& inputs) {
  PTX_INTERNAL_CHECK(inputs.size() == graph.placeholders().size())
      << "subgraph takes " << graph.placeholders().size() << " inputs, got " << inputs.size();
  return call_subgraph(graph, inputs, /*on_meta=*/false, shapes::Assignment{});
}

std::vector<const ir::Value*> user_input_values(const ir::ExportedProgram& p) {
  std::vector<const ir::Value*> out;
  const auto& phs = p.graph->placeholders();
  for (size_t i = 0; i < phs.size() && i < p.input_specs.size(); ++i) {
    if (p.input_specs[i].kind == ir::InputKind::kUserInput) out.push_back(phs[i]);
  }
  return out;
}

void check_inputs(const ir::ExportedProgram& p, const std::vector<at::Tensor>& inputs) {
  const auto phs = user_input_values(p);
  PTX_USER_CHECK(inputs.size() == phs.size(), ExitCode::kInput, "E_INPUT_COUNT")
      << "the artifact takes " << phs.size() << " tensor inputs, got " << inputs.size();
  const shapes::Assignment values = bind_symbols(p, inputs);
  for (size_t i = 0; i < phs.size(); ++i) {
    const ir::TensorMeta& m = phs[i]->meta();
    const at::Tensor& t = inputs[i];
    const std::string& name = phs[i]->name();
    PTX_USER_CHECK(t.dim() == static_cast<int64_t>(m.sizes.size()), ExitCode::kInput, "E_INPUT_RANK")
        << "input " << name << ": expected " << m.sizes.size() << " dimensions, got " << t.dim();
    PTX_USER_CHECK(to_dtype(t.scalar_type()) == m.dtype, ExitCode::kInput, "E_INPUT_DTYPE")
        << "input " << name << ": expected dtype " << ir::dtype_name(m.dtype) << ", got "
        << ir::dtype_name(to_dtype(t.scalar_type()));
    for (size_t d = 0; d < m.sizes.size(); ++d) {
      const int64_t actual = t.size(static_cast<int64_t>(d));
      const auto want = shapes::evaluate(m.sizes[d], values);
      PTX_USER_CHECK(want.has_value(), ExitCode::kInput, "E_INPUT_SHAPE")
          << "input " << name << ".size()[" << d << "]: cannot determine " << m.sizes[d].str() << " from the inputs";
      PTX_USER_CHECK(*want == actual, ExitCode::kInput, "E_INPUT_SHAPE")
          << "input " << name << ".size()[" << d << "] is " << actual << ", expected " << m.sizes[d].str() << " = "
          << *want;
      for (const SymExpr& s : shapes::free_symbols(m.sizes[d])) {
        auto r = p.range_constraints.find(s.str());
        if (r == p.range_constraints.end()) continue;
        const int64_t v = values.at(s.symbol_id());
        PTX_USER_CHECK(r->second.contains(v), ExitCode::kInput, "E_INPUT_RANGE")
            << "input " << name << ".size()[" << d << "] is " << actual << ", so " << s.str() << " = " << v
            << ", outside its range " << r->second.str();
      }
    }
  }
  check_runtime_asserts(p, values);
}

std::vector<at::Tensor> run_program(const ir::ExportedProgram& p, const std::vector<at::Tensor>& user_inputs,
                                    bool on_meta) {
  check_inputs(p, user_inputs);
  // The graph's ops are explicit ATen calls: grad mode changes none of their results, only makes
  // autograd keep every intermediate alive (the full vit_b_16's verification peaked at 2.7 GB).
  const at::NoGradGuard no_grad;
  std::unordered_map<const ir::Value*, c10::IValue> env;
  const auto state = [&](const at::Tensor& t) { return on_meta ? t.to(at::kMeta) : t; };
  const shapes::Assignment meta_values = on_meta ? bind_symbols(p, user_inputs) : shapes::Assignment{};
  const auto& phs = p.graph->placeholders();
  size_t next_user = 0;
  for (size_t i = 0; i < phs.size(); ++i) {
    const ir::InputSpec& spec = p.input_specs.at(i);
    switch (spec.kind) {
      case ir::InputKind::kUserInput:
        env[phs[i]] = user_inputs.at(next_user++);
        break;
      case ir::InputKind::kParameter:
        env[phs[i]] = state(p.parameters.at(spec.target));
        break;
      case ir::InputKind::kBuffer:
        env[phs[i]] = state(p.buffers.at(spec.target));
        break;
      case ir::InputKind::kConstantTensor:
        env[phs[i]] = state(p.constants.at(spec.target));
        break;
    }
  }
  run_nodes(*p.graph, env, on_meta, meta_values);
  std::vector<at::Tensor> results;
  for (size_t i = 0; i < p.graph->outputs().size(); ++i) {
    const ir::Value* v = p.graph->outputs()[i];
    if (i < p.output_specs.size() && p.output_specs[i].kind != ir::OutputKind::kUserOutput) continue;
    const c10::IValue& iv = env.at(v);
    results.push_back(iv.isTensor() ? iv.toTensor() : at::scalar_tensor(iv.toInt(), at::kLong));
  }
  return results;
}

}  // namespace ptx
