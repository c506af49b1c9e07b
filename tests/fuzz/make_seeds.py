"""Seeds for the fuzz targets made at run time from real files (scripts/fuzz.sh): a scripted
TorchScript model, a torch.save file, a torch.export .pt2 and .npy arrays, cut into the parts each
target reads (tests/fuzz/fuzz_common.h: parts separated by "\\n====\\n"), and the whole archives.
These are binary, so they are made here rather than committed; the committed seeds are text."""
from __future__ import annotations

import argparse
import io
import os
import zipfile

SEP = b"\n====\n"


def write(folder, name, data):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def entry(z, suffix):
    for n in z.namelist():
        if n.endswith(suffix):
            return z.read(n)
    return b""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    import numpy as np
    import torch

    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(4, 3)
            self.register_buffer("b", torch.arange(10.0)[2:5])
            self.sizes = [1, 2]

        def forward(self, x):
            if x.size(0) > 2:
                x = x * 2
            return self.fc(x) + self.b

    torch.manual_seed(0)
    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(M()), buf)
    ts = buf.getvalue()
    write(os.path.join(args.out, "torchscript_check"), "archive.bin", ts)
    with zipfile.ZipFile(io.BytesIO(ts)) as z:
        parts = [entry(z, "/data.pkl"), entry(z, "/code/__torch__.py"), entry(z, "/constants.pkl"),
                 entry(z, "/data/0"), entry(z, "/data/1")]
        write(os.path.join(args.out, "torchscript_check"), "parts.bin", SEP.join(parts))
        write(os.path.join(args.out, "unpickler"), "torchscript_data_pkl.bin", parts[0])

    buf = io.BytesIO()
    torch.save(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU()), buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        write(os.path.join(args.out, "unpickler"), "torch_save_data_pkl.bin", entry(z, "/data.pkl"))

    class E(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(4, 3)

        def forward(self, x):
            return self.fc(x).reshape(-1) + 1

    batch = torch.export.Dim("batch", min=1, max=64)
    ep = torch.export.export(E(), (torch.randn(2, 4),), dynamic_shapes={"x": {0: batch}})
    buf = io.BytesIO()
    torch.export.save(ep, buf)
    pt2 = buf.getvalue()
    write(os.path.join(args.out, "pt2_reader"), "archive.bin", pt2)
    with zipfile.ZipFile(io.BytesIO(pt2)) as z:
        weights = [n for n in z.namelist() if "/data/weights/" in n and not n.endswith(".json")]
        parts = [entry(z, "/models/model.json"), entry(z, "/data/weights/model_weights_config.json"),
                 z.read(weights[0]) if weights else b""]
        write(os.path.join(args.out, "pt2_reader"), "parts.bin", SEP.join(parts))

    for name, arr in (("f4.npy", np.arange(6, dtype="<f4").reshape(2, 3)),
                      ("fortran_i8.npy", np.asfortranarray(np.arange(6, dtype="<i8").reshape(2, 3))),
                      ("bool.npy", np.array([True, False]))):
        b = io.BytesIO()
        np.save(b, arr)
        write(os.path.join(args.out, "npy"), name, b.getvalue())
    print("seeds in", args.out)


if __name__ == "__main__":
    main()
