"""The python reading of a `ptexport.inputs/v1` file (docs/inputs.md) for the conformance harness:
the tensors and values it describes (drawn as ptexport draws them), its dimension marks as
torch.export dynamic_shapes, and torch.export.export on them. conformance.py re-exports these
functions; its docstring documents them (load_inputs, read_inputs, dynamic_shapes_for, ...)."""
from __future__ import annotations

import json
import os
import re

import torch

SCHEMA = "ptexport.inputs/v1"
_HINTS = ("auto", "dynamic", "static")
_LIN = re.compile(r"^\s*(?:(\d+)\s*\*\s*)?([A-Za-z_][A-Za-z0-9_]*)\s*(?:([+-])\s*(\d+))?\s*$")


# ---------------------------------------------------------------------------------------------
# inputs.json

def parse_dim(mark) -> tuple[str, int, int] | None:
    """A dims entry as (symbol, a, b) meaning a*symbol+b; None for static dims and hints."""
    if mark is None or mark in _HINTS:
        return None
    if not isinstance(mark, str):
        raise ValueError(f"dims entry {mark!r}: expected null, a symbol, A*SYM+B or auto|dynamic|static")
    m = _LIN.match(mark)
    if not m:
        raise ValueError(f"dims entry {mark!r}: expected a symbol or a derived dim like 2*batch+1")
    a = int(m.group(1)) if m.group(1) else 1
    b = int(m.group(4)) if m.group(4) else 0
    if m.group(3) == "-":
        b = -b
    if a <= 0:
        raise ValueError(f"dims entry {mark!r}: the factor must be positive")
    return m.group(2), a, b


def eval_dim(mark, sizes: dict[str, int] | None, sample: int) -> int:
    lin = parse_dim(mark)
    if lin is None or not sizes or lin[0] not in sizes:
        return sample
    sym, a, b = lin
    return a * int(sizes[sym]) + b


def _dtype(name: str) -> torch.dtype:
    dt = getattr(torch, str(name), None)
    if not isinstance(dt, torch.dtype):
        raise ValueError(f"unknown dtype {name!r}")
    return dt


def _is_tensor_desc(obj) -> bool:
    return isinstance(obj, dict) and "dtype" in obj and "shape" in obj


def _random(shape, dtype: torch.dtype, spec: dict) -> torch.Tensor:
    # the same draws as ptexport's lib/inputs_tensors.cpp (docs/inputs.md): a CPU generator seeded with
    # `seed`; floating values drawn in float32 (float64 for float64) with normal_/uniform_, then cast;
    # integers with randint in int64, then cast
    g = torch.Generator().manual_seed(int(spec.get("seed", 0)))
    floating = dtype.is_floating_point
    dist = spec.get("dist", "normal" if floating else "int")
    if dist in ("normal", "uniform"):
        if not floating:
            raise ValueError(f"random {dist} needs a floating dtype, got {dtype}")
        t = torch.empty(shape, dtype=torch.float64 if dtype == torch.float64 else torch.float32)
        if dist == "normal":
            t.normal_(float(spec.get("mean", 0.0)), float(spec.get("std", 1.0)), generator=g)
        else:
            t.uniform_(float(spec.get("low", 0.0)), float(spec.get("high", 1.0)), generator=g)
        return t.to(dtype)
    if dist == "int":
        low = int(spec.get("low", 0))
        high = int(spec.get("high", 2 if dtype == torch.bool else 10))
        return torch.randint(low, high, shape, generator=g, dtype=torch.int64).to(dtype)
    raise ValueError(f"random dist {dist!r}: expected normal, uniform or int")


def _load_npy(base_dir: str, data: dict) -> torch.Tensor:
    import numpy as np
    rel = data.get("npy") or data.get("npz")
    path = os.path.join(base_dir, rel)
    if path.endswith(".npz"):
        key = data.get("key")
        with np.load(path) as z:
            if key is None:
                if len(z.files) != 1:
                    raise ValueError(f"{rel}: an .npz with several arrays needs \"key\" (has {z.files})")
                key = z.files[0]
            arr = z[key]
    else:
        arr = np.load(path)
    return torch.from_numpy(arr.copy())


def make_tensor(desc: dict, base_dir: str, sizes: dict[str, int] | None, path: str,
                default_seed: int = 0) -> torch.Tensor:
    """One tensor from its inputs.json object (`dtype`, `shape`, optional `dims`, `data`)."""
    dtype = _dtype(desc["dtype"])
    sample_shape = [int(s) for s in desc["shape"]]
    dims = desc.get("dims") or [None] * len(sample_shape)
    if len(dims) != len(sample_shape):
        raise ValueError(f"{path}: dims has {len(dims)} entries for a shape of rank {len(sample_shape)}")
    shape = [eval_dim(m, sizes, s) for m, s in zip(dims, sample_shape)]
    if any(s < 0 for s in shape):
        raise ValueError(f"{path}: negative size in {shape} for sizes {sizes}")
    data = desc.get("data") or {"random": {}}
    resized = shape != sample_shape
    if "random" in data:
        return _random(shape, dtype, {"seed": default_seed, **(data["random"] or {})})
    if "fill" in data:
        return torch.full(shape, data["fill"], dtype=dtype)
    if "value" in data or "npy" in data or "npz" in data:
        if resized:  # fixed data cannot follow a new size: draw instead, deterministically
            return _random(shape, dtype, {"seed": default_seed})
        t = torch.tensor(data["value"], dtype=dtype) if "value" in data else _load_npy(base_dir, data).to(dtype)
        if list(t.shape) != shape:
            raise ValueError(f"{path}: data has shape {list(t.shape)}, shape says {shape}")
        return t
    raise ValueError(f"{path}: data {data!r}: expected random, fill, value, npy or npz")


class _Maker:
    """Makes the values of one sample set; counts tensors for the default seeds (their position)."""

    def __init__(self, base_dir, sizes, first_seed=0):
        self.base_dir, self.sizes, self.seed = base_dir, sizes, first_seed

    def value(self, obj, path):
        """A non-tensor `value`: JSON scalar, list (a list or tuple input), object (dict), nested tensors."""
        if _is_tensor_desc(obj):
            return self.tensor(obj, path)
        if isinstance(obj, list):
            return [self.value(v, f"{path}[{i}]") for i, v in enumerate(obj)]
        if isinstance(obj, dict):
            return {k: self.value(v, f"{path}['{k}']") for k, v in obj.items()}
        return obj

    def tensor(self, desc, path):
        seed = self.seed
        self.seed += 1
        return make_tensor(desc, self.base_dir, self.sizes, path, seed)

    def arg(self, desc: dict, path):
        if "dtype" in desc and "shape" in desc:
            return self.tensor(desc, path)
        if "value" in desc:
            return self.value(desc["value"], path)
        raise ValueError(f"{path}: expected a tensor (dtype, shape) or a value")


def _count_tensors(obj) -> int:
    if _is_tensor_desc(obj):
        return 1
    if isinstance(obj, list):
        return sum(_count_tensors(v) for v in obj)
    if isinstance(obj, dict):
        return sum(_count_tensors(v) for v in obj.values())
    return 0


def _read_json(path: str) -> dict:
    with open(path) as f:
        doc = json.load(f)
    if doc.get("schema") != SCHEMA:
        raise ValueError(f"{path}: schema is {doc.get('schema')!r}, expected {SCHEMA!r}")
    return doc


def _sample_set(doc: dict, sample: int) -> tuple[list, dict]:
    if "samples" in doc:
        s = doc["samples"][sample]
        return s.get("args", []), s.get("kwargs", {})
    return doc.get("args", []), doc.get("kwargs", {})


def _kwargs_items(kwargs) -> list[tuple[str, dict]]:
    # kwargs: {"name": {tensor or value object}} (also accepted: a list of objects with "name")
    if isinstance(kwargs, list):
        return [(d["name"], d) for d in kwargs]
    return list(kwargs.items())


def tuple_params(fn_or_schema) -> set[str]:
    """Names of the parameters typed as tuples: JSON lists for them become python tuples. Takes a
    TorchScript method (or its .schema) or a python callable with annotations."""
    schema = getattr(fn_or_schema, "schema", fn_or_schema)
    if isinstance(schema, torch._C.FunctionSchema):
        return {a.name for a in schema.arguments if isinstance(a.type, torch._C.TupleType)}
    import inspect
    import typing
    out = set()
    try:  # resolves string annotations (from __future__ import annotations)
        hints = typing.get_type_hints(fn_or_schema)
    except Exception:
        hints = {}
    for name, p in inspect.signature(fn_or_schema).parameters.items():
        ann = hints.get(name, p.annotation)
        if ann is tuple or typing.get_origin(ann) is tuple:
            out.add(name)
    return out


def load_inputs(inputs_json_path: str, sizes: dict[str, int] | None = None, sample: int = 0,
                tuples: set[str] | None = None):
    """See the module doc. `tuples`: parameter names whose JSON lists are tuples (tuple_params())."""
    doc = _read_json(inputs_json_path)
    base = os.path.dirname(os.path.abspath(inputs_json_path))
    args_d, kwargs_d = _sample_set(doc, sample)
    known = _symbols_in(doc)
    for k in (sizes or {}):
        if k not in known:
            raise ValueError(f"{inputs_json_path}: sizes name symbol {k!r}, the inputs use {sorted(known)}")
    first = sum(_count_tensors(s) for s in (doc.get("samples") or [])[:sample])
    mk = _Maker(base, sizes, first)
    args = [mk.arg(d, d.get("name", f"args[{i}]")) for i, d in enumerate(args_d)]
    kwargs = {k: mk.arg(d, k) for k, d in _kwargs_items(kwargs_d)}
    if tuples:
        args = [tuple(a) if isinstance(a, list) and d.get("name") in tuples else a for a, d in zip(args, args_d)]
        kwargs = {k: tuple(v) if isinstance(v, list) and k in tuples else v for k, v in kwargs.items()}
    return args, kwargs


def _walk_leaves(obj, path, out):
    if _is_tensor_desc(obj):
        out.append((path, [int(s) for s in obj["shape"]], obj.get("dims") or [None] * len(obj["shape"])))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            _walk_leaves(v, f"{path}[{i}]", out)
    elif isinstance(obj, dict) and "value" not in obj:
        for k, v in obj.items():
            _walk_leaves(v, f"{path}['{k}']", out)
    elif isinstance(obj, dict):
        _walk_leaves(obj["value"], path, out)


def _symbols_in(doc) -> set[str]:
    syms = set(doc.get("dims", {}).keys())
    leaves = []
    for s in (doc.get("samples") or [doc]):
        for i, d in enumerate(s.get("args", [])):
            _walk_leaves(d, d.get("name", f"args[{i}]"), leaves)
        for k, d in _kwargs_items(s.get("kwargs", {})):
            _walk_leaves(d, k, leaves)
    for _, _, dims in leaves:
        for m in dims:
            lin = parse_dim(m)
            if lin:
                syms.add(lin[0])
    return syms


def read_inputs(inputs_json_path: str) -> dict:
    doc = _read_json(inputs_json_path)
    args_d, kwargs_d = _sample_set(doc, 0)
    leaves: list = []
    for i, d in enumerate(args_d):
        _walk_leaves(d, d.get("name", f"args[{i}]"), leaves)
    for k, d in _kwargs_items(kwargs_d):
        _walk_leaves(d, k, leaves)
    symbols = {}
    for name, r in doc.get("dims", {}).items():
        symbols[name] = (r.get("min"), r.get("max"))
    for s in _symbols_in(doc):
        symbols.setdefault(s, (None, None))
    return {**doc, "method": doc.get("method", "forward"), "symbols": symbols, "leaves": leaves}


def dynamic_shapes_for(inputs_json_path: str):
    from torch.export import Dim
    doc = _read_json(inputs_json_path)
    ranges = {k: (r.get("min"), r.get("max")) for k, r in doc.get("dims", {}).items()}
    made: dict = {}

    def dim(mark):
        if mark is None or mark == "static":
            return None
        if mark == "auto":
            return Dim.AUTO
        if mark == "dynamic":
            return Dim.DYNAMIC
        sym, a, b = parse_dim(mark)
        if sym not in made:
            lo, hi = ranges.get(sym, (None, None))
            kw = {}
            if lo is not None:
                kw["min"] = lo
            if hi is not None:
                kw["max"] = hi
            made[sym] = Dim(sym, **kw)
        d = made[sym]
        if a != 1:
            d = a * d
        return d + b if b else d

    def shapes(obj):
        if _is_tensor_desc(obj):
            ds = {i: dim(m) for i, m in enumerate(obj.get("dims") or []) if dim(m) is not None}
            return ds or None
        if isinstance(obj, dict) and "value" in obj and not _is_tensor_desc(obj):
            return shapes(obj["value"])
        if isinstance(obj, list):
            return [shapes(v) for v in obj]
        if isinstance(obj, dict):
            return {k: shapes(v) for k, v in obj.items()}
        return None

    args_d, kwargs_d = _sample_set(doc, 0)
    return [shapes(d) for d in args_d], {k: shapes(d) for k, d in _kwargs_items(kwargs_d)}


def export_with_torch(module, inputs_json_path: str, strict: bool = False):
    import inspect
    tuples = tuple_params(module.forward)
    args, kwargs = load_inputs(inputs_json_path, tuples=tuples)
    a_shapes, k_shapes = dynamic_shapes_for(inputs_json_path)
    names = list(inspect.signature(module.forward).parameters)
    dyn = {names[i]: (tuple(s) if names[i] in tuples and isinstance(s, list) else s) for i, s in enumerate(a_shapes)}
    dyn.update(k_shapes)
    return torch.export.export(module, tuple(args), kwargs, dynamic_shapes=dyn, strict=strict)
