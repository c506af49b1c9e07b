#!/usr/bin/env python3
"""tests/shapes/rules_cases.py: shape-rule cases checked against real ATen at many sizes.

Each case names an ATen op overload, its arguments with symbolic sizes ("s0", "s1", ... in
tensor shapes and int arguments), the symbols' ranges, and sample values for the symbols. For
every sample this script runs the real op (torch.ops.aten.<op>.<overload>) on tensors of those
sizes and records the output shapes, or the error. tests/shapes/rules_cases_test.cpp then runs
our rule with each sample as the hint and checks (1) the symbolic result evaluated at the hint
equals ATen's shapes, and (2) at every other sample where the recorded guards hold, the same
symbolic result equals ATen's shapes there too.

Run inside the build environment (writes rules_cases.json next to this file, which is committed):
    scripts/env.sh run python3 tests/shapes/rules_cases.py
"""
import itertools
import json
import os
import warnings

import torch

aten = torch.ops.aten
CASES = []

DTYPES = {"float32": torch.float32, "bool": torch.bool, "int64": torch.int64}
DTYPE_CODES = {torch.float32: 6, torch.bool: 11, torch.int64: 4}


# ---- argument specs -------------------------------------------------------------------------
def T(*dims, dtype="float32"):
    return {"t": list(dims), "dtype": dtype}


def I(v):
    return {"i": v}


def L(*vs):
    return {"l": list(vs)}


def F(v):
    return {"f": v}


def B(v):
    return {"b": v}


def S(v):
    return {"s": v}


def TL(*shapes, dtype="float32"):
    return {"tl": [None if s is None else list(s) for s in shapes], "dtype": dtype}


def FL(*vs):
    return {"fl": list(vs)}


def DT(name):
    return {"dt": name}


NONE = None


def grid(**values):
    names = list(values)
    return [dict(zip(names, combo)) for combo in itertools.product(*(values[n] for n in names))]


def case(op, overload, args, samples, ranges=None, note=""):
    """ranges: {symbol: [min, max or None]}; default [1, None] for every symbol."""
    symbols = sorted({k for s in samples for k in s}, key=lambda n: int(n[1:]))
    ranges = ranges or {}
    CASES.append({
        "op": op, "overload": overload, "args": args, "note": note,
        "symbols": [{"name": n, "range": ranges.get(n, [1, None])} for n in symbols],
        "samples": [{"values": s} for s in samples],
    })


# ---- running ATen ---------------------------------------------------------------------------
def value(v, env):
    return env[v] if isinstance(v, str) else v


def build(arg, env):
    if arg is None:
        return None
    if "t" in arg:
        sizes = [value(d, env) for d in arg["t"]]
        dt = DTYPES[arg["dtype"]]
        if dt == torch.float32:
            return torch.randn(sizes) if all(s > 0 for s in sizes) else torch.zeros(sizes)
        return torch.zeros(sizes, dtype=dt)
    if "i" in arg:
        return value(arg["i"], env)
    if "l" in arg:
        return [value(v, env) for v in arg["l"]]
    if "f" in arg:
        return arg["f"]
    if "b" in arg:
        return arg["b"]
    if "s" in arg:
        return arg["s"]
    if "tl" in arg:
        return [None if s is None else build({"t": s, "dtype": arg["dtype"]}, env) for s in arg["tl"]]
    if "fl" in arg:
        return arg["fl"]
    if "dt" in arg:
        return DTYPES[arg["dt"]]
    raise ValueError(arg)


def shapes_of(out):
    if out is None:
        return [None]
    if isinstance(out, torch.Tensor):
        return [list(out.shape)]
    if isinstance(out, (list, tuple)):
        return [s for o in out for s in shapes_of(o)]
    raise TypeError(type(out))


def run(c):
    name = c["op"].split("::", 1)[1]
    packet = getattr(aten, name)
    fn = getattr(packet, c["overload"])
    for s in c["samples"]:
        env = s["values"]
        args, kwargs = [], {}
        for a, formal in zip(c["args"], fn._schema.arguments):  # the frontend passes all, in order
            (kwargs.__setitem__(formal.name, build(a, env)) if formal.kwarg_only else args.append(build(a, env)))
        try:
            with torch.no_grad():
                s["out"] = shapes_of(fn(*args, **kwargs))
        except Exception as e:  # noqa: BLE001 - ATen's error is the expected answer
            s["error"] = str(e).splitlines()[0][:200]


# ---- the cases ------------------------------------------------------------------------------
def broadcast_cases():
    case("aten::add", "Tensor", [T("s0", 1), T(1, "s1"), I(1)], grid(s0=[1, 2, 5], s1=[1, 3]))
    case("aten::add", "Tensor", [T("s0"), T("s1"), I(1)], grid(s0=[1, 2, 5], s1=[1, 2, 5]))
    case("aten::mul", "Tensor", [T("s0", 4), T(4)], grid(s0=[1, 3]))
    case("aten::sub", "Tensor", [T("s0", "s1", 3), T("s1", 1), I(1)], grid(s0=[1, 2], s1=[1, 4]))
    case("aten::mul", "Tensor", [T("s0", 1), T(8, 2)], grid(s0=[1, 8, 3]))
    case("aten::div", "Tensor_mode", [T(), T("s0"), S("floor")], grid(s0=[1, 6]))
    case("aten::floor_divide", "default", [T(), T()], [{}])
    case("aten::eq", "Scalar", [T("s0", 2), F(0.0)], grid(s0=[1, 4]))
    case("aten::eq", "Tensor", [T("s0", 1), T("s1")], grid(s0=[1, 3], s1=[1, 5]))
    case("aten::ne", "Scalar", [T("s0"), F(0.0)], grid(s0=[2, 9]))
    case("aten::pow", "Tensor_Scalar", [T("s0", "s1"), F(2.0)], grid(s0=[1, 3], s1=[2]))
    case("aten::remainder", "Scalar", [T("s0"), I(7)], grid(s0=[3, 14]))
    case("aten::rsub", "Scalar", [T("s0", 3), F(1.0), F(1.0)], grid(s0=[1, 4]))
    case("aten::masked_fill", "Scalar", [T("s0", 1), T(1, "s1", dtype="bool"), F(-100.0)], grid(s0=[1, 3], s1=[1, 4]))
    case("aten::masked_fill_", "Scalar", [T("s0", "s1"), T(1, "s1", dtype="bool"), F(0.0)], grid(s0=[1, 3], s1=[1, 4]))
    case("aten::where", "self", [T("s0", 1, dtype="bool"), T(1, "s1"), T()], grid(s0=[1, 2], s1=[3]))
    case("aten::add_", "Tensor", [T("s0", 4), T("s1", 4), I(1)], grid(s0=[1, 3], s1=[1, 3]))
    case("aten::add_", "Tensor", [T(1), T("s0"), I(1)], grid(s0=[1, 2]))
    case("aten::copy_", "default", [T("s0", 4), T(1, 4), B(False)], grid(s0=[1, 5]))
    case("aten::fill_", "Tensor", [T("s0", "s1"), T()], grid(s0=[1, 2], s1=[3]))
    case("aten::relu", "default", [T("s0", 3, "s1")], grid(s0=[1, 2], s1=[5]))
    case("aten::gelu", "default", [T("s0", 8), S("none")], grid(s0=[2, 3]))
    case("aten::hardswish_", "default", [T("s0", 8)], grid(s0=[2]))
    case("aten::logical_not", "default", [T("s0", dtype="bool")], grid(s0=[2]))
    case("aten::softmax", "int", [T("s0", "s1"), I(-1), NONE], grid(s0=[2], s1=[3, 4]))
    case("aten::triu", "default", [T("s0", "s0"), I(1)], grid(s0=[1, 5]))
    case("aten::roll", "default", [T("s0", "s1", 3), L(-3, -3), L(1, 2)], grid(s0=[1, 4], s1=[4, 9]))
    case("aten::dropout", "default", [T("s0", 5), F(0.1), B(False)], grid(s0=[1, 3]))
    case("aten::contiguous", "default", [T("s0", 5)], grid(s0=[1, 3]))
    case("aten::zeros_like", "default", [T("s0", 5), NONE, NONE, NONE, NONE, NONE], grid(s0=[1, 3]))
    case("aten::maximum", "default", [T("s0", 1, 4), T("s1", 1)], grid(s0=[1, 2], s1=[1, 3]))


def matmul_cases():
    case("aten::linear", "default", [T("s0", 16), T(32, 16), T(32)], grid(s0=[1, 7]))
    case("aten::linear", "default", [T("s0", "s1", 16), T(32, 16), T(32)], grid(s0=[1, 2], s1=[1, 5]))
    case("aten::linear", "default", [T("s0", 16), T(16), NONE], grid(s0=[1, 7]))
    case("aten::linear", "default", [T("s0", "s1"), T(8, 16), NONE], grid(s0=[2], s1=[16, 15]))
    case("aten::matmul", "default", [T("s0"), T("s0")], grid(s0=[1, 4]))
    case("aten::matmul", "default", [T("s0", "s1"), T("s1")], grid(s0=[2], s1=[1, 3]))
    case("aten::matmul", "default", [T("s1"), T("s1", "s0")], grid(s0=[2], s1=[1, 3]))
    case("aten::matmul", "default", [T("s0", "s1", 4), T(4, "s2")], grid(s0=[1, 2], s1=[3], s2=[1, 5]))
    case("aten::matmul", "default", [T("s0", 1, "s1", 8), T(3, 8, "s1")], grid(s0=[1, 2], s1=[8, 5]))
    case("aten::matmul", "default", [T("s0", 3, 5, 7), T("s1", 1, 7, 2)], grid(s0=[1, 4], s1=[1, 4]))
    case("aten::matmul", "default", [T(7), T("s0", 3, 7, 2)], grid(s0=[1, 2]))
    case("aten::matmul", "default", [T(5, 7), T("s0", 7, 2)], grid(s0=[1, 2]))
    case("aten::matmul", "default", [T("s0", 5, 7), T(7)], grid(s0=[1, 2]))
    case("aten::mm", "default", [T("s0", 4), T(4, "s1")], grid(s0=[1, 3], s1=[2]))
    case("aten::bmm", "default", [T("s0", 3, 4), T("s1", 4, 5)], grid(s0=[2], s1=[2, 3]))
    case("aten::addmm", "default", [T("s1"), T("s0", 4), T(4, "s1"), I(1), I(1)], grid(s0=[1, 3], s1=[2]))


def conv_pool_cases():
    img = dict(s0=[1, 2], s1=[7, 32, 33], s2=[8, 31])
    case("aten::conv2d", "default", [T("s0", 3, "s1", "s2"), T(8, 3, 3, 3), T(8), L(2, 2), L(1, 1), L(1, 1), I(1)],
         grid(**img))
    case("aten::conv2d", "default", [T("s0", 3, "s1", "s2"), T(64, 3, 7, 7), NONE, L(2, 2), L(3, 3), L(1, 1), I(1)],
         grid(**img))
    case("aten::conv2d", "default", [T("s0", 8, "s1", "s2"), T(8, 1, 3, 3), NONE, L(1, 1), L(2, 2), L(2, 2), I(8)],
         grid(**img))
    case("aten::conv2d", "default", [T(3, "s1", "s2"), T(4, 3, 1, 1), NONE, L(1), L(0), L(1), I(1)],
         grid(s1=[1, 5], s2=[2]))
    case("aten::conv2d", "padding", [T("s0", 3, "s1", "s2"), T(4, 3, 3, 5), NONE, L(1, 1), S("same"), L(1, 2), I(1)],
         grid(s0=[1], s1=[5, 9], s2=[10, 11]))
    case("aten::conv1d", "default", [T("s0", 2, "s1"), T(4, 2, 3), NONE, L(3), L(1), L(1), I(1)],
         grid(s0=[1], s1=[3, 10, 11]))
    case("aten::_convolution", "default",
         [T("s0", 3, "s1", "s2"), T(16, 3, 4, 4), T(16), L(4, 4), L(0, 0), L(1, 1), B(False), L(0, 0), I(1),
          B(False), B(False), B(True), B(True)], grid(**img))
    case("aten::_convolution", "default",
         [T("s0", 4, "s1", "s2"), T(4, 2, 3, 3), NONE, L(2, 2), L(1, 1), L(1, 1), B(True), L(1, 0), I(1),
          B(False), B(False), B(True), B(True)], grid(s0=[1], s1=[1, 6], s2=[5]))
    case("aten::conv_transpose2d", "input",
         [T("s0", 4, "s1", "s2"), T(4, 3, 3, 3), NONE, L(2, 2), L(1, 1), L(1, 1), I(1), L(1, 1)],
         grid(s0=[1], s1=[1, 6], s2=[5]))
    case("aten::max_pool2d", "default", [T("s0", 4, "s1", "s2"), L(3, 3), L(2, 2), L(1, 1), L(1, 1), B(False)],
         grid(**img))
    # squeezenet: kernel 3, stride 2, ceil_mode (no guard: p + s <= k)
    case("aten::max_pool2d", "default", [T("s0", 4, "s1", "s2"), L(3, 3), L(2, 2), L(0, 0), L(1, 1), B(True)],
         grid(**img))
    # ceil_mode where the last window can start in the padding: a guard
    case("aten::max_pool2d", "default", [T("s0", 2, "s1", "s2"), L(2, 2), L(2, 2), L(1, 1), L(1, 1), B(True)],
         grid(s0=[1], s1=[1, 2, 3, 4, 5, 6], s2=[2, 7]))
    case("aten::max_pool2d", "default", [T("s0", 2, "s1", "s2"), L(2, 2), L(3, 3), L(1, 1), L(1, 1), B(True)],
         grid(s0=[1], s1=[1, 2, 3, 4, 5, 6, 7], s2=[4]))
    case("aten::max_pool1d", "default", [T("s0", 2, "s1"), L(3), L(2), L(1), L(2), B(True)],
         grid(s0=[1], s1=[3, 4, 5, 6, 8, 9]))
    case("aten::avg_pool2d", "default", [T("s0", 4, "s1", "s2"), L(2, 2), L(2, 2), L(0, 0), B(False), B(True), NONE],
         grid(**img))
    case("aten::avg_pool2d", "default", [T("s0", 4, "s1", "s2"), L(3, 3), L(), L(1, 1), B(True), B(True), NONE],
         grid(s0=[1], s1=[3, 4, 5, 6, 7], s2=[3, 8]))
    case("aten::adaptive_avg_pool2d", "default", [T("s0", 4, "s1", "s2"), L(1, 1)], grid(**img))
    case("aten::adaptive_avg_pool2d", "default", [T("s0", 4, "s1", "s2"), L(7, 7)], grid(s0=[1], s1=[7, 20], s2=[9]))
    case("aten::batch_norm", "default", [T("s0", 4, "s1", "s2"), T(4), T(4), T(4), T(4), B(False), F(0.1), F(1e-5),
                                         B(True)], grid(s0=[1, 2], s1=[3], s2=[5]))
    case("aten::layer_norm", "default", [T("s0", "s1", 8), L(8), T(8), T(8), F(1e-5), B(True)],
         grid(s0=[1, 2], s1=[3]))
    case("aten::group_norm", "default", [T("s0", 6, "s1"), I(3), T(6), T(6), F(1e-5), B(True)], grid(s0=[1, 2], s1=[3]))


def view_cases():
    case("aten::view", "default", [T("s0", 64), L(-1, 8, 8)], grid(s0=[1, 3]))
    case("aten::view", "default", [T("s0", "s1"), L(-1, 4)], grid(s0=[2, 3], s1=[4, 6, 2]))
    case("aten::view", "default", [T("s0", 3, "s1", "s1"), L("s0", -1)], grid(s0=[1, 2], s1=[1, 4]))
    case("aten::view", "default", [T("s0", "s1", 4), L("s0", "s1", 2, 2)], grid(s0=[1, 2], s1=[3]))
    case("aten::reshape", "default", [T("s0", "s1", 6), L("s0", -1, 3, 2)], grid(s0=[2], s1=[1, 5]))
    case("aten::reshape", "default", [T("s0", "s1"), L(-1)], grid(s0=[2], s1=[1, 5]))
    case("aten::reshape", "default", [T("s0", 12), L(3, -1)], grid(s0=[1, 2, 3, 6]))
    # shufflenet channel_shuffle: view(b, groups, c // groups, h, w)
    case("aten::view", "default", [T("s0", 8, "s1", "s2"), L("s0", 2, 4, "s1", "s2")], grid(s0=[1, 2], s1=[3], s2=[5]))
    case("aten::flatten", "using_ints", [T("s0", 4, "s1", "s2"), I(1), I(-1)], grid(s0=[1, 2], s1=[1, 3], s2=[5]))
    case("aten::flatten", "using_ints", [T("s0", 4, "s1"), I(0), I(1)], grid(s0=[1, 2], s1=[3]))
    case("aten::flatten", "using_ints", [T(), I(0), I(-1)], [{}])
    case("aten::unflatten", "int", [T("s0", "s1", 96), I(-1), L(3, 32)], grid(s0=[1, 2], s1=[5]))
    case("aten::unflatten", "int", [T("s0", 24), I(1), L(-1, 4)], grid(s0=[1, 2]))
    case("aten::permute", "default", [T("s0", "s1", 3, 4), L(0, 2, 3, 1)], grid(s0=[1, 2], s1=[5]))
    case("aten::transpose", "int", [T("s0", "s1", 3), I(0), I(-1)], grid(s0=[1, 2], s1=[5]))
    case("aten::squeeze", "dim", [T("s0", 1, "s1"), I(1)], grid(s0=[1, 2], s1=[5]))
    case("aten::squeeze", "dim", [T("s0", 3), I(0)], grid(s0=[1, 2]))
    case("aten::squeeze", "default", [T("s0", 1, "s1")], grid(s0=[1, 2], s1=[1, 5]))
    case("aten::unsqueeze", "default", [T("s0", 3), I(-1)], grid(s0=[1, 2]))
    case("aten::unsqueeze", "default", [T("s0", 3), I(0)], grid(s0=[1, 2]))
    case("aten::expand", "default", [T(1, 1, 8), L("s0", -1, -1), B(False)], grid(s0=[1, 3]))
    case("aten::expand", "default", [T("s1", 1), L("s0", "s1", 4), B(False)], grid(s0=[1, 3], s1=[1, 2]))
    case("aten::expand", "default", [T("s0", 1), L("s1", 5), B(False)], grid(s0=[1, 3], s1=[1, 3]))
    case("aten::repeat", "default", [T("s0", 2), L(2, 1, 3)], grid(s0=[1, 3]))


def cat_slice_cases():
    case("aten::cat", "default", [TL(["s0", 3], ["s0", 5]), I(1)], grid(s0=[1, 2]))
    case("aten::cat", "default", [TL(["s0", 3], ["s1", 3]), I(0)], grid(s0=[1, 2], s1=[1, 4]))
    case("aten::cat", "default", [TL(["s0", 3, "s1"], ["s0", 3, "s1"], [0]), I(-1)], grid(s0=[1, 2], s1=[4]))
    case("aten::cat", "default", [TL(["s0", 2], ["s1", 2]), I(1)], grid(s0=[1, 3], s1=[1, 3]))
    case("aten::stack", "default", [TL(["s0", 3], ["s0", 3]), I(1)], grid(s0=[1, 2]))
    case("aten::chunk", "default", [T("s0", 6, "s1"), I(2), I(1)], grid(s0=[1, 2], s1=[3]))
    case("aten::chunk", "default", [T("s0", 96), I(3), I(-1)], grid(s0=[1, 2]))
    case("aten::chunk", "default", [T("s0", 4), I(3), I(0)], grid(s0=[1, 2, 3, 4, 5, 6, 7]))
    case("aten::split", "sizes", [T("s0", 96), L(32, 64), I(-1)], grid(s0=[1, 2]))
    case("aten::split", "Tensor", [T("s0", 10), I(4), I(1)], grid(s0=[1, 2]))
    case("aten::split", "Tensor", [T("s0", 2), I(3), I(0)], grid(s0=[1, 2, 3, 4, 6, 7]))
    case("aten::unbind", "int", [T(3, "s0"), I(0)], grid(s0=[1, 2]))
    # slicing: constant starts/ends, negative, clamped, sentinel end, steps
    for start, end, step in [(1, None, 1), (0, 2**63 - 1, 1), (-7, None, 1), (0, -7, 1), (-7, -3, 1),
                             (None, 4, 1), (2, 5, 1), (0, None, 2), (1, None, 2), (3, 10, 3), (-5, 2**63 - 1, 2),
                             (None, None, 1)]:
        case("aten::slice", "Tensor", [T("s0", 3), I(0), I(start) if start is not None else NONE,
                                       I(end) if end is not None else NONE, I(step)],
             grid(s0=[0, 1, 2, 3, 5, 7, 8, 12, 20]), ranges={"s0": [0, None]})
    case("aten::slice", "Tensor", [T(2, "s0"), I(1), I(1), NONE, I(1)], grid(s0=[1, 2, 9]), ranges={"s0": [1, None]})
    case("aten::slice", "Tensor", [T("s0", "s1"), I(1), I(0), I("s0"), I(1)], grid(s0=[1, 3, 6], s1=[2, 4]))
    case("aten::select", "int", [T("s0", "s1", 3), I(1), I(0)], grid(s0=[1, 2], s1=[1, 3]))
    case("aten::select", "int", [T("s0", "s1"), I(0), I(-1)], grid(s0=[1, 2], s1=[3]))
    case("aten::select", "int", [T("s0", 4), I(0), I(2)], grid(s0=[1, 2, 3, 4]))
    case("aten::narrow", "default", [T("s0", 8), I(1), I(2), I(3)], grid(s0=[1, 2]))
    case("aten::index_select", "default", [T("s0", 5), I(0), T(3, dtype="int64")], grid(s0=[1, 4]))
    case("aten::index_select", "default", [T(4, "s0"), I(1), T("s1", dtype="int64")], grid(s0=[1, 4], s1=[0, 2]),
         ranges={"s1": [0, None]})
    # swin: pad to a multiple of the window (7) with symbolic pads; patch merging pads H, W to even
    case("aten::pad", "default", [T("s0", "s1", "s2", 8), L(0, 0, 0, "s3", 0, "s4"), S("constant"), NONE],
         [{"s0": 1, "s1": h, "s2": w, "s3": (7 - w % 7) % 7, "s4": (7 - h % 7) % 7}
          for h, w in [(7, 7), (8, 13), (14, 20)]])
    case("aten::pad", "default", [T("s0", "s1", 5), L(1, 2, -1, 0), S("constant"), F(0.0)],
         grid(s0=[1, 2], s1=[1, 3]))
    case("aten::pad", "default", [T("s0", 2, "s1"), L(2, 2), S("reflect"), NONE], grid(s0=[1], s1=[2, 3, 5]))
    case("aten::pad", "default", [T("s0", 2, "s1"), L(1, 1), S("replicate"), NONE], grid(s0=[1], s1=[1, 3]))
    case("aten::constant_pad_nd", "default", [T("s0", "s1"), L(1, 1, 2, 0), F(0.0)], grid(s0=[1, 2], s1=[2]))


def reduction_factory_cases():
    case("aten::mean", "dim", [T("s0", 4, "s1", "s2"), L(2, 3), B(False), NONE], grid(s0=[1, 2], s1=[3], s2=[5]))
    case("aten::mean", "dim", [T("s0", 4, "s1"), L(-1), B(True), NONE], grid(s0=[1, 2], s1=[3]))
    case("aten::mean", "default", [T("s0", 4), NONE], grid(s0=[1, 2]))
    case("aten::sum", "dim_IntList", [T("s0", 4, "s1"), L(), B(False), NONE], grid(s0=[1, 2], s1=[3]))
    case("aten::sum", "dim_IntList", [T("s0", 4, "s1"), NONE, B(True), NONE], grid(s0=[1, 2], s1=[3]))
    case("aten::all", "default", [T("s0", 4, dtype="bool")], grid(s0=[1, 2]))
    case("aten::all", "dim", [T("s0", 4, dtype="bool"), I(1), B(False)], grid(s0=[1, 2]))
    case("aten::amax", "default", [T("s0", 4, "s1"), L(0, 2), B(True)], grid(s0=[1, 2], s1=[3]))
    case("aten::max", "dim", [T("s0", 4), I(1), B(False)], grid(s0=[1, 2]))
    case("aten::argmax", "default", [T("s0", 4), NONE, B(True)], grid(s0=[1, 2]))
    case("aten::var", "correction", [T("s0", 4), L(1), NONE, B(True)], grid(s0=[1, 2]))
    case("aten::zeros", "default", [L(1, "s0", 16), NONE, NONE, NONE, NONE], grid(s0=[0, 1, 3]),
         ranges={"s0": [0, None]})
    case("aten::full", "default", [L("s0", "s1"), F(-1.0), NONE, NONE, NONE, NONE], grid(s0=[1, 2], s1=[3]))
    case("aten::new_zeros", "default", [T(2, 3), L("s0", "s1"), NONE, NONE, NONE, NONE], grid(s0=[1, 7], s1=[8]))
    case("aten::tensor", "int", [I(3), NONE, NONE, B(False)], [{}])
    case("aten::arange", "default", [I("s0"), NONE, NONE, NONE, NONE], grid(s0=[0, 1, 5]), ranges={"s0": [0, None]})
    case("aten::arange", "start_step", [I(1), I("s0"), I(3), NONE, NONE, NONE, NONE], grid(s0=[1, 2, 4, 7, 8]))


def attention_rnn_cases():
    case("aten::scaled_dot_product_attention", "default",
         [T("s0", 4, "s1", 8), T("s0", 4, "s2", 8), T("s0", 4, "s2", 6), NONE, F(0.0), B(False), NONE, B(False)],
         grid(s0=[1, 2], s1=[1, 5], s2=[1, 3]))
    case("aten::scaled_dot_product_attention", "default",
         [T("s0", 4, "s1", 8), T("s0", 4, "s1", 8), T("s0", 4, "s1", 8), T("s1", "s1"), F(0.0), B(False), NONE,
          B(False)], grid(s0=[1, 2], s1=[1, 5]))
    case("aten::_native_multi_head_attention", "default",
         [T("s0", "s1", 16), T("s0", "s1", 16), T("s0", "s1", 16), I(16), I(4), T(48, 16), T(48), T(16, 16), T(16),
          NONE, B(True), B(True), NONE], grid(s0=[1, 2], s1=[1, 5]))
    case("aten::_native_multi_head_attention", "default",
         [T("s0", "s1", 16), T("s0", "s1", 16), T("s0", "s1", 16), I(16), I(4), T(48, 16), T(48), T(16, 16), T(16),
          NONE, B(True), B(False), NONE], grid(s0=[1, 2], s1=[1, 5]))
    case("aten::_native_multi_head_attention", "default",
         [T("s0", "s1", 16), T("s0", "s1", 16), T("s0", "s1", 16), I(16), I(4), T(48, 16), T(48), T(16, 16), T(16),
          NONE, B(False), B(True), NONE], grid(s0=[1, 2], s1=[1, 5]))
    case("aten::_transformer_encoder_layer_fwd", "default",
         [T("s0", "s1", 16), I(16), I(4), T(48, 16), T(48), T(16, 16), T(16), B(False), B(False), F(1e-5),
          T(16), T(16), T(16), T(16), T(32, 16), T(32), T(16, 32), T(16), NONE, NONE], grid(s0=[1, 2], s1=[1, 5]))
    lstm_params = [[32, 8], [32, 8], [32], [32], [32, 8], [32, 8], [32], [32]]
    lstm_params = [[32, 8], [32, 8], [32], [32], [32, 8], [32, 8], [32], [32]]
    case("aten::lstm", "input",
         [T("s0", "s1", 8), TL([2, "s0", 8], [2, "s0", 8]), TL(*lstm_params), B(True), I(1), F(0.0), B(False),
          B(True), B(True)], grid(s0=[1, 2], s1=[1, 5]))
    case("aten::lstm", "input",
         [T("s1", "s0", 8), TL([1, "s0", 8], [1, "s0", 8]), TL([32, 8], [32, 8], [32], [32]), B(True), I(1), F(0.0),
          B(False), B(False), B(False)], grid(s0=[1, 2], s1=[1, 5]))
    case("aten::gru", "input",
         [T("s0", "s1", 8), T(2, "s0", 16), TL([48, 8], [48, 16], [48], [48], [48, 8], [48, 16], [48], [48]),
          B(True), I(1), F(0.0), B(False), B(True), B(True)], grid(s0=[1, 2], s1=[1, 5]))


def more_cases():
    case("aten::upsample_nearest2d", "vec", [T("s0", 3, "s1", "s2"), L("s3", "s4"), NONE],
         grid(s0=[1, 2], s1=[4], s2=[5], s3=[8, 3], s4=[10]))
    case("aten::upsample_bilinear2d", "vec", [T("s0", 3, "s1", "s2"), NONE, B(False), FL(2.0, 2.0)],
         grid(s0=[1], s1=[4, 5], s2=[7]))
    case("aten::upsample_nearest2d", "vec", [T("s0", 3, "s1", "s2"), NONE, FL(0.5, 0.5)], grid(s0=[1], s1=[4, 5], s2=[7, 1]))
    case("aten::upsample_nearest2d", "vec", [T("s0", 3, "s1", "s2"), NONE, FL(1.5, 0.25)], grid(s0=[1], s1=[4, 5], s2=[7, 1]))
    case("aten::pixel_shuffle", "default", [T("s0", 8, "s1", "s2"), I(2)], grid(s0=[1, 2], s1=[3], s2=[5]))
    case("aten::pixel_unshuffle", "default", [T("s0", 2, "s1", "s2"), I(2)], grid(s0=[1], s1=[4, 6, 3], s2=[2]))
    case("aten::topk", "default", [T("s0", "s1"), I(3), I(-1), B(True), B(True)], grid(s0=[1, 2], s1=[3, 5, 2]))
    case("aten::sort", "default", [T("s0", "s1"), I(0), B(False)], grid(s0=[1, 2], s1=[3]))
    case("aten::argsort", "default", [T("s0", "s1"), I(0), B(False)], grid(s0=[1, 2], s1=[3]))
    case("aten::glu", "default", [T("s0", "s1"), I(-1)], grid(s0=[1, 2], s1=[4, 6, 5]))
    case("aten::tile", "default", [T("s0", 3), L(2)], grid(s0=[1, 2]))
    case("aten::tile", "default", [T("s0", 3), L(2, 1, "s1")], grid(s0=[1, 2], s1=[1, 3]))
    case("aten::native_dropout", "default", [T("s0", 3), F(0.1), B(False)], grid(s0=[1, 2]))
    case("aten::linalg_vector_norm", "default", [T("s0", 3, "s1"), F(2.0), L(-1), B(True), NONE],
         grid(s0=[1, 2], s1=[4]))
    case("aten::norm", "ScalarOpt_dtype", [T("s0", 3), F(2.0), DT("float32")], grid(s0=[1, 2]))
    case("aten::scatter_add", "default", [T("s0", 3), I(0), T("s0", 3, dtype="int64"), T("s0", 3)], grid(s0=[1, 2]))
    case("aten::index_put_", "default", [T("s0", 3), TL([2], dtype="int64"), T(3), B(False)], grid(s0=[2, 5]))
    # advanced indexing: adjacent index tensors replace their dims in place, non-adjacent ones go
    # first; index shapes broadcast (symbolic 1 vs n)
    case("aten::index", "Tensor", [T("s0", 5, 6), TL(None, ["s1", 1], [1, 3], dtype="int64")],
         grid(s0=[1, 2], s1=[1, 4]))
    case("aten::index", "Tensor", [T("s0", 5, 6), TL(["s1"], None, ["s1"], dtype="int64")], grid(s0=[1, 3], s1=[2]))
    case("aten::index", "Tensor", [T("s0", 5), TL(["s1"], ["s2"], dtype="int64")], grid(s0=[1], s1=[1, 3], s2=[1, 3]))
    case("aten::index", "Tensor", [T(7, "s0"), TL(["s1", "s1"], dtype="int64")], grid(s0=[1, 2], s1=[1, 3]))
    case("aten::index_put", "default", [T("s0", 5), TL(None, ["s1"], dtype="int64"), T("s0", 1), B(False)],
         grid(s0=[1, 2], s1=[1, 3]))
    case("aten::embedding", "default", [T(10, 4), T("s0", "s1", dtype="int64"), I(-1), B(False), B(False)],
         grid(s0=[1, 2], s1=[3]))
    case("aten::stack", "default", [TL(["s0"], ["s0"], ["s0"]), I(-1)], grid(s0=[1, 4]))
    case("aten::movedim", "int", [T("s0", "s1", 3), I(0), I(-1)], grid(s0=[1, 2], s1=[5]))
    case("aten::narrow", "default", [T("s0", 8), I(0), I(-2), I(1)], grid(s0=[1, 2, 3]))
    case("aten::eye", "m", [I("s0"), I("s1"), NONE, NONE, NONE, NONE], grid(s0=[1, 3], s1=[2]))
    case("aten::baddbmm", "default", [T(1, "s1"), T("s0", 3, 4), T("s0", 4, "s1"), I(1), I(1)], grid(s0=[1, 2], s1=[2]))
    case("aten::conv_transpose1d", "default", [T("s0", 4, "s1"), T(4, 2, 3), NONE, L(2), L(1), L(1), I(1), L(1)],
         grid(s0=[1], s1=[1, 6]))
    case("aten::adaptive_max_pool2d", "default", [T("s0", 2, "s1", "s2"), L(3, 3)], grid(s0=[1], s1=[5, 9], s2=[6]))
    case("aten::max_pool2d_with_indices", "default", [T("s0", 2, "s1", "s2"), L(3, 3), L(2, 2), L(1, 1), L(1, 1), B(True)],
         grid(s0=[1], s1=[4, 5, 6, 7], s2=[5]))


def main():
    warnings.simplefilter("ignore")
    torch.manual_seed(0)
    torch.set_num_threads(1)
    for make in (broadcast_cases, matmul_cases, conv_pool_cases, view_cases, cat_slice_cases,
                 reduction_factory_cases, attention_rnn_cases, more_cases):
        make()
    for c in CASES:
        run(c)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rules_cases.json")
    with open(out, "w") as f:
        f.write("{\"generated_by\": \"tests/shapes/rules_cases.py\", \"torch\": \"%s\",\n \"cases\": [\n" %
                torch.__version__)
        f.write(",\n".join("  " + json.dumps(c, separators=(",", ":")) for c in CASES))
        f.write("\n]}\n")
    n_samples = sum(len(c["samples"]) for c in CASES)
    n_err = sum(1 for c in CASES for s in c["samples"] if "error" in s)
    print(f"wrote {out}: {len(CASES)} cases, {n_samples} samples ({n_err} ATen errors)")


if __name__ == "__main__":
    main()
