// passes/lower_script_overloads.cpp: TorchScript-only overloads as torch.export's ATen calls. See the header.
#include "passes/lower_script_overloads.h"

#include "shapes/error.h"

namespace ptx::passes {

namespace {

/// The Scalar overloads that ATen declares "for C++ only" (torch's Python binding has no such
/// signature), as the Tensor overload they become, or nullptr. The arguments keep their names.
const char* python_overload(const std::string& t) {
  static const std::pair<const char*, const char*> kTable[] = {
      {"aten::add.Scalar", "aten::add.Tensor"},       {"aten::sub.Scalar", "aten::sub.Tensor"},
      {"aten::mul.Scalar", "aten::mul.Tensor"},       {"aten::div.Scalar", "aten::div.Tensor"},
      {"aten::div.Scalar_mode", "aten::div.Tensor_mode"},
  };
  for (const auto& [from, to] : kTable) {
    if (t == from) return to;
  }
  return nullptr;
}

}  // namespace

bool lower_script_overloads(ir::Graph& graph) {
  bool changed = false;
  for (const auto& np : graph.nodes()) {
    ir::Node& n = *np;
    if (n.kind() != ir::NodeKind::kCall) continue;
    for (const ir::NamedArg& a : n.inputs()) {
      if (const auto* g = std::get_if<ir::GraphArg>(&a.value); g != nullptr && g->graph) {
        changed = lower_script_overloads(*g->graph) || changed;
      }
    }
    const std::string& t = n.target();
    if (const char* to = python_overload(t)) {
      for (ir::NamedArg& a : n.mutable_inputs()) {
        if (a.name == "alpha" || a.name == "rounding_mode") a.kwarg_only = true;  // keyword-only in the Tensor overloads
      }
      n.set_target(to);
      changed = true;
      continue;
    }
    if (t != "aten::to.prim_Device" && t != "aten::to.prim_dtype" && t != "aten::to.prim_other") continue;
    PTX_INTERNAL_CHECK(n.outputs().size() == 1 && n.outputs()[0]->type() == ir::ValueType::kTensor)
        << n.name() << ": " << t << " with " << n.outputs().size() << " outputs";
    const ir::TensorMeta& out = n.outputs()[0]->meta();
    ir::ArgValue self, non_blocking = false, copy = false;
    for (const ir::NamedArg& a : n.inputs()) {
      if (a.name == "self") self = a.value;
      if (a.name == "non_blocking") non_blocking = a.value;
      if (a.name == "copy") copy = a.value;
    }
    PTX_INTERNAL_CHECK(std::holds_alternative<ir::Value*>(self)) << n.name() << ": " << t << " without self";
    n.mutable_inputs() = {{"self", self, false},
                          {"dtype", ir::DTypeArg{out.dtype}, true},
                          {"layout", ir::LayoutArg{0}, true},  // torch.strided
                          {"device", ir::DeviceArg{out.device}, true},
                          {"non_blocking", non_blocking, true},
                          {"copy", copy, true}};
    n.set_target("aten::to.dtype_layout");
    changed = true;
  }
  return changed;
}

}  // namespace ptx::passes
