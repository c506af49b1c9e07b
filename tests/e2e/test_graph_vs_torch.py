"""The graphs ptexport writes for small modules, against what torch.export 2.14 makes of the same
python modules (asked live, not pinned text). Each artifact, loaded with torch.export.load, must have:

- the placeholder names of torch.export.export's graph signature (p_trunk_block1_0_weight for a
  submodule named `block1-0`, as torchvision's regnet has: odd_names; a name kept as is would not
  compile as python in torch.export.load);
- the graph signature of torch's functional form (`ep.run_decompositions({})`, where mutations are
  outputs, as in ptexport's graphs): input and output kinds and targets, in torch's order;
- torch's range constraints (symbols renamed in order of appearance);
- the call_function nodes of torch.export.export's graph, in order (target, and each output's dtype and
  shape, symbols renamed), except that torch's `getitem` of a multi-output op is not a node in
  ptexport's graph (TorchScript's `x * 2.0`, aten::mul.Scalar, is written as torch's aten.mul.Tensor
  with a number: passes/lower_script_overloads.h); and ptexport's checks of
  lower bounds 1 and 2 (`_assert_scalar(s0 >= 1)` with the sym_size and comparison that feed it
  alone) are left out: torch.export.load's input check skips lower bounds of 2 or less, so ptexport
  asserts them in the graph (passes/insert_runtime_asserts.h); torch relies on its 0/1 specialization.

Where ptexport differs on purpose, DIFFERENCES says how and why; a difference not listed fails, and a
listed one that no longer happens fails too (so the list stays true).
"""
import os
import re
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "models"))
import cli_common  # noqa: E402
import conformance  # noqa: E402
import make_models  # noqa: E402
import torch  # noqa: E402

MODELS = ["mlp", "broadcast2", "inplace", "buffer_mutation", "conv_bn", "view_divisible", "shape_if",
          "odd_names", "odd_names_traced", "kwargs"]

# (name, what) -> why ptexport's differs from torch's; what is "calls" or "ranges".
DIFFERENCES: dict[tuple[str, str], str] = {
    ("inplace", "calls"): "torch.export.export keeps in-place ops (relu_, add_, copy_ into slices) in its "
                          "training IR; ptexport's graph is functional (clone, relu, add, slice_scatter), "
                          "as torch's own functional form is",
    ("buffer_mutation", "calls"): "torch.export.export keeps the in-place buffer updates (mul_, add_); "
                                  "ptexport's graph is functional and returns the new buffers",
    ("view_divisible", "ranges"): "torch reports half in [2, 512] although half = 1 (x of 2 rows) runs: "
                                  "ptexport keeps the requested [1, 512], verified at half = 1 by export "
                                  "and by torch.export.load in test_export_models",
}


def _shape(val, names: dict) -> str:
    if isinstance(val, torch.Tensor):
        dims = []
        for d in val.shape:
            text = str(d)
            for sym in sorted(set(re.findall(r"\bs\d+\b", text)), key=lambda s: text.index(s)):
                names.setdefault(sym, f"S{len(names)}")
            dims.append(re.sub(r"\bs\d+\b", lambda m: names[m.group(0)], text))
        return f"{str(val.dtype).replace('torch.', '')}[{', '.join(dims)}]"
    if isinstance(val, (list, tuple)):
        return "(" + ", ".join(_shape(v, names) for v in val) + ")"
    if isinstance(val, torch.SymInt):
        text = str(val)
        for sym in re.findall(r"\bs\d+\b", text):
            names.setdefault(sym, f"S{len(names)}")
        return "int " + re.sub(r"\bs\d+\b", lambda m: names[m.group(0)], text)
    return type(val).__name__


_LOWER_BOUND = re.compile(r"Runtime assertion failed for expression s\d+ >= [12] on node")


def lower_bound_checks(ep) -> set:
    """The nodes of ptexport's lower-bound asserts and those that feed them alone."""
    drop = {n for n in ep.graph.nodes if n.op == "call_function" and "_assert_scalar" in str(n.target)
            and len(n.args) > 1 and isinstance(n.args[1], str) and _LOWER_BOUND.match(n.args[1])}
    changed = True
    while changed:
        changed = False
        for n in ep.graph.nodes:
            if n.op == "call_function" and n not in drop and n.users and all(u in drop for u in n.users):
                drop.add(n)
                changed = True
    return drop


def describe(ep) -> dict:
    names: dict[str, str] = {}
    skip = lower_bound_checks(ep)
    for n in ep.graph.nodes:  # placeholders first: symbols named by their first input dim
        if n.op == "placeholder":
            _shape(n.meta.get("val"), names)
    calls = [f"{n.target} -> {_shape(n.meta.get('val'), names)}" for n in ep.graph.nodes
             if n.op == "call_function" and "getitem" not in str(n.target) and n not in skip]
    ranges = {}
    for sym, vr in ep.range_constraints.items():
        key = re.sub(r"\bs\d+\b", lambda m: names.get(m.group(0), m.group(0)), str(sym))
        ranges[key] = (str(vr.lower), str(vr.upper))
    sig = ([(s.kind.name, s.target) for s in ep.graph_signature.input_specs],
           [(s.kind.name, s.target) for s in ep.graph_signature.output_specs])
    inputs = [(s.kind.name, getattr(s.arg, "name", ""), s.target or "") for s in ep.graph_signature.input_specs]
    return {"calls": calls, "ranges": ranges, "signature": sig, "input names": inputs}


def main() -> int:
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in MODELS:
            d = os.path.join(cli_common.MODELS, name)
            out = os.path.join(tmp, name + ".pt2")
            r = cli_common.run("export", os.path.join(d, "model.pt"), os.path.join(d, "inputs.json"), "-o", out)
            if r.returncode != 0:
                failures.append(f"{name}: exit {r.returncode}: {r.stderr[-1500:]}")
                continue
            ours = describe(torch.export.load(out))
            module = make_models.build_eager(make_models.SPECS[name].base)
            ep = conformance.export_with_torch(module, os.path.join(d, "inputs.json"))
            theirs = describe(ep)
            theirs["signature"] = describe(ep.run_decompositions({}))["signature"]
            problems = []
            if ours["input names"] != theirs["input names"]:
                problems.append(f"input specs (placeholder names):\n    ptexport {ours['input names']}\n"
                                f"    torch    {theirs['input names']}")
            if ours["signature"] != theirs["signature"]:
                problems.append(f"signature:\n    ptexport {ours['signature']}\n    torch    {theirs['signature']}")
            same_ranges = ours["ranges"] == theirs["ranges"]
            if not same_ranges and (name, "ranges") not in DIFFERENCES:
                problems.append(f"ranges:\n    ptexport {ours['ranges']}\n    torch    {theirs['ranges']}")
            if same_ranges and (name, "ranges") in DIFFERENCES:
                problems.append("ranges listed in DIFFERENCES but the same now")
            same_calls = ours["calls"] == theirs["calls"]
            if not same_calls and (name, "calls") not in DIFFERENCES:
                width = max(len(c) for c in ours["calls"] + theirs["calls"] + [""])
                rows = [f"    {a:<{width}}  |  {b}" for a, b in
                        zip(ours["calls"] + [""] * len(theirs["calls"]), theirs["calls"] + [""] * len(ours["calls"]))
                        if a or b]
                problems.append("calls (ptexport | torch):\n" + "\n".join(rows))
            if same_calls and (name, "calls") in DIFFERENCES:
                problems.append("calls listed in DIFFERENCES but the same now")
            if problems:
                failures.append(f"{name}: " + "\n  ".join(problems))
            else:
                print(f"ok   {name}: {len(ours['calls'])} calls, ranges {ours['ranges']}")
    for f in failures:
        print("FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
