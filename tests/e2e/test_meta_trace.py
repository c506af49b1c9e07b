"""The trace on meta tensors (issue 14; lib/frontend/tracer.h, Note [Meta trace]).

    python3 tests/e2e/test_meta_trace.py [--no-zoo] [NAME...]

1. Same artifact in both modes: every model that tests/e2e/test_export_models.py exports, and a few
   zoo models (tests/models/make_models.py's zoo group, ctest's make_zoo_models fixture), exported
   with --no-verify by default (on meta tensors) and with --trace-on-data (every op computed on the
   sample, each shape rule checked against ATen's sizes). The default run must say (log "trace" at
   level trace) that it traced on meta tensors without reading data, and the two artifacts must be equal
   entry by entry: the program's JSON (graph, node metadata with sizes, strides, dtypes and devices,
   signature, range constraints), the weights, the constants. The default artifact is loaded by the
   real torch.export.load and run against the eager model at the sample (conformance.check_artifact);
   the other one is byte-equal to it.
2. A model that reads values (item() feeding a slice; a nonzero) exports by default, the log (-v)
   says which op at which line read data and that the trace ran again on the sample's values, the
   artifact equals the --trace-on-data one, and torch.export.load's program equals eager on inputs
   that give other sizes.
"""
import argparse
import json
import os
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cli_common  # noqa: E402
import conformance  # noqa: E402
import test_data_dependent  # noqa: E402
import test_export_models  # noqa: E402
import test_export_zoo  # noqa: E402
import torch  # noqa: E402

MODELS_DIR = os.environ["PTX_MODELS_DIR"]
# Zoo models (full-size torchvision, scripted and traced) with other ops than the e2e models':
# depthwise and grouped convolutions, concatenations, squeeze-excitation, SiLU, layer norms.
ZOO = ["resnet50", "efficientnet_b0", "densenet121_traced", "convnext_tiny_full", "regnet_y_400mf",
       "shufflenet_v2_x1_0"]
META_LINE = "traced on meta tensors: no tensor data read"
FELL_BACK = "traced again on the sample's values"
# Models that read a tensor's values: nn.TransformerEncoder given a mask compares it with the causal
# mask (torch.nn.modules.transformer._detect_is_causal_mask: bool((mask == causal).all())).
READS_DATA = {"transformer_encoder": "aten::Bool at "}
# Models whose artifact is not compared (none: swin_t's varied from run to run until the checker's last
# step enumerated as its first does, shapes/check/analyze.cpp).
UNSTABLE: set[str] = set()


def entries(pt2: str) -> dict[str, bytes]:
    """The archive's entries by their path below its top folder (named after the file)."""
    with zipfile.ZipFile(pt2) as z:
        return {n.split("/", 1)[1]: z.read(n) for n in z.namelist()}


def differences(a: str, b: str) -> list[str]:
    ea, eb = entries(a), entries(b)
    out = [f"entry {n} only in {'the default' if n in ea else 'the --trace-on-data'} artifact"
           for n in sorted(set(ea) ^ set(eb))]
    for n in sorted(set(ea) & set(eb)):
        if ea[n] != eb[n]:
            detail = ""
            if n.endswith(".json"):
                ta, tb = ea[n].decode(), eb[n].decode()
                i = next((k for k in range(min(len(ta), len(tb))) if ta[k] != tb[k]), min(len(ta), len(tb)))
                detail = f": default ...{ta[max(0, i - 200):i + 200]}... vs --trace-on-data ...{tb[max(0, i - 200):i + 200]}..."
            out.append(f"entry {n} differs{detail}")
    return out


def export_both(model: str, inputs: str, tmp: str, name: str, *flags) -> tuple[list[str], str, str]:
    """(problems, stderr of the default run, the default artifact)."""
    meta_out, data_out = os.path.join(tmp, name + ".meta.pt2"), os.path.join(tmp, name + ".data.pt2")
    env = cli_common.clean_env(PTEXPORT_LOGS="trace=trace")
    r = cli_common.run("export", model, inputs, "-o", meta_out, "--no-verify", *flags, env=env, conformance=False)
    if r.returncode != 0:
        return [f"default export: {cli_common.describe(r)[-3000:]}"], r.stderr, meta_out
    d = cli_common.run("export", model, inputs, "-o", data_out, "--no-verify", "--trace-on-data", *flags,
                       env=env, conformance=False)
    if d.returncode != 0:
        return [f"--trace-on-data export: {cli_common.describe(d)[-3000:]}"], r.stderr, meta_out
    problems = differences(meta_out, data_out)
    if META_LINE in d.stderr or FELL_BACK in d.stderr:
        problems.append("--trace-on-data traced on meta tensors:\n" + d.stderr[-1500:])
    return problems, r.stderr, meta_out


def same_artifacts(names: list[str], tmp: str, zoo: bool) -> list[str]:
    failures = []
    for name in names:
        d = os.path.join(MODELS_DIR, name)
        model, inputs = os.path.join(d, "model.pt"), os.path.join(d, "inputs.json")
        if not os.path.exists(model):
            failures.append(f"{name}: {model} is missing ({'make_zoo_models' if zoo else 'make_models'} builds it)")
            continue
        flags = []
        if zoo:  # the zoo test's ranges (batch narrowed)
            with open(os.path.join(d, "meta.json")) as f:
                ranges = test_export_zoo.ranges_of(name, json.load(f))
        else:
            ranges = test_export_models.DYNAMIC.get(name, {})
        for sym, (lo, hi) in ranges.items():
            flags += ["--dynamic", f"{sym}={lo}:{hi}"]
        problems, stderr, out = export_both(model, inputs, tmp, name, *flags)
        read = [ln for ln in stderr.splitlines() if FELL_BACK in ln]
        if not problems and name in READS_DATA:
            if len(read) != 1 or READS_DATA[name] not in read[0] or META_LINE in stderr:
                problems.append(f"the default trace should read data at {READS_DATA[name]!r}:\n{stderr[-1500:]}")
        elif not problems and (META_LINE not in stderr or read):
            problems.append(f"the default trace did not run on meta tensors:\n{stderr[-1500:]}")
        if not problems:
            try:
                conformance.check_artifact(out, model, inputs, None, atol=1e-3, rtol=1e-3, check_out_of_range=False)
            except Exception as e:  # noqa: BLE001: torch failing on the artifact is a failure too
                problems.append(f"torch.export.load: {type(e).__name__}: {e}")
        for p in (os.path.join(tmp, name + ".meta.pt2"), os.path.join(tmp, name + ".data.pt2")):
            if os.path.exists(p):
                os.remove(p)
        if problems:
            failures.append(f"{name}: " + "\n  ".join(problems))
        else:
            how = f"read data ({READS_DATA[name]}), traced again" if name in READS_DATA else "on meta tensors"
            print(f"ok   {name}: the same artifact by default ({how}) and with --trace-on-data")
    return failures


def reads_data(tmp: str) -> list[str]:
    """Models that read values: the trace starts on meta tensors, meets the read and runs again."""
    dd = test_data_dependent
    n = torch.tensor
    pos, neg = dd.X54.abs() + 0.1, -dd.X54.abs() - 0.1
    cases = [
        ("item_slice", dd.ItemSlice(), (dd.X83, n(3)), [(dd.X83, n(k)) for k in (0, 3, 8, 12)],
         "aten::item at "),
        ("nonzero", dd.NonZero(), (dd.X54,), [(dd.X54,), (pos,), (neg,)], "aten::nonzero at "),
    ]
    failures = []
    for name, module, sample, inputs, op in cases:
        try:
            d, eager = dd.write_case(tmp, name, module, sample, traced=False)
            model, ins = os.path.join(d, "model.pt"), os.path.join(d, "inputs.json")
            out = os.path.join(d, "out.pt2")
            r = cli_common.run("export", model, ins, "-o", out, "-v", conformance=False)
            assert r.returncode == 0, cli_common.describe(r)
            said = [ln for ln in r.stderr.splitlines() if FELL_BACK in ln]
            assert len(said) == 1 and op in said[0] and ".py:" in said[0], \
                f"the log should name {op!r} and its line once: {r.stderr[-2000:]}"
            ep = torch.export.load(out)
            dd.check_equal_on(ep, eager, inputs, name)
            problems, _, _ = export_both(model, ins, tmp, name + "_both")
            assert not problems, "\n".join(problems)
            print(f"ok   {name}: {said[0].strip()}")
        except Exception as e:  # noqa: BLE001: every case reports
            failures.append(f"{name}: {type(e).__name__}: {e}")
    return failures


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--no-zoo", action="store_true", help="leave out the zoo models")
    p.add_argument("names", nargs="*")
    a = p.parse_args()
    e2e = [n for n in test_export_models.EXPORTED if (not a.names or n in a.names) and n not in UNSTABLE]
    zoo = [] if a.no_zoo else [n for n in ZOO if not a.names or n in a.names]
    with tempfile.TemporaryDirectory() as tmp:
        failures = same_artifacts(e2e, tmp, zoo=False) + same_artifacts(zoo, tmp, zoo=True)
        if not a.names:
            failures += reads_data(tmp)
    for f in failures:
        print("FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
