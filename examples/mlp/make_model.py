"""Makes examples/mlp/model.pt and inputs.json: a small MLP (16 -> 32 -> 32 -> 4, ReLU) saved with
torch.jit.script, whose batch dimension is dynamic.

Run from anywhere: python3 examples/mlp/make_model.py   (inside the build environment:
scripts/env.sh run python3 examples/mlp/make_model.py). Deterministic: the weights come from a
fixed seed, so rerunning it rewrites the same model.
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


class MLP(nn.Module):
    def __init__(self, d_in: int = 16, d_hidden: int = 32, d_out: int = 4):
        super().__init__()
        self.fc1 = nn.Linear(d_in, d_hidden)
        self.fc2 = nn.Linear(d_hidden, d_hidden)
        self.fc3 = nn.Linear(d_hidden, d_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


INPUTS = {
    "schema": "ptexport.inputs/v1",
    "method": "forward",
    "args": [
        {"name": "x", "dtype": "float32", "shape": [8, 16], "dims": ["batch", None],
         "data": {"random": {"dist": "normal", "seed": 0}}}
    ],
    "dims": {"batch": {"min": 1, "max": 1024}},
}


# the same document, laid out for reading (make_model.py checks that the two agree)
INPUTS_TEXT = """{
  "schema": "ptexport.inputs/v1",
  "method": "forward",
  "args": [
    {"name": "x", "dtype": "float32", "shape": [8, 16], "dims": ["batch", null],
     "data": {"random": {"dist": "normal", "seed": 0}}}
  ],
  "dims": {"batch": {"min": 1, "max": 1024}}
}
"""


def main():
    assert json.loads(INPUTS_TEXT) == INPUTS
    torch.manual_seed(0)
    model = torch.jit.script(MLP().eval())
    torch.jit.save(model, os.path.join(HERE, "model.pt"))
    with open(os.path.join(HERE, "inputs.json"), "w") as f:
        f.write(INPUTS_TEXT)
    x = torch.randn(8, 16)
    print("wrote model.pt and inputs.json; output shape for x [8, 16]:", tuple(model(x).shape))


if __name__ == "__main__":
    main()
