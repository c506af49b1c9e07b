"""End to end on the zoo (issue 3): the full-size torchvision models, scripted and traced, made by
`tests/models/make_models.py --group zoo` (ctest's make_zoo_models fixture).

For each zoo model:
  1. `ptexport export MODEL inputs.json --json` with batch narrowed to [1, 4] (the models' own range
     is [1, 64]; a narrower batch keeps the verification cheap, the H and W ranges stay [32, 224]),
     exit 0, and the report's verification (the IR run op by op by ptexport's interpreter against the
     eager TorchScript module) holds at the sample and at the smallest, largest and an interior
     value of every dynamic symbol, none skipped;
  2. the artifact loaded by the real torch.export.load, `ep.module()` against the eager TorchScript
     module at the sample and with every symbol at its min, at its max and inside, together (the
     corners step 1 did not try), and an input outside the range constraints rejected
     (conformance.check_artifact).

    python3 tests/e2e/test_export_zoo.py [--shard K/N] [NAME...]

--shard K/N runs the K-th (1-based) of N shards of about equal time (WEIGHT), so that ctest runs the
zoo as N tests side by side. docs/status.md has the table of the zoo and the time each model takes.
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
import make_models  # noqa: E402

MODELS_DIR = os.environ["PTX_MODELS_DIR"]
BATCH = (1, 4)
# swin_t (scripted): shifted windows are on in stage 2 only if its padded height is above the window
# (7) and off in stage 3 only if it is at most 7, so one graph holds for h, w in [60, 115] only
# (test_export_models.py's swin_t, docs/status.md).
NARROWER = {"swin_t_full": {"h": (60, 115), "w": (60, 115)}}


def zoo_models() -> list[str]:
    return [n for n in make_models.SPECS if make_models.group_of(n) == "zoo"]


def ranges_of(name: str, meta: dict) -> dict[str, tuple[int, int]]:
    ranges = {sym: tuple(r) for sym, r in meta["dynamic"].items()}
    if "batch" in ranges:
        ranges["batch"] = BATCH
    ranges.update(NARROWER.get(name, {}))
    return ranges


def check_verification(report: dict, ranges: dict[str, tuple[int, int]]) -> list[str]:
    """What is wrong with the report (empty when all is well): every symbol proven on its whole
    requested range, and the verification points: the sample, and each symbol's min and max (its
    range's ends exactly) and an interior value, every point run and agreeing with eager."""
    problems = []
    cons = report.get("constraints") or {}
    names = {}
    for s in cons.get("symbols", []):
        names[s["symbol"]] = s["name"]
        want = ranges.get(s["name"])
        if want is None:
            problems.append(f"symbol {s['name']} ({s['symbol']}) is not one of {sorted(ranges)}")
            continue
        got = (s["proven"]["min"], s["proven"]["max"])
        if s["verdict"] != "ok" or got != want:
            problems.append(f"{s['name']}: verdict {s['verdict']}, proven {got}, requested {want}")
    if sorted(names.values()) != sorted(ranges):
        problems.append(f"dynamic symbols {sorted(names.values())}, expected {sorted(ranges)}")
    points = {p["label"]: p for p in report.get("verification") or []}
    if "sample" not in points:
        problems.append("no verification at the sample")
    for p in points.values():
        if p.get("skipped") or not p.get("ok"):
            problems.append(f"verification point {p['label']} {p.get('sizes')}: ok={p.get('ok')} "
                            f"skipped={p.get('skipped')} {p.get('note', '')}")
    for sym, name in names.items():
        lo, hi = ranges.get(name, (None, None))
        for kind, ok in (("min", lambda v: v == lo), ("max", lambda v: v == hi),
                         ("interior", lambda v: lo < v < hi)):
            p = points.get(f"{kind} {sym}")
            if p is None:
                problems.append(f"no '{kind} {sym}' verification point ({name})")
            elif not ok(p["sizes"].get(sym, -1)):
                problems.append(f"'{kind} {sym}' verification point at {p['sizes']}, range of {name} [{lo}, {hi}]")
    return problems


def sizes_to_try(ranges: dict[str, tuple[int, int]]) -> list[dict]:
    """For torch: the sample, every symbol at its min together, at its max together, and inside together
    (the report's verification has tried each symbol alone at its min, max and an interior value)."""
    def inside(k, lo, hi):  # a different fraction of the range for each symbol, never an end
        return min(max(lo + (hi - lo) * (k + 1) // (len(ranges) + 1), lo + 1), hi - 1) if hi - lo >= 2 else lo
    return [{}, {s: lo for s, (lo, hi) in ranges.items()}, {s: hi for s, (lo, hi) in ranges.items()},
            {s: inside(k, lo, hi) for k, (s, (lo, hi)) in enumerate(ranges.items())}]


# Seconds each model took here (export + torch, one test at a time): to balance the shards.
WEIGHT = {"vit_b_16_full": 40, "vit_b_16_full_traced": 40, "swin_t_full": 40, "convnext_tiny_full": 22,
          "convnext_tiny_full_traced": 22, "densenet121": 16, "densenet121_traced": 14, "swin_t_full_traced": 14}


def shard(names: list[str], k: int, n: int) -> list[str]:
    """The k-th (1-based) of n shards: the heaviest model first, each to the lightest shard so far."""
    bins = [[0, []] for _ in range(n)]
    for name in sorted(names, key=lambda x: -WEIGHT.get(x, 8)):
        b = min(bins, key=lambda b: b[0])
        b[0] += WEIGHT.get(name, 8)
        b[1].append(name)
    return bins[k - 1][1]


def run_one(name: str, tmp: str) -> str | None:
    d = os.path.join(MODELS_DIR, name)
    model, inputs = os.path.join(d, "model.pt"), os.path.join(d, "inputs.json")
    if not os.path.exists(model):
        return f"{name}: {model} is missing (the make_zoo_models fixture builds it)"
    with open(os.path.join(d, "meta.json")) as f:
        meta = json.load(f)
    ranges = ranges_of(name, meta)
    flags = []
    for sym, (lo, hi) in ranges.items():
        flags += ["--dynamic", f"{sym}={lo}:{hi}"]
    out = os.path.join(tmp, name + ".pt2")
    t0 = time.time()
    proc = conformance.run_ptexport("export", model, inputs, "-o", out, "--json", *flags, check=False)
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


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--shard", default="1/1", help="K/N: every N-th zoo model from the K-th")
    p.add_argument("names", nargs="*")
    a = p.parse_args(argv)
    k, n = (int(x) for x in a.shard.split("/"))
    names = a.names or shard(zoo_models(), k, n)
    unknown = [x for x in names if x not in make_models.SPECS]
    if unknown:
        print(f"unknown model(s) {unknown}", file=sys.stderr)
        return 2
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            err = run_one(name, tmp)
            if err:
                failures.append(err)
                print("FAIL", err, flush=True)
    print(f"{len(names) - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
