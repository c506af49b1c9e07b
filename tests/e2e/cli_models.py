"""Small models the CLI tests make for themselves, each for one real cause of an exit code, next to
the shared test models of tests/models/make_models.py ($PTX_MODELS_DIR).

make(name, folder) writes folder/name/{model.pt, inputs.json} (and returns the folder) for:
  datadep  forward decides on a count read from data (`if int((x > 0).sum()) > 3:`) and its branch
           updates a tensor made before the if in place, which no torch.cond branch may do: export
           fails naming the line, exit 4 (an `if` on data whose branches can be subgraphs exports as
           torch.cond, a data loop as while_loop: tests/e2e/test_data_dependent.py)
  rand     forward adds torch.rand_like(x): the program cannot match eager, exit 6
  parity   x: [a, a+1] reshaped to [-1, 2], a in [1, 10^7]: the guard a*(a+1) % 2 == 0 holds but is
           nonlinear, and its range is too large to enumerate (docs/solver.md); Z3
           cannot decide it within a small budget, exit 7 (and with the default budget it keeps
           the solve stage busy for seconds: the live progress line)
  outer    x: [n, 16] -> x[:, :, None] * x[:, None, :]: its output is 16x its input (running it at
           a large n under a memory limit is out of memory, exit 1); inputs big.json has n = 150000
  wide     one Linear(4096, 4096) (64 MiB of weights): writing its artifact takes long enough to be
           interrupted mid-write (exit 130)
"""
from __future__ import annotations

import json
import os


def _inputs(path, name, shape, dims, ranges):
    doc = {"schema": "ptexport.inputs/v1",
           "args": [{"name": name, "dtype": "float32", "shape": shape, "dims": dims,
                     "data": {"random": {"dist": "normal", "seed": 0}}}]}
    if ranges:
        doc["dims"] = {k: {"min": lo, "max": hi} for k, (lo, hi) in ranges.items()}
    with open(path, "w") as f:
        json.dump(doc, f)


def make(name: str, folder: str) -> str:
    import torch  # only when a model is made: importing torch takes seconds

    d = os.path.join(folder, name)
    if os.path.exists(os.path.join(d, "inputs.json")):
        return d
    os.makedirs(d, exist_ok=True)
    torch.manual_seed(0)
    if name == "datadep":
        class DataDep(torch.nn.Module):
            def forward(self, x):
                y = x.clone()
                if int((x > 0).sum()) > 3:
                    y.add_(1)
                return y
        torch.jit.script(DataDep()).save(os.path.join(d, "model.pt"))
        _inputs(os.path.join(d, "inputs.json"), "x", [4, 3], [None, None], None)
    elif name == "rand":
        class Rand(torch.nn.Module):
            def forward(self, x):
                return x + torch.rand_like(x)
        torch.jit.script(Rand()).save(os.path.join(d, "model.pt"))
        _inputs(os.path.join(d, "inputs.json"), "x", [4, 3], ["batch", None], {"batch": (1, 64)})
    elif name == "parity":
        class Parity(torch.nn.Module):
            def forward(self, x):
                return x.reshape(-1, 2).sum(1)
        torch.jit.script(Parity()).save(os.path.join(d, "model.pt"))
        _inputs(os.path.join(d, "inputs.json"), "x", [6, 7], ["a", "a+1"], {"a": (1, 10000000)})
    elif name == "outer":
        class Outer(torch.nn.Module):
            def forward(self, x):
                return x.unsqueeze(2) * x.unsqueeze(1)
        torch.jit.script(Outer()).save(os.path.join(d, "model.pt"))
        _inputs(os.path.join(d, "inputs.json"), "x", [8, 16], ["n", None], {"n": (1, 1000000)})
        _inputs(os.path.join(d, "big.json"), "x", [150000, 16], ["n", None], {"n": (1, 1000000)})
    elif name == "nested_view":
        # The view that needs x.size(0) % 4 == 0 is in a submodule, one call below forward.
        class Block(torch.nn.Module):
            def forward(self, x):
                return x.view(-1, 4)

        class Nested(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.block = Block()

            def forward(self, x):
                y = self.block(x)
                return y * 2

        torch.jit.script(Nested()).save(os.path.join(d, "model.pt"))
        _inputs(os.path.join(d, "inputs.json"), "x", [8], ["dynamic"], None)
    elif name == "wide":
        m = torch.nn.Linear(4096, 4096)
        torch.jit.trace(m, torch.randn(2, 4096)).save(os.path.join(d, "model.pt"))
        _inputs(os.path.join(d, "inputs.json"), "input", [2, 4096], ["batch", None], {"batch": (1, 64)})
    else:
        raise ValueError(name)
    return d
