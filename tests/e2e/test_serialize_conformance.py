#!/usr/bin/env python3
"""Conformance of the .pt2 writer and reader with torch 2.14's torch.export.

1. ptx_write_fixture writes the hand-built programs of tests/serialize/fixtures.h; each is loaded
   with torch.export.load, run through ep.module() on several batch sizes and compared with the same
   computation in Python on the weights read back from the artifact; a batch outside the range (and
   a wrong constant input) must raise.
2. torch.export.save writes small modules; ptx_write_fixture reads each (dump) and its view of the
   program is compared with torch's; then it rewrites the file with our writer, and torch loads
   the rewrite and runs it against the original module.

Environment: PTX_WRITE_FIXTURE (the tool), set by tests/CMakeLists.txt.
"""
import os
import subprocess
import sys
import tempfile
import traceback

import torch

TOOL = os.environ.get("PTX_WRITE_FIXTURE")
results = {"passed": 0, "failed": 0}


def check(name, fn):
    try:
        fn()
        results["passed"] += 1
        print(f"ok   {name}")
    except Exception:  # noqa: BLE001 - report and go on
        results["failed"] += 1
        print(f"FAIL {name}")
        traceback.print_exc()


def expect_raises(fn, what):
    try:
        fn()
    except Exception:  # noqa: BLE001 - any guard failure will do
        return
    raise AssertionError(f"{what}: no error")


def close(a, b):
    assert a.shape == b.shape, (a.shape, b.shape)
    assert torch.allclose(a, b, atol=1e-5, rtol=1e-5), (a, b)


# ---- 1: our artifacts, loaded by torch -------------------------------------------------------------

def check_golden_mlp(path):
    ep = torch.export.load(path)
    sd = ep.state_dict
    m = ep.module()
    for batch in (2, 5, 8, 64):
        x = torch.randn(batch, 4)
        want = (torch.relu(x @ sd["fc.weight"].T + sd["fc.bias"]) * sd["scale"]).view(batch * 3)
        close(m(x), want)
    expect_raises(lambda: m(torch.randn(65, 4)), "batch 65 > 64")
    expect_raises(lambda: m(torch.randn(8, 5)), "static dim 4 changed")
    assert isinstance(sd["fc.weight"], torch.nn.Parameter)


def check_mlp(path):
    ep = torch.export.load(path)
    sd = ep.state_dict
    m = ep.module()
    for batch in (2, 3, 17, 128):
        x = torch.randn(batch, 4)
        h = torch.relu(x @ sd["fc1.weight"].T + sd["fc1.bias"])
        close(m(x), h @ sd["fc2.weight"].T + sd["fc2.bias"])
    expect_raises(lambda: m(torch.randn(129, 4)), "batch 129 > 128")
    assert str(ep.range_constraints) .count("128") == 1, ep.range_constraints


def check_view(path):
    ep = torch.export.load(path)
    m = ep.module()
    for batch in (2, 4, 7, 100):
        x = torch.randn(batch, 6)
        out, n = m(x)
        close(out, x.view(batch * 2, 3).relu())
        assert n == batch // 2 + 1, (n, batch)
    expect_raises(lambda: m(torch.randn(101, 6)), "batch 101 > 100")


def check_buffers(path):
    ep = torch.export.load(path)
    m = ep.module()
    consts = ep.constants
    running = ep.state_dict["running"]
    nb, c = consts["nb"], consts["c"]
    for i, batch in enumerate((2, 3, 9)):
        x, y = torch.randn(batch, 4), torch.randn(batch, 4)
        h = (x + running) * nb + c
        out, d, none = m(x, 2, y=y)
        close(out, h * 2)
        a, b = (y + h).split(2, dim=1)
        close(d["a"], a)
        close(d["b"], b)
        assert none is None
        assert float(m.count) == i + 1, m.count  # the buffer mutation is applied
    expect_raises(lambda: m(torch.randn(3, 4), 3, y=torch.randn(3, 4)), "k = 3, specialized to 2")
    expect_raises(lambda: m(torch.randn(3, 4), 2, y=torch.randn(4, 4)), "x and y batch differ")
    expect_raises(lambda: m(torch.randn(65, 4), 2, y=torch.randn(65, 4)), "batch 65 > 64")


def check_cond(path):
    ep = torch.export.load(path)
    m = ep.module()
    assert str(ep.range_constraints) == "{u0: VR[0, 20]}", ep.range_constraints
    for x in (torch.randn(5, 4).abs(), -torch.randn(5, 4).abs(), torch.randn(5, 4)):
        out, nz = m(x)
        close(out, (x.sin() if x.sum() > 0 else x.cos()) * 2)
        assert torch.equal(nz, torch.nonzero(x > 0)), (nz, x)
    subgraphs = [n for n, _ in ep.graph_module.named_children()]
    assert subgraphs == ["true_graph_0", "false_graph_0"], subgraphs


FIXTURES = {"golden_mlp": check_golden_mlp, "mlp": check_mlp, "view": check_view, "buffers": check_buffers,
            "cond": check_cond}


# ---- 2: torch's artifacts, read and rewritten by us ------------------------------------------------

class Mlp(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 3)
        self.register_buffer("scale", torch.rand(3))

    def forward(self, x):
        y = torch.relu(self.fc(x)) * self.scale
        return y.view(x.shape[0] * 3)


class Mixed(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("nb", torch.rand(2), persistent=False)
        self.c = torch.tensor([1.0, 2.0])

    def forward(self, x, k: int, *, y=None):
        a, b = x.split(2, dim=1)
        s = x.sum(dim=[1], keepdim=True, dtype=torch.float64)
        z = torch.zeros(x.shape[0], 2, dtype=torch.float32)
        h = a.to(torch.float16)
        n = x.shape[0] // 2 + 1
        return (a + self.c + z + self.nb) * k, {"s": s, "h": h, "y": y + b}, torch.ones(n)


class CondParam(torch.nn.Module):
    """torch.cond with a parameter read in one branch (an operand of both subgraphs)."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.rand(4))

    def forward(self, x):
        return torch.cond(x.sum() > 0, lambda x: x * self.w, lambda x: x.cos(), (x,)) * 2


class WhileCount(torch.nn.Module):
    """torch's while_loop: a counter carried with x, its bound n read from outside the loop (an
    additional input), the condition graph returning a single tensor."""

    def forward(self, x, n):
        from torch._higher_order_ops.while_loop import while_loop

        def cond_fn(i, x):
            return i < n

        def body_fn(i, x):
            return i + 1, x * 2 + 1
        return while_loop(cond_fn, body_fn, (torch.zeros((), dtype=torch.int64), x))[1]


class Unbacked(torch.nn.Module):
    """Values read from data: nonzero's count and an item() with checks (u0, u1 and their asserts)."""

    def forward(self, x, n):
        k = n.item()
        torch._check(k >= 1)
        torch._check(k <= x.shape[0])
        return x[:k] + 1, torch.nonzero(x > 0)


def torch_cases():
    batch = torch.export.Dim("batch", min=2, max=64)
    dyn = torch.export.Dim.DYNAMIC
    return {
        "t_mlp": (Mlp(), (torch.randn(8, 4),), {}, {"x": {0: batch}},
                  lambda: ((torch.randn(5, 4),), {})),
        "t_mixed": (Mixed(), (torch.randn(8, 4), 3), {"y": torch.randn(8, 2)},
                    {"x": {0: dyn}, "k": None, "y": {0: dyn}},
                    lambda: ((torch.randn(6, 4), 3), {"y": torch.randn(6, 2)})),
        "t_cond": (CondParam(), (torch.randn(5, 4),), {}, None,
                   lambda: ((torch.randn(5, 4) * 3,), {})),
        "t_while": (WhileCount(), (torch.randn(4, 3), torch.tensor(3)), {}, None,
                    lambda: ((torch.randn(4, 3), torch.randint(0, 6, ())), {})),
        "t_unbacked": (Unbacked(), (torch.randn(6, 4), torch.tensor(3)), {}, None,
                       lambda: ((torch.randn(6, 4), torch.randint(1, 7, ())), {})),
    }


def flat(out):
    return torch.utils._pytree.tree_leaves(out)


def check_torch_file(name, mod, args, kwargs, dyn, sample, tmp):
    torch.manual_seed(0)
    ep = torch.export.export(mod, args, kwargs, dynamic_shapes=dyn)
    src = os.path.join(tmp, name + ".pt2")
    torch.export.save(ep, src)
    # Our reader's view of torch's file.
    dump = subprocess.run([TOOL, "dump", src], capture_output=True, text=True)
    assert dump.returncode == 0, dump.stderr
    lines = dump.stdout.splitlines()
    nodes = [l.split(" = ")[1].split("(")[0] for l in lines if l.startswith("node ")]
    want = []
    for n in ep.graph.nodes:
        if n.op != "call_function" or n.target.__name__ == "getitem":
            continue
        t = n.target
        if isinstance(t, torch._ops.HigherOrderOperator):
            want.append(f"higher_order::{t.name()}")
        elif isinstance(t, torch._ops.OpOverload):
            want.append(f"{t._schema.name}.{t._overloadname}")
        else:
            want.append(f"{t.__module__}.{t.__name__}")
    assert nodes == want, (nodes, want)
    inputs = [l.split()[1].split(":")[0][1:] for l in lines if l.startswith("input ")]
    assert inputs == [n.name for n in ep.graph.nodes if n.op == "placeholder"
                      and not isinstance(n.meta["val"], (int, float, str, type(None)))], inputs
    ranges = sorted(l.split()[1] for l in lines if l.startswith("range "))
    assert ranges == sorted(str(s) for s in ep.range_constraints), ranges
    for fqn in ep.state_dict:
        assert any(l.split()[:2] in (["parameter", fqn], ["buffer", fqn]) for l in lines), fqn
    # Our writer's copy of torch's file runs like the original.
    dst = os.path.join(tmp, name + "_ours.pt2")
    rw = subprocess.run([TOOL, "rewrite", src, dst], capture_output=True, text=True)
    assert rw.returncode == 0, rw.stderr
    theirs, ours = torch.export.load(src).module(), torch.export.load(dst).module()
    for _ in range(2):
        a, kw = sample()
        for x, y in zip(flat(theirs(*a, **kw)), flat(ours(*a, **kw))):
            if isinstance(x, torch.Tensor):
                assert x.dtype == y.dtype and torch.equal(x, y), (x, y)
            else:
                assert x == y, (x, y)
        for x, y in zip(flat(mod(*a, **kw)), flat(ours(*a, **kw))):
            if isinstance(x, torch.Tensor):
                close(x.double(), y.double())


def main():
    if not TOOL:
        print("PTX_WRITE_FIXTURE is not set (run through ctest)")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([TOOL, "write", tmp], capture_output=True, text=True)
        if out.returncode != 0:
            print(out.stderr)
            return 1
        for name, fn in FIXTURES.items():
            check(f"fixture {name}", lambda: fn(os.path.join(tmp, name + ".pt2")))
        for name, case in torch_cases().items():
            check(f"torch file {name}", lambda: check_torch_file(name, *case, tmp))
    print(f"{results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
