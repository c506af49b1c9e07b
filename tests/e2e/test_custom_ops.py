"""Custom operators (issue 16): a C++ operator library built by the tests (tests/custom_ops/test_ops.cpp,
once with Meta kernels: namespace ptx_meta, once without: ptx_nometa), called from scripted and traced
models, exported with `--load-library` (and `--op-rules` for the library without Meta kernels), then
loaded by the real torch.export.load with torch.ops.load_library and compared with eager at the sample
and at the batch range's min, max and inside. The op stays one call to the custom op in the graph, and
export's own verification has run it through the dispatcher.

    python3 tests/e2e/test_custom_ops.py      (ctest: PTX_TEST_OPS_META / PTX_TEST_OPS_NOMETA name the libraries)
"""
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import conformance  # noqa: E402

import torch  # noqa: E402

META = os.environ.get("PTX_TEST_OPS_META", "")
NOMETA = os.environ.get("PTX_TEST_OPS_NOMETA", "")


class PadMeta(torch.nn.Module):
    def forward(self, x):
        return torch.ops.ptx_meta.pad_rows(x.relu(), 2) * 2 + 1


class PadNoMeta(torch.nn.Module):
    def forward(self, x):
        return torch.ops.ptx_nometa.pad_rows(x.relu(), 2) * 2 + 1


class HalveMeta(torch.nn.Module):
    def forward(self, x):
        return torch.ops.ptx_meta.halve_cols(x) + 1


class HalveNoMeta(torch.nn.Module):
    def forward(self, x):
        return torch.ops.ptx_nometa.halve_cols(x) + 1


RULES = {
    "schema": "ptexport.op_rules/v1",
    "ops": {
        "ptx_nometa::pad_rows": {"outputs": [{"dtype": "x", "sizes": ["x.shape[0] + n", "x.shape[1]"]}],
                                 "guards": ["n >= 0"]},
        "ptx_nometa::halve_cols.default": {"outputs": [{"sizes": ["x.size(0)", "(x.shape[-1] + 1)//2"]}]},
    },
}


def inputs_doc(dims, ranges, shape=(6, 8)):
    return {"schema": "ptexport.inputs/v1", "method": "forward",
            "args": [{"name": "x", "dtype": "float32", "shape": list(shape), "dims": dims,
                      "data": {"random": {"dist": "normal", "seed": 0}}}],
            "dims": {k: {"min": lo, "max": hi} for k, (lo, hi) in ranges.items()}}


@unittest.skipUnless(META and NOMETA, "PTX_TEST_OPS_META / PTX_TEST_OPS_NOMETA not set (run through ctest)")
class CustomOps(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        torch.ops.load_library(META)
        torch.ops.load_library(NOMETA)
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = cls.tmp.name
        with open(os.path.join(cls.dir, "rules.json"), "w") as f:
            json.dump(RULES, f)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def model(self, name, module, traced):
        x = torch.randn(6, 8)
        m = torch.jit.trace(module, (x,)) if traced else torch.jit.script(module)
        path = os.path.join(self.dir, name + ("_traced" if traced else "") + ".pt")
        m.save(path)
        return path

    def inputs(self, name, dims, ranges):
        path = os.path.join(self.dir, name + ".inputs.json")
        with open(path, "w") as f:
            json.dump(inputs_doc(dims, ranges), f)
        return path

    def export(self, model, inputs, *flags, code=0):
        out = model[:-3] + ".pt2"
        proc = conformance.run_ptexport("export", model, inputs, "-o", out, "--json", *flags, check=False)
        self.assertEqual(proc.returncode, code, proc.stderr[-3000:])
        return out, proc

    def check_in_torch(self, out, model, inputs, sizes, op):
        summary = conformance.check_artifact(out, model, inputs, sizes_list=sizes, atol=1e-5, rtol=1e-5)
        self.assertEqual(len(summary["runs"]), len(sizes))
        self.assertEqual(summary["op_histogram"].get(op), 1, summary["op_histogram"])
        return summary

    def test_meta_kernel_gives_the_shapes_scripted_and_traced(self):
        inputs = self.inputs("pad", ["batch", None], {"batch": (1, 32)})
        for traced in (False, True):
            with self.subTest(traced=traced):
                model = self.model("pad_meta", PadMeta(), traced)
                out, proc = self.export(model, inputs, "--load-library", META, "--dynamic", "batch=1:32")
                report = json.loads(proc.stdout)
                self.assertEqual(report["op_histogram"].get("ptx_meta::pad_rows.default"), 1)
                points = report["verification"]
                self.assertTrue(all(p["ok"] for p in points), points)
                self.check_in_torch(out, model, inputs, [{}, {"batch": 1}, {"batch": 32}, {"batch": 13}],
                                    "ptx_meta.pad_rows.default")

    def test_core_level_keeps_the_custom_op(self):
        inputs = self.inputs("pad_core", ["batch", None], {"batch": (1, 32)})
        model = self.model("pad_meta_core", PadMeta(), False)
        out, _ = self.export(model, inputs, "--load-library", META, "--dynamic", "batch=1:32", "--ir", "core")
        self.check_in_torch(out, model, inputs, [{}, {"batch": 32}], "ptx_meta.pad_rows.default")

    def test_non_affine_meta_sizes_specialize(self):
        # halve_cols' width (x1 + 1)//2 is not affine: a dynamic width is specialized (exit 5), a
        # dynamic batch alone exports.
        inputs = self.inputs("halve", ["batch", "w"], {"batch": (1, 32), "w": (2, 64)})
        model = self.model("halve_meta", HalveMeta(), False)
        _, proc = self.export(model, inputs, "--load-library", META, code=5)
        self.assertIn("w", proc.stderr)
        inputs_b = self.inputs("halve_b", ["batch", None], {"batch": (1, 32)})
        out, _ = self.export(model, inputs_b, "--load-library", META)
        self.check_in_torch(out, model, inputs_b, [{}, {"batch": 1}, {"batch": 32}], "ptx_meta.halve_cols.default")

    def test_run_and_verify_the_artifact_with_the_library(self):
        # The op allowlist (docs/security.md) lets a library's ops run once the user loaded it.
        inputs = self.inputs("pad_run", ["batch", None], {"batch": (1, 32)})
        model = self.model("pad_meta_run", PadMeta(), False)
        out, _ = self.export(model, inputs, "--load-library", META, "--dynamic", "batch=1:32")
        proc = conformance.run_ptexport("run", out, inputs, "--load-library", META, check=False)
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        proc = conformance.run_ptexport("verify", out, model, inputs, "--load-library", META, check=False)
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        proc = conformance.run_ptexport("run", out, inputs, check=False)  # not loaded: refused, says how
        self.assertEqual(proc.returncode, 4, proc.stderr[-2000:])
        self.assertIn("ptx_meta::pad_rows", proc.stderr)
        self.assertIn("--load-library", proc.stderr)

    def test_without_meta_kernel_or_rule_exit_4_names_both_ways(self):
        inputs = self.inputs("pad_nometa", ["batch", None], {"batch": (1, 32)})
        model = self.model("pad_nometa", PadNoMeta(), False)
        _, proc = self.export(model, inputs, "--load-library", NOMETA, code=4)
        self.assertIn("ptx_nometa::pad_rows", proc.stderr)
        self.assertIn("Meta", proc.stderr)
        self.assertIn("--op-rules", proc.stderr)

    def test_rule_file_gives_the_shapes_scripted_and_traced(self):
        rules = os.path.join(self.dir, "rules.json")
        inputs = self.inputs("pad_rules", ["batch", None], {"batch": (1, 32)})
        for traced in (False, True):
            with self.subTest(traced=traced):
                model = self.model("pad_nometa_rules", PadNoMeta(), traced)
                out, _ = self.export(model, inputs, "--load-library", NOMETA, "--op-rules", rules)
                self.check_in_torch(out, model, inputs, [{}, {"batch": 1}, {"batch": 32}, {"batch": 7}],
                                    "ptx_nometa.pad_rows.default")
        # A rule keeps a non-affine size dynamic.
        inputs = self.inputs("halve_rules", ["batch", "w"], {"batch": (1, 32), "w": (2, 64)})
        model = self.model("halve_nometa", HalveNoMeta(), False)
        out, _ = self.export(model, inputs, "--load-library", NOMETA, "--op-rules", rules)
        self.check_in_torch(out, model, inputs, [{}, {"batch": 1, "w": 2}, {"batch": 32, "w": 63}, {"w": 64}],
                            "ptx_nometa.halve_cols.default")

    def test_bad_rule_and_missing_library(self):
        model = self.model("pad_nometa_bad", PadNoMeta(), False)
        inputs = self.inputs("pad_bad", ["batch", None], {"batch": (1, 32)})
        bad = os.path.join(self.dir, "bad.json")
        with open(bad, "w") as f:
            json.dump({"schema": "ptexport.op_rules/v1", "ops": {"ptx_nometa::pad_rows": {
                "outputs": [{"sizes": ["x.shape[0] + 2*n", "x.shape[1]"]}]}}}, f)
        _, proc = self.export(model, inputs, "--load-library", NOMETA, "--op-rules", bad, code=3)
        self.assertIn("ptx_nometa::pad_rows", proc.stderr)
        _, proc = self.export(model, inputs, code=3)  # no --load-library: the model cannot load
        _, proc = self.export(model, inputs, "--load-library", os.path.join(self.dir, "nope.so"), code=3)
        self.assertIn("nope.so", proc.stderr)


if __name__ == "__main__":
    unittest.main()
