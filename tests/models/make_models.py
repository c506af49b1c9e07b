"""Makes the test models: TorchScript archives with their sample inputs and a description.

    python3 tests/models/make_models.py --out BUILD/models [--only NAME[,NAME]] [--all] [--group G] [--force] [--list]

A plain run builds the "default" group (what ctest's make_models fixture builds: the small shape
modules, MLP, transformer encoder, RNNs, resnet18 and the shrunk big architectures, ~35 models);
--all adds the "zoo" (full-size torchvision models and their traced variants, about 2 minutes) and the
"families" (segmentation, speech, text, video, optical flow, detection: tests/models/families.py);
--group zoo builds the zoo alone (ctest's make_zoo_models fixture, for tests/e2e/test_export_zoo.py),
--group families the families (make_family_models, for tests/e2e/test_export_families.py);
--only builds any named models. Names: BASE for the torch.jit.script'ed model, BASE_traced for
torch.jit.trace (where tracing is possible); --list prints name, kind, group, dynamic symbols.

For each model NAME it writes OUT/NAME/
    model.pt     torch.jit.save of the scripted (NAME) or traced (NAME_traced) module
    inputs.json  ptexport.inputs/v1 (docs: /work/shared/design/CLI.md): sample shapes, which dimensions
                 are dynamic (`dims`) and their ranges, the method to export
    meta.json    {"name", "base", "kind": "scripted"|"traced", "method", "dynamic": {sym: [min, max]},
                  "sizes": [{sym: value}, ...] (symbol values to try, each inside its range and checked
                  here to run eagerly, the saved model agreeing with the python module), "group",
                  "shrunk": what was made smaller than the standard model or null, "frozen_by_trace":
                  symbols the traced variant makes static, "torch_export": torch.export 2.14's verdict
                  on the python module with these dims (docs/reference-facts.md section 4), "notes",
                  "atol" (tolerance for comparisons), "torch", "script_hash"}
Weights are random (seeded, `weights=None`), nothing is downloaded. A model whose three files exist and
whose meta.json records this script's hash (and torch's version) is skipped, so a rerun takes seconds.

Importable: `SPECS` (name -> Spec), `build_eager(base)` (the python nn.Module, in eval mode, with the
same weights as the saved model: tests export it with torch.export to check the conformance harness),
`sample_inputs(name, sizes=None)`.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import conformance  # noqa: E402  (load_inputs: the python reading of inputs.json)
import families  # noqa: E402  (the "families" group: segmentation, speech, text, video, flow, detection)
from model_spec import Spec, T, dumps, seeded as _seeded, write_json as _write_json  # noqa: E402,F401


# ---------------------------------------------------------------------------------------------
# Small modules for shape situations

class MLP(nn.Module):
    def __init__(self, d_in=16, d_hidden=32, d_out=4):
        super().__init__()
        self.fc1 = nn.Linear(d_in, d_hidden)
        self.fc2 = nn.Linear(d_hidden, d_hidden)
        self.fc3 = nn.Linear(d_hidden, d_out)

    def forward(self, x):
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class OddNames(nn.Module):
    """Submodules named as torchvision's regnet names them (`block1-0`) and in CamelCase: torch.export
    names their placeholders p_trunk_block1_0_proj_weight, b_trunk_bn_running_mean, ... (lower case,
    every other character '_'); a name kept as is would not compile as python in torch.export.load."""
    def __init__(self):
        super().__init__()
        from collections import OrderedDict
        self.trunk = nn.Sequential(OrderedDict([("block1-0", nn.Linear(8, 8)), ("Proj", nn.Linear(8, 8)),
                                                ("BN", nn.BatchNorm1d(8)), ("0", nn.Linear(8, 4))]))

    def forward(self, x):
        return self.trunk(x)


class GradModeBranch(nn.Module):
    """Reads grad mode, as nn.MultiheadAttention's fast-path check does: torch.export traces with grad
    mode on (x * 2); a verification that ran the eager model under no_grad would get x * 3."""
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(8, 8)

    def forward(self, x):
        if torch.is_grad_enabled():
            return self.lin(x) * 2.0
        return self.lin(x) * 3.0


class ShapeIf(nn.Module):
    """A branch on a size: torch.export decides it from the sample and guards it."""
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(8, 8)

    def forward(self, x):
        if x.size(0) > 4:
            return self.lin(x).relu()
        return self.lin(x).sigmoid()


class ViewDivisible(nn.Module):
    """x: [batch, 6] viewed as [-1, 4]: needs 6*batch divisible by 4, i.e. batch even."""
    def forward(self, x):
        return x.view(-1, 4).sum(1)


class Broadcast2(nn.Module):
    """[n, 1] + [1, m] -> [n, m] with two independent dynamic dims."""
    def forward(self, a, b):
        return (a + b) * 2.0


class ReshapeConst(nn.Module):
    """x: [batch, 3, 4] reshaped to a constant [-1, 12] and [batch*12]: sizes computed from symbols."""
    def forward(self, x):
        y = x.reshape(-1, 12)
        return y.flatten() + 1.0, y.shape[0]


class InPlace(nn.Module):
    """relu_, add_, copy_ into a slice of a fresh tensor, mul_ on an input."""
    def forward(self, x, y):
        z = x.clone()
        z.relu_()
        z.add_(y)
        out = torch.zeros(x.size(0), x.size(1) * 2)
        out[:, : x.size(1)].copy_(z)
        out[:, x.size(1):] = y
        return out


class BufferMutation(nn.Module):
    """Updates a running-mean buffer on every call (buffer_mutation in the output specs)."""
    def __init__(self):
        super().__init__()
        self.register_buffer("running", torch.zeros(8))
        self.register_buffer("count", torch.zeros((), dtype=torch.int64))

    def forward(self, x):
        self.running.mul_(0.9).add_(x.mean(0) * 0.1)
        self.count.add_(1)
        return x - self.running


class Containers(nn.Module):
    """List, tuple and dict inputs; a tuple and a dict in the outputs."""
    def forward(self, xs: list[torch.Tensor], pair: tuple[torch.Tensor, torch.Tensor],
                d: dict[str, torch.Tensor]):
        s = xs[0] + xs[1]
        p = pair[0] * pair[1]
        return (s, p), {"sum": s.sum(1), "mixed": d["a"] + d["b"]}


class Scalars(nn.Module):
    """int and float scalar inputs next to a tensor."""
    def forward(self, x, k: int, alpha: float):
        return x[:, :k] * alpha + k


class ScalarFirst(nn.Module):
    """An int argument before the tensor: flattening the inputs must skip it (the program's tensor
    placeholders are the tensors alone); ptexport once verified with k as if it were x."""
    def forward(self, k: int, x):
        return x * k


class Kwargs(nn.Module):
    """Called with keyword arguments: forward(x, *, bias, scale)."""
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(8, 8)

    def forward(self, x, bias: torch.Tensor, scale: float = 2.0):
        return self.lin(x) * scale + bias


class ConvBN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class TransformerEnc(nn.Module):
    """nn.TransformerEncoder (batch_first), with a key padding mask and an attention mask."""
    def __init__(self, d_model=32, nhead=4, layers=2):
        super().__init__()
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=64, dropout=0.0, batch_first=True)
        self.enc = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)

    def forward(self, src, mask, src_key_padding_mask):
        return self.enc(src, mask=mask, src_key_padding_mask=src_key_padding_mask)


class TransformerEncPad(TransformerEnc):
    """The same encoder called with a key padding mask only (torch.export handles this one)."""
    def forward(self, src, src_key_padding_mask):
        return self.enc(src, src_key_padding_mask=src_key_padding_mask)


class LSTMWrap(nn.Module):
    """nn.LSTM behind a plain forward (scripting nn.LSTM itself gives forward__0/forward__1)."""
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(16, 32, num_layers=2, batch_first=True)

    def forward(self, x):
        out, (h, c) = self.rnn(x)
        return out, h, c


# ---------------------------------------------------------------------------------------------
# Specs

def _tv(name, **kw):
    def f():
        import torchvision
        return getattr(torchvision.models, name)(weights=None, **kw)
    return f


def _vit_small():
    from torchvision.models import VisionTransformer
    return VisionTransformer(image_size=32, patch_size=16, num_layers=2, num_heads=4, hidden_dim=64, mlp_dim=128)


def _swin_small():
    from torchvision.models.swin_transformer import SwinTransformer
    return SwinTransformer(patch_size=[4, 4], embed_dim=24, depths=[2, 2, 2, 2], num_heads=[1, 2, 3, 6],
                           window_size=[7, 7], stochastic_depth_prob=0.0)


def _convnext_small():
    from torchvision.models.convnext import CNBlockConfig, ConvNeXt
    cfg = [CNBlockConfig(24, 48, 1), CNBlockConfig(48, 96, 1), CNBlockConfig(96, 192, 1), CNBlockConfig(192, None, 1)]
    return ConvNeXt(cfg, stochastic_depth_prob=0.0)


def _image(c=3, batch=2, hw=64, dyn_hw=True):
    dims = ["batch", None, "h", "w"] if dyn_hw else ["batch", None, None, None]
    return T([batch, c, hw, hw], dims, name="x")


def _conv_spec(base, build, lo=32, hi=224, shrunk=None, notes="", dyn_hw=True, hw=64, atol=1e-3,
               traced_static=(), group="default", torch_export=None, traced_group=None, big_batch=8):
    # sizes to try stay cheap (batch up to 8, H and W up to 128): conformance runs each one twice
    dims = {"batch": [1, 64]}
    sizes = [{"batch": 1}, {"batch": big_batch}, {"batch": 3}]
    if dyn_hw:
        dims.update({"h": [lo, hi], "w": [lo, hi]})
        big = min(hi, 128)
        sizes = [{"batch": 1, "h": lo, "w": lo}, {"batch": big_batch, "h": lo, "w": lo},
                 {"batch": 1, "h": big, "w": big}, {"batch": 3, "h": lo + 13, "w": lo + 29}]
    return Spec(base, _seeded(build), [_image(hw=hw, dyn_hw=dyn_hw)], dims, sizes, shrunk=shrunk,
                notes=notes, atol=atol, traced_static=traced_static, group=group, torch_export=torch_export,
                traced_group=traced_group)


def _specs() -> dict[str, Spec]:
    s: list[Spec] = [
        Spec("mlp", _seeded(MLP), [T([8, 16], ["batch", None], name="x")], {"batch": [1, 1024]},
             [{"batch": 1}, {"batch": 1024}, {"batch": 37}],
             torch_export='exports with the same ranges'),
        Spec("odd_names", _seeded(OddNames), [T([6, 8], ["batch", None], name="x")], {"batch": [2, 512]},
             [{"batch": 2}, {"batch": 512}, {"batch": 37}],
             notes="submodule names with '-', upper case and a digit (regnet's block1-0)",
             torch_export='exports with the same ranges'),
        Spec("grad_mode_branch", _seeded(GradModeBranch), [T([4, 8], ["batch", None], name="x")],
             {"batch": [1, 512]}, [{"batch": 1}, {"batch": 512}, {"batch": 19}], kinds=("scripted",),
             notes="branches on torch.is_grad_enabled(): exported (grad mode on) as lin(x) * 2",
             torch_export='exports with the same ranges (lin(x) * 2)'),
        Spec("shape_if", _seeded(ShapeIf), [T([8, 8], ["batch", None], name="x")], {"batch": [5, 512]},
             [{"batch": 5}, {"batch": 512}, {"batch": 77}],
             notes="the branch x.size(0) > 4 holds on the whole range [5, 512]; below 5 the other branch runs",
             torch_export='exports with the same ranges'),
        Spec("view_divisible", _seeded(ViewDivisible), [T([8, 6], ["2*half", None], name="x")], {"half": [1, 512]},
             [{"half": 1}, {"half": 512}, {"half": 21}],
             notes="x.view(-1, 4) on [2*half, 6]: a batch written as 2*half so that 6*batch % 4 == 0",
             torch_export='exports with the same ranges (range_constraints half: [2, 512], 2*half: [2, 1024])'),
        Spec("broadcast2", _seeded(Broadcast2), [T([5, 1], ["n", None], name="a"), T([1, 7], [None, "m"], name="b")],
             {"n": [2, 256], "m": [2, 256]}, [{"n": 2, "m": 2}, {"n": 256, "m": 256}, {"n": 3, "m": 100}],
             torch_export='exports with the same ranges'),
        Spec("reshape_const", _seeded(ReshapeConst), [T([4, 3, 4], ["batch", None, None], name="x")],
             {"batch": [1, 512]}, [{"batch": 1}, {"batch": 512}, {"batch": 9}],
             kinds=("scripted",), notes="returns (tensor, int): tracing would freeze the int",
             torch_export='exports with the same ranges'),
        Spec("inplace", _seeded(InPlace), [T([6, 5], ["batch", None], name="x"), T([6, 5], ["batch", None], name="y")],
             {"batch": [1, 512]}, [{"batch": 1}, {"batch": 512}, {"batch": 10}],
             torch_export='exports with the same ranges'),
        Spec("buffer_mutation", _seeded(BufferMutation), [T([4, 8], ["batch", None], name="x")], {"batch": [1, 512]},
             [{"batch": 1}, {"batch": 512}, {"batch": 6}],
             torch_export='exports with the same ranges'),
        Spec("containers", _seeded(Containers),
             [{"name": "xs", "value": [T([3, 4], ["batch", None]), T([3, 4], ["batch", None])]},
              {"name": "pair", "value": [T([3, 4], ["batch", None]), T([1, 4])]},
              {"name": "d", "value": {"a": T([3, 2], ["batch", None]), "b": T([3, 2], ["batch", None])}}],
             {"batch": [1, 512]}, [{"batch": 1}, {"batch": 512}, {"batch": 11}],
             kinds=("scripted",), notes="tracing cannot return a dict with a tuple beside it without strict=False",
             torch_export='exports with the same ranges'),
        Spec("scalars", _seeded(Scalars), [T([4, 8], ["batch", None], name="x"), {"name": "k", "value": 3},
                                          {"name": "alpha", "value": 0.5}],
             {"batch": [1, 512]}, [{"batch": 1}, {"batch": 512}, {"batch": 13}], kinds=("scripted",),
             notes="int/float inputs: torch.jit.trace takes tensors only",
             torch_export='exports with the same ranges'),
        Spec("scalar_first", _seeded(ScalarFirst), [{"name": "k", "value": 3}, T([4, 5], ["batch", None], name="x")],
             {"batch": [1, 512]}, [{"batch": 1}, {"batch": 512}, {"batch": 23}], kinds=("scripted",),
             notes="an int input before the tensor input",
             torch_export='exports with the same ranges'),
        Spec("kwargs", _seeded(Kwargs), [T([4, 8], ["batch", None], name="x")], {"batch": [1, 512]},
             [{"batch": 1}, {"batch": 512}, {"batch": 7}],
             kwargs={"bias": T([8], [None]), "scale": {"value": 1.5}}, kinds=("scripted",),
             notes="bias and scale passed by keyword",
             torch_export='exports with the same ranges'),
        Spec("conv_bn", _seeded(ConvBN), [_image(hw=16)], {"batch": [1, 64], "h": [1, 128], "w": [1, 128]},
             [{"batch": 1, "h": 1, "w": 1}, {"batch": 64, "h": 128, "w": 128}, {"batch": 2, "h": 17, "w": 40}],
             torch_export="exports (batch [1, 64], h, w [1, 128])"),
        Spec("transformer_encoder", _seeded(TransformerEnc),
             [T([2, 10, 32], ["batch", "seq", None], name="src"),
              T([10, 10], ["seq", "seq"], name="mask", data={"fill": 0.0}),
              T([2, 10], ["batch", "seq"], dtype="bool", name="src_key_padding_mask", data={"fill": False})],
             {"batch": [1, 64], "seq": [2, 128]},
             [{"batch": 1, "seq": 2}, {"batch": 64, "seq": 128}, {"batch": 3, "seq": 45}],
             notes="d_model 32, 4 heads, 2 layers, dropout 0; masks are all-keep (fill) so no row is fully masked",
             torch_export="fails: GuardOnDataDependentSymNode, could not guard on data-dependent expression Eq(u0, 1): the attention mask (TransformerEncoder compares it with a causal mask); exports without it (transformer_encoder_padmask)"),
        Spec("transformer_encoder_padmask", _seeded(TransformerEncPad),
             [T([2, 10, 32], ["batch", "seq", None], name="src"),
              T([2, 10], ["batch", "seq"], dtype="bool", name="src_key_padding_mask", data={"fill": False})],
             {"batch": [1, 64], "seq": [2, 128]},
             [{"batch": 1, "seq": 2}, {"batch": 64, "seq": 128}, {"batch": 3, "seq": 45}],
             notes="the transformer_encoder model (same weights) without the attention mask",
             torch_export="exports with the same ranges"),
        Spec("lstm", _seeded(lambda: nn.LSTM(16, 32, num_layers=2, batch_first=True)),
             [T([2, 12, 16], ["batch", "seq", None], name="input")], {"batch": [1, 64], "seq": [1, 128]},
             [{"batch": 1, "seq": 1}, {"batch": 64, "seq": 128}, {"batch": 3, "seq": 29}],
             method="forward__0", atol=1e-4,
             notes="scripted nn.LSTM: methods forward__0 (Tensor input) and forward__1 (PackedSequence); "
                   "export forward__0. Returns (output, (h, c)). The traced archive has forward.",
             torch_export='fails: you marked seq as dynamic but your code specialized it to be a constant (12); suggested fix seq = 12'),
        Spec("gru", _seeded(lambda: nn.GRU(16, 32, num_layers=1, batch_first=True)),
             [T([2, 12, 16], ["batch", "seq", None], name="input")], {"batch": [1, 64], "seq": [1, 128]},
             [{"batch": 1, "seq": 1}, {"batch": 64, "seq": 128}, {"batch": 3, "seq": 29}],
             method="forward__0", notes="scripted nn.GRU: forward__0 (Tensor) / forward__1 (PackedSequence)",
             torch_export='fails: you marked seq as dynamic but your code specialized it to be a constant (12); suggested fix seq = 12'),
        Spec("lstm_wrapped", _seeded(LSTMWrap), [T([2, 12, 16], ["batch", "seq", None], name="x")],
             {"batch": [1, 64], "seq": [1, 128]},
             [{"batch": 1, "seq": 1}, {"batch": 64, "seq": 128}, {"batch": 3, "seq": 29}], kinds=("scripted",),
             notes="an LSTM inside a module with a plain forward",
             torch_export='fails: you marked seq as dynamic but your code specialized it to be a constant (12); suggested fix seq = 12'),
        _conv_spec("resnet18", _tv("resnet18"), torch_export="fails on h, w in [32, 224]: guard (h - 1) // 32 + 1 != 1 (the last feature map must not be 1x1), no suggested fix; exports with h, w in [33, 224]"),
        _conv_spec("resnet50", _tv("resnet50"), torch_export="fails on h, w in [32, 224]: guard (h - 1) // 32 + 1 != 1 (the last feature map must not be 1x1), no suggested fix; exports with h, w in [33, 224]", group="zoo"),
        _conv_spec("mobilenet_v3_small", _tv("mobilenet_v3_small"), traced_group="zoo", torch_export="fails on h, w in [32, 224]: guard (h - 1) // 32 + 1 != 1, suggests w = Dim(min=33) only; exports with h, w in [33, 224]"),
        _conv_spec("efficientnet_b0", _tv("efficientnet_b0"), torch_export="fails on h, w in [32, 224]: guard (h - 1) // 32 + 1 != 1, suggests w = Dim(min=33) only; exports with h, w in [33, 224]", group="zoo"),
        _conv_spec("densenet121", _tv("densenet121"), torch_export="fails on h, w in [32, 224] and [33, 224]: guard ((((h - 1) // 4 - 1) // 2 - 1) // 2 - 1) // 2 + 1 != 1; exports with h, w in [64, 224]", group="zoo"),
        _conv_spec("convnext_tiny", _convnext_small, traced_group="zoo",
                   torch_export="fails on h, w in [32, 224] (suggests min 64) and still on [64, 224]: guards "
                                "1 % (24*(w // 4)) != 0 ... (true for every w >= 4, not proven by torch)",
                   shrunk="ConvNeXt with channels (24, 48, 96, 192) and one block per stage instead of "
                          "convnext_tiny's (96, 192, 384, 768) and (3, 3, 9, 3): same layer types"),
        _conv_spec("vit_b_16", _vit_small, dyn_hw=False, hw=32, torch_export="exports (batch [1, 64])",
                   shrunk="VisionTransformer(image_size=32, patch_size=16, num_layers=2, num_heads=4, "
                          "hidden_dim=64, mlp_dim=128) instead of vit_b_16's 224/16/12/12/768/3072",
                   notes="H and W are static: the class token and position embedding fix the image size"),
        _conv_spec("swin_t", _swin_small, traced_group="zoo",
                   shrunk="SwinTransformer with embed_dim 24, depths (2, 2, 2, 2), heads (1, 2, 3, 6) instead "
                          "of swin_t's 96, (2, 2, 6, 2), (3, 6, 12, 24); window 7, patch 4 as swin_t",
                   traced_static=("h", "w"),
                   torch_export="fails on h, w in [32, 224] after 5 minutes of guard solving: window padding "
                                "guards with nested // and % by 7, no suggested fix",
                   notes="traced: H and W static (the trace freezes the window padding and shift masks)"),
        # the full-size torchvision models behind the three shrunk ones above (zoo)
        _conv_spec("convnext_tiny_full", _tv("convnext_tiny"), group="zoo",
                   notes="torchvision convnext_tiny as is (the default group's convnext_tiny is shrunk)"),
        _conv_spec("vit_b_16_full", _tv("vit_b_16"), dyn_hw=False, hw=224, group="zoo", big_batch=4,
                   notes="torchvision vit_b_16 as is (image 224, patch 16, 12 layers, hidden 768); H and W are "
                         "static: the class token and position embedding fix the image size"),
        _conv_spec("swin_t_full", _tv("swin_t"), group="zoo", traced_static=("h", "w"),
                   notes="torchvision swin_t as is; exportable with h, w in [60, 115] (see swin_t); traced: H and "
                         "W static"),
        _conv_spec("regnet_y_400mf", _tv("regnet_y_400mf"), torch_export="fails on h, w in [32, 224]: guard (h - 1) // 32 + 1 != 1 (the last feature map must not be 1x1), no suggested fix; exports with h, w in [33, 224]", group="zoo"),
        _conv_spec("shufflenet_v2_x1_0", _tv("shufflenet_v2_x1_0"), torch_export="fails on h, w in [32, 224]: guard (h - 1) // 32 + 1 != 1 (the last feature map must not be 1x1), no suggested fix; exports with h, w in [33, 224]", group="zoo"),
        _conv_spec("squeezenet1_1", _tv("squeezenet1_1"), torch_export="fails on h, w in [32, 224], [33, 224] and [64, 224]: parity guards of the ceil_mode max pools (2*((((h - 3) // 2 - 1) // 2 - 1) // 2) < 1 + (((h - 3) // 2 - 1) // 2)), no suggested fix", group="zoo"),
        _conv_spec("mnasnet0_5", _tv("mnasnet0_5"), torch_export="fails on h, w in [32, 224]: guard (h - 1) // 32 + 1 != 1 (the last feature map must not be 1x1), no suggested fix; exports with h, w in [33, 224]", group="zoo"),
    ]
    s += families.specs()
    out = {}
    for spec in s:
        for kind in spec.kinds:
            out[spec.base if kind == "scripted" else spec.base + "_traced"] = spec
    return out


SPECS = _specs()
BASES = {spec.base: spec for spec in SPECS.values()}


def group_of(name: str) -> str:
    spec = SPECS[name]
    return (spec.traced_group or spec.group) if _kind(name) == "traced" else spec.group


def build_eager(base: str) -> nn.Module:
    """The python module behind model `base` (eval mode), with the weights the saved models have."""
    return BASES[base].build()


def _freeze(obj, frozen):
    """A copy of an inputs.json object with the dims of `frozen` symbols made static."""
    if isinstance(obj, list):
        return [_freeze(v, frozen) for v in obj]
    if isinstance(obj, dict):
        out = {k: _freeze(v, frozen) for k, v in obj.items()}
        if "dims" in obj and "shape" in obj:
            out["dims"] = [None if (m and conformance.parse_dim(m) and conformance.parse_dim(m)[0] in frozen)
                           else m for m in obj["dims"]]
        return out
    return obj


def variant(name: str) -> dict:
    """What model `name` is built from: kind, method, args, kwargs, dims, sizes (after freezing)."""
    spec = SPECS[name]
    kind = _kind(name)
    frozen = set(spec.traced_static) if kind == "traced" else set()
    sizes = []
    for sz in spec.sizes:
        sz = {k: v for k, v in sz.items() if k not in frozen}
        if sz not in sizes:
            sizes.append(sz)
    return {"kind": kind, "method": spec.method if kind == "scripted" else "forward",
            "args": _freeze(spec.args, frozen), "kwargs": _freeze(spec.kwargs, frozen),
            "dims": {k: v for k, v in spec.dims.items() if k not in frozen},
            "sizes": [sz for sz in sizes if sz], "frozen": sorted(frozen)}


def _seed_leaves(obj, counter):
    """Gives every random tensor its own seed (0, 1, 2, ... in flattening order)."""
    if isinstance(obj, list):
        return [_seed_leaves(v, counter) for v in obj]
    if isinstance(obj, dict):
        out = {k: _seed_leaves(v, counter) for k, v in obj.items()}
        rnd = (out.get("data") or {}).get("random") if "shape" in out else None
        if rnd is not None:
            out["data"] = {"random": {**rnd, "seed": counter[0]}}
            counter[0] += 1
        return out
    return obj


def inputs_doc(name: str) -> dict:
    v = variant(name)
    counter = [0]
    v["args"] = _seed_leaves(v["args"], counter)
    v["kwargs"] = _seed_leaves(v["kwargs"], counter)
    return {"schema": conformance.SCHEMA, "method": v["method"], "args": v["args"], "kwargs": v["kwargs"],
            "dims": {k: {"min": r[0], "max": r[1]} for k, r in v["dims"].items()}}


def _kind(name: str) -> str:
    return "traced" if name.endswith("_traced") else "scripted"


def sample_inputs(name: str, sizes=None):
    """(args, kwargs) of model `name` at `sizes`, through conformance.load_inputs (as tests see them)."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "inputs.json")
        _write_json(path, inputs_doc(name))
        return conformance.load_inputs(path, sizes, tuples=conformance.tuple_params(BASES[SPECS[name].base].build().forward))


def _flat_tensors(obj):
    import torch.utils._pytree as pytree
    return [t for t in pytree.tree_leaves(obj) if isinstance(t, torch.Tensor)]


def make(name: str, out: str, script_hash: str) -> str:
    spec = SPECS[name]
    v = variant(name)
    kind, method = v["kind"], v["method"]
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    inputs = os.path.join(d, "inputs.json")
    _write_json(inputs, inputs_doc(name))
    module = spec.build()
    tuples = conformance.tuple_params(module.forward)
    args, kwargs = conformance.load_inputs(inputs, tuples=tuples)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "scripted":
            saved = torch.jit.script(module)
        elif kwargs:
            saved = torch.jit.trace(module, example_kwarg_inputs=kwargs, strict=False, check_trace=False)
        else:
            traced = spec.trace_wrapper(module) if spec.trace_wrapper else module
            saved = torch.jit.trace(traced, tuple(args), strict=False, check_trace=False)
        if not hasattr(saved, method):
            raise RuntimeError(f"{name}: the {kind} module has no method {method!r}")
        torch.jit.save(saved, os.path.join(d, "model.pt"))
        loaded = torch.jit.load(os.path.join(d, "model.pt"))
    # every size to try must be in range and run eagerly, with the saved archive agreeing with the
    # python module (this is what catches a trace that froze a size)
    for sizes in [{}] + v["sizes"]:
        for sym, val in sizes.items():
            lo, hi = v["dims"][sym]
            if not (lo <= val <= hi):
                raise RuntimeError(f"{name}: sizes {sizes}: {sym}={val} outside [{lo}, {hi}]")
        a, k = conformance.load_inputs(inputs, sizes, tuples=tuples)
        with torch.no_grad(), torch.jit.optimized_execution(False):
            got = getattr(loaded, method)(*a, **k)
            want = module(*a, **k)
        for g, w in zip(_flat_tensors(got), _flat_tensors(want)):
            try:
                torch.testing.assert_close(g, w, atol=spec.atol, rtol=1e-3)
            except AssertionError as e:
                raise RuntimeError(f"{name}: the saved {kind} model differs from the python module at "
                                   f"sizes {sizes or 'sample'}: {e}") from None
    meta = {"name": name, "base": spec.base, "kind": kind, "method": method,
            "dynamic": v["dims"], "sizes": v["sizes"], "frozen_by_trace": v["frozen"],
            "group": group_of(name), "shrunk": spec.shrunk, "notes": spec.notes, "atol": spec.atol,
            "torch_export": spec.torch_export,
            "torch": torch.__version__, "script_hash": script_hash}
    _write_json(os.path.join(d, "meta.json"), meta)
    return d


def _script_hash() -> str:
    h = hashlib.sha256()
    for f in (__file__, conformance.__file__, families.__file__, sys.modules[Spec.__module__].__file__):
        with open(f, "rb") as fh:
            h.update(fh.read())
    h.update(torch.__version__.encode())
    return h.hexdigest()[:16]


def _up_to_date(d: str, script_hash: str) -> bool:
    try:
        with open(os.path.join(d, "meta.json")) as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return False
    return (meta.get("script_hash") == script_hash and os.path.exists(os.path.join(d, "model.pt"))
            and os.path.exists(os.path.join(d, "inputs.json")))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=os.path.join(HERE, "out"))
    p.add_argument("--only", default="", help="NAME[,NAME]: build these models only")
    p.add_argument("--all", action="store_true", help="also build the full-size torchvision zoo")
    p.add_argument("--group", choices=("default", "zoo", "families"), help="build this group only")
    p.add_argument("--list", action="store_true", help="list model names and exit")
    p.add_argument("--force", action="store_true", help="rebuild even when up to date")
    a = p.parse_args(argv)
    if a.list:
        for name, spec in SPECS.items():
            v = variant(name)
            print(f"{name}\t{v['kind']}\t{group_of(name)}\t{','.join(v['dims'])}\t{'shrunk' if spec.shrunk else ''}")
        return 0
    names = [n for n in a.only.split(",") if n] or [
        n for n in SPECS if (group_of(n) == a.group if a.group else a.all or group_of(n) == "default")]
    unknown = [n for n in names if n not in SPECS]
    if unknown:
        print(f"make_models: unknown model(s) {unknown}; --list shows the names", file=sys.stderr)
        return 2
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    script_hash = _script_hash()
    t0 = time.time()
    built = 0
    failed = []
    for name in names:
        d = os.path.join(a.out, name)
        if not a.force and _up_to_date(d, script_hash):
            continue
        t, c = time.time(), time.process_time()
        try:
            make(name, a.out, script_hash)
        except Exception as e:  # report every failing model, then fail
            failed.append(name)
            print(f"make_models: {name}: {type(e).__name__}: {e}", file=sys.stderr)
            continue
        built += 1
        print(f"make_models: {name} {time.time() - t:.1f}s (cpu {time.process_time() - c:.1f}s)", file=sys.stderr)
    print(f"make_models: {built} built, {len(names) - built - len(failed)} up to date, "
          f"{len(failed)} failed in {time.time() - t0:.1f}s -> {a.out}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
