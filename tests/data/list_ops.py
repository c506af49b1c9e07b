#!/usr/bin/env python3
"""tests/data/list_ops.py: lists the ATen ops of the models ptexport must handle.

Builds each model (torchvision models with weights=None, nn.TransformerEncoder with masks,
nn.LSTM, nn.GRU, an MLP), scripts AND traces it, freezes (torch::jit::freeze_module) and inlines
(torch._C._jit_pass_inline) the result the way the frontend sees it, walks every block
(both branches of each prim::If), and writes tests/data/ops_seen.txt:

  aten::<op><TAB><overloads, comma separated><TAB><model/mode, comma separated>

one line per ATen op kind that produces a tensor (these need a shape rule in shapes/rules/),
sorted; then, after a line "# frontend-evaluated", the ops on ints, lists, strings and the like
(aten::size, aten::add.int, aten::format, ...) that the frontend evaluates itself, same format.

Run inside the build environment:  scripts/env.sh run python3 tests/data/list_ops.py
(about a minute on 2 cores; the output is committed, so tests do not run this).
"""
import argparse
import collections
import os
import sys
import warnings

import torch
import torch.nn as nn
import torchvision.models as tvm

# Ops that take or give containers / Python values only the interpreter understands, even when an
# element type is Tensor: the frontend evaluates these itself, they never need a shape rule.
FRONTEND_OPS = {
    "aten::__getitem__", "aten::append", "aten::len", "aten::list", "aten::__contains__",
    "aten::_set_item", "aten::insert", "aten::pop", "aten::extend", "aten::slice.t",
    "aten::values", "aten::keys", "aten::items", "aten::dict", "aten::format", "aten::warn",
    "aten::__is__", "aten::__isnot__", "aten::__not__", "aten::size", "aten::dim", "aten::Int",
    "aten::Float", "aten::Bool", "aten::ScalarImplicit", "aten::IntImplicit", "aten::FloatImplicit",
    "aten::is_grad_enabled", "aten::is_autocast_enabled", "aten::is_autocast_cpu_enabled",
}


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 32),
                                 nn.GELU(), nn.Linear(32, 4))

    def forward(self, x):
        return self.net(x)


class Encoder(nn.Module):
    """nn.TransformerEncoder, batch_first, with an attention mask and a key padding mask."""

    def __init__(self):
        super().__init__()
        layer = nn.TransformerEncoderLayer(d_model=32, nhead=4, dim_feedforward=64, dropout=0.0,
                                           batch_first=True)
        self.enc = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=True)

    def forward(self, x, mask, padding):
        return self.enc(x, mask=mask, src_key_padding_mask=padding)


class EncoderNoMask(nn.Module):
    def __init__(self):
        super().__init__()
        layer = nn.TransformerEncoderLayer(d_model=32, nhead=4, dim_feedforward=64, dropout=0.0,
                                           batch_first=True, norm_first=True)
        self.enc = nn.TransformerEncoder(layer, num_layers=1)

    def forward(self, x):
        return self.enc(x)


def encoder_inputs():
    x = torch.randn(2, 7, 32)
    mask = nn.Transformer.generate_square_subsequent_mask(7)
    padding = torch.zeros(2, 7, dtype=torch.bool)
    padding[1, 5:] = True
    return (x, mask, padding)


def models():
    """(name, module, example inputs, method names to script-export)."""
    img = (torch.randn(1, 3, 224, 224),)
    out = []
    for name in ["resnet18", "resnet50", "mobilenet_v3_small", "efficientnet_b0", "densenet121",
                 "convnext_tiny", "vit_b_16", "swin_t", "regnet_y_400mf", "shufflenet_v2_x1_0",
                 "squeezenet1_1", "mnasnet0_5"]:
        out.append((name, lambda n=name: getattr(tvm, n)(weights=None), img))
    out.append(("transformer_encoder", Encoder, encoder_inputs()))
    out.append(("transformer_encoder_nomask", EncoderNoMask, (torch.randn(2, 7, 32),)))
    out.append(("lstm", lambda: nn.LSTM(8, 16, num_layers=2, batch_first=True), (torch.randn(2, 5, 8),)))
    out.append(("gru", lambda: nn.GRU(8, 16, num_layers=1, batch_first=True, bidirectional=True),
                (torch.randn(2, 5, 8),)))
    out.append(("mlp", MLP, (torch.randn(4, 16),)))
    return out


def walk(block, found):
    for node in block.nodes():
        kind = node.kind()
        if kind.startswith("aten::"):
            schema = node.schema() if hasattr(node, "schema") else "(no schema)"
            overload = "default"
            if schema != "(no schema)":
                head = schema.split("(", 1)[0]
                if "." in head:
                    overload = head.split(".", 1)[1]
            found.append((kind, overload, node))
        for sub in node.blocks():
            walk(sub, found)


def produces_tensor(node):
    for out in node.outputs():
        t = out.type()
        if isinstance(t, torch._C.TensorType):
            return True
        if isinstance(t, torch._C.ListType) and isinstance(t.getElementType(), torch._C.TensorType):
            return True
        if isinstance(t, torch._C.TupleType) and any(isinstance(e, torch._C.TensorType) for e in t.elements()):
            return True
    return False


def graphs_of(name, make, inputs):
    """Yields (mode, graph) after freeze + inline."""
    torch.manual_seed(0)
    model = make().eval()
    # Scripted.
    scripted = torch.jit.script(model)
    methods = ["forward"] if hasattr(scripted, "forward") else []
    if not methods:  # nn.LSTM / nn.GRU: overloads saved as forward__0, forward__1
        methods = [m for m in ("forward__0", "forward__1") if hasattr(scripted, m)]
    # torch::jit::freeze_module, as the frontend calls it (no frozen optimizations such as conv-bn
    # folding, which torch.jit.freeze would add).
    frozen = torch._C._freeze_module(scripted._c, [m for m in methods if m != "forward"])
    for m in methods:
        g = frozen._get_method(m).graph
        torch._C._jit_pass_inline(g)
        yield "script", g
    # Traced, with grad enabled (as users trace) and under no_grad (fast paths of nn.Transformer).
    for mode, ctx in (("trace", torch.enable_grad), ("trace_nograd", torch.no_grad)):
        with ctx():
            traced = torch.jit.trace(model, inputs, check_trace=False)
        g = torch._C._freeze_module(traced._c)._get_method("forward").graph
        torch._C._jit_pass_inline(g)
        yield mode, g


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "ops_seen.txt"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    tensor_ops = collections.defaultdict(lambda: (set(), set()))
    other_ops = collections.defaultdict(lambda: (set(), set()))
    for name, make, inputs in models():
        for mode, g in graphs_of(name, make, inputs):
            found = []
            walk(g.block(), found)
            for kind, overload, node in found:
                full = kind if overload == "default" else f"{kind}.{overload}"
                frontend = kind in FRONTEND_OPS or full in FRONTEND_OPS or not produces_tensor(node)
                table = other_ops if frontend else tensor_ops
                table[kind][0].add(overload)
                table[kind][1].add(f"{name}/{mode}")
        print(f"{name}: done", file=sys.stderr)

    def fmt(table):
        return [f"{k}\t{','.join(sorted(v[0]))}\t{','.join(sorted(v[1]))}" for k, v in sorted(table.items())]

    with open(args.out, "w") as f:
        f.write("# ATen ops in the frozen + inlined TorchScript graphs of the models in tests/data/list_ops.py\n")
        f.write("# (scripted, traced, traced under no_grad). Made by that script; do not edit by hand.\n")
        f.write("# op<TAB>overloads<TAB>model/mode. Ops that produce tensors: each needs a shape rule.\n")
        f.write("\n".join(fmt(tensor_ops)) + "\n")
        f.write("# frontend-evaluated: ops on ints, lists, strings, flags (no shape rule)\n")
        f.write("\n".join(fmt(other_ops)) + "\n")
    print(f"wrote {args.out}: {len(tensor_ops)} tensor ops, {len(other_ops)} frontend ops", file=sys.stderr)


if __name__ == "__main__":
    main()
