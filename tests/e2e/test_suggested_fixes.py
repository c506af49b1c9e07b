#!/usr/bin/env python3
"""End to end: a dynamic spec the model does not allow is exit 5 with suggested fixes; the fixes are
torch.export's own (asked live, on the same python module with the same Dims), and applying ptexport's
`--dynamic` form of them makes the next run exit 0 with an artifact that torch.export.load runs equal to
eager at the new range's smallest, largest and an interior size.

Applying a fix, as a user would edit torch's `dynamic_shapes`: each suggested `--dynamic LHS=RHS`
replaces the flag with the same LHS (or is added), and a range flag of a symbol that no input uses any
more is deleted (its Dim definition is gone). docs/shapes.md says the same. The report says which of
the user's flags each fix replaces (checked against the hand-written expectation of each case) and
carries the whole corrected command line: the test runs it exactly as given, through a shell, and
checks that it exits 0 and that its flags are those this file's own apply_fixes makes (issue 17:
adding a fix while the replaced flags stayed on the line was exit 2, "symbol 'm' is not used by any
input").

Cases: a shape-dependent `if` (range too wide), a view that needs divisibility (derived dim 2*_n),
the same with the dims and the range in inputs.json (no flag: the fixes are added), broadcasting two
symbols that must be equal (m = n), a reshape to a constant (specialization), and a
dimension marked `dynamic` whose guard the ranges do not imply: exit 0 with a runtime assertion in
the artifact, which torch rejects inputs by.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import conformance  # noqa: E402

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
from torch.export import Dim  # noqa: E402


class ShapeIf(nn.Module):
    def forward(self, x):
        if x.size(0) > 4:
            return x.relu() + 1.0
        return x - 1.0


class ViewDivisible(nn.Module):
    def forward(self, x):
        return x.view(-1, 4).sum(1)


class AddPair(nn.Module):
    def forward(self, a, b):
        return a * 2.0 + b


class ReshapeConst(nn.Module):
    def forward(self, x):
        return x.reshape(4, 6) + 1.0


def tensor(name, shape, dims):
    return {"name": name, "dtype": "float32", "shape": shape, "dims": dims,
            "data": {"random": {"dist": "normal", "seed": len(name)}}}


# name, module, inputs.json args, --dynamic flags, torch's dynamic_shapes, texts expected in the message,
# the user's flags each suggestion replaces (in the report's order), inputs.json's "dims" (symbol ranges)
CASES = [
    ("shape_if", ShapeIf(), [tensor("x", [8, 3], [None, None])], ["x.0=batch", "batch=1:512"],
     lambda: {"x": {0: Dim("batch", min=1, max=512)}},
     ["Not all values of batch = x.size()[0] in the specified range batch <= 512 satisfy the generated guard"],
     [["--dynamic batch=1:512"]], None),
    ("view_divisible", ViewDivisible(), [tensor("x", [8, 6], [None, None])], ["x.0=n", "n=1:512"],
     lambda: {"x": {0: Dim("n", min=1, max=512)}},
     ["satisfy the generated guard ((3*x.size()[0]) % 2) == 0", "required by aten::view"],
     [[], ["--dynamic x.0=n", "--dynamic n=1:512"]], None),
    ("view_divisible_json", ViewDivisible(), [tensor("x", [8, 6], ["n", None])], [],
     lambda: {"x": {0: Dim("n", min=1, max=512)}},
     ["satisfy the generated guard ((3*x.size()[0]) % 2) == 0"],
     [[], []], {"n": {"min": 1, "max": 512}}),
    ("add_pair", AddPair(), [tensor("a", [4, 8], [None, None]), tensor("b", [4, 8], [None, None])],
     ["a.0=n", "b.0=m", "n=2:64", "m=2:64"],
     lambda: {"a": {0: Dim("n", min=2, max=64)}, "b": {0: Dim("m", min=2, max=64)}},
     ["must always be equal"],
     [["--dynamic b.0=m", "--dynamic m=2:64"]], None),
    ("reshape_const", ReshapeConst(), [tensor("x", [4, 6], [None, None])], ["x.0=batch", "batch=1:64"],
     lambda: {"x": {0: Dim("batch", min=1, max=64)}},
     ["You marked batch as dynamic but your code specialized it to be a constant (4)"],
     [["--dynamic x.0=batch", "--dynamic batch=1:64"]], None),
]


def torch_suggestions(module, args, dynamic_shapes) -> list[str]:
    """The lines under 'Suggested fixes:' of torch.export's own error."""
    try:
        torch.export.export(module, tuple(args), dynamic_shapes=dynamic_shapes)
    except Exception as e:  # torch raises UserError (a subclass of RuntimeError/Exception)
        text = str(e)
    else:
        raise AssertionError("torch.export accepted the spec that should be violated")
    if "Suggested fixes:" not in text:
        return []
    lines = []
    for line in text.split("Suggested fixes:", 1)[1].splitlines()[1:]:
        if not line.startswith("  "):
            break
        lines.append(line.strip())
    return lines


def apply_fixes(flags: list[str], fix_flags: list[str]) -> list[str]:
    out = list(flags)
    for fix in fix_flags:
        lhs = fix.split("=", 1)[0]
        out = [f for f in out if f.split("=", 1)[0] != lhs] + [fix]
    # drop range flags of symbols no target uses any more
    used = set()
    for f in out:
        lhs, rhs = f.split("=", 1)
        if "." in lhs:
            used.update(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", rhs))
    return [f for f in out if "." in f.split("=", 1)[0] or f.split("=", 1)[0] in used]


def flags_args(flags):
    args = []
    for f in flags:
        args += ["--dynamic", f]
    return args


def check_case(tmp, name, module, arg_descs, flags, dyn, texts, replaces, json_dims):
    model_pt = os.path.join(tmp, name + ".pt")
    torch.jit.script(module).save(model_pt)
    inputs = os.path.join(tmp, name + ".json")
    doc = {"schema": conformance.SCHEMA, "method": "forward", "args": arg_descs, "kwargs": {}}
    if json_dims:
        doc["dims"] = json_dims
    with open(inputs, "w") as f:
        json.dump(doc, f)
    out = os.path.join(tmp, name + ".pt2")

    proc = conformance.run_ptexport(model_pt, inputs, *flags_args(flags), "-o", out, "--json", check=False)
    assert proc.returncode == 5, f"{name}: exit {proc.returncode}, expected 5\n{proc.stderr}"
    assert not os.path.exists(out), f"{name}: an artifact was written for a violated spec"
    report = json.loads(proc.stdout)
    message = report["diagnostics"][0]["message"]
    assert message.startswith("Constraints violated ("), message
    for t in texts:
        assert t in message, f"{name}: expected {t!r} in\n{message}"
    suggestions = report["constraints"]["suggestions"]
    assert suggestions, f"{name}: no suggestion\n{message}"

    # The torch forms are torch.export's own suggestions for the same module and Dims.
    args, _ = conformance.load_inputs(inputs)
    want = torch_suggestions(module, args, dyn())
    got = [s["torch"] for s in suggestions if s["torch"]]
    assert got == want, f"{name}: ptexport suggests {got}, torch.export suggests {want}"
    for line in want:
        assert line in message, f"{name}: torch's fix {line!r} not printed in\n{message}"

    # Which of the user's flags each fix replaces: in the report and in the message.
    assert [s["replaces"] for s in suggestions] == replaces, \
        f"{name}: replaces {[s['replaces'] for s in suggestions]}, expected {replaces}"
    for s in suggestions:
        if s["replaces"]:
            assert f"{s['flag']}  (replaces {', '.join(s['replaces'])})" in message, message

    # Applying the --dynamic forms makes the next run succeed: the report's corrected command line,
    # run exactly as given, has the flags apply_fixes makes.
    fix_flags = []
    for s in suggestions:
        toks = shlex.split(s["flag"])
        assert toks and all(t == "--dynamic" for t in toks[0::2]), s["flag"]
        fix_flags += toks[1::2]
    fixed = apply_fixes(flags, fix_flags)
    command = report["constraints"]["corrected_command"]
    argv = report["constraints"]["corrected_argv"]
    assert shlex.split(command) == argv, (command, argv)
    assert f"The command line with these fixes:\n  {command}" in message, message
    got_flags = [argv[i + 1] for i, t in enumerate(argv) if t == "--dynamic"]
    assert sorted(got_flags) == sorted(fixed), f"{name}: corrected flags {got_flags}, expected {fixed}"
    assert [t for t in argv if t != "--dynamic" and t not in got_flags] == \
        [t for t in [os.environ["PTX_EXE"], model_pt, inputs, "-o", out, "--json"]], argv
    proc = subprocess.run(command, shell=True, capture_output=True, text=True)
    assert proc.returncode == 0, f"{name}: the corrected command line {command}: exit {proc.returncode}\n{proc.stderr}"
    ranges = json.loads(proc.stdout)["constraints"]["final_ranges"]

    # The artifact agrees with eager across the fixed spec; write the fixed spec into a copy of
    # inputs.json so that conformance can draw inputs at each symbol's min, max and interior.
    doc = json.load(open(inputs))
    dims_of = {}
    for f in fixed:
        lhs, rhs = f.split("=", 1)
        if "." in lhs:
            arg, dim = lhs.split(".")
            dims_of[(arg, int(dim))] = rhs
    sym_ranges = {}
    for f in fixed:
        lhs, rhs = f.split("=", 1)
        if "." not in lhs and ":" in rhs:
            lo, hi = rhs.split(":")
            sym_ranges[lhs] = {"min": int(lo), "max": int(hi)}
    for a in doc["args"]:
        for (arg, dim), mark in dims_of.items():
            if a["name"] == arg and mark != "static":
                a["dims"][dim] = mark
    doc["dims"] = sym_ranges
    fixed_inputs = os.path.join(tmp, name + ".fixed.json")
    with open(fixed_inputs, "w") as f:
        json.dump(doc, f)
    sizes = [{}]
    for sym, r in sym_ranges.items():
        lo, hi = r["min"], min(r["max"], 64)
        sizes += [{sym: max(lo, 2)}, {sym: hi}, {sym: (max(lo, 2) + hi) // 2}]
    summary = conformance.check_artifact(out, model_pt, fixed_inputs, sizes, atol=1e-5, rtol=1e-5)
    print(f"ok   {name}: fix {fix_flags} -> ranges {ranges}; {len(summary['runs'])} runs against eager")


def check_runtime_assert(tmp):
    """`dynamic` lets ptexport choose the range; the divisibility guard stays in the graph."""
    model_pt = os.path.join(tmp, "vd_dyn.pt")
    torch.jit.script(ViewDivisible()).save(model_pt)
    inputs = os.path.join(tmp, "vd_dyn.json")
    with open(inputs, "w") as f:
        json.dump({"schema": conformance.SCHEMA, "method": "forward",
                   "args": [tensor("x", [8, 6], [None, None])], "kwargs": {}}, f)
    out = os.path.join(tmp, "vd_dyn.pt2")
    proc = conformance.run_ptexport(model_pt, inputs, "--dynamic", "x.0=dynamic", "-o", out, "--json")
    report = json.loads(proc.stdout)
    asserts = report["constraints"]["runtime_asserts"]
    assert [a["guard"] for a in asserts] == ["Eq(Mod(3*s0, 2), 0)"], asserts
    ep = torch.export.load(out)
    m, eager = ep.module(), torch.jit.load(model_pt)
    for n in (0, 2, 4, 30, 1000):
        x = torch.randn(n, 6)
        torch.testing.assert_close(m(x.clone()), eager(x.clone()))
    for n in (1, 3, 7, 999):
        try:
            m(torch.randn(n, 6))
        except RuntimeError as e:
            assert "Runtime assertion failed for expression Eq(Mod(3*s0, 2), 0)" in str(e), str(e)
        else:
            raise AssertionError(f"the artifact accepted x of {n} rows, which breaks the view's guard")
    # ptexport run checks the same before it runs anything: exit 3.
    doc = json.load(open(inputs))
    doc["args"][0]["shape"] = [7, 6]
    bad = os.path.join(tmp, "vd_dyn_7.json")
    with open(bad, "w") as f:
        json.dump(doc, f)
    proc = conformance.run_ptexport("run", out, bad, check=False)
    assert proc.returncode == 3, f"run on 7 rows: exit {proc.returncode}\n{proc.stderr}"
    assert "runtime assertion Eq(Mod(3*s0, 2), 0)" in proc.stderr and "s0 = 7 (x.size()[0])" in proc.stderr, proc.stderr
    print("ok   runtime assertion: kept in the artifact, rejected by torch and by ptexport run")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            check_case(tmp, *case)
        check_runtime_assert(tmp)
    print("test_suggested_fixes: ok")


if __name__ == "__main__":
    main()
