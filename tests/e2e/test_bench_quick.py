"""The benchmark driver (bench/compare.py) works: a --quick run on the MLP with one round runs all
three tools (ptexport, ptexport --no-verify, python torch.export) and writes benchmarks.json with
every field the tables need and benchmarks.md; a tool's failure becomes a table entry. No timing
is asserted (wall clock is not tested), only that the figures exist and are plausible."""
from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_common import EXE, SOURCE  # noqa: E402

sys.path.insert(0, os.path.join(SOURCE, "bench"))
import compare  # noqa: E402

TMP = tempfile.mkdtemp(prefix="ptx_bench_")
# fc1 16->32, fc2 32->32, fc3 32->4 (tests/models/make_models.py MLP), float32
MLP_WEIGHT_BYTES = 4 * (16 * 32 + 32 + 32 * 32 + 32 + 32 * 4 + 4)
DOC = None
# The installed launcher of the install_launcher fixture (scripts/install.sh --no-build BUILD/launcher-prefix).
LAUNCHER = os.path.join(os.path.dirname(os.path.dirname(EXE)), "launcher-prefix", "bin", "ptexport")


def setUpModule():
    global DOC
    r = subprocess.run([sys.executable, os.path.join(SOURCE, "bench", "compare.py"), "--quick", "--models", "mlp",
                        "--repeat", "1", "--out", TMP, "--work", os.path.join(TMP, "work"), "--ptexport", EXE,
                        "--launcher", LAUNCHER],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert r.returncode == 0, f"exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    with open(os.path.join(TMP, "benchmarks.json")) as f:
        DOC = json.load(f)


def tearDownModule():
    shutil.rmtree(TMP, ignore_errors=True)


class Quick(unittest.TestCase):
    def test_header(self):
        self.assertEqual(DOC["schema"], "ptexport.bench/v1")
        self.assertEqual(DOC["repeat"], 1)
        self.assertEqual(DOC["warmup"], "none")
        self.assertEqual(DOC["command"], "scripts/bench.sh --quick --models mlp --repeat 1 --out " + TMP)
        env = DOC["environment"]
        for key in ("cpu", "cores", "load_before", "load_after", "torch", "torchvision", "versions"):
            self.assertIn(key, env)
        self.assertEqual(len(env["load_before"]), 3)
        self.assertEqual(env["versions"]["ptexport"], "0.1.0")
        self.assertEqual(DOC["baseline"], [])  # --quick skips the baseline processes

    def test_launcher_overhead_measured(self):
        d = DOC["launcher"]
        self.assertEqual(d["runs"], 15)
        self.assertGreater(d["binary_ms"], 1)
        self.assertGreater(d["launcher_ms"], 1)
        self.assertAlmostEqual(d["overhead_ms"], d["launcher_ms"] - d["binary_ms"])
        with open(os.path.join(TMP, "benchmarks.md")) as f:
            self.assertIn("Launcher overhead (issue 13): the installed `ptexport --version`", f.read())

    def test_all_three_tools_ran(self):
        [m] = DOC["models"]
        self.assertEqual(m["model"], "mlp")
        self.assertEqual(m["dynamic"], {"batch": [1, 1024]})
        for tool in ("ptexport", "no_verify", "torch"):
            s = m[tool]
            self.assertEqual((s["runs"], s["ok"]), (1, 1), f"{tool}: {s}")
            self.assertGreater(s["wall_s"], 0)
            self.assertGreater(s["peak_rss_mib"], 1)
            self.assertEqual(m["raw"][tool][0]["exit"], 0)
        self.assertEqual(set(m["ptexport"]["timings"]), set(compare.STAGES))
        self.assertEqual(set(m["no_verify"]["timings"]), set(compare.STAGES) - {"verify"})
        self.assertEqual(set(m["torch"]["timings"]), {"import torch", "load model", "load inputs", "export", "save"})
        # torch.export kept the range it was given
        self.assertIn("[1, 1024]", " ".join(m["raw"]["torch"][0]["range_constraints"].values()))

    def test_write_and_ratios(self):
        [m] = DOC["models"]
        w = m["write"]
        self.assertEqual(w["weights_bytes"], MLP_WEIGHT_BYTES)
        for key in ("write_artifact_s", "cp_s", "cp_sync_s"):
            self.assertGreater(w[key], 0)
        r = m["eval"]["ratios"]
        self.assertAlmostEqual(r["whole_process"], m["torch"]["wall_s"] / m["ptexport"]["wall_s"])
        self.assertAlmostEqual(r["analysis_s"], m["ptexport"]["timings"]["trace"] + m["ptexport"]["timings"]["solve"])
        self.assertAlmostEqual(r["analysis"], m["torch"]["timings"]["export"] / r["analysis_s"])
        self.assertEqual(set(m["eval"]["met"]), set(compare.TARGETS))
        for key in ("whole_process", "whole_process_no_verify", "analysis", "memory", "memory_no_verify"):
            self.assertIsInstance(m["eval"]["met"][key], bool)
        # issue 14's thresholds, recomputed from the raw figures
        self.assertEqual(m["eval"]["met"]["whole_process"], r["whole_process"] >= 4)
        self.assertEqual(m["eval"]["met"]["whole_process_no_verify"], m["torch"]["wall_s"] / m["no_verify"]["wall_s"] >= 10)
        self.assertEqual(m["eval"]["met"]["memory_no_verify"],
                         m["no_verify"]["peak_rss_mib"] <= w["weights_bytes"] / 2 ** 20 + 250)
        self.assertIsNone(m["eval"]["met"]["write"])  # under 1 MiB of weights: no verdict

    def test_markdown(self):
        with open(os.path.join(TMP, "benchmarks.md")) as f:
            md = f.read()
        self.assertEqual(md, compare.markdown(DOC) + "\n")
        self.assertIn("| mlp | batch [1, 1024] |", md)
        self.assertIn("## Targets", md)
        self.assertNotIn("fails (exit", md)

    def test_readme_block(self):
        path = os.path.join(TMP, "README.md")
        with open(path, "w") as f:
            f.write(f"# x\n\n{compare.README_BEGIN}\nold figures\n{compare.README_END}\n\n## next\n")
        self.assertTrue(compare.update_readme(DOC, path))
        with open(path) as f:
            text = f.read()
        self.assertNotIn("old figures", text)
        self.assertTrue(text.startswith(f"# x\n\n{compare.README_BEGIN}\nLast run: "))
        self.assertTrue(text.endswith(f"{compare.README_END}\n\n## next\n"))
        self.assertIn("| mlp | ", text)

    def test_timeout_kills_the_process(self):
        r = compare.run_process(["sh", "-c", "sleep 30"], TMP, timeout=0.5)
        self.assertEqual(r["exit"], "timeout")
        self.assertEqual(compare._cell({"runs": 1, "ok": 0, "exit": "timeout"}), "**timeout**")

    def test_failure_is_a_table_entry(self):
        doc = copy.deepcopy(DOC)
        m = doc["models"][0]
        m["ptexport"] = {"runs": 1, "ok": 0, "exit": 4, "error": "error: model.py:3: no shape rule"}
        m["eval"] = compare.evaluate(m)
        self.assertIsNone(m["eval"]["met"]["whole_process"])
        self.assertIsNone(m["eval"]["met"]["memory"])
        self.assertIsNotNone(m["eval"]["met"]["whole_process_no_verify"])  # the --no-verify run still counts
        md = compare.markdown(doc)
        self.assertIn("**fails (exit 4)**", md)
        self.assertIn("- mlp, ptexport: exit 4: `error: model.py:3: no shape rule`", md)


if __name__ == "__main__":
    unittest.main()
