"""Prints what torch.export.export of torch 2.14.1 produces for the small modules of
docs/reference-facts.md section 2 (print(ep), specs, and the saved JSON's graph parts), and checks
that artifacts with in-place ops / buffer mutations run after torch.export.load.

Run: scripts/env.sh run python3 docs/reference/export_facts.py
"""
import json
import os
import tempfile
import zipfile

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.export import Dim, export, load, save

TMP = tempfile.mkdtemp()
b = Dim("batch", min=1, max=64)


def show(title, ep, name=None):
    print("=" * 20, title)
    print(ep)
    print("in_spec:", ep.call_spec.in_spec)
    print("out_spec:", ep.call_spec.out_spec)
    if name:
        path = os.path.join(TMP, name + ".pt2")
        save(ep, path)
        j = json.loads(zipfile.ZipFile(path).read(f"{name}/models/model.json"))
        gm = j["graph_module"]
        for key in ("inputs", "outputs"):
            print(f"JSON graph.{key}:", json.dumps(gm["graph"][key]))
        for key in ("input_specs", "output_specs"):
            print(f"JSON {key}:", json.dumps(gm["signature"][key]))
        sig = gm["module_call_graph"][0]["signature"]
        print("JSON in_spec:", sig["in_spec"])
        print("JSON out_spec:", sig["out_spec"])
        print("JSON forward_arg_names:", sig["forward_arg_names"])
        for n in gm["graph"]["nodes"]:
            print("JSON node:", n["target"], json.dumps(n["inputs"]), json.dumps(n["outputs"]))
        print("verifiers", j["verifiers"], "guards_code", j["guards_code"], "ranges", j["range_constraints"])
        return path


class ConvBN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class InPlace(nn.Module):
    def forward(self, x, y):
        z = x.clone()
        z.relu_()
        z.add_(y)
        x.mul_(2)
        return z


class Buf(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("running", torch.zeros(8))
        self.register_buffer("count", torch.zeros((), dtype=torch.int64))
        self.register_buffer("np_buf", torch.ones(8), persistent=False)
        self.const = torch.arange(8.0)

    def forward(self, x):
        self.running.mul_(0.9).add_(x.mean(0) * 0.1)
        self.count.add_(1)
        return x - self.running + self.np_buf + self.const


class Outs(nn.Module):
    def forward(self, x):
        return (x + 1, x * 2), {"sum": x.sum(1), "n": x}


class Ins(nn.Module):
    def forward(self, x, k: int, alpha: float, xs: list, d: dict, flag: bool = True, *, scale=None):
        return x[:, :k] * alpha + xs[0] + xs[1][:, :k] + d["a"] + scale


def check_mutations_after_load(path_inplace, path_buf):
    m = load(path_inplace).module()
    x, y = torch.randn(4, 5), torch.randn(4, 5)
    x0 = x.clone()
    out = m(x, y)
    print("inplace after load: x mutated:", torch.equal(x, x0 * 2), " out ok:", torch.allclose(out, x0.relu() + y))
    m = load(path_buf).module()
    x = torch.randn(4, 8)
    m(x)
    m(x)
    print("buffers after 2 calls: count =", int(m.count), " running ok:",
          torch.allclose(m.running, x.mean(0) * 0.1 * 0.9 + x.mean(0) * 0.1))


def main():
    torch.manual_seed(0)
    show("convbn eval", export(ConvBN().eval(), (torch.randn(2, 3, 16, 16),), dynamic_shapes={"x": {0: b}}), "convbn")
    print(export(ConvBN().eval(), (torch.randn(2, 3, 16, 16),), dynamic_shapes={"x": {0: b}}).run_decompositions())
    show("convbn train", export(ConvBN().train(), (torch.randn(2, 3, 16, 16),), dynamic_shapes={"x": {0: b}}))
    args2 = (torch.randn(4, 5), torch.randn(4, 5))
    ds2 = {"x": {0: b}, "y": {0: b}}
    p1 = show("inplace", export(InPlace(), args2, dynamic_shapes=ds2), "inplace")
    p1d = show("inplace decomposed", export(InPlace(), args2, dynamic_shapes=ds2).run_decompositions(), "inplace_d")
    p2 = show("buffer mutation", export(Buf(), (torch.randn(4, 8),), dynamic_shapes={"x": {0: b}}), "buf")
    p2d = show("buffer mutation decomposed",
               export(Buf(), (torch.randn(4, 8),), dynamic_shapes={"x": {0: b}}).run_decompositions(), "buf_d")
    check_mutations_after_load(p1, p2)
    check_mutations_after_load(p1d, p2d)
    show("tuple/dict out", export(Outs(), (torch.randn(4, 3),), dynamic_shapes={"x": {0: b}}), "outs")
    ep = export(Ins(), (torch.randn(4, 8), 3, 0.5, [torch.randn(4, 3), torch.randn(4, 8)], {"a": torch.randn(4, 3)}),
                {"scale": torch.randn(3)},
                dynamic_shapes={"x": {0: b}, "k": None, "alpha": None, "xs": [{0: b}, {0: b}], "d": {"a": {0: b}},
                                "scale": None})
    show("int/float/list/dict inputs + kwarg", ep, "ins")
    m = ep.module()
    for k in (3, 4):
        try:
            m(torch.randn(4, 8), k, 0.5, [torch.randn(4, 3), torch.randn(4, 8)], {"a": torch.randn(4, 3)},
              scale=torch.randn(3))
            print("k", k, "ok")
        except Exception as e:  # noqa: BLE001
            print("k", k, type(e).__name__, e)


if __name__ == "__main__":
    main()
