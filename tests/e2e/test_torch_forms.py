"""TorchScript's forms written as torch.export writes the same python (issue 16, found on swin_t at
--ir inference/core): each model is scripted (or traced) from a few lines here, exported, loaded by the
real torch.export.load and compared with the eager model (conformance.check_artifact), and where the
form is the point its op histogram is compared with torch.export's, asked live.

    python3 tests/e2e/test_torch_forms.py [CHECK...]
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import conformance  # noqa: E402
import test_export_defects as defects  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
from test_export_defects import expect, export, save_scripted, tensor, write_inputs  # noqa: E402


# ---------------------------------------------------------------------------------------------
# TorchScript resolves `x * 0.5` to aten::mul.Scalar, an overload ATen keeps for C++ only; torch.export
# writes aten.mul.Tensor(x, 0.5) (asked live here), and so must the artifact

class ScalarArith(nn.Module):
    def forward(self, x):
        h = x.clone()
        h.mul_(0.5)
        return x + 0.5, x - 2, x * 0.5, x / 3, x.div(2, rounding_mode="floor"), h


def check_scalar_overloads(tmp):
    model = save_scripted(ScalarArith(), tmp, "scalar_arith")
    scripted = {n.schema().split("(")[0] for n in torch.jit.load(model).graph.nodes() if n.kind().startswith("aten::")}
    expect({"aten::add.Scalar", "aten::mul.Scalar", "aten::div.Scalar_mode"} <= scripted,
           f"the scripted model does not call the Scalar overloads: {sorted(scripted)}")
    inputs = write_inputs(tmp, "scalar_arith", [tensor("x", [3, 4], ["batch", None])], {"batch": (1, 64)})
    out = os.path.join(tmp, "scalar_arith.pt2")
    r, _ = export(model, inputs, out)
    expect(r.returncode == 0, "Scalar overloads: export failed", r)
    ours = conformance.op_histogram(torch.export.load(out))
    ep = torch.export.export(ScalarArith(), (torch.randn(3, 4),))
    theirs = conformance.op_histogram(ep.run_decompositions({}))
    expect(ours == theirs, f"calls {ours}, torch.export's functional graph {theirs}")
    conformance.check_artifact(out, model, inputs, [{}, {"batch": 1}, {"batch": 64}])


# ---------------------------------------------------------------------------------------------
# A slice of a padded tensor is not contiguous: `.contiguous()` after it stays a copy at --ir inference
# and core (it was dropped, as if the slice had dense strides, and the view after it failed)

class UnpadView(nn.Module):
    def forward(self, x):
        B, H, W, C = x.shape
        y = torch.nn.functional.pad(x, (0, 0, 0, (7 - W % 7) % 7, 0, (7 - H % 7) % 7)) * 2.0
        return y[:, :H, :W, :].contiguous().view(B, -1)


def check_slice_contiguous(tmp):
    model = save_scripted(UnpadView(), tmp, "unpad_view")
    inputs = write_inputs(tmp, "unpad_view", [tensor("x", [2, 16, 16, 3], ["batch", "h", "w", None])],
                          {"batch": (1, 4), "h": (8, 30), "w": (8, 30)})
    for level in ("inference", "core"):
        out = os.path.join(tmp, f"unpad_view.{level}.pt2")
        r, _ = export(model, inputs, out, "--ir", level)
        expect(r.returncode == 0, f"--ir {level}: export failed", r)
        hist = conformance.op_histogram(torch.export.load(out))
        expect(hist.get("aten.clone.default") == 1, f"--ir {level}: the copy of the slice is gone: {hist}")
        conformance.check_artifact(out, model, inputs, [{}, {"batch": 1, "h": 8, "w": 30}, {"batch": 4, "h": 30, "w": 14},
                                                        {"batch": 3, "h": 21, "w": 21}])


# ---------------------------------------------------------------------------------------------
# Views and in-place updates: a view read after its base was updated is made again from the base
# (it kept its old value, and the update through it wrote stale rows back: exit 6 at verification);
# `x[i] = number` is fill_ of a fresh copy of the lifted number, as torch.export writes it

class StaleView(nn.Module):
    def forward(self, x):
        a = x.new_zeros(x.shape)
        v1 = a[0:4]
        v2 = v1[:, 0:4]
        a.fill_(1.0)
        v2.add_(x[0:4, 0:4])
        return a + x


def check_stale_view(tmp):
    model = save_scripted(StaleView(), tmp, "stale_view")
    inputs = write_inputs(tmp, "stale_view", [tensor("x", [8, 6], ["n", None])], {"n": (4, 64)})
    out = os.path.join(tmp, "stale_view.pt2")
    r, _ = export(model, inputs, out)
    expect(r.returncode == 0, "a view updated after its base: export failed", r)
    conformance.check_artifact(out, model, inputs, [{}, {"n": 4}, {"n": 64}])


class SetItem(nn.Module):
    def forward(self, x):
        mask = x.new_zeros((x.shape[0], 8))
        count = 0
        for h in ((0, -4), (-4, -2), (-2, None)):
            mask[h[0]:h[1], 2:5] = count
            count += 1
        return x + mask


def check_setitem(tmp):
    sample = torch.randn(8, 8)
    for how in ("scripted", "traced"):
        torch.manual_seed(0)
        model = os.path.join(tmp, f"setitem_{how}.pt")
        m = SetItem().eval()
        torch.jit.save(torch.jit.script(m) if how == "scripted" else torch.jit.trace(m, (sample,)), model)
        inputs = write_inputs(tmp, f"setitem_{how}", [tensor("x", [8, 8], ["n" if how == "scripted" else None, None])],
                              {"n": (5, 64)} if how == "scripted" else {})
        ep = torch.export.export(SetItem(), (sample,))
        for level, theirs in (("inference", ep.run_decompositions({})), ("core", ep.run_decompositions())):
            out = os.path.join(tmp, f"setitem_{how}.{level}.pt2")
            r, _ = export(model, inputs, out, "--ir", level)
            expect(r.returncode == 0, f"{how} --ir {level}: export failed", r)
            ours, want = conformance.op_histogram(torch.export.load(out)), conformance.op_histogram(theirs)
            expect(ours == want, f"{how} --ir {level}: calls {ours}, torch's {want}")
            conformance.check_artifact(out, model, inputs, [{}, {"n": 5}, {"n": 64}] if how == "scripted" else [{}])


# ---------------------------------------------------------------------------------------------
# A traced float of static sizes (`(C // heads) ** -0.5`, swin's attention scale): torch.jit.trace records
# it as ops on 0-dim size tensors; Python computes the number, so torch.export has no pow: a constant

class TracedScale(nn.Module):
    def forward(self, x):
        return x * (x.shape[1] // 2) ** -0.5


def check_traced_scale(tmp):
    sample = torch.randn(3, 8)
    model = os.path.join(tmp, "traced_scale.pt")
    torch.jit.save(torch.jit.trace(TracedScale(), (sample,)), model)
    expect(any(n.kind() == "aten::pow" for n in torch.jit.load(model).graph.nodes()), "the trace has no aten::pow")
    inputs = write_inputs(tmp, "traced_scale", [tensor("x", [3, 8], ["batch", None])], {"batch": (1, 64)})
    out = os.path.join(tmp, "traced_scale.pt2")
    r, _ = export(model, inputs, out)
    expect(r.returncode == 0, "a traced float of static sizes: export failed", r)
    ours = conformance.op_histogram(torch.export.load(out))
    theirs = conformance.op_histogram(torch.export.export(TracedScale(), (sample,)).run_decompositions({}))
    expect(ours == theirs, f"calls {ours}, torch.export's functional graph {theirs}")
    conformance.check_artifact(out, model, inputs, [{}, {"batch": 1}, {"batch": 64}])


# ---------------------------------------------------------------------------------------------
# torchvision's detection code under torch.jit.trace (issue 17, ssdlite traced): the transform pads to a
# multiple of 32 with sizes computed as tensors (ceil(float(max(stack([size]))) / 32) * 32, from the
# static size after the resize), and _topk_min takes min(cat([tensor([k]), _shape_as_tensor(x)[0][None]]))
# of a count read from data: size arithmetic, not data (it was exit 4, "u2 >= -320" at the pad)

class TracedSizeVectors(nn.Module):
    def __init__(self):
        super().__init__()
        from torchvision.models.detection.transform import GeneralizedRCNNTransform
        self.transform = GeneralizedRCNNTransform(20, 20, [0.5] * 3, [0.25] * 3, fixed_size=(20, 20))

    def forward(self, x):
        from torchvision.models.detection import _utils as det_utils
        images, _ = self.transform([x])
        scores = images.tensors.flatten()
        sel = scores[scores > 1.0]
        return images.tensors, sel.topk(det_utils._topk_min(sel, 5, 0))[0]


def check_traced_size_vectors(tmp):
    sample = torch.randn(3, 24, 40)
    model = os.path.join(tmp, "traced_size_vectors.pt")
    with torch.no_grad():
        torch.jit.save(torch.jit.trace(TracedSizeVectors().eval(), (sample,), check_trace=False), model)
    kinds = {n.kind() for n in torch.jit.load(model).inlined_graph.nodes()}
    expect({"aten::_shape_as_tensor", "aten::stack", "aten::ceil", "aten::topk"} <= kinds,
           f"the trace lacks the size tensors it is about: {sorted(kinds)}")
    inputs = write_inputs(tmp, "traced_size_vectors", [tensor("x", [3, 24, 40], [None, "h", "w"])],
                          {"h": (16, 64), "w": (16, 64)})
    out = os.path.join(tmp, "traced_size_vectors.pt2")
    r, _ = export(model, inputs, out)
    expect(r.returncode == 0, "traced size vectors: export failed", r)
    conformance.check_artifact(out, model, inputs, [{}, {"h": 16, "w": 16}, {"h": 64, "w": 17}, {"h": 33, "w": 64}])


CHECKS = {"scalar_overloads": check_scalar_overloads, "slice_contiguous": check_slice_contiguous,
          "stale_view": check_stale_view, "setitem": check_setitem, "traced_scale": check_traced_scale,
          "traced_size_vectors": check_traced_size_vectors}


if __name__ == "__main__":
    sys.exit(defects.run_checks(CHECKS, sys.argv[1:]))
