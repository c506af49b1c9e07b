#!/usr/bin/env python3
"""Golden output of `ptexport export` and `ptexport check`: the report (`--json` on stdout, the same
bytes as the `--report FILE`) and the text output (the stdout summary and the stderr lines at -vv) on
a set of models that covers each way the report is rendered: exports that succeed (one symbol, two
symbols with guards, a Dim.DYNAMIC dimension kept as runtime asserts), a constraint violation with
suggested fixes, a forced constant, the solver giving up (exit 7) and a usage error in the middle of
the pipeline (exit 2, a partial report).

What varies from run to run is normalized before comparing (normalize_*): stage timings, durations
("0.04s"), the artifact's size in bytes, the verification's floating point errors, the tool versions,
and the paths of the binary (ptexport), the models, the checkout and the temporary folder (<models>,
<src>, <tmp>).
Everything else must match the files in tests/e2e/golden/report/ byte for byte.

When an output changes on purpose, regenerate the files and commit them with the change (say why in
the commit message):

    scripts/env.sh run env PTX_UPDATE_GOLDEN=1 scripts/test.sh -R e2e.test_report_golden

(the test then writes the files instead of comparing, and passes; tests/e2e/golden/report/README.md). Every artifact the test writes is
loaded by torch.export.load and compared with the eager model (cli_common.run).
"""
from __future__ import annotations

import difflib
import json
import os
import re
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli_models  # noqa: E402
from cli_common import EXE, MODELS, SOURCE, clean_env, run  # noqa: E402

GOLDEN = os.path.join(SOURCE, "tests", "e2e", "golden", "report")
UPDATE = os.environ.get("PTX_UPDATE_GOLDEN", "") not in ("", "0")
TMP = tempfile.mkdtemp(prefix="ptx_report_golden_")


def shared(name):
    return os.path.join(MODELS, name, "model.pt"), os.path.join(MODELS, name, "inputs.json")


def own(name):
    d = cli_models.make(name, TMP)
    return os.path.join(d, "model.pt"), os.path.join(d, "inputs.json")


# name -> (model, inputs) maker, the command and its options (the model and inputs come first).
CASES = {
    # One symbol, every guard proven: the plain success.
    "export_mlp": (lambda: shared("mlp"), "export", ["-o", "{tmp}/mlp.pt2"]),
    # Two symbols, broadcasting guards.
    "export_broadcast2": (lambda: shared("broadcast2"), "export", ["-o", "{tmp}/broadcast2.pt2"]),
    # Three symbols through convolutions (traced), check only.
    "check_conv_bn_traced": (lambda: shared("conv_bn_traced"), "check", []),
    # A Dim.DYNAMIC dimension: the divisibility guard stays as a runtime assert in the artifact.
    "export_view_divisible_dynamic": (lambda: shared("view_divisible"), "export",
                                      ["--dynamic", "x.0=dynamic", "-o", "{tmp}/view_divisible.pt2"]),
    # A named range the guards do not allow: violation, with torch's and the flag form of the fixes.
    "check_view_divisible_violation": (lambda: shared("view_divisible_traced"), "check",
                                       ["--dynamic", "x.0=batch", "--dynamic", "batch=1:1024"]),
    # A shape-dependent branch: the requested range is too wide (a tighter range is suggested).
    "export_shape_if_too_wide": (lambda: shared("shape_if"), "export",
                                 ["--dynamic", "batch=1:512", "-o", "{tmp}/shape_if.pt2"]),
    # A dynamic dimension the model specializes to a constant.
    "check_mlp_traced_specialized": (lambda: shared("mlp_traced"), "check",
                                     ["--dynamic", "x.1=n", "--dynamic", "n=1:64"]),
    # The solver gives up within a tiny budget: exit 7 naming the undecided guard.
    "check_parity_unknown": (lambda: own("parity"), "check", ["--solver-timeout", "0.001"]),
    # A usage error after the model is loaded: the partial report keeps the first stage.
    "check_mlp_usage_error": (lambda: shared("mlp"), "check", ["--dynamic", "bacth=1:64"]),
}

DURATION = re.compile(r"\b(\d+\.\d\ds|\d+\.\ds|\d+m\d\ds)\b")
BYTES = re.compile(r"\(\d+ bytes\)")
FLOAT_KEYS = ("max_abs_err", "max_rel_err", "needed_atol")


def replace_paths(text: str) -> str:
    # The binary first (the corrected command line of suggested fixes starts with it), then folders.
    for path, name in ((EXE, "ptexport"), (TMP, "<tmp>"), (MODELS, "<models>"), (SOURCE, "<src>")):
        text = text.replace(os.path.realpath(path), name).replace(path, name)
    return text


def normalize_text(text: str) -> str:
    return BYTES.sub("(<N> bytes)", DURATION.sub("<T>", replace_paths(text)))


def normalize_json(text: str) -> str:
    """The document as printed (dump(2): one key per line), with the values that vary replaced."""
    json.loads(text)  # one valid document
    out, block = [], None
    for line in replace_paths(text).split("\n"):
        m = re.match(r'^(\s*)"(timings|tool_versions)": \{$', line)
        if m:
            block = m.group(1)
        elif block is not None and re.match(rf"^{block}\}},?$", line):
            block = None
        elif block is not None:
            line = re.sub(r'^(\s*"[^"]*": ).*?(,?)$', r'\1"<varies>"\2', line)
        line = re.sub(rf'^(\s*"(?:{"|".join(FLOAT_KEYS)})": )[-0-9.e+]+(,?)$', r'\1"<float>"\2', line)
        out.append(BYTES.sub("(<N> bytes)", line))
    return "\n".join(out)


def render(case: str) -> tuple[str, str]:
    """(the text run's golden text, the report's golden text) of one case."""
    maker, command, options = CASES[case]
    model, inputs = maker()
    opts = [o.replace("{tmp}", TMP) for o in options]
    args = [command, model, inputs, *opts]
    env = clean_env()
    text_run = run(*args, "-vv", env=env)
    report_file = os.path.join(TMP, case + ".report.json")
    json_run = run(*args, "--json", "--report", report_file, env=env)
    with open(report_file) as f:
        saved = f.read()
    assert json_run.stdout == saved, f"{case}: --json on stdout and --report differ"
    assert json_run.returncode == text_run.returncode, f"{case}: --json changed the exit code"
    text = (f"$ ptexport {normalize_text(' '.join(args))} -vv\n"
            f"exit code: {text_run.returncode}\n"
            f"--- stdout\n{normalize_text(text_run.stdout)}"
            f"--- stderr\n{normalize_text(text_run.stderr)}"
            f"--- stderr with --json\n{normalize_text(json_run.stderr)}")
    return text, normalize_json(saved)


class ReportGolden(unittest.TestCase):
    def test_cases(self):
        os.makedirs(GOLDEN, exist_ok=True)
        for case in CASES:
            with self.subTest(case=case):
                text, report = render(case)
                for suffix, got in ((".txt", text), (".json", report)):
                    path = os.path.join(GOLDEN, case + suffix)
                    if UPDATE:
                        with open(path, "w") as f:
                            f.write(got)
                        continue
                    self.assertTrue(os.path.exists(path), f"{path}: missing; PTX_UPDATE_GOLDEN=1 writes it")
                    with open(path) as f:
                        want = f.read()
                    if got != want:
                        diff = "".join(difflib.unified_diff(want.splitlines(True), got.splitlines(True),
                                                            path, "this run"))
                        self.fail(f"{case}{suffix} differs from the golden file (PTX_UPDATE_GOLDEN=1 "
                                  f"regenerates it when the change is intended):\n{diff}")

    def test_no_stale_golden_files(self):
        if UPDATE or not os.path.isdir(GOLDEN):
            return
        names = {c + s for c in CASES for s in (".txt", ".json")}
        stale = sorted(set(os.listdir(GOLDEN)) - names - {"README.md"})
        self.assertEqual(stale, [], "golden files of no case: delete them")


def tearDownModule():
    shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
