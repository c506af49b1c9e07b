"""ptexport against torch.export, side by side in one run (issue 6; the write benchmark of issue 5).

    python3 bench/compare.py [--quick] [--models a,b] [--repeat N] [--out DIR] [--work DIR] [--ptexport EXE]

(scripts/bench.sh builds ptexport and runs this inside the build environment.)

For each model (bench/bench_models.py: the same python module saved as TorchScript for ptexport and
pickled with torch.save for torch.export, same weights, same inputs.json and dynamic dims) it runs,
each as a fresh process, alternating in every round, after a warm-up (--warmup model: one unmeasured
round per model; once: one round on the first model only, every model's files read once; none):
  ptexport      `ptexport export model.pt inputs.json -o X.pt2 --json` (verification on, the default)
  no-verify     the same with --no-verify
  torch         `python3 -c ...`: import torch, torch.load the module, torch.export.export with
                torch.export.Dim per symbol (same ranges), torch.export.save
and records the process's wall time and peak RSS (os.wait4's rusage), ptexport's per-stage timings
(its JSON report) and torch's in-process times. Then it times `cp` (and `cp` + `sync FILE`) of a file
as large as the artifact's weights, for the write target. Medians over the rounds.

Writes DIR/benchmarks.md (tables, targets met or missed and the measured reason) and
DIR/benchmarks.json (everything measured, raw runs included). A tool that fails on a model is a
table entry (exit code and its error line), never a crash of the benchmark.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from bench_report import (ANALYSIS, README_BEGIN, README_END, STAGES, TARGETS, WARMUPS, _cell,  # noqa: E402,F401
                          evaluate, markdown, update_readme)

SCHEMA = "ptexport.bench/v1"
TIME = "/usr/bin/time"
NOTES = [
    "ptexport exports the TorchScript archive (torch.jit.script of the module); torch.export exports the python "
    "module itself (it refuses TorchScript). Both get the same weights, the same sample inputs (inputs.json) and "
    "the same dynamic dimensions and ranges.",
    "ptexport's stage times come from its JSON report (`timings`); torch's from time.perf_counter inside its "
    "process. `import torch` and torch.load are part of the python side's whole-process time, as loading "
    "LibTorch and the archive is part of ptexport's.",
    "Analysis is ptexport's trace stage (the symbolic run of the TorchScript graph with its shape rules and "
    "guards) plus its solve stage (Z3); there is no separate shapes stage. It is compared with the "
    "torch.export.export() call.",
    "In the default export, the write artifact stage writes the archive under a temporary name and reads it "
    "back (the graph read from the file; each weight entry streamed through its CRC-32 and compared with the "
    "digest computed while writing, never held twice); the verify stage then runs that read-back program against eager, and "
    "only then is the file renamed into place. The write benchmark uses the --no-verify run's stage, which is "
    "the writer alone (temporary file in the destination folder, fsync, rename).",
]

# The torch.export side: one fresh python process per run. Prints one JSON line with its timings.
TORCH_CHILD = r"""
import time
t0 = time.perf_counter()
import inspect, json, sys
import torch
t_import = time.perf_counter()
root, eager, inputs, out = sys.argv[1:5]
sys.path[:0] = [root + "/bench", root + "/tests/models", root + "/tests/e2e"]
import conformance
module = torch.load(eager, weights_only=False).eval()
t_load = time.perf_counter()
tuples = conformance.tuple_params(module.forward)
args, kwargs = conformance.load_inputs(inputs, tuples=tuples)
a_shapes, k_shapes = conformance.dynamic_shapes_for(inputs)
names = list(inspect.signature(module.forward).parameters)
dyn = {names[i]: (tuple(s) if names[i] in tuples and isinstance(s, list) else s) for i, s in enumerate(a_shapes)}
dyn.update(k_shapes)
t_inputs = time.perf_counter()
ep = torch.export.export(module, tuple(args), kwargs, dynamic_shapes=dyn)
t_export = time.perf_counter()
torch.export.save(ep, out)
t_save = time.perf_counter()
print(json.dumps({"timings": {"import torch": t_import - t0, "load model": t_load - t_import,
                              "load inputs": t_inputs - t_load, "export": t_export - t_inputs,
                              "save": t_save - t_export},
                  "range_constraints": {str(k): str(v) for k, v in ep.range_constraints.items()}}))
"""


# ---------------------------------------------------------------------------------------------
# Running one process

def run_process(cmd: list[str], workdir: str, timeout: float | None = None) -> dict:
    """Runs cmd with stdout/stderr to files; returns exit code ("timeout" when it ran longer than
    `timeout` seconds and was killed), wall seconds, peak RSS (MiB), output."""
    # Peak RSS comes from /usr/bin/time (GNU time: getrusage of its child): Linux carries a process's
    # RSS high-water mark across fork and exec, so os.wait4 here would report this python's own size.
    fd, rss_file = tempfile.mkstemp(dir=workdir, suffix=".rss")
    os.close(fd)
    try:
        with tempfile.TemporaryFile(dir=workdir) as out, tempfile.TemporaryFile(dir=workdir) as err:
            t = time.perf_counter()
            p = subprocess.Popen([TIME, "-f", "%M %U %S", "-o", rss_file, *cmd], stdin=subprocess.DEVNULL,
                                 stdout=out, stderr=err, start_new_session=True)
            try:
                code = p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)  # its own session: time and the tool under it
                p.wait()
                code = "timeout"
            wall = time.perf_counter() - t
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
            with open(rss_file) as f:
                fields = f.read().split()[-3:]  # "Command exited with non-zero status N" may come first
        try:
            rss_kib, user, sys_ = (float(x) for x in fields)
        except ValueError:  # killed: time wrote nothing
            rss_kib, user, sys_ = 0.0, 0.0, 0.0
        return {"exit": code, "wall_s": wall, "peak_rss_mib": rss_kib / 1024.0, "user_s": user, "sys_s": sys_,
                "stdout": stdout, "stderr": stderr}
    finally:
        os.remove(rss_file)


def _error_line(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    for ln in lines:
        if ln.startswith("error:"):
            return ln[:300]
    for ln in reversed(lines):  # a python traceback ends with the exception
        if not ln.startswith(("File ", "^", "~")):
            return ln[:300]
    return ""


def run_ptexport(exe: str, m: dict, out: str, verify: bool, workdir: str, timeout: float | None = None) -> dict:
    cmd = [exe, "export", m["model"], m["inputs"], "-o", out, "--json", "--atol", str(m["meta"].get("atol", 1e-4))]
    if not verify:
        cmd.append("--no-verify")
    r = run_process(cmd, workdir, timeout)
    rec = {k: r[k] for k in ("exit", "wall_s", "peak_rss_mib", "user_s", "sys_s")}
    try:
        report = json.loads(r["stdout"])
        rec["timings"] = report.get("timings", {})
        rec["versions"] = report.get("tool_versions", {})
    except ValueError:
        rec["timings"] = {}
    if r["exit"] == "timeout":
        rec["error"] = f"killed after {timeout:.0f} s (--timeout)"
    elif r["exit"] != 0:
        rec["error"] = _error_line(r["stderr"])
    for ln in r["stderr"].splitlines():
        if "write artifact (" in ln:
            rec["write_line"] = ln.strip()
    return rec


def run_torch(m: dict, out: str, workdir: str, timeout: float | None = None) -> dict:
    r = run_process([sys.executable, "-c", TORCH_CHILD, ROOT, m["eager"], m["inputs"], out], workdir, timeout)
    rec = {k: r[k] for k in ("exit", "wall_s", "peak_rss_mib", "user_s", "sys_s")}
    rec["timings"] = {}
    if r["exit"] == 0:
        try:
            doc = json.loads(r["stdout"].strip().splitlines()[-1])
            rec["timings"] = doc["timings"]
            rec["range_constraints"] = doc["range_constraints"]
        except (ValueError, IndexError, KeyError):
            rec["error"] = "no timings on stdout"
    elif r["exit"] == "timeout":
        rec["error"] = f"killed after {timeout:.0f} s (--timeout)"
    else:
        rec["error"] = _error_line(r["stderr"])
    return rec


def launcher_overhead(binary: str, launcher: str, workdir: str, runs: int = 15) -> dict:
    """`--version` through the installed launcher against the raw binary, alternating, medians in ms."""
    t = {"binary": [], "launcher": []}
    for _ in range(runs):
        for k, exe in (("binary", binary), ("launcher", launcher)):
            t[k].append(run_process([exe, "--version"], workdir)["wall_s"] * 1000)
    b, l = statistics.median(t["binary"]), statistics.median(t["launcher"])
    return {"runs": runs, "binary_ms": b, "launcher_ms": l, "overhead_ms": l - b}


def weights_bytes(pt2: str) -> int:
    """Bytes of the tensor payloads (data/weights and data/constants, not their json config)."""
    total = 0
    with zipfile.ZipFile(pt2) as z:
        for i in z.infolist():
            parts = i.filename.split("/")
            if len(parts) >= 4 and parts[1] == "data" and parts[2] in ("weights", "constants") \
                    and not parts[-1].endswith(".json"):
                total += i.file_size
    return total


def time_copy(nbytes: int, workdir: str, repeat: int) -> dict:
    """Median wall time of `cp SRC DST` and of `cp SRC DST && sync DST` (a process each, like
    ptexport's) for a file of nbytes random bytes, warm in the page cache as ptexport's weights are."""
    src = os.path.join(workdir, "copy_src.bin")
    dst = os.path.join(workdir, "copy_dst.bin")
    with open(src, "wb") as f:
        left = nbytes
        while left > 0:
            n = min(left, 1 << 24)
            f.write(os.urandom(n))
            left -= n
    res = {}
    for label, cmd in (("cp", ["cp", src, dst]), ("cp_sync", ["sh", "-c", 'cp "$0" "$1" && sync "$1"', src, dst])):
        times = []
        for _ in range(max(3, repeat)):
            if os.path.exists(dst):
                os.remove(dst)
            times.append(run_process(cmd, workdir)["wall_s"])
        res[label + "_s"] = statistics.median(times)
    for p in (src, dst):
        if os.path.exists(p):
            os.remove(p)
    return res


# ---------------------------------------------------------------------------------------------
# Summaries

def _median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def summarize(runs: list[dict]) -> dict:
    ok = [r for r in runs if r["exit"] == 0]
    failed = [r for r in runs if r["exit"] != 0]
    s = {"runs": len(runs), "ok": len(ok)}
    if failed:
        s["exit"] = failed[0]["exit"]
        s["error"] = failed[0].get("error", "")
    if not ok:
        return s
    s["wall_s"] = _median([r["wall_s"] for r in ok])
    s["peak_rss_mib"] = max(r["peak_rss_mib"] for r in ok)
    keys = sorted({k for r in ok for k in r.get("timings", {})})
    s["timings"] = {k: _median([r["timings"].get(k) for r in ok]) for k in keys}
    return s




# ---------------------------------------------------------------------------------------------
# Driver

def _environment() -> dict:
    import torch
    import torchvision
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "?")
    except OSError:
        pass
    mem = 0.0
    try:
        with open("/proc/meminfo") as f:
            mem = int(next(ln.split()[1] for ln in f if ln.startswith("MemTotal"))) / 2 ** 20
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": mem, "os": platform.platform(),
            "torch": torch.__version__, "torchvision": torchvision.__version__,
            "python": platform.python_version()}


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main(argv=None) -> int:
    from bench_models import MODELS, prepare

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="a smoke run: --models mlp, one round, no warm-up, no baseline processes, output to "
                        "build/bench unless --out")
    p.add_argument("--models", default="", help=f"comma-separated, from {','.join(MODELS)} (default: all)")
    p.add_argument("--repeat", type=int, default=None, help="measured rounds per model (default 3; --quick 1)")
    p.add_argument("--out", default=None, help="where benchmarks.md/json go (default docs/; --quick: build/bench)")
    p.add_argument("--work", default=os.path.join(ROOT, "build", "bench"), help="models and artifacts")
    p.add_argument("--ptexport", default=os.path.join(ROOT, "build", "cmd", "ptexport"), help="the binary")
    p.add_argument("--launcher", default="", help="an installed ptexport launcher, timed against --ptexport")
    p.add_argument("--note", action="append", default=[], help="a line for the report's notes (repeatable)")
    p.add_argument("--timeout", type=float, default=1800, help="kill a run after this many seconds (default 1800)")
    p.add_argument("--slow-limit", type=float, default=300,
                   help="a tool whose run of a model takes longer is not run again on it (default 300 s)")
    p.add_argument("--warmup", choices=sorted(WARMUPS), default=None,
                   help="model: an unmeasured round per model (default); once: a round on the first model, "
                        "and every model's files read once; none (the default of --quick)")
    a = p.parse_args(argv)
    models = [m for m in a.models.split(",") if m] or (["mlp"] if a.quick else list(MODELS))
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        print(f"bench: unknown model(s) {unknown}; choose from {', '.join(MODELS)}", file=sys.stderr)
        return 2
    repeat = a.repeat if a.repeat is not None else (1 if a.quick else 3)
    warmup = a.warmup or ("none" if a.quick else "model")
    out_dir = a.out or (a.work if a.quick else os.path.join(ROOT, "docs"))
    if not os.access(a.ptexport, os.X_OK):
        print(f"bench: {a.ptexport}: no ptexport binary (scripts/build.sh builds it)", file=sys.stderr)
        return 2
    os.makedirs(a.work, exist_ok=True)
    os.makedirs(out_dir, exist_ok=True)
    art = os.path.join(a.work, "out")
    os.makedirs(art, exist_ok=True)

    env = _environment()
    env["load_before"] = _load()
    shown, args = [], list(argv if argv is not None else sys.argv[1:])
    while args:  # the command as a user types it: without the paths scripts/bench.sh adds
        x = args.pop(0)
        if x in ("--ptexport", "--work", "--launcher"):
            args = args[1:]
        elif not x.startswith(("--ptexport=", "--work=", "--launcher=")):
            shown.append(x)
    command = " ".join(["scripts/bench.sh", *shown])
    log = lambda msg: print(f"bench: {msg}", file=sys.stderr, flush=True)  # noqa: E731
    if env["load_before"][0] > (os.cpu_count() or 1) * 0.5:
        log(f"load average {env['load_before']} on {os.cpu_count()} cores: other work is running, timings are noisy")

    prepared = {}
    for short in models:
        t = time.time()
        try:
            prepared[short] = prepare(short, a.work)
        except Exception as e:  # a model that cannot be built is reported, not fatal
            prepared[short] = {"error": f"{type(e).__name__}: {e}"}
            log(f"{short}: building the model failed: {e}")
        log(f"{short}: model ready ({time.time() - t:.1f}s)")

    baseline = []  # the fixed cost of each tool's process (not in --quick: it is one more torch import)
    for what, cmd in [] if a.quick else (("ptexport --version", [a.ptexport, "--version"]),
                      ("python3 -c 'import torch'", [sys.executable, "-c", "import torch"])):
        runs = [run_process(cmd, a.work) for _ in range(max(1, repeat))]
        baseline.append({"what": what, "wall_s": statistics.median(r["wall_s"] for r in runs),
                         "peak_rss_mib": max(r["peak_rss_mib"] for r in runs)})

    launcher = launcher_overhead(a.ptexport, a.launcher, a.work) if a.launcher else None
    if launcher:
        log(f"launcher overhead: {launcher['overhead_ms']:.1f} ms ({launcher['launcher_ms']:.1f} ms against "
            f"{launcher['binary_ms']:.1f} ms for --version)")

    results = []
    versions = {}
    for short in models:
        m = prepared[short]
        if "error" in m:
            fail = {"runs": 0, "ok": 0, "exit": "build", "error": m["error"]}
            rec = {"model": short, "spec": MODELS[short], "dynamic": {}, "ptexport": fail, "no_verify": fail,
                   "torch": fail, "write": {}, "raw": {}}
            rec["eval"] = evaluate(rec)
            results.append(rec)
            continue
        raw = {"ptexport": [], "no_verify": [], "torch": []}
        pt2 = {k: os.path.join(art, f"{m['name']}.{k}.pt2") for k in raw}
        skip = set()  # a tool that failed in the warm-up is run once more only (failures are deterministic)
        first = short == models[0]
        rounds = ([False] if warmup == "model" or (warmup == "once" and first) else []) + [True] * repeat
        if warmup == "once":
            for f in (m["model"], m["eager"]):  # into the page cache, as a warm-up round would
                with open(f, "rb") as fh:
                    while fh.read(1 << 24):
                        pass
        for i, measured in enumerate(rounds):
            for tool in ("ptexport", "no_verify", "torch"):
                if tool in skip:
                    continue
                if tool == "torch":
                    r = run_torch(m, pt2[tool], a.work, a.timeout)
                else:
                    r = run_ptexport(a.ptexport, m, pt2[tool], tool == "ptexport", a.work, a.timeout)
                    versions.update(r.pop("versions", {}) or {})
                label = "round %d" % i if measured else "warm-up"
                log(f"{short}: {tool} {label}: exit {r['exit']}, {r['wall_s']:.2f} s, {r['peak_rss_mib']:.0f} MiB"
                    + (f" ({r.get('error')})" if r["exit"] else ""))
                slow = r["exit"] == 0 and r["wall_s"] > a.slow_limit
                if measured or r["exit"] != 0 or slow:
                    r["warmup"] = not measured
                    raw[tool].append(r)
                if r["exit"] != 0:
                    skip.add(tool)
                elif slow:  # measured once: the table shows the number of runs
                    log(f"{short}: {tool} took over {a.slow_limit:.0f} s (--slow-limit): not run again")
                    skip.add(tool)
        rec = {"model": short, "spec": m["name"], "dynamic": m["meta"]["dynamic"],
               "ptexport": summarize(raw["ptexport"]), "no_verify": summarize(raw["no_verify"]),
               "torch": summarize(raw["torch"]), "raw": raw}
        # the write benchmark: the artifact's weights against cp of as many bytes
        src = next((k for k in ("no_verify", "ptexport") if rec[k].get("ok")), None)
        write = {}
        if src:
            nbytes = weights_bytes(pt2[src])
            write = {"weights_bytes": nbytes, "weights_mib": nbytes / 2 ** 20,
                     "write_artifact_s": rec[src]["timings"].get("write artifact"),
                     "peak_rss_over_weights": (rec["no_verify"].get("peak_rss_mib") or 0) / max(nbytes / 2 ** 20, 1e-9)}
            write.update(time_copy(nbytes, art, repeat))
            lines = [r.get("write_line") for r in raw[src] if r.get("write_line")]
            if lines:
                write["write_line"] = lines[-1]
        rec["write"] = write
        rec["eval"] = evaluate(rec)
        results.append(rec)
        for k in pt2.values():
            if os.path.exists(k):
                os.remove(k)

    env["load_after"] = _load()
    env["noisy"] = max(env["load_before"][0], env["load_after"][0]) > (os.cpu_count() or 1)
    env["versions"] = versions
    doc = {"schema": SCHEMA, "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "command": command.strip(), "repeat": repeat, "slow_limit_s": a.slow_limit, "warmup": warmup, "environment": env,
           "baseline": baseline, "launcher": launcher, "targets": TARGETS, "notes": NOTES + a.note, "models": results}
    with open(os.path.join(out_dir, "benchmarks.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    with open(os.path.join(out_dir, "benchmarks.md"), "w") as f:
        f.write(markdown(doc) + "\n")
    log(f"wrote {os.path.join(out_dir, 'benchmarks.md')} and benchmarks.json")
    readme = os.path.join(ROOT, "README.md")
    if os.path.realpath(out_dir) == os.path.realpath(os.path.join(ROOT, "docs")) and update_readme(doc, readme):
        log(f"updated the benchmark figures in {readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
