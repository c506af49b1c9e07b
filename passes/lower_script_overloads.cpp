// passes/lower_script_overloads.cpp: TorchScript-only overloads as torch.export's ATen calls. See the header.
#include "passes/lower_script_overloads.h"

#include "shapes/error.h"

namespace ptx::passes {

bool lower_script_overloads(ir::Graph& graph) {
  bool changed = false;
  for (const auto& np : graph.nodes()) {
    ir::Node& n = *np;
    if (n.kind() != ir::NodeKind::kCall) continue;
    const std::string& t = n.target();
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
