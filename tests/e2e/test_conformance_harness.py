"""Tests of the conformance harness (conformance.py) itself, independent of ptexport.

The harness must accept a correct artifact and reject wrong ones. The correct artifacts here are
written by python's torch.export.export + torch.export.save from the same eager modules that
tests/models/make_models.py scripted into PTX_MODELS_DIR (torch.export refuses TorchScript), so the
comparison is the one the real tests make: .pt2 through torch.export.load against the TorchScript
archive through torch.jit.load, on inputs from inputs.json at every size of meta.json.
Run by ctest (env PTX_MODELS_DIR) or by hand after `python3 tests/models/make_models.py`.
"""
import atexit
import json
import os
import shutil
import sys
import tempfile
import unittest
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "models"))

import torch  # noqa: E402

import conformance  # noqa: E402
import make_models  # noqa: E402

MODELS = os.environ.get("PTX_MODELS_DIR", os.path.join(HERE, "..", "models", "out"))
TMP = tempfile.mkdtemp(prefix="ptx_harness_")
atexit.register(shutil.rmtree, TMP, True)


def model_files(name):
    d = os.path.join(MODELS, name)
    with open(os.path.join(d, "meta.json")) as f:
        meta = json.load(f)
    return os.path.join(d, "model.pt"), os.path.join(d, "inputs.json"), meta


def torch_artifact(base, name=None, module=None, static=False):
    """Exports make_models' python module `base` with torch.export and saves it; returns the path."""
    _, inputs, _ = model_files(base)
    module = module or make_models.build_eager(base)
    if static:
        args, kwargs = conformance.load_inputs(inputs)
        ep = torch.export.export(module, tuple(args), kwargs)
    else:
        ep = conformance.export_with_torch(module, inputs)
    path = os.path.join(TMP, (name or base) + ".pt2")
    torch.export.save(ep, path)
    return path


class LoadInputs(unittest.TestCase):
    def write(self, doc, name="inputs.json"):
        path = os.path.join(TMP, name)
        with open(path, "w") as f:
            json.dump({"schema": "ptexport.inputs/v1", **doc}, f)
        return path

    def test_sizes_rederive_symbols_and_derived_dims(self):
        path = self.write({"args": [
            {"name": "x", "dtype": "float32", "shape": [8, 64], "dims": ["batch", None]},
            {"name": "y", "dtype": "float32", "shape": [17, 32], "dims": ["2*batch+1", None]},
            {"name": "z", "dtype": "float32", "shape": [7, 3], "dims": ["batch-1", "n"]}],
            "dims": {"batch": {"min": 2, "max": 1024}}})
        (x, y, z), kw = conformance.load_inputs(path)
        self.assertEqual((list(x.shape), list(y.shape), list(z.shape)), ([8, 64], [17, 32], [7, 3]))
        (x, y, z), kw = conformance.load_inputs(path, {"batch": 5})
        self.assertEqual((list(x.shape), list(y.shape), list(z.shape)), ([5, 64], [11, 32], [4, 3]))
        self.assertEqual(kw, {})
        with self.assertRaisesRegex(ValueError, "symbol 'bach'"):
            conformance.load_inputs(path, {"bach": 5})

    def test_data_kinds_are_deterministic(self):
        import numpy as np
        np.save(os.path.join(TMP, "w.npy"), np.arange(6, dtype=np.float32).reshape(2, 3))
        np.savez(os.path.join(TMP, "v.npz"), a=np.ones((2,), np.int64), b=np.zeros((3,), np.int64))
        path = self.write({"args": [
            {"name": "n", "dtype": "float32", "shape": [4, 4], "data": {"random": {"dist": "normal", "seed": 3}}},
            {"name": "u", "dtype": "float64", "shape": [100], "data": {"random": {"dist": "uniform", "low": 2, "high": 3, "seed": 1}}},
            {"name": "i", "dtype": "int64", "shape": [100], "data": {"random": {"dist": "int", "low": -2, "high": 2}}},
            {"name": "f", "dtype": "bool", "shape": [2], "data": {"fill": True}},
            {"name": "v", "dtype": "int32", "shape": [2, 2], "data": {"value": [[1, 2], [3, 4]]}},
            {"name": "w", "dtype": "float32", "shape": [2, 3], "data": {"npy": "w.npy"}},
            {"name": "b", "dtype": "int64", "shape": [3], "data": {"npy": "v.npz", "key": "b"}},
            {"name": "k", "value": 3},
            {"name": "ys", "value": [{"dtype": "float32", "shape": [5], "dims": ["m"]}, {"dtype": "float32", "shape": [5], "dims": ["m"]}]},
            {"name": "t", "value": [1, 2.5]},
            {"name": "d", "value": {"a": {"dtype": "float16", "shape": [1]}, "s": "text"}}],
            "kwargs": {"scale": {"value": 0.5}}})
        a1, k1 = conformance.load_inputs(path, tuples={"t"})
        a2, _ = conformance.load_inputs(path)
        n, u, i, f, v, w, b, k, ys, t, d = a1
        # ptexport's draws (docs/inputs.md): float32 normal_ from a generator seeded with `seed`
        torch.testing.assert_close(n, torch.empty(4, 4).normal_(generator=torch.Generator().manual_seed(3)), rtol=0, atol=0)
        torch.testing.assert_close(n, a2[0])
        self.assertTrue(bool(((u >= 2) & (u < 3)).all()) and u.dtype == torch.float64)
        self.assertTrue(bool(((i >= -2) & (i < 2)).all()) and len(set(i.tolist())) == 4)
        self.assertEqual(f.tolist(), [True, True])
        self.assertEqual((v.dtype, v.tolist()), (torch.int32, [[1, 2], [3, 4]]))
        self.assertEqual(w.tolist(), [[0, 1, 2], [3, 4, 5]])
        self.assertEqual(b.tolist(), [0, 0, 0])
        self.assertEqual(k, 3)
        self.assertEqual([list(y.shape) for y in ys], [[5], [5]])
        self.assertEqual((t, a2[9]), ((1, 2.5), [1, 2.5]))
        self.assertEqual((d["a"].dtype, d["s"]), (torch.float16, "text"))
        # default seeds are the tensors' positions: ys[0] is the 8th tensor (seed 7), ys[1] seed 8
        torch.testing.assert_close(ys[1], torch.empty(5).normal_(generator=torch.Generator().manual_seed(8)), rtol=0, atol=0)
        self.assertFalse(torch.equal(ys[0], ys[1]))
        self.assertEqual(k1, {"scale": 0.5})
        # a fixed-data tensor whose size changes is drawn instead
        (x,), _ = conformance.load_inputs(self.write({"args": [
            {"name": "x", "dtype": "float32", "shape": [2, 3], "dims": ["n", None], "data": {"npy": "w.npy"}}]}, "fx.json"),
            {"n": 4})
        self.assertEqual(list(x.shape), [4, 3])

    def test_malformed(self):
        with self.assertRaisesRegex(ValueError, "schema"):
            bad = os.path.join(TMP, "bad.json")
            with open(bad, "w") as f:
                json.dump({"schema": "other", "args": []}, f)
            conformance.load_inputs(bad)
        with self.assertRaisesRegex(ValueError, "derived dim"):
            conformance.load_inputs(self.write({"args": [
                {"name": "x", "dtype": "float32", "shape": [2], "dims": ["batch*2"]}]}, "bad2.json"))
        with self.assertRaisesRegex(ValueError, "unknown dtype"):
            conformance.load_inputs(self.write({"args": [
                {"name": "x", "dtype": "float33", "shape": [2]}]}, "bad3.json"))


class CheckArtifact(unittest.TestCase):
    def check(self, base, **kw):
        model, inputs, meta = model_files(base)
        pt2 = torch_artifact(base)
        s = conformance.check_artifact(pt2, model, inputs, [{}] + meta["sizes"], atol=meta["atol"], **kw)
        print(conformance.format_summary(s))
        self.assertEqual(len(s["runs"]), 1 + len(meta["sizes"]))
        return s

    def test_mlp_conforms_and_rejects_out_of_range(self):
        s = self.check("mlp")
        self.assertEqual(s["range_constraints"], {s["symbol_map"]["batch"]: [1, 1024]})
        self.assertEqual(s["out_of_range"]["sizes"], {"batch": 1025})
        self.assertIn("AssertionError: Guard failed", s["out_of_range"]["raised"])

    def test_mlp_traced_conforms(self):
        model, inputs, meta = model_files("mlp_traced")
        s = conformance.check_artifact(torch_artifact("mlp"), model, inputs, meta["sizes"])
        self.assertEqual(len(s["runs"]), len(meta["sizes"]))

    def test_derived_dim(self):
        s = self.check("view_divisible")
        self.assertEqual(s["out_of_range"]["sizes"], {"half": 513})

    def test_containers_inplace_buffers_scalars_kwargs(self):
        for base in ("containers", "inplace", "buffer_mutation", "scalars", "kwargs"):
            with self.subTest(base=base):
                self.check(base)

    def test_two_symbols_bool_mask_scripted_and_traced(self):
        s = self.check("transformer_encoder_padmask")
        self.assertEqual(set(s["symbol_map"]), {"batch", "seq"})
        model, inputs, meta = model_files("transformer_encoder_padmask_traced")
        pt2 = torch_artifact("transformer_encoder_padmask")
        conformance.check_artifact(pt2, model, inputs, meta["sizes"], atol=meta["atol"], check_out_of_range=False)

    def test_wrong_weights_are_caught(self):
        model, inputs, meta = model_files("mlp")
        other = make_models.build_eager("mlp")
        with torch.no_grad():
            other.fc3.bias.add_(1e-2)
        pt2 = torch_artifact("mlp", "mlp_wrong", module=other)
        with self.assertRaisesRegex(AssertionError, r"out\[0\] differs from eager|out differs"):
            conformance.check_artifact(pt2, model, inputs, meta["sizes"])

    def test_static_artifact_fails_at_other_sizes(self):
        model, inputs, meta = model_files("mlp")
        pt2 = torch_artifact("mlp", "mlp_static", static=True)
        conformance.check_artifact(pt2, model, inputs, [{}], check_out_of_range=False)
        with self.assertRaisesRegex(AssertionError, r"at sizes \{'batch': 1\}: the exported program failed: "
                                                    r"AssertionError: Guard failed: x.size\(\)\[0\] == 8"):
            conformance.check_artifact(pt2, model, inputs, [{"batch": 1}])

    def test_unbounded_range_is_not_rejected_but_reported(self):
        # rewrite the artifact's range to [0, int_oo] (null max): nothing to reject, the summary says so
        model, inputs, _ = model_files("mlp")
        src = torch_artifact("mlp", "mlp_src")
        dst = os.path.join(TMP, "mlp_open.pt2")
        with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
            for item in zin.infolist():
                data = zin.read(item.filename)
                if item.filename.endswith("models/model.json"):
                    j = json.loads(data)
                    for r in j["range_constraints"].values():
                        r["max_val"] = None
                    data = json.dumps(j).encode()
                zout.writestr(item.filename.replace("mlp_src/", "mlp_open/", 1), data)
        s = conformance.check_artifact(dst, model, inputs, [{"batch": 3000}])
        self.assertIsNone(s["out_of_range"])
        self.assertIn("finite max", s["out_of_range_skipped"])

    def test_structure_mismatch_is_caught(self):
        with self.assertRaisesRegex(AssertionError, "output structure differs"):
            conformance._compare((torch.ones(1),), [torch.ones(1)], 1e-4, 1e-4, "x")
        with self.assertRaisesRegex(AssertionError, r"out\[0\] is float32\[2\] in the artifact, float32\[1\]"):
            conformance._compare((torch.ones(2),), (torch.ones(1),), 1e-4, 1e-4, "x")

    def test_shipped_example_conforms(self):
        # examples/mlp: the files the README's first command uses. The reference artifact is
        # torch.export of the example's python MLP carrying the weights of the shipped model.pt.
        import importlib.util
        ex = os.path.join(HERE, "..", "..", "examples", "mlp")
        spec = importlib.util.spec_from_file_location("example_mlp", os.path.join(ex, "make_model.py"))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        model, inputs = os.path.join(ex, "model.pt"), os.path.join(ex, "inputs.json")
        with open(inputs) as f:
            self.assertEqual(json.load(f), mod.INPUTS)
        eager = mod.MLP().eval()
        eager.load_state_dict(torch.jit.load(model).state_dict())
        pt2 = os.path.join(TMP, "example_mlp.pt2")
        torch.export.save(conformance.export_with_torch(eager, inputs), pt2)
        s = conformance.check_artifact(pt2, model, inputs, [{"batch": 1}, {"batch": 1024}, {"batch": 37}])
        self.assertEqual(s["out_of_range"]["sizes"], {"batch": 1025})
        self.assertLess(os.path.getsize(model), 64 * 1024)

    def test_cli(self):
        import subprocess
        model, inputs, _ = model_files("mlp")
        pt2 = torch_artifact("mlp", "mlp_cli")
        p = subprocess.run([sys.executable, os.path.join(HERE, "conformance.py"), pt2, model, inputs],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("out of range {'batch': 1025} rejected", p.stdout)
        self.assertEqual(p.stdout.count("  ok  sizes"), 4)  # sample + meta.json's three


if __name__ == "__main__":
    unittest.main(verbosity=2)
