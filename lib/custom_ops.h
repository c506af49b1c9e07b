// lib/custom_ops.h: operators from loaded libraries (registered with TORCH_LIBRARY outside aten,
// called from a model as torch.ops.mylib.op): loading the library, and the symbolic shapes of
// their calls, which no shape rule of shapes/rules/ knows.
//
// Where a custom op's output sizes come from, in this order (docs/op-rules.md):
//   1. an --op-rules file entry for the op: output sizes (and dtype) as expressions of the inputs'
//      sizes and int arguments, with guards;
//   2. the op's Meta kernel, if the library registers one: run on meta tensors with the sample's
//      sizes, and again with each symbol moved (+1, +2, and all together +3) to fit every output
//      size as c + sum(a_i * s_i). A size that is not such an affine function of the symbols (or a
//      Meta run that fails at a moved point) specializes the symbols the op reads to their sample
//      values, with guards (sound; the checker reports it). The fit is checked again when export
//      verifies the program at each symbol's min, max and an interior value;
//   3. otherwise the op has no shape rule: exit 4, naming the op and both ways to supply one.
// The call stays a call to the custom op in the graph (target "mylib::op.default"); torch loads
// the artifact once the same library is loaded there (torch.ops.load_library).
#pragma once

#include <ATen/core/ivalue.h>

#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "shapes/rules.h"

namespace ptx {

/// dlopen(path, RTLD_NOW | RTLD_GLOBAL), as torch.ops.load_library does: its static initializers
/// register its operators with LibTorch's dispatcher. UserError(kInput, "E_LOAD_LIBRARY") naming
/// the file and dlerror() when it cannot be loaded.
void load_op_library(const std::filesystem::path& path);

/// torchvision's operator library (torchvision/_C*.so, registering torchvision::nms, roi_align, ...)
/// of the python torchvision installed beside the LibTorch that ptexport runs with (the two must
/// match): $PTEXPORT_TORCHVISION_LIBRARY when set (a path; empty: never), else the first
/// torchvision/_C*.so found under a folder that holds LibTorch's libtorch_cpu (or one of its four
/// parents), in `python3/dist-packages/`, `python3.*/{dist,site}-packages/` or beside `torch/`.
/// nullopt when there is none. docs/op-rules.md, "torchvision".
std::optional<std::filesystem::path> find_torchvision_library();

/// Whether `name` ("mylib::op") is an operator outside torch's own namespaces (aten, prim, ...).
bool is_custom_op(const std::string& name);

/// One --op-rules entry (docs/op-rules.md).
struct OpRule {
  std::string op;                          // "mylib::op" or "mylib::op.overload"
  struct Output {
    std::string dtype;                     // an argument's name, a dtype name, or "" (the kernel's)
    std::vector<std::string> sizes;        // expressions
  };
  std::vector<Output> outputs;
  std::vector<std::string> guards;         // relations that must hold
};

/// The rules of one or more --op-rules files, by op.
class OpRules {
 public:
  /// Adds the rules of `path`. UserError(kInput, "E_OP_RULES") naming the file and the entry.
  void load(const std::filesystem::path& path);
  /// The rule for `name` + `overload` ("mylib::op", "default"): an entry for "mylib::op.default"
  /// first, then one for "mylib::op"; nullptr if none.
  const OpRule* find(const std::string& name, const std::string& overload) const;
  bool empty() const { return rules_.empty(); }

 private:
  std::map<std::string, OpRule> rules_;
  std::map<std::string, std::string> files_;  // op -> the file it came from (for messages)
};

/// The --op-rules in effect for traces in this process (nullptr: none), like the operator
/// libraries themselves, which are process-wide once loaded. cmd/ sets them with ScopedOpRules
/// around a trace; lib/frontend reads them.
const OpRules* active_op_rules();
class ScopedOpRules {
 public:
  explicit ScopedOpRules(const OpRules* rules);
  ~ScopedOpRules();
  ScopedOpRules(const ScopedOpRules&) = delete;
  ScopedOpRules& operator=(const ScopedOpRules&) = delete;

 private:
  const OpRules* previous_;
};

/// The symbolic shapes of a custom op's call (see the file comment). `inputs` are the call's
/// concrete arguments in schema order, `outputs` the tensors the real kernel returned on the
/// sample. An error (RuleResult::error) when neither a rule nor a Meta kernel gives them.
shapes::RuleResult custom_op_shapes(shapes::RuleContext& ctx, std::span<const shapes::RuleArg> args,
                                    const c10::FunctionSchema& schema, const std::vector<c10::IValue>& inputs,
                                    const std::vector<at::Tensor>& outputs, const OpRules* rules);

}  // namespace ptx
