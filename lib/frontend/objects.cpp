// lib/frontend/objects.cpp: objects of TorchScript classes made in forward (Note [Script objects]).
// See lib/frontend/tracer.h.
#include "lib/frontend/tracer.h"
#include "shapes/error.h"

namespace ptx::frontend {

// Note [Script objects]
// ~~~~~~~~~~~~~~~~~~~~~
// A model may build objects of its own TorchScript classes (torchvision's detection transform
// returns an ImageList(tensors, image_sizes)). After inlining, the class's methods are nodes of
// the method being traced, so what is left of an object is prim::CreateObject and the
// prim::SetAttr / prim::GetAttr on it. The object is a value like a dict: its attributes keep
// their symbolic values (a tensor its cell, a list of sizes its symbolic ints), shared by every
// reference to it, and the concrete run sees a real object of the class whose slots hold the
// concrete values (isinstance, `is` and the like run on it). Only its attributes reach the graph:
// an object returned by forward is an error (a .pt2's output spec holds tensors, ints and
// containers), as it is for torch.export.
void Tracer::run_create_object(jit::Node* n) {
  const auto type = n->output()->type()->cast<c10::ClassType>();
  PTX_INTERNAL_CHECK(type != nullptr) << "prim::CreateObject of a " << n->output()->type()->annotation_str();
  auto cu = type->compilation_unit();
  if (cu == nullptr) cu = model_.module._ivalue()->compilation_unit();
  auto object = c10::ivalue::Object::create(c10::StrongTypePtr(cu, type), type->numAttributes());
  auto sv = std::make_shared<SV>();
  sv->k = SV::K::kObject;
  sv->iv = c10::IValue(std::move(object));
  sv->attrs = std::make_shared<std::map<std::string, SVP>>();
  set(n->output(), sv);
}

bool Tracer::set_object_attr(jit::Node* n, const SVP& obj, const SVP& value) {
  if (!obj->attrs) return false;
  const std::string name = n->s(c10::attr::name);
  (*obj->attrs)[name] = value;
  // The concrete object holds the concrete value, as the slot of an eager object would.
  obj->iv.toObjectRef().setAttr(name, value->k == SV::K::kTensor ? c10::IValue(value->cell->sample) : value->iv);
  return true;
}

bool Tracer::get_object_attr(jit::Node* n, const SVP& obj) {
  if (!obj->attrs) return false;
  const std::string name = n->s(c10::attr::name);
  if (auto it = obj->attrs->find(name); it != obj->attrs->end()) {
    set(n->output(), it->second);
    return true;
  }
  // An attribute the trace has not assigned (a class attribute with a default): its concrete value,
  // which is a constant of the class.
  SVP sv = from_concrete(obj->iv.toObjectRef().getAttr(name));
  (*obj->attrs)[name] = sv;
  set(n->output(), sv);
  return true;
}

}  // namespace ptx::frontend
