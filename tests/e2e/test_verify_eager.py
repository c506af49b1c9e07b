"""How verification runs the eager model (docs/commands/verify.md), shown on models where getting it
wrong changes the answer:

- grad_mode_branch branches on torch.is_grad_enabled(): torch.export traces with grad mode on, so the
  exported program is lin(x) * 2, as torch.export.export of the python module (asked live) gives.
  Verification must run the eager model with grad mode on for such code: export exits 0 with every
  point verified, and the artifact equals the eager TorchScript module under grad mode (and differs
  from it under no_grad, which is what a verification without grad mode would have compared with).
- requires_grad_branch branches on an intermediate's requires_grad (true in python under grad mode:
  it is computed from parameters; torch.export takes lin(x) * 2). The eager runs of verification
  record autograd for code that reads requires_grad, so that such a branch is compared with what
  the model computes in python: an artifact is written only if it equals that (today the frontend
  answers false for intermediates, the artifact would be lin(x) * 3, and export refuses it, exit 6,
  nothing written). A verification that ran below autograd for it would have written lin(x) * 3.
- buffer_mutation updates its buffers on every call: each verification point starts from the state
  the program was exported with (a fresh copy of the module), so all points agree; `ptexport verify`
  on the written artifact agrees too.
- resnet18 neither reads grad mode nor changes state: verified without a copy and without autograd;
  its points agree as well (the saved memory is measured in docs/commands/verify.md, not tested).
  Exported with --dynamic batch=1:1024, the bounded default (docs/commands/export.md#verification)
  compares values at the sample and at small points only, and checks each max, the range's own
  (batch 1024, not lowered to the element budget), for shapes on meta tensors.
- mlp with --verify full compares values at every point; with a tiny --verify-budget, every point
  after the sample is checked for shapes only, and says so.
"""
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "models"))
import cli_common  # noqa: E402
import conformance  # noqa: E402
import make_models  # noqa: E402
import torch  # noqa: E402


def model(name):
    d = os.path.join(cli_common.MODELS, name)
    return os.path.join(d, "model.pt"), os.path.join(d, "inputs.json")


def export_json(name, out, conformance_check=True, extra=()):
    m, i = model(name)
    r = cli_common.run("export", m, i, "-o", out, "--json", *extra, conformance=conformance_check)
    assert r.returncode == 0, f"{name}: exit {r.returncode}\n{r.stderr[-2000:]}"
    report = json.loads(r.stdout)
    points = report["verification"]
    assert len(points) >= 4, points
    bad = [p for p in points if not p["ok"] or p["skipped"]]
    assert not bad, f"{name}: points not verified: {bad}"
    return report


def test_grad_mode_branch(tmp):
    out = os.path.join(tmp, "g.pt2")
    # conformance=False: cli_common's check runs eager under no_grad, the case this test is about
    export_json("grad_mode_branch", out, conformance_check=False)
    m, i = model("grad_mode_branch")
    ep = torch.export.load(out)
    eager = torch.jit.load(m)
    for sizes in ({}, {"batch": 1}, {"batch": 512}, {"batch": 19}):
        (x,), _ = conformance.load_inputs(i, sizes)
        with torch.no_grad():
            got = ep.module()(x)
            off = eager(x)
        with torch.enable_grad():
            on = eager(x).detach()
        torch.testing.assert_close(got, on, rtol=1e-5, atol=1e-5)
        assert not torch.allclose(got, off), f"{sizes}: grad mode made no difference; the test shows nothing"
    python_module = make_models.build_eager("grad_mode_branch")
    theirs = conformance.export_with_torch(python_module, i)
    (x,), _ = conformance.load_inputs(i, {"batch": 7})
    with torch.no_grad():
        torch.testing.assert_close(ep.module()(x), theirs.module()(x), rtol=1e-5, atol=1e-5)
    print("ok   grad_mode_branch: verified with grad mode on; artifact == eager(grad on) == torch.export")


class RequiresGradBranch(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(8, 8)

    def forward(self, x):
        y = self.lin(x)
        if y.requires_grad:
            return y * 2.0
        return y * 3.0


def test_requires_grad_branch(tmp):
    torch.manual_seed(0)
    module = RequiresGradBranch().eval()
    m, i, out = (os.path.join(tmp, n) for n in ("rg.pt", "rg.json", "rg.pt2"))
    torch.jit.script(module).save(m)
    with open(i, "w") as f:
        json.dump({"schema": "ptexport.inputs/v1", "dims": {"batch": {"min": 1, "max": 64}},
                   "args": [{"name": "x", "dtype": "float32", "shape": [4, 8], "dims": ["batch", None],
                             "data": {"random": {"dist": "normal", "seed": 0}}}]}, f)
    r = cli_common.run("export", m, i, "-o", out, "--json", conformance=False)
    x = torch.randn(5, 8)
    with torch.enable_grad():
        want = module(x).detach()
    with torch.no_grad():
        assert not torch.allclose(want, module(x)), "grad mode made no difference; the test shows nothing"
    if r.returncode == 0:  # only if it is what python computes under grad mode (torch.export's program)
        with torch.no_grad():
            torch.testing.assert_close(torch.export.load(out).module()(x), want, rtol=1e-5, atol=1e-5)
        print("ok   requires_grad_branch: exported as python computes it under grad mode")
        return
    assert r.returncode == 6, f"exit {r.returncode}\n{r.stderr[-2000:]}"
    assert "differs from the eager model" in r.stderr, r.stderr[-2000:]
    assert not os.path.exists(out), "an artifact that differs from the eager model was written"
    print("ok   requires_grad_branch: the program differs from eager under grad mode: exit 6, nothing written")


def test_buffer_mutation(tmp):
    out = os.path.join(tmp, "b.pt2")
    export_json("buffer_mutation", out)
    m, i = model("buffer_mutation")
    r = cli_common.run("verify", out, m, i, "--json")
    assert r.returncode == 0, f"verify: exit {r.returncode}\n{r.stderr[-2000:]}"
    doc = json.loads(r.stdout)
    points = doc["verification"]
    assert len(points) >= 4 and all(p["ok"] for p in points), doc
    print(f"ok   buffer_mutation: {len(points)} points from the exported state, export and verify")


def test_resnet18(tmp):
    report = export_json("resnet18", os.path.join(tmp, "r.pt2"), extra=("--dynamic", "batch=1:1024"))
    points = {p["label"]: p for p in report["verification"]}
    # s0 is the batch (sample 2, range [1, 1024]), s1 and s2 the height and width (sample 64, ranges
    # [32, 224]). Each sample value is inside its range: the sample is the interior value checked for
    # values, and each symbol's own interior point, anywhere in its range, is checked for shapes, as the
    # maxima are. Values: the sample, each min, and every symbol at a small interior value together.
    assert points["sample"]["check"] == "values" and points["sample"]["ok"], points["sample"]  # at its own sizes
    for label, p in points.items():
        shapes = label.startswith("max ") or label in ("interior s0", "interior s1", "interior s2")
        assert p["check"] == ("shapes" if shapes else "values"), p
        assert "meta" not in p["note"], p  # convolutions take their sizes from the metadata on meta
    assert points["max s0"]["sizes"]["s0"] == 1024, points["max s0"]
    assert points["max s1"]["sizes"]["s1"] == 224 and points["max s2"]["sizes"]["s2"] == 224, points
    assert 1 < points["interior s0"]["sizes"]["s0"] < 1024, points["interior s0"]
    joint = points["interior all"]["sizes"]
    assert 1 < joint["s0"] <= 4 and 32 < joint["s1"] <= 128 and 32 < joint["s2"] <= 128, joint  # twice the sample's
    assert points["min s0"]["sizes"]["s0"] == 1 and points["min s1"]["sizes"]["s1"] == 32, points
    print(f"ok   resnet18: {len(points)} points, shapes only at {sorted(l for l, p in points.items() if p['check'] == 'shapes')}")


def test_verify_modes(tmp):
    full = export_json("mlp", os.path.join(tmp, "full.pt2"), extra=("--verify", "full"))
    assert all(p["check"] == "values" for p in full["verification"]), full["verification"]
    budget = export_json("mlp", os.path.join(tmp, "budget.pt2"), extra=("--verify-budget", "0.000001"))
    for p in budget["verification"]:
        if p["label"] == "sample":
            assert p["check"] == "values", p
        else:  # a max is a shapes point anyway; the others were values points
            assert p["check"] == "shapes", p
            # a max, and mlp's interior point (its sample's batch is inside the range), are shapes points anyway
            assert p["label"].startswith("max ") or p["label"] == "interior s0" or "time budget" in p["note"], p
    print(f"ok   mlp: --verify full: {len(full['verification'])} points of values; a spent budget: shapes after the sample")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        test_grad_mode_branch(tmp)
        test_requires_grad_branch(tmp)
        test_buffer_mutation(tmp)
        test_resnet18(tmp)
        test_verify_modes(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
