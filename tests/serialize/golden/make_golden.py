#!/usr/bin/env python3
"""Writes the golden JSON of tests/serialize/pt2_test.cpp from what torch.export.save writes.

The golden files are torch's own output for the Python module below, which
tests/serialize/fixtures.h (golden_mlp) builds by hand as ir/. Run with the environment's torch:

    scripts/env.sh run python3 tests/serialize/golden/make_golden.py tests/serialize/golden
    scripts/env.sh run python3 tests/serialize/golden/make_golden.py --check tests/serialize/golden

--check regenerates into memory and fails if the checked-in files differ (the e2e test
tests/e2e/test_serialize_golden.py runs it), so the golden files stay torch's truth.

Normalization, applied the same way to ptexport's output by the C++ test:
  - node metadata keeps only nn_module_stack (stack_trace holds this script's path, torch_fn names
    Python functions ptexport cannot know, and sym_size nodes carry torch's
    "_empty_nn_module_stack_from_metadata_hook" placeholder, which is dropped);
  - torch_version is LibTorch's version without the local suffix ("2.14.1+debian" -> "2.14.1").
"""
import io
import json
import os
import sys
import tempfile
import zipfile

import torch


class M(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 3)
        self.register_buffer("scale", torch.ones(3))

    def forward(self, x):
        y = torch.relu(self.fc(x)) * self.scale
        return y.view(x.shape[0] * 3)


def normalize_model(model):
    for node in model["graph_module"]["graph"]["nodes"]:
        md = node["metadata"]
        stack = md.get("nn_module_stack", "")
        node["metadata"] = {"nn_module_stack": stack} if stack and not stack.startswith("_empty") else {}
    model["torch_version"] = model["torch_version"].split("+")[0]
    return model


def golden_files():
    torch.manual_seed(0)
    batch = torch.export.Dim("batch", min=2, max=64)
    ep = torch.export.export(M(), (torch.randn(8, 4),), dynamic_shapes={"x": {0: batch}})
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "mlp.pt2")
        torch.export.save(ep, path)
        z = zipfile.ZipFile(path)
        read = lambda n: json.loads(z.read("mlp/" + n))
        files = {
            "mlp_model.json": normalize_model(read("models/model.json")),
            "mlp_weights_config.json": read("data/weights/model_weights_config.json"),
            "mlp_constants_config.json": read("data/constants/model_constants_config.json"),
        }
    return {k: json.dumps(v, indent=1, sort_keys=True) + "\n" for k, v in files.items()}


def main():
    check = sys.argv[1] == "--check"
    out = sys.argv[-1]
    bad = 0
    for name, text in golden_files().items():
        path = os.path.join(out, name)
        if check:
            with open(path) as f:
                if json.load(f) != json.loads(text):
                    print(f"{path}: differs from what torch.export.save writes now", file=sys.stderr)
                    bad += 1
        else:
            with open(path, "w") as f:
                f.write(text)
    if check:
        print(f"{3 - bad} passed, {bad} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
