"""Data-dependent programs (issue 15): sizes and values read from tensor data (unbacked symbols u0,
u1, ...), checks on them (assert / torch._check), ifs on tensor data (torch.cond), data loops and the
--draft mode.

Each case is a small python module, scripted (and traced where tracing keeps the construct), exported
by ptexport from a sample; the artifact is loaded with the real torch.export.load and run against the
eager TorchScript module on inputs that give different unbacked sizes and take each branch. Where
torch.export can export the same python module (nonzero, masked_select, item + slice, checks), the
graph is compared with torch's, asked live: the calls in order (sym_size, comparisons and
_assert_scalar included), the unbacked symbols and their ranges (test_graph_vs_torch.describe).
Expected failures check the exit code and that the message names the source line and the fix.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import traceback
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cli_common  # noqa: E402
import test_graph_vs_torch  # noqa: E402
import torch  # noqa: E402

warnings.simplefilter("ignore")


class NonZero(torch.nn.Module):
    def forward(self, x):
        return torch.nonzero(x > 0)


class MaskedSelect(torch.nn.Module):
    def forward(self, x):
        return torch.masked_select(x, x > 0) * 2


class ItemSlice(torch.nn.Module):
    def forward(self, x, n):
        k = int(n.item())
        return x[:k] + 1


class Checks(torch.nn.Module):
    def forward(self, x, n):
        k = int(n.item())
        torch._check(k >= 2)
        torch._check(k <= x.size(0))
        return x[:k] + 1


class AssertItem(torch.nn.Module):
    def forward(self, x, n):
        k = int(n.item())
        assert k >= 2, "k must be at least 2"
        assert k <= x.size(0), "k must not exceed the rows"
        return x[:k] * 3


class MaskIndex(torch.nn.Module):
    def forward(self, x):
        return x[x > 0] + 1


class Unique(torch.nn.Module):
    def forward(self, x):
        return torch.unique(x)


class RepeatInterleave(torch.nn.Module):
    def forward(self, r):
        return torch.repeat_interleave(r)


class ItemSliceTorch(torch.nn.Module):
    """ItemSlice as torch.export takes it: python's int() of a SymInt would specialize it."""

    def forward(self, x, n):
        k = n.item()
        return x[:k] + 1


class ChecksTorch(torch.nn.Module):
    def forward(self, x, n):
        k = n.item()
        torch._check(k >= 2)
        torch._check(k <= x.size(0))
        return x[:k] + 1


class IfSum(torch.nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            y = x.sin()
        else:
            y = x.cos()
        return y * 2


class IfSumCond(torch.nn.Module):
    """IfSum as torch.export takes it (torch.cond); TorchScript cannot script torch.cond."""

    def forward(self, x):
        return torch.cond(x.sum() > 0, lambda x: x.sin(), lambda x: x.cos(), (x,)) * 2


class IfNumel(torch.nn.Module):
    """An if on a size read from data (torchvision's _batched_nms_coordinate_trick: `if boxes.numel() == 0`):
    torch.cond on the SymBool; the false branch reads max(), which fails on an empty tensor."""

    def forward(self, x):
        sel = x[x > 0]
        if sel.numel() == 0:
            out = torch.zeros([0])
        else:
            out = sel / sel.max()
        return out


class IfNumelCond(torch.nn.Module):
    """IfNumel as torch.export takes it (torch.cond on a SymBool)."""

    def forward(self, x):
        sel = x[x > 0]
        return torch.cond(sel.numel() == 0, lambda s: torch.zeros([0]), lambda s: s / s.max(), (sel,))


class IfOrder(torch.nn.Module):
    """The branches read the same tensors in other orders (the operands of one list for both)."""

    def forward(self, a, b):
        if a.sum() > 0:
            y = a * 2 + b
        else:
            y = b * 3 - a
        return y


class IfShapes(torch.nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            y = x[:2] * 2
        else:
            y = x[:3] * 3
        return y


class IfDtypes(torch.nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            y = x.int()
        else:
            y = x.sin()
        return y


class IfItem(torch.nn.Module):
    """An if on a value read by item() whose branches can be subgraphs: torch.cond on the SymBool
    (torch.export stops here: GuardOnDataDependentSymNode; TorchScript cannot call torch.cond)."""

    def forward(self, x, n):
        k = int(n.item())
        if k > 3:
            return x + 1
        return x - 1


class IfItemCond(torch.nn.Module):
    def forward(self, x, n):
        return torch.cond(n.item() > 3, lambda x: x + 1, lambda x: x - 1, (x,))


class GuardItem(torch.nn.Module):
    """An if on a value read by item() whose branches update a tensor in place: no torch.cond."""

    def forward(self, x, n):
        k = int(n.item())
        y = x.clone()
        if k > 3:
            y.add_(1)
        else:
            y.sub_(1)
        return y


class DataLoop(torch.nn.Module):
    def forward(self, x, n):
        for _ in range(int(n.item())):
            x = x * 2
        return x


class WhileSum(torch.nn.Module):
    def forward(self, x):
        while x.sum() < 100:
            x = x * 2 + 1
        return x


class WhileSumLoop(torch.nn.Module):
    """WhileSum as torch.export takes it (torch's while_loop carrying the condition as a tensor);
    TorchScript cannot script while_loop."""

    def forward(self, x):
        from torch._higher_order_ops.while_loop import while_loop

        def cond_fn(c, x):
            return c.clone()

        def body_fn(c, x):
            y = x * 2 + 1
            return y.sum() < 100, y
        return while_loop(cond_fn, body_fn, (x.sum() < 100, x))[1]


class DataLoopTwo(torch.nn.Module):
    """Two carried tensors, one read from outside the loop (w), one that is an input returned as is."""

    def forward(self, x, n, w):
        y = x
        z = w
        for _ in range(int(n.item())):
            y = y * 0.5 + w
        return y, z


class LoopShape(torch.nn.Module):
    def forward(self, x):
        while x.sum() < 100:
            x = torch.cat([x, x])
        return x


class LoopIndex(torch.nn.Module):
    """A data loop whose body reads the iteration number: the counter's item() in the body."""

    def forward(self, x, n):
        for i in range(int(n.item())):
            x = x + i
        return x


class LoopUniqueMask(torch.nn.Module):
    """torchvision's _batched_nms_vanilla in small: a loop over torch.unique of a selection (its length
    read from data, 0 when nothing is selected) whose body reads the element (select(t, 0, i)) and
    updates in place a mask made before the loop (carried by the while_loop)."""

    def forward(self, scores, idxs):
        keep = torch.zeros_like(scores, dtype=torch.bool)
        for c in torch.unique(idxs[idxs >= 0]):
            sel = torch.where(idxs == c)[0]
            keep[sel[scores[sel].argmax()]] = True
        return torch.where(keep)[0]


class IfLocalUpdate(torch.nn.Module):
    """An if on tensor data whose branch updates in place a tensor it made: torch.cond (the update is
    functionalized inside the branch)."""

    def forward(self, x):
        if x.sum() > 0:
            y = x.clone()
            y.mul_(2)
            y[0] = 0.0
        else:
            y = x - 1
        return y


class IfLocalUpdateCond(torch.nn.Module):
    def forward(self, x):
        def true_fn(x):
            y = x.clone()
            y.mul_(2)
            y[0] = 0.0
            return y
        return torch.cond(x.sum() > 0, true_fn, lambda x: x - 1, (x,))


class IfItemLocal(torch.nn.Module):
    """GuardItem with the tensor made inside each branch: torch.cond on the SymBool."""

    def forward(self, x, n):
        k = int(n.item())
        if k > 3:
            y = x.clone()
            y.add_(1)
        else:
            y = x.clone()
            y.sub_(1)
        return y


class IfSumSize(torch.nn.Module):
    """Branches that read a size read from data (nonzero's count): a SymInt operand of the cond, which
    the .pt2 lists by name among the tensors, as torch writes a cond's symbolic operands."""

    def forward(self, x):
        k = x.nonzero().size(0)
        if x.sum() > 0:
            return x * k
        return x - k


class IfItemLocalCond(torch.nn.Module):
    def forward(self, x, n):
        def true_fn(x):
            y = x.clone()
            y.add_(1)
            return y

        def false_fn(x):
            y = x.clone()
            y.sub_(1)
            return y
        return torch.cond(n.item() > 3, true_fn, false_fn, (x,))


class ItemFloat(torch.nn.Module):
    def forward(self, x, s):
        return x * s.item() + 1


class ItemFloatArith(torch.nn.Module):
    def forward(self, x, s):
        return x * (s.item() * 2.0)


def tensor_arg(name, t):
    return {"name": name, "dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape),
            "data": {"value": t.tolist()}}


def write_case(tmp, name, module, sample, traced):
    d = os.path.join(tmp, name)
    os.makedirs(d, exist_ok=True)
    m = torch.jit.trace(module, sample, check_trace=False) if traced else torch.jit.script(module)
    m.save(os.path.join(d, "model.pt"))
    names = list(module.forward.__code__.co_varnames[1:1 + len(sample)])
    doc = {"schema": "ptexport.inputs/v1", "method": "forward",
           "args": [tensor_arg(n, t) for n, t in zip(names, sample)], "kwargs": {}}
    with open(os.path.join(d, "inputs.json"), "w") as f:
        json.dump(doc, f)
    return d, m


def export(d, *extra, conformance=True):
    out = os.path.join(d, "out.pt2")
    if os.path.exists(out):
        os.remove(out)
    r = cli_common.run("export", os.path.join(d, "model.pt"), os.path.join(d, "inputs.json"), "-o", out,
                       *extra, conformance=conformance)
    return r, out


def run_both(ep, eager, args):
    """(exported result or exception text, eager result or exception text)."""
    def call(f):
        try:
            with torch.no_grad():
                return f(*[a.clone() for a in args])
        except Exception as e:  # noqa: BLE001: compared below
            return f"raised {type(e).__name__}"
    return call(ep.module()), call(eager)


def same(a, b) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str)
    if isinstance(a, (tuple, list)):
        return isinstance(b, (tuple, list)) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a.shape == b.shape and a.dtype == b.dtype and torch.allclose(a.float(), b.float(), atol=1e-5)


def check_equal_on(ep, eager, inputs, what):
    """The artifact equals eager on each input (both raise, or the same tensors)."""
    for args in inputs:
        got, want = run_both(ep, eager, args)
        assert same(got, want), f"{what}: on {[tuple(a.shape) for a in args]} {args[-1] if args[-1].numel() == 1 else ''}" \
                                f" artifact gives {got if isinstance(got, str) else got.shape if hasattr(got, 'shape') else got}," \
                                f" eager {want if isinstance(want, str) else want.shape if hasattr(want, 'shape') else want}"


def unbacked_ranges(ep) -> dict:
    return {str(k): (str(v.lower), str(v.upper)) for k, v in ep.range_constraints.items() if str(k).startswith("u")}


def subgraph_calls(ep) -> dict:
    """The calls of each subgraph of cond and while_loop nodes (true_graph_0, while_loop_body_graph_0,
    ...), by name."""
    out = {}
    for n in ep.graph.nodes:
        if n.op == "get_attr" and re.match(r"(true|false)_graph_\d+$|while_loop_(cond|body)_graph_\d+$", str(n.target)):
            sub = getattr(ep.graph_module, n.target)
            out[n.target] = [str(m.target) for m in sub.graph.nodes if m.op == "call_function"]
    return out


# torch 2.14 keeps in-place calls on a branch's own tensors inside cond's subgraphs (mul_, fill_; its
# run_decompositions fails on such a cond), where ptexport functionalizes them (mul, select_scatter):
# only the outer graph and the ranges are compared for these.
INPLACE_BRANCHES = {"if_local_update", "if_item_local"}


def compare_with_torch(name, ep, module, sample):
    exported = torch.export.export(module, sample)
    ours = test_graph_vs_torch.describe(ep)
    theirs = test_graph_vs_torch.describe(exported)
    problems = []
    if name not in INPLACE_BRANCHES and subgraph_calls(ep) != subgraph_calls(exported):
        problems.append(f"subgraphs: ptexport {subgraph_calls(ep)}, torch {subgraph_calls(exported)}")
    # An unbacked float (zuf0) is unbounded: torch lists it as (-oo, oo), ptexport writes no range
    # for it (the .pt2 range table holds ints; docs/cli.md). Every other range must be torch's.
    theirs["ranges"] = {k: v for k, v in theirs["ranges"].items() if not (k.startswith("zuf") and v == ("-oo", "oo"))}
    if ours["ranges"] != theirs["ranges"]:
        problems.append(f"ranges: ptexport {ours['ranges']}, torch {theirs['ranges']}")
    if ours["calls"] != theirs["calls"]:
        rows = [f"    {a:<60} | {b}" for a, b in zip(ours["calls"] + [""] * len(theirs["calls"]),
                                                  theirs["calls"] + [""] * len(ours["calls"])) if a or b]
        problems.append("calls (ptexport | torch):\n" + "\n".join(rows))
    assert not problems, f"{name} against torch.export:\n  " + "\n  ".join(problems)


X54 = torch.randn(5, 4, generator=torch.Generator().manual_seed(0))
X83 = torch.randn(8, 3, generator=torch.Generator().manual_seed(1))


def ok_cases():
    """(name, module, sample, traced, inputs to compare on, expected unbacked ranges, torch twin)"""
    pos, neg = X54.abs() + 0.1, -X54.abs() - 0.1
    n = torch.tensor
    return [
        ("nonzero", NonZero(), (X54,), False, [(X54,), (pos,), (neg,)], {"u0": ("0", "20")}, NonZero()),
        ("nonzero_traced", NonZero(), (X54,), True, [(X54,), (pos,), (neg,)], {"u0": ("0", "20")}, None),
        ("masked_select", MaskedSelect(), (X54,), False, [(X54,), (pos,), (neg,)], {"u0": ("0", "20")},
         MaskedSelect()),
        ("masked_select_traced", MaskedSelect(), (X54,), True, [(X54,), (neg,)], {"u0": ("0", "20")}, None),
        ("item_slice", ItemSlice(), (X83, n(3)), False,
         [(X83, n(k)) for k in (0, 1, 3, 8, 12, -2)], {"u0": ("-int_oo", "int_oo"), "u1": ("0", "8")}, ItemSliceTorch()),
        ("checks", Checks(), (X83, n(3)), False, [(X83, n(k)) for k in (2, 5, 8, 1, 9)], {"u0": ("2", "8")}, ChecksTorch()),
        ("assert_item", AssertItem(), (X83, n(3)), False, [(X83, n(k)) for k in (2, 5, 8, 1, 9)],
         {"u0": ("2", "8")}, None),
        ("mask_index", MaskIndex(), (X54,), False, [(X54,), (pos,), (neg,)], {"u0": ("0", "20")}, MaskIndex()),
        ("mask_index_traced", MaskIndex(), (X54,), True, [(X54,), (neg,)], {"u0": ("0", "20")}, None),
        ("unique", Unique(), (n([3., 1., 3., 2.]),), False, [(n([3., 1., 3., 2.]),), (n([1., 1., 1., 1.]),)],
         {"u0": ("0", "4")}, Unique()),
        ("repeat_interleave", RepeatInterleave(), (n([1, 0, 2]),), False, [(n([1, 0, 2]),), (n([4, 4, 4]),)],
         {"u0": ("0", "int_oo")}, RepeatInterleave()),
        ("if_sum", IfSum(), (X54,), False, [(pos,), (neg,), (X54,)], {}, IfSumCond()),
        ("if_sum_traced", IfSum(), (X54,), True, [(pos,), (neg,)], {}, None),
        ("if_item", IfItem(), (X54, n(5)), False, [(X54, n(k)) for k in (5, 4, 3, -7)],
         {"u0": ("-int_oo", "int_oo")}, IfItemCond()),
        ("if_numel", IfNumel(), (X54,), False, [(X54,), (pos,), (neg,)], {"u0": ("0", "20"), "u1": ("0", "20")},
         IfNumelCond()),
        ("if_local_update", IfLocalUpdate(), (X54,), False, [(pos,), (neg,), (X54,)], {}, IfLocalUpdateCond()),
        ("if_item_local", IfItemLocal(), (X54, n(5)), False, [(X54, n(k)) for k in (5, 4, 3, -7)],
         {"u0": ("-int_oo", "int_oo")}, IfItemLocalCond()),
        ("if_sum_size", IfSumSize(), (X54,), False, [(pos,), (neg,), (X54,)], {"u0": ("0", "20")}, None),
        ("if_order", IfOrder(), (pos, neg), False, [(pos, neg), (neg, pos), (neg, neg * 2)], {}, None),
        ("if_shapes", IfShapes(), (X54,), False, [(pos,), (neg,)], {"u0": ("2", "3")}, None),
        # Loops decided by data become torch's while_loop (torch.jit.trace unrolls loops on its
        # sample, so there is no traced case): a count read by item() (0, 1, 3, 7 iterations and a
        # negative count), a `while` on a tensor condition (0 or several iterations).
        ("data_loop", DataLoop(), (X54, n(3)), False, [(X54, n(k)) for k in (0, 1, 3, 7, -2)],
         {"u0": ("-int_oo", "int_oo")}, None),
        ("data_loop_two", DataLoopTwo(), (X54, n(2), X54.flip(0)), False,
         [(X54, n(k), X54.flip(0)) for k in (0, 2, 5)], {"u0": ("-int_oo", "int_oo")}, None),
        # The body reads the iteration number (counter.item(), as torch writes it in a while_loop body:
        # an unbacked u1 in [0, oo); torch gives it no range and lists symbols its graph lacks, so
        # there is no twin), 0, 1, 3 iterations and a negative count.
        ("loop_index", LoopIndex(), (X54, n(3)), False, [(X54, n(k)) for k in (0, 1, 3, -2)],
         {"u0": ("-int_oo", "int_oo"), "u1": ("0", "int_oo")}, None),
        # A loop over torch.unique of a selection updating an outer mask in place (the mask is carried):
        # several classes, one class, every element its own class, nothing selected (0 iterations).
        ("loop_unique_mask", LoopUniqueMask(), (X83[:, 0], n([2, 0, 2, 1, -1, 0, 2, 1])), False,
         [(X83[:, 0], n(i)) for i in ([2, 0, 2, 1, -1, 0, 2, 1], [1] * 8, list(range(8)), [-1] * 8)],
         {"u0": ("0", "8"), "u1": ("0", "8"), "u2": ("0", "int_oo"), "u3": ("0", "8"), "u4": ("0", "8")}, None),
        ("while_sum", WhileSum(), (pos,), False, [(pos,), (pos * 1000,), (pos * 0.01,)], {}, WhileSumLoop()),
        # torch.jit.trace takes a value read from data, a branch and a loop's count on its sample and
        # records constants (the traced module is specialized; `n` is unused): the artifact must equal
        # that traced module, with no unbacked symbol (torch._check on a traced item cannot be traced)
        ("item_slice_traced", ItemSlice(), (X83, n(3)), True, [(X83, n(k)) for k in (0, 3, 8)], {}, None),
        ("if_shapes_traced", IfShapes(), (X54,), True, [(pos,), (neg,)], {}, None),
        ("data_loop_traced", DataLoop(), (X54, n(3)), True, [(X54, n(k)) for k in (0, 3, 5)], {}, None),
        ("while_sum_traced", WhileSum(), (pos,), True, [(pos,), (pos * 1000,)], {}, None),
        # item() of a float tensor: an unbacked float (torch's zuf0) passed to mul (torch.jit.trace
        # cannot record it: it bakes the sample's value in, so there is no traced case)
        ("item_float", ItemFloat(), (X54, n(1.5)), False, [(X54, n(v)) for v in (1.5, -2.0, 0.0, 1e3)], {},
         ItemFloat()),
    ]


def main() -> int:
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, module, sample, traced, inputs, ranges, twin in ok_cases():
            try:
                d, eager = write_case(tmp, name, module, sample, traced)
                r, out = export(d)
                assert r.returncode == 0, f"exit {r.returncode}: {r.stderr[-2000:]}"
                ep = torch.export.load(out)
                check_equal_on(ep, eager, inputs, name)
                got = unbacked_ranges(ep)
                assert got == ranges, f"unbacked ranges {got}, expected {ranges}"
                if twin is not None:
                    compare_with_torch(name, ep, twin, sample)
                if ("loop" in name or name.startswith("while")) and not traced:  # inspect and the report show the subgraphs
                    shown = cli_common.run("inspect", out, conformance=False).stdout
                    assert "while_loop_cond_graph_0" in shown and "while_loop_body_graph_0" in shown, shown[-1500:]
                    r, out = export(d, "--json", conformance=False)
                    listed = [g["name"] for g in json.loads(r.stdout)["data_dependent"]["cond_subgraphs"]]
                    assert listed == ["while_loop_cond_graph_0", "while_loop_body_graph_0"], listed
                print(f"ok   {name}: ranges {got}")
            except Exception as e:  # noqa: BLE001: every case reports
                failures.append(f"{name}: {type(e).__name__}: {e}\n{traceback.format_exc(limit=2)}")
        failures += failing_cases(tmp)
        failures += draft_cases(tmp)
    for f in failures:
        print("FAIL", f)
    return 1 if failures else 0


def failing_cases(tmp) -> list[str]:
    """Constructs ptexport refuses: exit 4 with the line and the fix."""
    failures = []
    n = torch.tensor
    cases = [
        ("guard_item", GuardItem(), (X54, n(5)), [r"could not guard on data-dependent expression u0 >= 4",
                                                 r"\n    if torch\.gt\(k, 3\):", r"torch\._check\(u0 >= 4\)",
                                                 r"--draft"]),
        ("if_dtypes", IfDtypes(), (X54,), [r"expected same dtype", r"torch\.int32 and torch\.float32"]),
        ("item_float_arith", ItemFloatArith(), (X54, n(1.5)), [r"s\.item\(\)|item\(s\)", r"keep the value a tensor"]),
        ("loop_shape", LoopShape(), (X54.abs() + 1,), [r"changes carried 'x\.\d+' from \[5, 4\].* to \[10, 4\]",
                                                        r"\n    while _\d+:",
                                                        r"keep its shape|keep the carried tensors' shapes"]),
        ("if_numel_sample", IfNumel(), (-X54.abs() - 0.1,), [r"the sample takes the true branch of this if on data",
                                                             r"\n    if torch\.eq\(torch\.numel\(sel\), 0\):",
                                                             r"max\(\): Expected reduction dim",
                                                             r"give a sample that takes the false branch"]),
    ]
    for name, module, sample, patterns in cases:
        try:
            d, _ = write_case(tmp, name, module, sample, False)
            r, _ = export(d)
            assert r.returncode == 4, f"exit {r.returncode}, expected 4: {r.stderr[-1500:]}"
            for p in patterns:
                assert re.search(p, r.stderr), f"stderr lacks /{p}/: {r.stderr[-1500:]}"
            print(f"ok   {name}: exit 4 naming the line and the fix")
        except Exception as e:  # noqa: BLE001
            failures.append(f"{name}: {type(e).__name__}: {e}")
    return failures


def draft_cases(tmp) -> list[str]:
    """--draft: the sample's decision is taken and kept as a runtime assertion; exit 9, the report
    lists the problem; the artifact equals eager where the decision holds and raises where not."""
    failures = []
    n = torch.tensor
    for name, module, sample, holds, breaks in [
        ("draft_guard_item", GuardItem(), (X54, n(5)), [(X54, n(k)) for k in (4, 5, 9)], [(X54, n(2))]),
    ]:
        try:
            d, eager = write_case(tmp, name, module, sample, False)
            r, out = export(d, "--draft", "--json", conformance=False)
            assert r.returncode == 9, f"exit {r.returncode}, expected 9: {r.stderr[-1500:]}"
            doc = json.loads(r.stdout)
            assert doc["status"] == "draft", doc["status"]
            assert doc["draft"]["counts"] == {"data_dependent": 1}, doc["draft"]
            ep = torch.export.load(out)
            check_equal_on(ep, eager, holds, name)
            for args in breaks:
                got, _ = run_both(ep, eager, args)
                assert isinstance(got, str), f"{name}: the draft's decision was not checked on {args[-1]}"
            print(f"ok   {name}: exit 9, {doc['draft']['counts']}, the decision asserted")
        except Exception as e:  # noqa: BLE001
            failures.append(f"{name}: {type(e).__name__}: {e}")
    return failures


if __name__ == "__main__":
    sys.exit(main())
