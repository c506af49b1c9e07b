"""The description of one test model (Spec) and the helpers that write its inputs.json objects:
shared by tests/models/make_models.py and the model groups it imports (tests/models/families.py), and
the JSON writing of inputs.json and meta.json."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn as nn


@dataclass
class Spec:
    base: str
    build: Callable[[], nn.Module]
    args: list                      # inputs.json arg objects (with "name")
    dims: dict                      # symbol -> [min, max]
    sizes: list                     # symbol values to try
    kwargs: dict = field(default_factory=dict)
    kinds: tuple = ("scripted", "traced")
    method: str = "forward"         # method of the scripted archive
    script_target: str | None = None  # "inner": script build().<attr> instead of the module
    shrunk: str | None = None
    notes: str = ""
    atol: float = 1e-4
    traced_static: tuple = ()       # symbols that tracing freezes: static in the traced variant
    group: str = "default"          # "default": built by a plain run (ctest); "zoo", "families": with --group, --all or --only
    torch_export: str | None = None  # what torch.export 2.14 says about the python module with these dims
    traced_group: str | None = None  # group of the traced variant (default: group)
    trace_kwargs: dict = field(default_factory=dict)  # extra torch.jit.trace arguments
    trace_wrapper: Callable | None = None  # module -> the module torch.jit.trace takes (a detection model's dicts)


def T(shape, dims=None, dtype="float32", data=None, name=None):
    d = {"dtype": dtype, "shape": list(shape), "dims": list(dims) if dims else [None] * len(shape)}
    if name:
        d = {"name": name, **d}
    d["data"] = data or ({"random": {"dist": "normal", "seed": 0}} if dtype.startswith("float")
                         else {"random": {"dist": "int", "low": 0, "high": 10, "seed": 0}})
    return d


def seeded(fn, seed=0):
    """build() of a module made under torch.manual_seed(seed), in eval mode."""
    def build():
        torch.manual_seed(seed)
        m = fn()
        return m.eval()
    return build


def dumps(obj, indent=0) -> str:
    """JSON with one object member or list item per line, but short lists of scalars on one line."""
    pad, inner = " " * indent, " " * (indent + 1)
    if isinstance(obj, dict) and obj:
        items = [f"{inner}{json.dumps(k)}: {dumps(v, indent + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list) and obj and not all(not isinstance(v, (dict, list)) for v in obj):
        items = [f"{inner}{dumps(v, indent + 1)}" for v in obj]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(obj)


def write_json(path, obj):
    """`obj` as dumps() writes it, replacing `path` atomically."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(dumps(obj) + "\n")
    os.replace(tmp, path)
