"""ptexport at a terminal and under Ctrl-C: a run under a pseudo-terminal shows the live progress
line (spinner and elapsed time, redrawn in place), without escapes when NO_COLOR is set, and not at
all with TERM=dumb; SIGINT exits 130 leaving no partial artifact and no temporary file, keeps an
existing artifact intact, and under --json still prints one document."""
from __future__ import annotations

import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli_models  # noqa: E402
from cli_common import ESC, EXE, clean_env, describe, one_json_document, run_in_pty, check_written_artifact  # noqa: E402

TMP = tempfile.mkdtemp(prefix="ptx_cli_term_")
SPINNER = re.compile(r"[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] \[4/4\] solve \d+\.\d\ds")


def plain(text):
    """`text` without SGR color sequences (the live line's erase sequence stays)."""
    return re.sub(ESC + r"\[[0-9;]*m", "", text)


def own(name):
    d = cli_models.make(name, os.path.join(TMP, "models"))
    return os.path.join(d, "model.pt"), os.path.join(d, "inputs.json")


def tearDownModule():
    shutil.rmtree(TMP, ignore_errors=True)


class LiveProgress(unittest.TestCase):
    # `parity` keeps Z3 busy for its whole budget (seconds) and ends inconclusive (exit 7).
    def test_live_line_on_a_terminal(self):
        model, inputs = own("parity")
        code, out = run_in_pty(["check", model, inputs], env=clean_env(TERM="xterm-256color", LANG="C.UTF-8"))
        self.assertEqual(code, 7, out)
        self.assertRegex(plain(out), SPINNER)      # the live line, with a spinner and the elapsed time
        self.assertIn("\r" + ESC + "[2K", out)      # redrawn in place
        self.assertIn(ESC + "[2m[4/4]" + ESC + "[0m solve (inconclusive)", out)  # then the stage's own line
        frames = SPINNER.findall(plain(out))
        self.assertGreater(len(frames), 1, out)     # redrawn while it runs

    def test_no_color_keeps_the_live_line_without_escapes(self):
        model, inputs = own("parity")
        code, out = run_in_pty(["check", model, inputs], env=clean_env(TERM="xterm-256color", NO_COLOR="1", LANG="C.UTF-8"))
        self.assertEqual(code, 7, out)
        self.assertRegex(out, SPINNER)
        self.assertIn("\r", out)
        self.assertNotIn(ESC, out)

    def test_dumb_terminal_has_plain_lines_only(self):
        model, inputs = own("parity")
        code, out = run_in_pty(["check", model, inputs], env=clean_env(TERM="dumb", LANG="C.UTF-8"))
        self.assertEqual(code, 7, out)
        self.assertNotRegex(out, SPINNER)
        self.assertNotIn(ESC, out)
        self.assertRegex(out, r"\[4/4\] solve \(inconclusive\) \d+\.\d+s")

    def test_ctrl_c_on_a_terminal(self):
        model, inputs = own("parity")
        # A large budget (100 s worth of solver steps) keeps the solve stage busy until the ^C.
        code, out = run_in_pty(["check", model, inputs, "--solver-timeout", "100"],
                               env=clean_env(TERM="xterm-256color", LANG="C.UTF-8"),
                               interrupt_when=lambda text: SPINNER.search(plain(text)) is not None)
        self.assertEqual(code, 130, out)
        self.assertIn("\nerror: interrupted", out)


class Interrupt(unittest.TestCase):
    def test_sigint_while_writing_leaves_no_partial_artifact(self):
        model, inputs = own("wide")
        out_dir = os.path.join(TMP, "out")
        os.makedirs(out_dir, exist_ok=True)
        out = os.path.join(out_dir, "wide.pt2")
        good = b"an artifact from an earlier run\n"
        for attempt in range(3):  # the temporary must be seen before the writer renames it
            with open(out, "wb") as f:
                f.write(good)
            p = subprocess.Popen([EXE, "export", model, inputs, "-o", out, "--no-verify", "--json"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env())
            seen = None
            while p.poll() is None:
                tmp = glob.glob(os.path.join(out_dir, "*ptx-tmp*"))
                if tmp:
                    seen = tmp
                    p.send_signal(signal.SIGINT)
                    break
                time.sleep(0.001)
            stdout, stderr = p.communicate()
            if seen:
                break
        self.assertTrue(seen, "the artifact's temporary file never appeared while ptexport ran")
        self.assertEqual(p.returncode, 130, f"{stdout}\n{stderr}")
        self.assertIn("error: interrupted", stderr)
        self.assertEqual(os.listdir(out_dir), ["wide.pt2"])  # no temporary left behind
        with open(out, "rb") as f:
            self.assertEqual(f.read(), good)                 # the earlier artifact is untouched
        doc = one_json_document(stdout)
        self.assertEqual((doc["status"], doc["exit_code"], doc["command"]), ("interrupted", 130, "export"))

    def test_without_sigint_the_same_export_succeeds(self):
        model, inputs = own("wide")
        out = os.path.join(TMP, "wide_ok.pt2")
        p = subprocess.run([EXE, "export", model, inputs, "-o", out, "--no-verify"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, env=clean_env())
        self.assertEqual(p.returncode, 0, describe(p))
        self.assertGreater(os.path.getsize(out), 4096 * 4096 * 4)
        check_written_artifact(["export", model, inputs, "-o", out])  # torch.export.load runs it like eager


if __name__ == "__main__":
    unittest.main(verbosity=2)
