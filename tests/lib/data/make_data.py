#!/usr/bin/env python3
"""Makes the .npy / .npz files under tests/lib/data/ that tests/lib/npy_test.cpp and
tests/lib/inputs_test.cpp read. Run it from anywhere (with the environment's numpy):

    scripts/env.sh run python3 tests/lib/data/make_data.py

Every array's values follow a formula that the C++ tests recompute on their own:
  element i (row-major) of a numeric array is (i - 3) for signed ints, i for unsigned ints,
  (i - 3) * 0.5 for floats, and i % 3 == 0 for bool.
The exception are torch_*.npy: draws of python torch's seeded generators, which inputs.json's
`random` data must reproduce (docs/inputs.md).
"""
import os

import numpy as np
import torch

OUT = os.path.dirname(os.path.abspath(__file__))


def values(dtype, shape):
    n = int(np.prod(shape))
    i = np.arange(n)
    dt = np.dtype(dtype)
    if dt == np.bool_:
        v = i % 3 == 0
    elif dt.kind == "f":
        v = (i - 3) * 0.5
    elif dt.kind == "u":
        v = i
    else:
        v = i - 3
    return v.astype(dtype).reshape(shape)


def save(name, arr, **kw):
    np.save(os.path.join(OUT, name), arr, **kw)


def main():
    # One file per supported dtype, shape (2, 3).
    for name in ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]:
        save(f"{name}.npy", values(name, (2, 3)))
    save("scalar.npy", values("float32", ()))                  # rank 0
    save("empty.npy", values("float32", (0, 3)))               # no elements
    save("fortran.npy", np.asfortranarray(values("int32", (2, 3, 4))))  # Fortran order
    with open(os.path.join(OUT, "v2.npy"), "wb") as f:         # format version 2.0
        np.lib.format.write_array(f, values("float64", (3, 2)), version=(2, 0))
    # Refused.
    save("object.npy", np.array([1, "a", None], dtype=object), allow_pickle=True)
    save("bigendian.npy", values(">f4", (2, 3)))
    save("uint16.npy", values("uint16", (2, 3)))
    save("structured.npy", np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]))
    # Archives: stored and deflated, several arrays, and one with a single array.
    np.savez(os.path.join(OUT, "arrays.npz"), a=values("float32", (2, 3)), b=values("int64", (4,)))
    np.savez_compressed(os.path.join(OUT, "compressed.npz"), a=values("float32", (2, 3)), b=values("int64", (4,)))
    np.savez(os.path.join(OUT, "single.npz"), only=values("float32", (17, 32)))
    # For inputs_test: y (17, 32) float32 as in docs/inputs.md's example.
    save("y.npy", values("float32", (17, 32)))
    # Seeded draws of python torch, for inputs.json's random data.
    def gen(seed):
        return torch.Generator().manual_seed(seed)
    save("torch_normal_seed7.npy", torch.randn(64, 64, generator=gen(7)).numpy())
    save("torch_uniform_seed3.npy",
         torch.empty(1000, dtype=torch.float64).uniform_(-2, 3, generator=gen(3)).numpy())
    save("torch_randint_seed5.npy", torch.randint(-5, 5, (1000,), generator=gen(5)).numpy())


if __name__ == "__main__":
    main()
