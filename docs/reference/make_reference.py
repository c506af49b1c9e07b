"""Regenerates the reference .pt2 JSON files in docs/reference/ with the environment's torch.

Run: scripts/env.sh run python3 docs/reference/make_reference.py
Writes, for each small module below, NAME.model.json (the archive's models/model.json, pretty-printed,
stack traces kept as torch wrote them) and NAME.print.txt (print(ep)); also NAME.entries.txt (the zip's
entry names). These files are what torch 2.14.1's torch.export.save writes; the serializer in
serialize/ mirrors them.
"""
import json
import os
import sys
import tempfile
import zipfile

import torch
from torch.export import Dim, export, save

HERE = os.path.dirname(os.path.abspath(__file__))


class MLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(4, 8)
        self.fc2 = torch.nn.Linear(8, 2)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


class ViewSym(torch.nn.Module):
    def forward(self, x):
        b = x.size(0)
        return x.view(b, -1, 2).sum(-1)


class Derived(torch.nn.Module):
    def forward(self, x, y):
        return torch.cat([x, x], 0)[1:] + y


def cases():
    torch.manual_seed(0)
    batch = Dim("batch", min=1, max=1024)
    yield "mlp_dynamic_batch", MLP(), (torch.randn(8, 4),), {"x": {0: batch}}
    # Dim without bounds: range [0, int_oo] (max written as null)
    yield "view_symbolic", ViewSym(), (torch.randn(8, 6),), {"x": {0: Dim("batch")}}
    d = Dim("d", min=2, max=100)
    yield "derived_dim", Derived(), (torch.randn(5, 3), torch.randn(9, 3)), {"x": {0: d}, "y": {0: 2 * d - 1}}


def main():
    with tempfile.TemporaryDirectory() as tmp:
        for name, mod, args, dyn in cases():
            ep = export(mod.eval(), args, dynamic_shapes=dyn)
            path = os.path.join(tmp, name + ".pt2")
            save(ep, path)
            with zipfile.ZipFile(path) as z:
                model = json.loads(z.read(f"{name}/models/model.json"))
                entries = [f"{i.filename}\t{i.file_size}\t{'stored' if i.compress_type == 0 else i.compress_type}"
                           for i in z.infolist()]
            with open(os.path.join(HERE, name + ".model.json"), "w") as f:
                json.dump(model, f, indent=1)
                f.write("\n")
            with open(os.path.join(HERE, name + ".print.txt"), "w") as f:
                f.write(str(ep))
            with open(os.path.join(HERE, name + ".entries.txt"), "w") as f:
                f.write("\n".join(entries) + "\n")
            print("wrote", name, file=sys.stderr)


if __name__ == "__main__":
    main()
