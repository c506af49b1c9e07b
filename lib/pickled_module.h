// lib/pickled_module.h: a `torch.save`d torch.nn model turned into a TorchScript module, so that one
// frontend serves both kinds of model file; and the checks that tell the two kinds apart.
//
// torch.save(model) stores a module's class name and attributes, never its forward. For a tree of
// standard layers inside Sequential containers the forward is known: each layer's documented forward,
// with the hyper-parameters from the pickle. load_pickled_module reads the file with the restricted
// unpickler (lib/unpickler.h: nothing from the file is executed) and builds the torch::jit::Module
// that `torch.jit.script(model.eval())` would give: the same submodule tree ("0", "1", ... with the
// pickle's names), the same parameters and buffers under the same names ("0.weight",
// "2.running_mean"), and a forward per layer generated as TorchScript source from our own templates
// (the code torch.jit.script emits for that layer, see Note [Generated forwards] in the .cpp). The
// pickle only chooses among templates and fills in numbers; no text from it reaches the source other
// than submodule names restricted to [A-Za-z0-9_].
//
// Eval mode: the module is built as `model.eval()` would run, like torch.export of a model in eval():
// every `training` attribute is False, BatchNorm normalizes with its running statistics (batch
// statistics when it tracks none, as eager does), Dropout is the identity (aten::dropout with
// train=False). The file's own training flag is ignored.
//
// Errors (UserError):
//   ExitCode::kInput (3): not a zip / not a torch.save archive / malformed pickle / refused global
//     (from lib/unpickler.h), a user class (its forward is Python code the file does not contain: the
//     message says how to save the model as TorchScript), a container without a forward of its own
//     (ModuleList, ModuleDict), a state_dict instead of a module, hooks, bad hyper-parameters.
//   ExitCode::kExportFailed (4): a torch.nn layer this loader has no forward for (LSTM, Upsample ...);
//     the message lists the supported layers and suggests TorchScript.
#pragma once

#include <torch/csrc/jit/api/module.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "lib/unpickler.h"

namespace ptx {

/// True if `file` is a zip archive laid out as TorchScript writes it (`<top>/code/...` and
/// `<top>/constants.pkl`). False for anything else, including unreadable files; never throws.
bool is_torchscript_archive(const std::filesystem::path& file);

/// True if `file` is a zip archive laid out as torch.save writes it (`<top>/data.pkl` and no
/// `<top>/code/`). False for anything else, including unreadable files; never throws.
bool is_torch_save_archive(const std::filesystem::path& file);

/// Loads a torch.save'd nn.Module (see the file comment) as a TorchScript module equivalent to
/// torch.jit.script(model.eval()): method `forward(self, input: Tensor) -> Tensor`, `training` False
/// everywhere. Throws UserError as described above; never runs anything from the file.
torch::jit::Module load_pickled_module(const std::filesystem::path& file);

/// The same from an already unpickled value (the root object of data.pkl). `what` names the file in
/// messages.
torch::jit::Module module_from_pickle(const PickleValue& root, const std::string& what);

/// The torch.nn classes load_pickled_module builds a forward for ("torch.nn.modules.linear.Linear"),
/// sorted; Sequential included.
std::vector<std::string_view> supported_layer_classes();

}  // namespace ptx
