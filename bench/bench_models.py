"""The benchmark's models (bench/compare.py): full-size variants of the test models with a dynamic batch.

The test zoo (tests/models/make_models.py) shrinks vit_b_16 and the transformer encoder and makes H and
W dynamic for the convnets (torch.export 2.14 fails on those ranges). The benchmark compares the two
exporters on the standard architectures with a dynamic batch only (and a dynamic sequence length for
the encoder), so it registers its own specs here, named `bench_*`, in make_models.SPECS and builds
them with make_models.make (same files: model.pt, inputs.json, meta.json).

Importable:
    MODELS                        short name (what --models takes) -> spec name in make_models.SPECS
    prepare(short, work) -> dict  builds (or reuses) WORK/models/NAME/{model.pt, inputs.json, meta.json}
                                  and WORK/models/NAME/eager.pt (torch.save of the python module with
                                  the same weights, what the torch.export side loads); returns the paths
"""
from __future__ import annotations

import json
import os
import sys
import warnings

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [os.path.join(ROOT, "tests", "models"), os.path.join(ROOT, "tests", "e2e")]
import make_models  # noqa: E402
from make_models import Spec, T, _seeded, _tv  # noqa: E402


class Encoder6(nn.Module):
    """nn.TransformerEncoder, 6 layers of the base transformer's size (d_model 512, 8 heads, ff 2048),
    batch_first, no masks: src [batch, seq, 512] -> [batch, seq, 512]."""
    def __init__(self, d_model=512, nhead=8, ff=2048, layers=6):
        super().__init__()
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=ff, dropout=0.0, batch_first=True)
        self.enc = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)

    def forward(self, src):
        return self.enc(src)


def _image_spec(name, build, atol=1e-3):
    # batch in [1, 8]: ptexport's default verification runs eager at the min, max and an interior
    # batch, so a large max would make the benchmark mostly time eager inference
    return Spec(name, _seeded(build), [T([2, 3, 224, 224], ["batch", None, None, None], name="x")],
                {"batch": [1, 8]}, [{"batch": 1}], kinds=("scripted",), group="bench",
                atol=atol, notes="benchmark: standard size, 224x224, dynamic batch")


_SPECS = [
    _image_spec("bench_resnet18", _tv("resnet18")),
    _image_spec("bench_resnet50", _tv("resnet50")),
    _image_spec("bench_mobilenet_v3_small", _tv("mobilenet_v3_small")),
    _image_spec("bench_vit_b_16", _tv("vit_b_16")),
    Spec("bench_transformer_encoder", _seeded(Encoder6), [T([2, 16, 512], ["batch", "seq", None], name="src")],
         {"batch": [1, 16], "seq": [2, 256]}, [{"batch": 1, "seq": 2}, {"batch": 3, "seq": 45}],
         kinds=("scripted",), group="bench", atol=1e-3,
         notes="benchmark: nn.TransformerEncoder, 6 layers, d_model 512, 8 heads, ff 2048, no masks"),
]
for _s in _SPECS:
    make_models.SPECS[_s.base] = _s
    make_models.BASES[_s.base] = _s

# short name -> spec name (the MLP is the test zoo's: it measures the fixed cost of each tool)
MODELS = {
    "mlp": "mlp",
    "resnet18": "bench_resnet18",
    "resnet50": "bench_resnet50",
    "mobilenet_v3_small": "bench_mobilenet_v3_small",
    "vit_b_16": "bench_vit_b_16",
    "transformer_encoder": "bench_transformer_encoder",
}


# Bump when a model's architecture or weights change: model.pt and eager.pt are rebuilt only then
# (building the full-size vit_b_16 takes minutes). inputs.json and meta.json are rewritten on every
# run, so input shapes and dynamic ranges can change without a rebuild.
MODEL_REVISION = 1


def _model_key(name: str) -> str:
    import torchvision
    return f"{name} rev {MODEL_REVISION} torch {torch.__version__} torchvision {torchvision.__version__}"


def prepare(short: str, work: str) -> dict:
    name = MODELS[short]
    out = os.path.join(work, "models")
    d = os.path.join(out, name)
    model, eager, key_file = (os.path.join(d, f) for f in ("model.pt", "eager.pt", "model.key"))
    key = _model_key(name)
    try:
        with open(key_file) as f:
            fresh = f.read().strip() == key and os.path.exists(model) and os.path.exists(eager)
    except OSError:
        fresh = False
    if fresh:  # the same module: only the inputs and the description may have changed
        v = make_models.variant(name)
        make_models._write_json(os.path.join(d, "inputs.json"), make_models.inputs_doc(name))
        with open(os.path.join(d, "meta.json")) as f:
            meta = json.load(f)
        meta.update({"dynamic": v["dims"], "sizes": v["sizes"], "notes": make_models.SPECS[name].notes})
        make_models._write_json(os.path.join(d, "meta.json"), meta)
    else:
        torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
        make_models.make(name, out, make_models._script_hash())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.save(make_models.build_eager(name), eager + ".tmp")
        os.replace(eager + ".tmp", eager)
        with open(key_file, "w") as f:
            f.write(key + "\n")
    with open(os.path.join(d, "meta.json")) as f:
        meta = json.load(f)
    return {"name": name, "dir": d, "model": model, "inputs": os.path.join(d, "inputs.json"), "eager": eager,
            "meta": meta}
