"""End to end on the model families a user brings (issue 17): segmentation, speech, text, video,
optical flow and detection, made by `tests/models/make_models.py --group families` (ctest's
make_family_models fixture; tests/models/families.py says what each model is).

For each model of EXPORTED, as tests/e2e/test_export_zoo.py does for the zoo:
  1. `ptexport export MODEL inputs.json --json` with the family's dynamic dims (batch narrowed to
     [1, 4], H and W to at most 64, the video's T to at most 6; sequence and time keep their
     inputs.json ranges): exit 0, every symbol proven on
     its whole requested range, and the report's verification (ptexport's interpreter against the
     eager TorchScript module) holds at the sample and at each symbol's min, max and an interior value;
  2. the artifact in the real torch.export.load: `ep.module()` against the eager module at the
     sample and with every symbol at its min, its max and inside, together, and an input outside
     the range constraints rejected (conformance.check_artifact).

Each model of EXPECTED_FAILURES must fail with its documented exit code and a message naming the
reason: when one starts to export, this test fails, so that the list (and docs/status.md) is updated.

    python3 tests/e2e/test_export_families.py [NAME...]
"""
import argparse
import json
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "models"))
import conformance  # noqa: E402
import torchvision  # noqa: E402,F401: registers torchvision's operators (nms) for torch.export.load
import make_models  # noqa: E402
from test_export_zoo import check_verification, sizes_to_try  # noqa: E402

MODELS_DIR = os.environ["PTX_MODELS_DIR"]
BATCH = (1, 4)
# H and W narrowed to at most 64 and the video's T to at most 6 (the inputs.json ranges go to 224, 112
# and 16): the verification at the max stays cheap. Narrower tops, same shape code.
MAX = {"h": 64, "w": 64, "t": 6}

EXPORTED = ["fcn", "fcn_traced", "deeplabv3", "deeplabv3_traced", "lraspp", "lraspp_traced", "wav2vec2", "wavlm",
            "bert_traced", "gpt2_traced", "r3d", "r3d_traced", "r2plus1d", "r2plus1d_traced", "raft", "ssdlite",
            "ssdlite_traced"]

# A model exported with some of its dims made static: "model@variant" -> the --dynamic targets made
# static. None at present: raft (dynamic batch, H and W) is in EXPORTED; its batch-only variant
# ("raft@batch", H and W static) covered nothing the dynamic one does not.
STATIC_DIMS: dict[str, list[str]] = {}
EXPORTED += list(STATIC_DIMS)

# name -> (exit code, text the error must contain, why). docs/status.md has the same list. None at
# present: scripted ssdlite exports since batched_nms's per-class loop became a while_loop.
EXPECTED_FAILURES: dict[str, tuple[int, str, str]] = {}


def family_models() -> list[str]:
    return [n for n in make_models.SPECS if make_models.group_of(n) == "families"]


def ranges_of(meta: dict) -> dict[str, tuple[int, int]]:
    ranges = {sym: tuple(r) for sym, r in meta["dynamic"].items()}
    if "batch" in ranges:
        ranges["batch"] = (max(ranges["batch"][0], BATCH[0]), min(ranges["batch"][1], BATCH[1]))
    for sym, top in MAX.items():
        if sym in ranges and ranges[sym][1] > top:  # a range starting above the cap keeps [lo, 2*lo] (ssdlite)
            ranges[sym] = (ranges[sym][0], min(ranges[sym][1], max(top, 2 * ranges[sym][0])))
    return ranges


def export(name: str, tmp: str):
    d = os.path.join(MODELS_DIR, name.split("@")[0])
    model, inputs = os.path.join(d, "model.pt"), os.path.join(d, "inputs.json")
    if not os.path.exists(model):
        raise FileNotFoundError(f"{model} is missing (the make_family_models fixture builds it)")
    with open(os.path.join(d, "meta.json")) as f:
        meta = json.load(f)
    ranges = ranges_of(meta)
    flags = []
    for target in STATIC_DIMS.get(name, []):
        flags += ["--dynamic", f"{target}=static"]
    if name in STATIC_DIMS:  # only the symbols the remaining dims use (batch)
        ranges = {k: v for k, v in ranges.items() if k == "batch"}
    for sym, (lo, hi) in ranges.items():
        flags += ["--dynamic", f"{sym}={lo}:{hi}"]
    out = os.path.join(tmp, name.replace("@", "_") + ".pt2")
    proc = conformance.run_ptexport("export", model, inputs, "-o", out, "--json", *flags, check=False)
    return proc, model, inputs, out, ranges, meta


def run_exported(name: str, tmp: str) -> str | None:
    t0 = time.time()
    proc, model, inputs, out, ranges, meta = export(name, tmp)
    t_export = time.time() - t0
    if proc.returncode != 0:
        return f"{name}: ptexport exit {proc.returncode}: {proc.stderr[-2000:]}"
    report = json.loads(proc.stdout)
    problems = check_verification(report, ranges)
    if problems:
        return f"{name}: " + "; ".join(problems)
    t0 = time.time()
    try:
        summary = conformance.check_artifact(out, model, inputs, sizes_list=sizes_to_try(ranges),
                                             atol=meta.get("atol", 1e-3), rtol=1e-3)
    except Exception as e:  # noqa: BLE001: torch failing to load or run the artifact is a failure too
        return f"{name}: {type(e).__name__}: {e}"
    finally:
        if os.path.exists(out):
            os.remove(out)
    if summary["out_of_range"] is None:
        return f"{name}: no out-of-range input was tried ({summary['out_of_range_skipped']})"
    print(f"ok   {name}: export {t_export:.1f}s ({len(report['verification'])} points verified), "
          f"torch {time.time() - t0:.1f}s ({len(summary['runs'])} runs), ranges {summary['range_constraints']}",
          flush=True)
    return None


def run_expected_failure(name: str, tmp: str) -> str | None:
    code, text, why = EXPECTED_FAILURES[name]
    proc, _, _, out, _, _ = export(name, tmp)
    if proc.returncode == 0:
        return f"{name} now exports: move it from EXPECTED_FAILURES to EXPORTED (and update docs/status.md)"
    if proc.returncode != code or text not in proc.stderr:
        return (f"{name}: expected exit {code} with {text!r} ({why}), got exit {proc.returncode}: "
                f"{proc.stderr[-1500:]}")
    if os.path.exists(out):
        return f"{name}: a failed export left {out} behind"
    print(f"ok   {name}: fails as documented (exit {code}: {why})", flush=True)
    return None


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("names", nargs="*")
    a = p.parse_args(argv)
    listed = set(EXPORTED) | set(EXPECTED_FAILURES)
    failures = []
    unlisted = [n for n in family_models() if n not in listed]
    if unlisted and not a.names:
        failures.append(f"family models in neither EXPORTED nor EXPECTED_FAILURES: {unlisted}")
    names = a.names or [n for n in family_models() if n in listed] + list(STATIC_DIMS)
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            try:
                err = run_exported(name, tmp) if name in EXPORTED else run_expected_failure(name, tmp)
            except Exception as e:  # noqa: BLE001
                err = f"{name}: {type(e).__name__}: {e}"
            if err:
                failures.append(err)
                print("FAIL", err, flush=True)
    print(f"{len(names) - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
