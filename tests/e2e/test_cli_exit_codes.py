"""Every exit code of docs/cli.md provoked by a real cause, through the built binary, each checked in
both output modes: the human one (results on stdout, `error: ...` on stderr) and --json (stdout is
one document whose status and exit_code agree with the process). 130 is in test_cli_terminal.py."""
from __future__ import annotations

import glob
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli_models  # noqa: E402
from cli_common import EXE, MODELS, clean_env, describe, one_json_document, run  # noqa: E402

TMP = tempfile.mkdtemp(prefix="ptx_cli_exit_")


def shared(name):
    d = os.path.join(MODELS, name)
    assert os.path.exists(os.path.join(d, "model.pt")), f"{d}: missing (tests/models/make_models.py makes it)"
    return os.path.join(d, "model.pt"), os.path.join(d, "inputs.json")


def own(name):
    d = cli_models.make(name, os.path.join(TMP, "models"))
    return os.path.join(d, "model.pt"), os.path.join(d, "inputs.json")


class ExitCodes(unittest.TestCase):
    def expect(self, code, args, *stderr_fragments, diag=None):
        """Runs `args` twice (plain and --json) and checks both against `code`; returns the document."""
        r = run(*args)
        self.assertEqual(r.returncode, code, describe(r))
        if code != 0:
            self.assertRegex(r.stderr, r"(^|\n)(error|internal error): ", describe(r))
        for fragment in stderr_fragments:
            self.assertIn(fragment, r.stderr, describe(r))
        j = run(*args, "--json")
        self.assertEqual(j.returncode, code, describe(j))
        doc = one_json_document(j.stdout)
        self.assertEqual(doc["exit_code"], code)
        self.assertEqual(doc["status"], "ok" if code == 0 else "error")
        if code != 0:
            codes = [d["code"] for d in doc["diagnostics"]]
            self.assertTrue(codes, doc)
            if diag:
                self.assertIn(diag, codes)
        return doc

    def test_0_success(self):
        model, inputs = shared("mlp_traced")
        out = os.path.join(TMP, "mlp.pt2")
        doc = self.expect(0, ["export", model, inputs, "-o", out])
        self.assertTrue(os.path.exists(out))
        self.assertEqual(doc["schema"], "ptexport.report/v1")
        self.assertEqual(doc["artifact"], out)

    def test_1_out_of_memory(self):
        # Running an artifact whose output is 16x its input, with the address space limited to what
        # a small run needs plus 100 MiB: the 150 MiB output cannot be allocated.
        model, inputs = own("outer")
        art = os.path.join(TMP, "outer.pt2")
        r = run("export", model, inputs, "-o", art, "--no-verify")
        self.assertEqual(r.returncode, 0, describe(r))
        big = os.path.join(os.path.dirname(inputs), "big.json")

        def limited(mib, json_file, *extra):
            def pre():
                resource.setrlimit(resource.RLIMIT_AS, (mib << 20, mib << 20))
            return subprocess.run([EXE, "run", art, json_file, *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env=clean_env(), preexec_fn=pre)

        mib = 256
        while limited(mib, inputs).returncode != 0:  # the smallest limit (in 64 MiB steps) a small run needs
            mib += 64
            self.assertLess(mib, 16384, "ptexport run does not work under any address space limit")
        r = limited(mib + 100, big)
        self.assertEqual(r.returncode, 1, describe(r))
        self.assertIn("internal error: out of memory", r.stderr)
        self.assertIn("please report this", r.stderr)
        j = limited(mib + 100, big, "--json")
        self.assertEqual(j.returncode, 1, describe(j))
        doc = one_json_document(j.stdout)
        self.assertEqual((doc["status"], doc["exit_code"]), ("error", 1))
        self.assertEqual(doc["diagnostics"][-1]["code"], "E_OUT_OF_MEMORY")

    def test_2_usage(self):
        model, inputs = shared("mlp_traced")
        # Through the inputs layer: a symbol no input uses, with a did-you-mean.
        self.expect(2, ["check", model, inputs, "--dynamic", "bacth=1:64"], "did you mean 'batch'?")
        # Bad spec syntax.
        self.expect(2, ["check", model, inputs, "--dynamic", "batch=1:x"])
        # The parser itself.
        self.expect(2, ["check", model, inputs, "--dynamc", "batch=1:64"], diag="E_USAGE")

    def test_3_input(self):
        model, inputs = shared("mlp_traced")
        not_a_model = os.path.join(TMP, "not_a_model.pt")
        with open(not_a_model, "w") as f:
            f.write("this is not a TorchScript archive\n")
        self.expect(3, ["check", not_a_model, inputs], not_a_model)
        broken = os.path.join(TMP, "broken.json")
        with open(broken, "w") as f:
            f.write('{"schema": "ptexport.inputs/v1", "args": [')
        self.expect(3, ["check", model, broken], broken)
        self.expect(3, ["inspect", not_a_model], not_a_model)

    def test_4_export_failed(self):
        model, inputs = own("datadep")
        self.expect(4, ["export", model, inputs, "-o", os.path.join(TMP, "datadep.pt2")], "data-dependent")
        self.assertFalse(os.path.exists(os.path.join(TMP, "datadep.pt2")))

    def test_5_constraint_violation(self):
        # view(-1, 4) of [batch, 6] needs an even batch; batch = 1..1024 does not hold.
        model, inputs = shared("view_divisible_traced")
        report = os.path.join(TMP, "violation.json")
        doc = self.expect(5, ["check", model, inputs, "--dynamic", "x.0=batch", "--dynamic", "batch=1:1024",
                              "--report", report], "Constraints violated (batch)!", diag="E_CONSTRAINT_VIOLATION")
        self.assertIn("constraints", doc)  # the partial report survives the failure
        with open(report) as f:
            saved = one_json_document(f.read())
        self.assertEqual((saved["status"], saved["exit_code"]), ("error", 5))

    def test_6_verification_mismatch(self):
        model, inputs = own("rand")
        out = os.path.join(TMP, "rand.pt2")
        self.expect(6, ["export", model, inputs, "-o", out], "differs from the eager model", diag="E_VERIFY_MISMATCH")
        self.assertFalse(os.path.exists(out))
        # The archive is written and verified under a temporary name: an artifact already at the
        # destination stays as it was, and no temporary is left behind.
        with open(out, "w") as f:
            f.write("the previous artifact")
        self.expect(6, ["export", model, inputs, "-o", out], f"{out} was not written", diag="E_VERIFY_MISMATCH")
        with open(out) as f:
            self.assertEqual(f.read(), "the previous artifact")
        self.assertEqual(glob.glob(os.path.join(TMP, "*ptx-tmp*")), [])
        os.remove(out)
        # The same program written without verification, then compared by `ptexport verify`.
        r = run("export", model, inputs, "-o", out, "--no-verify", conformance=False)  # differs from eager on purpose
        self.assertEqual(r.returncode, 0, describe(r))
        doc = self.expect(6, ["verify", out, model, inputs], "differs from the eager model", diag="E_VERIFY_MISMATCH")
        self.assertIn("sample: MISMATCH", run("verify", out, model, inputs).stdout)
        self.assertFalse(any(case["ok"] for case in doc["verification"]))

    def test_7_solver_inconclusive(self):
        model, inputs = own("parity")
        self.expect(7, ["check", model, inputs, "--solver-timeout", "0.001"], "could not decide")

    def test_8_output(self):
        model, inputs = shared("mlp_traced")
        blocker = os.path.join(TMP, "a_file")
        with open(blocker, "w") as f:
            f.write("x")
        self.expect(8, ["export", model, inputs, "--no-verify", "-o", os.path.join(blocker, "out.pt2")], blocker)
        self.assertEqual(glob.glob(os.path.join(TMP, "*ptx-tmp*")), [])
        # The artifact is written, the report cannot be: exit 8, and the artifact stays.
        out = os.path.join(TMP, "mlp8.pt2")
        self.expect(8, ["export", model, inputs, "--no-verify", "-o", out, "--report",
                        os.path.join(TMP, "no_such_dir", "report.json")], "--report")
        self.assertTrue(os.path.exists(out))


def tearDownModule():
    shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
