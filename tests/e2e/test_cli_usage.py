"""The command line without a model: --help and --version with no other argument, each command's
help, usage errors (exit 2) with did-you-mean, the JSON document of a failure, and the streams
contract (stdout only results, no escape codes without a terminal)."""
from __future__ import annotations

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_common import ESC, clean_env, describe, one_json_document, run  # noqa: E402

COMMANDS = ["export", "check", "inspect", "run", "verify"]
GLOBAL_FLAGS = ["--help", "--verbose", "--quiet", "--log-level", "--log-file", "--color", "--json"]
COMMAND_FLAGS = {
    "export": ["--output", "--dynamic", "--no-verify", "--atol", "--rtol", "--verify-elements", "--solver-timeout",
               "--report"],
    "check": ["--dynamic", "--solver-timeout", "--report"],
    "inspect": ["--no-graph"],
    "run": ["--values"],
    "verify": ["--dynamic", "--atol", "--rtol", "--verify-elements"],
}


class HelpAndVersion(unittest.TestCase):
    def test_help_alone(self):
        r = run("--help")
        self.assertEqual(r.returncode, 0, describe(r))
        self.assertEqual(r.stderr, "")
        for text in ["Usage: ptexport", "ptexport MODEL INPUTS", "Examples:", "Exit codes:", *COMMANDS, *GLOBAL_FLAGS,
                     "--version"]:
            self.assertIn(text, r.stdout)
        for code in [0, 1, 2, 3, 4, 5, 6, 7, 8, 130]:
            self.assertRegex(r.stdout, rf"\n  {code} +\S")
        self.assertEqual(run("-h").stdout, r.stdout)

    def test_command_help(self):
        for command in COMMANDS:
            with self.subTest(command=command):
                r = run(command, "--help")
                self.assertEqual(r.returncode, 0, describe(r))
                self.assertEqual(r.stderr, "")
                self.assertIn(f"Usage: ptexport {command} ", r.stdout)
                for flag in GLOBAL_FLAGS + COMMAND_FLAGS[command]:
                    self.assertIn(flag, r.stdout)
                examples = r.stdout.split("Examples:\n")[1].split("\n\n")[0].splitlines()
                commands = [line.strip() for line in examples if line.strip().startswith("ptexport ")]
                self.assertEqual(len(commands), 2, r.stdout)
                self.assertIn("Exit codes:\n  0    success", r.stdout)
                self.assertIn("130  interrupted", r.stdout)
                self.assertEqual(run("help", command).stdout, r.stdout)

    def test_version_alone(self):
        r = run("--version")
        self.assertEqual(r.returncode, 0, describe(r))
        self.assertEqual(r.stderr, "")
        lines = r.stdout.splitlines()
        self.assertRegex(lines[0], r"^ptexport \d+\.\d+\.\d+$")
        self.assertIn("LibTorch 2.14.1", lines)
        self.assertTrue(any(line.startswith("Z3 4.") for line in lines), lines)
        self.assertIn("pt2 schema 8.20", lines)

    def test_version_json(self):
        r = run("--version", "--json")
        self.assertEqual(r.returncode, 0, describe(r))
        doc = one_json_document(r.stdout)
        self.assertEqual(doc["status"], "ok")
        self.assertEqual(doc["exit_code"], 0)
        self.assertEqual(doc["libtorch"], "2.14.1")
        self.assertEqual(doc["pt2_schema"], "8.20")
        self.assertRegex(doc["z3"], r"^4\.\d+\.\d+$")
        self.assertEqual(doc["report_schema"], "ptexport.report/v1")


class UsageErrors(unittest.TestCase):
    def check_usage_error(self, args, *fragments, env=None):
        r = run(*args, env=env)
        self.assertEqual(r.returncode, 2, describe(r))
        self.assertEqual(r.stdout, "", describe(r))
        self.assertTrue(r.stderr.startswith("error: "), describe(r))
        for fragment in fragments:
            self.assertIn(fragment, r.stderr)
        return r

    def test_no_arguments(self):
        self.check_usage_error([], "no command given", "ptexport --help")

    def test_misspelled_flag(self):
        self.check_usage_error(["model.pt", "inputs.json", "--dynamc", "batch=0:1024"],
                               "unknown option '--dynamc' for export; did you mean '--dynamic'?",
                               "run `ptexport export --help`")
        self.check_usage_error(["inspect", "a.pt2", "--no-grahp"], "did you mean '--no-graph'?")

    def test_flag_of_another_command(self):
        self.check_usage_error(["check", "m.pt", "i.json", "--atol", "1e-3"],
                               "unknown option '--atol' for check (it is an option of export, verify)")

    def test_misspelled_option_value(self):
        self.check_usage_error(["m.pt", "i.json", "--color", "alwys"],
                               "'alwys' is not one of auto, always, never; did you mean 'always'?")
        self.check_usage_error(["m.pt", "i.json", "--log-level", "debgu"], "did you mean 'debug'?")

    def test_misspelled_command(self):
        self.check_usage_error(["inpsect", "model.pt2"], "unknown command 'inpsect'; did you mean 'inspect'?")
        self.check_usage_error(["veryfi", "a.pt2", "m.pt", "i.json"], "did you mean 'verify'?")

    def test_missing_and_surplus_arguments(self):
        self.check_usage_error(["export", "model.pt"], "INPUTS is required")
        self.check_usage_error(["run", "a.pt2"], "INPUTS is required")
        self.check_usage_error(["inspect", "a.pt2", "b.pt2"], "unexpected argument 'b.pt2'")

    def test_bad_numbers(self):
        self.check_usage_error(["m.pt", "i.json", "--atol", "-1"], "--atol")
        self.check_usage_error(["m.pt", "i.json", "--solver-timeout", "0"], "--solver-timeout")
        self.check_usage_error(["m.pt", "i.json", "--rtol", "abc"], "--rtol")

    def test_unknown_log_name(self):
        self.check_usage_error(["m.pt", "i.json"], "PTEXPORT_LOGS: unknown log name 'shape'; did you mean 'shapes'?",
                               env=clean_env(PTEXPORT_LOGS="+shape"))

    def test_usage_error_under_json_is_one_document(self):
        for args in (["--json"], ["m.pt", "i.json", "--json", "--no-verfy"], ["inspect", "--json"],
                     ["run", "a.pt2", "--json"]):
            with self.subTest(args=args):
                r = run(*args)
                self.assertEqual(r.returncode, 2, describe(r))
                doc = one_json_document(r.stdout)
                self.assertEqual(doc["status"], "error")
                self.assertEqual(doc["exit_code"], 2)
                self.assertEqual(doc["diagnostics"][-1]["code"], "E_USAGE")
                self.assertIn("error: ", r.stderr)


class Escapes(unittest.TestCase):
    def test_no_escapes_without_a_terminal(self):
        # TERM says the terminal could do colors, but stdout and stderr are pipes.
        for args in (["--help"], ["--version"], ["m.pt", "i.json", "--dynamc"], ["inspect", "--help"]):
            r = run(*args, env=clean_env(TERM="xterm-256color"))
            self.assertNotIn(ESC, r.stdout + r.stderr, args)

    def test_color_always_colors_errors_and_never_stdout(self):
        r = run("m.pt", "i.json", "--dynamc", "x", "--color", "always")
        self.assertIn(ESC + "[31merror" + ESC + "[0m: unknown option", r.stderr)
        r = run("--version", "--color", "always")
        self.assertNotIn(ESC, r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
