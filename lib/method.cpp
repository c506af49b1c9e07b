// lib/method.cpp: which method to export. See lib/method.h.
#include "lib/method.h"

#include <torch/csrc/jit/api/function_impl.h>

#include <algorithm>

#include "shapes/error.h"

namespace ptx {
namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

/// TorchScript's overloads of `name` in `module`: name__0, name__1, ... in declaration order.
std::vector<std::string> overloads_of(const torch::jit::Module& module, const std::string& name) {
  std::vector<std::string> out;
  for (int i = 0;; ++i) {
    const std::string o = name + "__" + std::to_string(i);
    if (!module.find_method(o)) break;
    out.push_back(o);
  }
  return out;
}

}  // namespace

torch::jit::Method find_method(const torch::jit::Module& module, const std::filesystem::path& model_file,
                               const std::string& name, const std::string& asked_in) {
  auto m = module.find_method(name);
  if (!m) {
    std::vector<std::string> methods;
    for (const auto& method : module.get_methods()) methods.push_back(method.name());
    PTX_USER_FAIL(ExitCode::kUsage, "E_NO_METHOD")
        << asked_in << ": method '" << name << "' is not in " << model_file.string() << " (it has: " << join(methods)
        << "; --method chooses one)";
  }
  return *m;
}

std::string MethodChoice::describe() const {
  if (chosen_by == "overload") {
    return "method " + name + " (the overload of " + requested + " that the inputs match, as TorchScript " +
           "dispatches; the model has " + join(overloads) + "; --method chooses another)";
  }
  if (name == "forward") return "";
  return "method " + name + " (from " + chosen_by + ")";
}

MethodChoice choose_method(const torch::jit::Module& module, const std::filesystem::path& model_file,
                           const std::filesystem::path& inputs_file, const std::vector<std::string>& dynamic_flags,
                           const std::optional<std::string>& explicit_method) {
  MethodChoice c;
  if (explicit_method) {
    c.requested = *explicit_method;
    c.chosen_by = "--method";
  } else {
    c.requested = read_inputs_method(inputs_file);
    c.chosen_by = c.requested == "forward" ? "default" : "inputs.json";
  }
  const std::string where = c.chosen_by == "--method" ? "--method" : inputs_file.string();
  if (auto m = module.find_method(c.requested)) {
    c.name = c.requested;
    c.inputs = load_inputs(inputs_file, dynamic_flags, m->function().getSchema());
    c.inputs.method = c.name;
    return c;
  }
  c.overloads = overloads_of(module, c.requested);
  if (c.overloads.empty()) find_method(module, model_file, c.requested, where);  // the error naming the methods
  // TorchScript's dispatch: the first overload whose schema the arguments match.
  std::vector<std::string> reasons;
  std::optional<UserError> first;
  bool same = true;  // every overload failed with the same error: not about the overload (a bad flag)
  for (const std::string& o : c.overloads) {
    try {
      c.inputs = load_inputs(inputs_file, dynamic_flags, module.get_method(o).function().getSchema());
    } catch (const UserError& e) {
      if (!first) first.emplace(e);
      same = same && first->code() == e.code() && std::string(first->what()) == e.what();
      reasons.push_back(o + ": " + e.what());
      continue;
    }
    c.name = o;
    c.chosen_by = "overload";
    c.inputs.method = o;
    return c;
  }
  if (same && first) throw *first;
  std::string all;
  for (const std::string& r : reasons) all += "\n  " + r;
  PTX_USER_FAIL(ExitCode::kInput, "E_INPUT_JSON")
      << inputs_file.string() << ": the inputs match none of the overloads of '" << c.requested << "' in "
      << model_file.string() << " (TorchScript's overloads " << join(c.overloads)
      << "; --method chooses one):" << all;
}

}  // namespace ptx
