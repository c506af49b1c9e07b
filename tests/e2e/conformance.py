"""Conformance harness: does a .pt2 artifact behave like the eager TorchScript model it came from?

Imported by tests/e2e/test_*.py (add this folder to sys.path, or run tests from it: ctest runs each
test script with its own folder first on sys.path) and runnable by hand:

    python3 tests/e2e/conformance.py ARTIFACT.pt2 MODEL.pt INPUTS.json [--sizes batch=7,h=64 ...]
                                     [--atol 1e-4] [--rtol 1e-4] [--json]

prints a summary (one line per run) and exits 0 when everything conforms, 1 with the reason when not.
Without --sizes it uses the sample sizes plus the `sizes` list of a meta.json next to MODEL.pt (the
file tests/models/make_models.py writes), when there is one.

API (every function raises AssertionError with a readable message on a mismatch, ValueError on a
malformed inputs.json):

run_ptexport(*args, check=True, timeout=None) -> subprocess.CompletedProcess
    Runs the ptexport binary named by env var PTX_EXE (text mode, stdout/stderr captured). With
    check=True a non-zero exit raises AssertionError showing the command, exit code and stderr.

load_inputs(inputs_json_path, sizes=None, sample=0, tuples=None) -> (args: list, kwargs: dict)
    Materializes a `ptexport.inputs/v1` file (docs/inputs.md) in python: tensors from `random`
    (normal | uniform low/high | int low/high), `fill`, `value`, `npy` (.npy, or .npz with `key`);
    scalars, lists and dicts from `value`, with nested tensor objects; JSON lists of the parameters
    named in `tuples` become tuples (tuple_params(method) gives them). Random draws are ptexport's
    (lib/inputs_tensors.cpp): a torch.Generator seeded with `seed` (default: the tensor's position in the
    file, args then kwargs), normal_/uniform_ in float32 (float64 for float64) then cast, randint in
    int64 then cast: the same tensors as ptexport makes from the same file. `sizes` maps symbol
    names to values ({"batch": 7}) and re-derives every dimension marked with that symbol or a derived
    expression of it ("2*batch+1"); unmarked symbols keep their sample sizes. A tensor whose data is
    fixed (`value`, `npy`) but whose shape changed is drawn as random normal / int instead.
    Equal calls give equal tensors (the C++ side draws its own numbers; conformance only needs both
    sides of one comparison to see the same tensors, which it guarantees by cloning).

tuple_params(method_or_callable) -> set[str]
    Parameter names typed as tuples, from a TorchScript method's schema or python annotations.

read_inputs(inputs_json_path) -> dict
    The parsed JSON plus "method" (default "forward"), "symbols" ({name: (min, max)}, None for an open
    side) and "leaves" (one (path, shape, dims) per tensor, in pytree-flattening order).

check_artifact(pt2_path, model_pt_path, inputs_json_path, sizes_list=None, atol=1e-4, rtol=1e-4,
               check_out_of_range=True, method=None) -> dict
    ep = torch.export.load(pt2); for each sizes dict in sizes_list (None or [] = only the sample
    sizes; {} = the sample sizes) runs ep.module() and the eager torch.jit.load(model)'s method
    (`method`, else inputs.json's "method", default forward) on clones of the same inputs and compares every output
    leaf (torch.testing.assert_close, nested tuples/lists/dicts flattened, structures compared) and the
    inputs afterwards (in-place mutation of user inputs must match). Then, unless disabled, checks
    that inputs outside ep.range_constraints are rejected: the first symbol with a max at max + 1, and
    the first with a min of 3 or more (or of 1 or 2 that the graph asserts itself) at min - 1, must each raise AssertionError ("Guard failed: ...",
    artifacts with sample inputs), RuntimeError ("Expected input at ...", artifacts with an empty
    data/sample_inputs/model.pt) or, for minimums of 1 and 2, which torch's input check skips,
    RuntimeError ("Runtime assertion failed for expression s0 >= 1", ptexport's assert in the graph).
    Returns a summary dict:
    {"artifact", "model", "method", "range_constraints": {sym: [min, max]}, "symbol_map": {inputs.json
    symbol: ep symbol}, "runs": [{"sizes", "outputs", "max_abs_diff"}], "out_of_range": {"sizes",
    "raised"} (the first) | None, "out_of_range_all": [every one tried], "out_of_range_skipped": reason | None}.

out_of_range_error(exc) -> bool
    True when exc is what ep.module() raises for inputs outside its range constraints.

eval_dim(mark, sizes, sample) -> int
    The size of one dimension mark (None, "batch", "2*batch+1", "auto" ...) under `sizes`.

dynamic_shapes_for(inputs_json_path) -> (args_shapes, kwargs_shapes)
    torch.export's dynamic_shapes for the same spec (torch.export.Dim per symbol with the file's
    range, A*Dim+B for derived dims, Dim.AUTO / Dim.DYNAMIC for hints, None for non-tensors), shaped
    like (args, kwargs): pass `dynamic_shapes=(*args_shapes, *kwargs_shapes.values())`... or simply
    export_with_torch(module, inputs_json_path), which does it.

export_with_torch(module, inputs_json_path, strict=False) -> ExportedProgram
    torch.export.export of a python nn.Module on load_inputs(inputs_json_path) with dynamic_shapes_for
    it: the reference artifact ptexport's output can be compared with.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
from typing import Any

import torch
import torch.utils._pytree as pytree

from conformance_inputs import (  # noqa: F401  (re-exported: the harness's API, see above)
    SCHEMA,
    _kwargs_items,
    _sample_set,
    _walk_leaves,
    dynamic_shapes_for,
    eval_dim,
    export_with_torch,
    load_inputs,
    make_tensor,
    parse_dim,
    read_inputs,
    tuple_params,
)


# ---------------------------------------------------------------------------------------------
# Running the binary

def run_ptexport(*args, check: bool = True, timeout: float | None = None) -> subprocess.CompletedProcess:
    exe = os.environ.get("PTX_EXE")
    if not exe:
        raise AssertionError("run_ptexport: env var PTX_EXE is not set (ctest sets it to the built ptexport)")
    cmd = [exe, *[str(a) for a in args]]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"ptexport failed with exit code {proc.returncode}: {' '.join(cmd)}\n"
            f"--- stderr ---\n{proc.stderr}\n--- stdout ---\n{proc.stdout}")
    return proc


# ---------------------------------------------------------------------------------------------
# Comparing

def _clone(obj):
    return pytree.tree_map(lambda t: t.clone() if isinstance(t, torch.Tensor) else t, obj)


def _flatten(obj, path="out"):
    """Flattens tuples, lists, dicts (and namedtuples) into [(path, leaf)], plus a structure string."""
    if isinstance(obj, (tuple, list)):
        kind = "tuple" if isinstance(obj, tuple) else "list"
        leaves, parts = [], []
        for i, v in enumerate(obj):
            l, s = _flatten(v, f"{path}[{i}]")
            leaves += l
            parts.append(s)
        return leaves, f"{kind}({', '.join(parts)})"
    if isinstance(obj, dict):
        leaves, parts = [], []
        for k in obj:
            l, s = _flatten(obj[k], f"{path}[{k!r}]")
            leaves += l
            parts.append(f"{k!r}: {s}")
        return leaves, "dict(" + ", ".join(parts) + ")"
    return [(path, obj)], ("T" if isinstance(obj, torch.Tensor) else type(obj).__name__)


def _tstr(t: torch.Tensor) -> str:
    return f"{str(t.dtype).replace('torch.', '')}{list(t.shape)}"


def _compare(got, want, atol, rtol, what: str) -> tuple[int, float]:
    gl, gs = _flatten(got)
    wl, ws = _flatten(want)
    if gs != ws:
        raise AssertionError(f"{what}: output structure differs\n  artifact: {gs}\n  eager:    {ws}")
    worst = 0.0
    for (path, g), (_, w) in zip(gl, wl):
        if isinstance(w, torch.Tensor):
            if not isinstance(g, torch.Tensor):
                raise AssertionError(f"{what}: {path} is {type(g).__name__} in the artifact, a tensor in eager")
            if g.shape != w.shape or g.dtype != w.dtype:
                raise AssertionError(f"{what}: {path} is {_tstr(g)} in the artifact, {_tstr(w)} in eager")
            try:
                torch.testing.assert_close(g, w, atol=atol, rtol=rtol, equal_nan=True)
            except AssertionError as e:
                raise AssertionError(f"{what}: {path} differs from eager:\n{e}") from None
            if w.numel() and (w.dtype.is_floating_point or w.dtype.is_complex):
                d = (g.to(torch.float64) - w.to(torch.float64)).abs()
                d = d[~torch.isnan(d)]
                if d.numel():
                    worst = max(worst, float(d.max()))
        else:
            same = (g == w) or (isinstance(w, float) and isinstance(g, float) and math.isclose(g, w, rel_tol=rtol, abs_tol=atol))
            if not same:
                raise AssertionError(f"{what}: {path} is {g!r} in the artifact, {w!r} in eager")
    return len(wl), worst


def out_of_range_error(exc: BaseException) -> bool:
    text = str(exc)
    if isinstance(exc, AssertionError) and "Guard failed" in text:
        return True
    if isinstance(exc, RuntimeError) and "Expected input at" in text:
        return True
    # a derived dim (2*s0) given a size not of its form: "Expected input *args[0].shape[0] = 0 to be of the form 2*s0"
    if isinstance(exc, RuntimeError) and "Expected input " in text and "to be of the form" in text:
        return True
    # ptexport's own checks of lower bounds 1 and 2, which torch's input check skips
    if isinstance(exc, RuntimeError) and "Runtime assertion failed for expression" in text:
        return True
    return False


def _ep_ranges(ep) -> dict:
    out = {}
    for sym, vr in ep.range_constraints.items():
        lo = int(vr.lower) if getattr(vr.lower, "is_Integer", False) else None  # -int_oo / int_oo: None
        hi = int(vr.upper) if getattr(vr.upper, "is_Integer", False) else None
        out[str(sym)] = [lo, hi]
    return out


def _symbol_map(ep, info: dict, args, kwargs) -> dict[str, str]:
    """inputs.json symbol -> the ep's symbol, matched through the user input placeholders' shapes."""
    import sympy
    placeholders = {n.name: n for n in ep.graph.nodes if n.op == "placeholder"}
    user = [placeholders[name] for name in ep.graph_signature.user_inputs if name in placeholders]
    # flatten in the in_spec's order: args, then kwargs in the order export saw them
    in_spec = ep.call_spec.in_spec
    kw_order = list(kwargs)
    try:
        kw_order = list(in_spec.children_specs[1].context)
    except Exception:
        pass
    flat = pytree.tree_leaves((list(args), {k: kwargs[k] for k in kw_order if k in kwargs}))
    leaves = info["leaves"]
    tensors = [t for t in flat if isinstance(t, torch.Tensor)]
    user_t = [n for n in user if isinstance(n.meta.get("val"), torch.Tensor)]
    mapping: dict[str, str] = {}
    if len(tensors) != len(leaves) or len(user_t) != len(leaves):
        return mapping
    # leaves are listed args first then kwargs in file order; align kwargs order with the spec
    for (path, shape, dims), node in zip(_reorder_leaves(leaves, info, kw_order), user_t):
        for mark, size in zip(dims, node.meta["val"].shape):
            lin = parse_dim(mark)
            if not lin or not isinstance(size, torch.SymInt):
                continue
            expr = size.node.expr
            free = list(expr.free_symbols)
            if len(free) != 1:
                continue
            root = free[0]
            # the mark says size = a*sym+b and the ep says size = expr(root): sym = root when the two
            # expressions agree as polynomials (2*half <-> 2*s44)
            if sympy.expand(expr - (lin[1] * root + lin[2])) == 0:
                mapping.setdefault(lin[0], str(root))
    return mapping


def _reorder_leaves(leaves, info, kw_order):
    args_d, kwargs_d = _sample_set(info, 0)
    n_arg_leaves = []
    for i, d in enumerate(args_d):
        _walk_leaves(d, d.get("name", f"args[{i}]"), n_arg_leaves)
    by_kw = {}
    for k, d in _kwargs_items(kwargs_d):
        l = []
        _walk_leaves(d, k, l)
        by_kw[k] = l
    out = list(n_arg_leaves)
    for k in kw_order:
        out += by_kw.get(k, [])
    return out


def _call_eager(model, method: str, args, kwargs):
    fn = getattr(model, method, None)
    if fn is None:
        methods = [m for m in ("forward", "forward__0", "forward__1") if hasattr(model, m)]
        raise AssertionError(f"eager model has no method {method!r} (has {methods})")
    return fn(*args, **kwargs)


def load_eager(model_pt_path):
    """The eager model of a test: torch.jit.load for TorchScript archives (they hold code/), else a
    torch.save'd module from our own test fixtures, unpickled by torch (trusted here, never in
    ptexport) and put in eval mode."""
    import zipfile
    with zipfile.ZipFile(str(model_pt_path)) as z:
        scripted = any("/code/" in n or n.startswith("code/") for n in z.namelist())
    if scripted:
        return torch.jit.load(str(model_pt_path), map_location="cpu")
    model = torch.load(str(model_pt_path), map_location="cpu", weights_only=False)
    return model.eval()


def op_histogram(ep) -> dict:
    """How often each operator is called in `ep`'s graph ("aten.conv2d.default": 3): the ops of the
    program, without getitem, sym_size, Python operators on SymInts and runtime assertions, which
    depend on how dynamic the export was rather than on its IR level."""
    counts: dict[str, int] = {}
    for n in ep.graph.nodes:
        if n.op != "call_function":
            continue
        name = str(n.target)
        if not isinstance(n.target, torch._ops.OpOverload) or "sym_size" in name or "._assert" in name:
            continue
        counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items()))


def check_artifact(pt2_path, model_pt_path, inputs_json_path, sizes_list=None, atol=1e-4, rtol=1e-4,
                   check_out_of_range=True, method=None) -> dict:
    info = read_inputs(inputs_json_path)
    method = method or info["method"]
    ep = torch.export.load(str(pt2_path))
    exported = ep.module()
    eager = load_eager(model_pt_path)
    eager.eval()
    summary: dict[str, Any] = {
        "artifact": str(pt2_path), "model": str(model_pt_path), "method": method,
        "range_constraints": _ep_ranges(ep), "runs": [], "out_of_range": None, "out_of_range_skipped": None,
        "op_histogram": op_histogram(ep),
    }
    tuples = tuple_params(getattr(eager, method)) if hasattr(eager, method) else set()
    sample_args, sample_kwargs = load_inputs(inputs_json_path, tuples=tuples)
    smap = _symbol_map(ep, info, sample_args, sample_kwargs)
    summary["symbol_map"] = smap
    for sizes in (sizes_list or [{}]):
        sizes = dict(sizes or {})
        what = f"{os.path.basename(str(pt2_path))} at sizes {sizes or 'sample'}"
        args, kwargs = load_inputs(inputs_json_path, sizes, tuples=tuples)
        a_args, a_kwargs = _clone(args), _clone(kwargs)
        e_args, e_kwargs = _clone(args), _clone(kwargs)
        with torch.no_grad():
            try:
                got = exported(*a_args, **a_kwargs)
            except Exception as e:
                raise AssertionError(f"{what}: the exported program failed: {type(e).__name__}: {e}") from None
            with torch.jit.optimized_execution(False):  # no profiling runs: faster, deterministic
                want = _call_eager(eager, method, e_args, e_kwargs)
        n, worst = _compare(got, want, atol, rtol, what)
        _compare((a_args, a_kwargs), (e_args, e_kwargs), atol, rtol, what + " (inputs after the call)")
        summary["runs"].append({"sizes": sizes, "outputs": n, "max_abs_diff": worst})
    if check_out_of_range:
        _check_out_of_range(ep, exported, info, inputs_json_path, smap, summary, tuples)
    return summary


def _check_out_of_range(ep, exported, info, inputs_json_path, smap, summary, tuples):
    ranges = summary["range_constraints"]
    above = below = None
    for user_sym, ep_sym in smap.items():
        lo, hi = ranges.get(ep_sym, [None, None])
        if hi is not None and above is None:
            above = ({user_sym: hi + 1}, f"{user_sym} = {hi + 1} > max {hi}")
        # torch's input check skips minimums of 1 and 2: only an artifact that asserts them itself
        # (ptexport's, not torch.export's own) refuses min - 1 there.
        if lo is not None and (lo >= 3 or (lo >= 1 and _asserts_lower_bound(ep, ep_sym, lo))) and below is None:
            below = ({user_sym: lo - 1}, f"{user_sym} = {lo - 1} < min {lo}")
    chosen = [c for c in (above, below) if c is not None]
    if not chosen:
        summary["out_of_range_skipped"] = (
            "no dynamic symbol with a finite max or a min >= 1" if smap else "no dynamic symbol")
        return
    for sizes, why in chosen:
        _expect_rejected(exported, inputs_json_path, sizes, why, summary, tuples)


def _asserts_lower_bound(ep, sym, lo) -> bool:
    """True when the graph has an _assert_scalar of `sym >= lo` (ptexport's check of a lower bound)."""
    for n in ep.graph.nodes:
        if n.op == "call_function" and "_assert_scalar" in str(n.target) and len(n.args) > 1 \
                and f"expression {sym} >= {lo} " in str(n.args[1]):
            return True
    return False


def _expect_rejected(exported, inputs_json_path, sizes, why, summary, tuples):
    args, kwargs = load_inputs(inputs_json_path, sizes, tuples=tuples)
    try:
        with torch.no_grad():
            exported(*args, **kwargs)
    except Exception as e:  # noqa: BLE001: we classify it below
        if not out_of_range_error(e):
            raise AssertionError(f"{os.path.basename(str(summary['artifact']))}: input outside the range "
                                 f"constraints ({why}) raised {type(e).__name__}, not torch's guard error: {e}") from None
        summary.setdefault("out_of_range", None)
        if summary["out_of_range"] is None:
            summary["out_of_range"] = {"sizes": sizes, "raised": f"{type(e).__name__}: {e}"}
        summary.setdefault("out_of_range_all", []).append({"sizes": sizes, "raised": f"{type(e).__name__}: {e}"})
        return
    raise AssertionError(f"{os.path.basename(str(summary['artifact']))}: input outside the range constraints "
                         f"({why}) was accepted by ep.module(); range_constraints = {summary['range_constraints']}")


def format_summary(s: dict) -> str:
    lines = [f"artifact {s['artifact']}  model {s['model']}  method {s['method']}",
             f"range constraints {s['range_constraints']}  symbols {s.get('symbol_map', {})}"]
    for r in s["runs"]:
        lines.append(f"  ok  sizes {r['sizes'] or 'sample'}: {r['outputs']} outputs, max |diff| {r['max_abs_diff']:.3g}")
    if s["out_of_range"]:
        lines.append(f"  ok  out of range {s['out_of_range']['sizes']} rejected: {s['out_of_range']['raised'][:160]}")
    elif s["out_of_range_skipped"]:
        lines.append(f"  --  out of range check skipped: {s['out_of_range_skipped']}")
    return "\n".join(lines)


def _parse_sizes(text: str) -> dict[str, int]:
    out = {}
    for part in filter(None, text.split(",")):
        k, _, v = part.partition("=")
        if not v:
            raise ValueError(f"--sizes {text!r}: expected SYM=INT[,SYM=INT...]")
        out[k.strip()] = int(v)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Compare a .pt2 artifact with the eager TorchScript model.")
    p.add_argument("artifact")
    p.add_argument("model")
    p.add_argument("inputs")
    p.add_argument("--sizes", action="append", default=[], help="SYM=INT[,SYM=INT...]; repeatable")
    p.add_argument("--atol", type=float, default=1e-4)
    p.add_argument("--rtol", type=float, default=1e-4)
    p.add_argument("--no-out-of-range", action="store_true")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    a = p.parse_args(argv)
    sizes_list = [{}] + [_parse_sizes(s) for s in a.sizes]
    if not a.sizes:
        meta = os.path.join(os.path.dirname(os.path.abspath(a.model)), "meta.json")
        if os.path.exists(meta):
            with open(meta) as f:
                sizes_list += json.load(f).get("sizes", [])
    try:
        s = check_artifact(a.artifact, a.model, a.inputs, sizes_list, a.atol, a.rtol, not a.no_out_of_range)
    except AssertionError as e:
        print(f"MISMATCH: {e}", file=sys.stderr)
        return 1
    print(json.dumps(s, indent=1) if a.json else format_summary(s))
    return 0


if __name__ == "__main__":
    sys.exit(main())
