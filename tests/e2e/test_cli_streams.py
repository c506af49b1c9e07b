"""The streams contract for each command, on a real export of a small model: stdout holds results
only (under --json exactly one JSON document), stderr the progress lines (one per stage, numbered,
with elapsed time) and logs; no escape codes without a terminal; -q, --log-file, PTEXPORT_LOGS and
TORCH_LOGS, --color always."""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_common import ESC, MODELS, STAGE_LINE, clean_env, describe, one_json_document, run, stage_lines  # noqa: E402

TMP = tempfile.mkdtemp(prefix="ptx_cli_streams_")
MODEL = os.path.join(MODELS, "mlp_traced", "model.pt")
INPUTS = os.path.join(MODELS, "mlp_traced", "inputs.json")
ARTIFACT = os.path.join(TMP, "mlp.pt2")


def setUpModule():
    assert os.path.exists(MODEL), f"{MODEL}: missing (tests/models/make_models.py makes it)"
    r = run("export", MODEL, INPUTS, "-o", ARTIFACT)
    assert r.returncode == 0, describe(r)


def tearDownModule():
    shutil.rmtree(TMP, ignore_errors=True)


COMMANDS = {
    # command args, schema, stage names in order
    "export": (["export", MODEL, INPUTS, "-o", os.path.join(TMP, "again.pt2")], "ptexport.report/v1",
               ["load model", "load inputs", "trace", "solve", "write artifact", "verify"]),
    "export --no-verify": (["export", MODEL, INPUTS, "-o", os.path.join(TMP, "fast.pt2"), "--no-verify"],
                           "ptexport.report/v1", ["load model", "load inputs", "trace", "solve", "write artifact"]),
    "check": (["check", MODEL, INPUTS], "ptexport.report/v1", ["load model", "load inputs", "trace", "solve"]),
    "inspect": (["inspect", ARTIFACT], "ptexport.inspect/v1", ["read artifact"]),
    "run": (["run", ARTIFACT, INPUTS], "ptexport.run/v1", ["read artifact", "load inputs", "run"]),
    "verify": (["verify", ARTIFACT, MODEL, INPUTS], "ptexport.verify/v1",
               ["load model", "load inputs", "trace", "read artifact", "verify"]),
}


class Streams(unittest.TestCase):
    def check_progress(self, stderr, names):
        lines = stage_lines(stderr)
        self.assertEqual([m.group(3).split(" (")[0] for m in lines], names, stderr)
        self.assertEqual([int(m.group(1)) for m in lines], list(range(1, len(names) + 1)))
        self.assertTrue(all(int(m.group(2)) == len(names) for m in lines), stderr)

    def test_json_stdout_is_one_document_and_stderr_has_the_progress(self):
        for command, (args, schema, names) in COMMANDS.items():
            with self.subTest(command=command):
                r = run(*args, "--json")
                self.assertEqual(r.returncode, 0, describe(r))
                doc = one_json_document(r.stdout)
                self.assertEqual((doc["schema"], doc["status"], doc["exit_code"]), (schema, "ok", 0))
                self.assertEqual(doc["command"], command.split()[0])
                self.check_progress(r.stderr, names)
                self.assertNotIn(ESC, r.stdout + r.stderr)

    def test_plain_stdout_has_results_and_no_progress(self):
        expected = {"export": "wrote ", "export --no-verify": "wrote ", "check": "ok: ", "inspect": "Symbols:", "run": "output: float32[8, 4]",
                    "verify": "sample: ok"}
        for command, (args, _, names) in COMMANDS.items():
            with self.subTest(command=command):
                r = run(*args)
                self.assertEqual(r.returncode, 0, describe(r))
                self.assertIn(expected[command], r.stdout)
                self.assertFalse(any(STAGE_LINE.match(line) for line in r.stdout.splitlines()), r.stdout)
                self.check_progress(r.stderr, names)
                self.assertNotIn(ESC, r.stdout + r.stderr)

    def test_inspect_describes_the_artifact(self):
        doc = one_json_document(run("inspect", ARTIFACT, "--json").stdout)
        [sym] = doc["symbols"]
        self.assertEqual((sym["min"], sym["max"], sym["used_by"]), (1, 1024, ["x.0"]))
        # the linears and relus, and the runtime assert of the batch's lower bound 1 (which
        # torch.export.load's input check skips): sym_size, ge, _assert_scalar
        self.assertEqual(doc["op_histogram"], {"aten::linear.default": 3, "aten::relu.default": 2,
                                               "aten::sym_size.int": 1, "_operator.ge": 1,
                                               "aten::_assert_scalar.default": 1})
        self.assertEqual([i["name"] for i in doc["inputs"] if i["kind"] == "user_input"], ["x"])
        self.assertIn("ExportedProgram:", doc["graph"])
        self.assertNotIn("ExportedProgram:", run("inspect", ARTIFACT, "--no-graph").stdout)

    def test_quiet_has_no_progress(self):
        r = run("check", MODEL, INPUTS, "-q")
        self.assertEqual(r.returncode, 0, describe(r))
        self.assertEqual(r.stderr, "")
        self.assertIn("ok: ", r.stdout)

    def test_log_file_gets_debug_records_whatever_stderr_shows(self):
        log = os.path.join(TMP, "log.txt")
        r = run("check", MODEL, INPUTS, "-q", "--log-file", log)
        self.assertEqual(r.stderr, "")
        with open(log) as f:
            text = f.read()
        self.assertIn("[load] [info] load model done in", text)
        self.assertIn("[solver] [debug] [4/4] solve started", text)
        self.assertIn("[shapes] [debug] symbol s0 = batch (x.size()[0])", text)

    def test_ptexport_logs_and_torch_logs_dynamic(self):
        for var in ("PTEXPORT_LOGS", "TORCH_LOGS"):
            with self.subTest(var=var):
                r = run("check", MODEL, INPUTS, "--json", env=clean_env(**{var: "+dynamic"}))
                self.assertEqual(r.returncode, 0, describe(r))
                self.assertIn("debug[shapes]: symbol s0 = batch (x.size()[0]): sample 8, requested [1, 1024]", r.stderr)
                self.assertIn("info[solver]: batch: ok, proven [1, 1024]", r.stderr)
                self.assertNotIn("[trace]", r.stderr)  # only the stages asked for
                one_json_document(r.stdout)  # logs never reach stdout
        r = run("check", MODEL, INPUTS, "-vv")
        self.assertIn("info[trace]: trace done in", r.stderr)
        self.assertIn("debug[load]: [1/4] load model started", r.stderr)

    def test_color_always_colors_stderr_only(self):
        r = run("check", MODEL, INPUTS, "--color", "always")
        self.assertIn(ESC + "[2m[1/4]" + ESC + "[0m load model", r.stderr)
        self.assertNotIn(ESC, r.stdout)
        r = run("check", MODEL, INPUTS, env=clean_env(NO_COLOR="1"))
        self.assertNotIn(ESC, r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
