#!/usr/bin/env python3
"""End to end: `ptexport` on torch.save'd Sequential models (lib/pickled_module.h).

For each model: torch.save(model) -> `ptexport MODEL.pt inputs.json --dynamic batch=2:64` (the real CLI,
env var PTX_EXE) -> the .pt2 artifact, loaded by torch.export.load and run against
  * the python eager model itself (torch.load of our own trusted test file, in eval mode), at the
    sample batch and at batch = 2, 17 and 64, on the inputs that conformance.load_inputs makes from
    inputs.json (the same tensors ptexport draws);
  * conformance.check_artifact with the pickled module and with its TorchScript copy
    (torch.jit.script), which also checks that an input outside the range constraints is rejected.
Then the refusals through the CLI: a malicious pickle (exit 3, its marker file never appears) and a
user class (exit 3, the message explains how to save TorchScript).
"""
from __future__ import annotations

import json
import os
import pickle
import sys
import tempfile
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import conformance  # noqa: E402

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402


class Net(nn.Module):  # a user class: pickled as __main__.Net, its forward is not in the file
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)

    def forward(self, x):
        return self.fc(x)


def models():
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(), nn.Dropout(0.2), nn.Linear(16, 4))
    cnn = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.AdaptiveAvgPool2d((2, 2)),
        nn.Flatten(), nn.Linear(64, 10))
    cnn.train()
    with torch.no_grad():
        for _ in range(3):
            cnn(torch.randn(4, 3, 16, 16))  # running statistics that are not 0 and 1
    emb = nn.Sequential(nn.Embedding(50, 16, padding_idx=0), nn.LayerNorm(16), nn.GELU(), nn.Linear(16, 8),
                        nn.Softmax(dim=-1))
    # The rest of the layers issue 7 names: Conv1d, BatchNorm1d, SiLU, Sigmoid, Identity, AvgPool2d.
    seq1d = nn.Sequential(
        nn.Conv1d(4, 8, 3, padding=1), nn.BatchNorm1d(8), nn.SiLU(), nn.Identity(), nn.Unflatten(1, (2, 4)),
        nn.AvgPool2d(2), nn.Sigmoid(), nn.Flatten(), nn.Linear(20, 3))
    seq1d.train()
    with torch.no_grad():
        for _ in range(3):
            seq1d(torch.randn(4, 4, 10))
    tensor = {"name": "input", "dtype": "float32", "data": {"random": {"dist": "normal", "seed": 0}}}
    return [
        ("mlp", mlp, dict(tensor, shape=[5, 8], dims=["batch", None])),
        ("cnn", cnn, dict(tensor, shape=[3, 3, 16, 16], dims=["batch", None, None, None])),
        ("seq1d", seq1d, dict(tensor, shape=[3, 4, 10], dims=["batch", None, None])),
        ("emb", emb, {"name": "input", "dtype": "int64", "shape": [4, 7], "dims": ["batch", None],
                      "data": {"random": {"dist": "int", "low": 0, "high": 50, "seed": 0}}}),
    ]


def write_inputs(path, arg):
    doc = {"schema": conformance.SCHEMA, "method": "forward", "args": [arg], "kwargs": {},
           "dims": {"batch": {"min": 2, "max": 64}}}
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)


def check_model(tmp, name, model, arg):
    model_pt = os.path.join(tmp, name + ".pt")
    torch.save(model, model_pt)
    inputs = os.path.join(tmp, name + ".inputs.json")
    write_inputs(inputs, arg)
    out = os.path.join(tmp, name + ".pt2")
    conformance.run_ptexport(model_pt, inputs, "--dynamic", "batch=2:64", "-o", out)
    ep = torch.export.load(out)
    exported = ep.module()
    eager = torch.load(model_pt, weights_only=False)  # our own test file: safe to unpickle here
    eager.eval()
    for sizes in ({}, {"batch": 2}, {"batch": 17}, {"batch": 64}):
        args, _ = conformance.load_inputs(inputs, sizes)
        with torch.no_grad():
            got = exported(*[a.clone() for a in args])
            want = eager(*[a.clone() for a in args])
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5,
                                   msg=lambda m: f"{name} at sizes {sizes or 'sample'}: {m}")
    # The same through the conformance harness with the pickled module itself as the eager model
    # (it also checks that an input outside the range constraints is rejected).
    summary = conformance.check_artifact(out, model_pt, inputs, [{}, {"batch": 3}, {"batch": 64}], atol=1e-5, rtol=1e-5)
    print(conformance.format_summary(summary))
    scripted = os.path.join(tmp, name + ".script.pt")
    torch.jit.script(eager).save(scripted)
    summary = conformance.check_artifact(out, scripted, inputs, [{}, {"batch": 2}, {"batch": 64}], atol=1e-5, rtol=1e-5)
    print(conformance.format_summary(summary))


def check_refusals(tmp):
    marker = os.path.join(tmp, "MARKER.os_system")
    cmd = f"touch '{marker}'".encode()
    payload = b"\x80\x02cos\nsystem\nq\x00X" + len(cmd).to_bytes(4, "little") + cmd + b"\x85q\x01Rq\x02."
    evil = os.path.join(tmp, "evil.pt")
    with zipfile.ZipFile(evil, "w", zipfile.ZIP_STORED) as z:
        z.writestr("evil/data.pkl", payload)
        z.writestr("evil/byteorder", "little")
    inputs = os.path.join(tmp, "evil.inputs.json")
    write_inputs(inputs, {"name": "input", "dtype": "float32", "shape": [2, 2], "dims": ["batch", None]})
    proc = conformance.run_ptexport(evil, inputs, check=False)
    assert proc.returncode == 3, f"malicious pickle: exit {proc.returncode}, expected 3\n{proc.stderr}"
    assert "global 'os.system' is refused" in proc.stderr, proc.stderr
    assert not os.path.exists(marker), "the malicious payload ran"
    # The payload is real: an unrestricted unpickler runs it.
    pickle.loads(payload)
    assert os.path.exists(marker)
    os.remove(marker)

    user = os.path.join(tmp, "user.pt")
    torch.save(Net(), user)
    proc = conformance.run_ptexport(user, inputs, check=False)
    assert proc.returncode == 3, f"user class: exit {proc.returncode}, expected 3\n{proc.stderr}"
    assert "torch.jit.script(model).save" in proc.stderr, proc.stderr


def main():
    with tempfile.TemporaryDirectory() as tmp:
        for name, model, arg in models():
            check_model(tmp, name, model, arg)
        check_refusals(tmp)
    print("test_pickled_modules: ok")


if __name__ == "__main__":
    main()
