#!/usr/bin/env python3
"""End to end: float constants -inf and +inf in the graph survive the .pt2 (Note [-inf in the
JSON] in serialize/pt2_writer_graph.cpp: LibTorch's generated writer would turn -inf into +inf). The
artifact, loaded by torch.export.load, equals the eager model, infinities included."""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import conformance  # noqa: E402

import torch  # noqa: E402


class Masks(torch.nn.Module):
    def forward(self, x):
        low = x.masked_fill(x < -0.5, float("-inf"))
        high = x.masked_fill(x > 0.5, float("inf"))
        attn = torch.softmax(low, dim=-1)  # -inf masked to 0 weight; +inf would give NaN
        return low, high, attn


def main():
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "masks.pt")
        torch.jit.script(Masks()).save(model)
        inputs = os.path.join(tmp, "inputs.json")
        with open(inputs, "w") as f:
            json.dump({"schema": conformance.SCHEMA, "method": "forward",
                       "args": [{"name": "x", "dtype": "float32", "shape": [4, 6], "dims": ["batch", None],
                                 "data": {"random": {"dist": "normal", "seed": 3}}}],
                       "kwargs": {}, "dims": {"batch": {"min": 1, "max": 32}}}, f)
        out = os.path.join(tmp, "masks.pt2")
        conformance.run_ptexport("export", model, inputs, "-o", out)
        ep = torch.export.load(out)
        x = torch.tensor([[-1.0, 0.0, 1.0, 2.0, -0.6, 0.6]])
        low, high, attn = ep.module()(x)
        assert low[0, 0].item() == float("-inf") and low[0, 4].item() == float("-inf"), low
        assert high[0, 2].item() == float("inf"), high
        assert attn[0, 0].item() == 0.0 and not torch.isnan(attn).any(), attn
        summary = conformance.check_artifact(out, model, inputs, [{}, {"batch": 1}, {"batch": 32}])
        print(conformance.format_summary(summary))
    print("test_export_special_floats: ok")


if __name__ == "__main__":
    main()
