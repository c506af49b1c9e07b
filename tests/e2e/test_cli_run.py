"""`ptexport run` computes what the eager model computes: artifacts of the shared test models are run
on inputs at new sizes and compared with torch.jit.load(model) on the same inputs (the python
reading of inputs.json in conformance.py draws the same numbers as ptexport); inputs outside the
artifact's ranges, or a non-tensor input other than the exported one, are input errors (exit 3)."""
from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import conformance  # noqa: E402
from cli_common import MODELS, describe, one_json_document, run  # noqa: E402

TMP = tempfile.mkdtemp(prefix="ptx_cli_run_")


def tearDownModule():
    shutil.rmtree(TMP, ignore_errors=True)


def export(name):
    model = os.path.join(MODELS, name, "model.pt")
    inputs = os.path.join(MODELS, name, "inputs.json")
    assert os.path.exists(model), f"{model}: missing (tests/models/make_models.py makes it)"
    out = os.path.join(TMP, name + ".pt2")
    r = run("export", model, inputs, "-o", out, "--no-verify")
    assert r.returncode == 0, describe(r)
    return model, inputs, out


def resized(inputs, name, first_dim, **values):
    """A copy of `inputs` whose first tensor argument has first dimension `first_dim` and whose
    non-tensor arguments named in `values` are replaced."""
    with open(inputs) as f:
        doc = json.load(f)
    doc["args"][0]["shape"][0] = first_dim
    # Plain concrete inputs: the ranges that matter are the artifact's, not the export's spec.
    doc.pop("dims", None)
    for a in doc["args"]:
        a.pop("dims", None)
    for a in doc["args"]:
        if a.get("name") in values:
            a["value"] = values[a["name"]]
    path = os.path.join(TMP, f"{name}_{first_dim}.json")
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


class Run(unittest.TestCase):
    def check_against_eager(self, name, first_dim):
        import torch

        model, inputs, art = export(name)
        at_size = resized(inputs, name, first_dim)
        r = run("run", art, at_size, "--json", "--values")
        self.assertEqual(r.returncode, 0, describe(r))
        doc = one_json_document(r.stdout)
        args, kwargs = conformance.load_inputs(at_size)
        want = torch.jit.load(model)(*args, **kwargs)
        [out] = doc["outputs"]
        self.assertEqual(out["shape"], list(want.shape))
        torch.testing.assert_close(torch.tensor(out["values"], dtype=want.dtype), want, rtol=1e-5, atol=1e-5)
        self.assertEqual(out["dtype"], "float32")
        self.assertAlmostEqual(out["max"], want.max().item(), places=5)

    def test_mlp_at_a_new_batch(self):
        self.check_against_eager("mlp", 37)

    def test_keyword_and_scalar_arguments(self):
        self.check_against_eager("kwargs", 9)
        self.check_against_eager("scalars", 5)

    def test_outside_the_recorded_range_is_an_input_error(self):
        _, inputs, art = export("mlp")
        r = run("run", art, resized(inputs, "mlp", 2000))
        self.assertEqual(r.returncode, 3, describe(r))
        self.assertEqual(r.stdout, "")
        self.assertIn("2000", r.stderr)

    def test_a_different_non_tensor_input_is_an_input_error(self):
        _, inputs, art = export("scalars")
        r = run("run", art, resized(inputs, "scalars", 4, k=4))
        self.assertEqual(r.returncode, 3, describe(r))
        self.assertIn("input k: the artifact was exported with k = 3", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
