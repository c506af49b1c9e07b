"""bench/bench_report.py: what bench/compare.py measured, judged and written out: the stages and
targets (issue 14's ratios), each model's ratios and verdicts (evaluate), docs/benchmarks.md
(markdown) and the README's figures (update_readme). compare.py runs the tools.
"""
from __future__ import annotations

import os

WARMUPS = {"model": "one unmeasured warm-up round per model",
           "once": "one unmeasured warm-up round on the first model (process start, shared libraries and python "
                   "modules warm) and every model's files read once into the page cache",
           "none": "no warm-up"}
STAGES = ["load model", "load inputs", "trace", "solve", "verify", "write artifact"]
ANALYSIS = ["trace", "solve"]  # ptexport's shape analysis: the symbolic trace (shape rules, guards) and Z3

# Issue 14's targets, checked per model (None: not measurable, for example a tool failed).
RSS_OVER_WEIGHTS_MIB = 250
TARGETS = {
    "whole_process": "default export (load, trace, solve, write, verify) >= 4x faster than python export+save",
    "whole_process_no_verify": "--no-verify export >= 10x faster than python export+save",
    "analysis": "in-process analysis (trace + solve) >= 20x faster than torch.export.export()",
    "write": "write artifact stage within 1.5x of `cp` of the weights' bytes (models with 1 MiB of weights or more)",
    "memory": "peak RSS of the default export below torch's",
    "memory_no_verify": f"peak RSS of --no-verify at most the weights + {RSS_OVER_WEIGHTS_MIB} MiB",
}


def _ratio(a, b):
    return (a / b) if (a is not None and b not in (None, 0)) else None


def evaluate(model: dict) -> dict:
    """Ratios and target verdicts of one model (None: not measurable, e.g. a tool failed)."""
    p, nv, t = model["ptexport"], model["no_verify"], model["torch"]
    r = {}
    r["whole_process"] = _ratio(t.get("wall_s"), p.get("wall_s"))
    r["whole_process_no_verify"] = _ratio(t.get("wall_s"), nv.get("wall_s"))
    analysis = None
    src = p if "timings" in p else nv
    if "timings" in src and all(k in src["timings"] for k in ANALYSIS):
        analysis = sum(src["timings"][k] for k in ANALYSIS)
    r["analysis_s"] = analysis
    r["analysis"] = _ratio((t.get("timings") or {}).get("export"), analysis)
    w = model.get("write") or {}
    r["write"] = _ratio(w.get("write_artifact_s"), w.get("cp_s"))
    r["write_vs_cp_sync"] = _ratio(w.get("write_artifact_s"), w.get("cp_sync_s"))
    r["memory"] = _ratio(p.get("peak_rss_mib"), t.get("peak_rss_mib"))
    r["memory_no_verify"] = _ratio(nv.get("peak_rss_mib"), t.get("peak_rss_mib"))
    met = {
        "whole_process": None if r["whole_process"] is None else r["whole_process"] >= 4,
        "whole_process_no_verify": (None if r["whole_process_no_verify"] is None
                                    else r["whole_process_no_verify"] >= 10),
        "analysis": None if r["analysis"] is None else r["analysis"] >= 20,
        # under 1 MiB of weights the fixed costs (a process, an fsync) decide: not a measure of writing
        "write": None if r["write"] is None or w.get("weights_bytes", 0) < 2 ** 20 else r["write"] <= 1.5,
        "memory": None if r["memory"] is None else r["memory"] < 1,
        "memory_no_verify": (None if nv.get("peak_rss_mib") is None or not w.get("weights_mib")
                             else nv["peak_rss_mib"] <= w["weights_mib"] + RSS_OVER_WEIGHTS_MIB),
    }
    return {"ratios": r, "met": met}


# ---------------------------------------------------------------------------------------------
# Markdown

def _f(x, unit="", nd=2):
    if x is None:
        return "–"
    if unit == "x":
        return f"{x:.1f}x" if x < 100 else f"{x:.0f}x"
    return f"{x:.{nd}f}{unit}"


def _cell(s: dict, key="wall_s", unit=" s", nd=2, repeat=None):
    if s.get("ok", 0) == 0:
        return "**timeout**" if s.get("exit") == "timeout" else f"**fails (exit {s.get('exit')})**"
    few = f" ({s['ok']} run{'s' if s['ok'] > 1 else ''})" if repeat and s["ok"] < repeat else ""
    return _f(s.get(key), unit, nd) + few


def _verdict(v):
    return "–" if v is None else ("met" if v else "**missed**")


def _why(m: dict) -> list[str]:
    """Measured reasons for each missed target of one model."""
    out = []
    name, p, nv, t, ev = m["model"], m["ptexport"], m["no_verify"], m["torch"], m["eval"]
    pt, tt = p.get("timings", {}), t.get("timings", {})
    if ev["met"]["whole_process"] is False:
        stages = ", ".join(f"{k} {pt[k]:.2f}" for k in STAGES if k in pt)
        rest = p["wall_s"] - sum(pt.values())
        tstages = ", ".join(f"{k} {v:.2f}" for k, v in tt.items())
        big = max(pt, key=pt.get)
        nv_txt = (f"; with --no-verify {nv['wall_s']:.2f} s, {ev['ratios']['whole_process_no_verify']:.1f}x"
                  if nv.get("wall_s") else "")
        out.append(f"{name}, whole process: ptexport {p['wall_s']:.2f} s = stages ({stages}) + "
                   f"{rest:.2f} s process start/exit; largest stage: {big} ({100 * pt[big] / p['wall_s']:.0f}%)"
                   f"{nv_txt}. torch {t['wall_s']:.2f} s ({tstages}).")
    if ev["met"]["whole_process_no_verify"] is False and nv.get("timings"):
        nt = nv["timings"]
        stages = ", ".join(f"{k} {nt[k]:.2f}" for k in STAGES if k in nt)
        out.append(f"{name}, --no-verify: {nv['wall_s']:.2f} s = stages ({stages}) + "
                   f"{nv['wall_s'] - sum(nt.values()):.2f} s process start/exit, against torch {t.get('wall_s', 0):.2f} s "
                   f"({ev['ratios']['whole_process_no_verify']:.1f}x).")
    if ev["met"]["analysis"] is False:
        pt = pt or nv.get("timings", {})  # the default export failed: its --no-verify run's stages
        out.append(f"{name}, analysis: trace {pt.get('trace', 0):.3f} s + solve {pt.get('solve', 0):.3f} s = "
                   f"{ev['ratios']['analysis_s']:.3f} s against torch.export.export() {tt.get('export', 0):.3f} s; "
                   f"the larger part is {'solve' if pt.get('solve', 0) > pt.get('trace', 0) else 'trace'}.")
    if ev["met"]["write"] is False:
        w = m["write"]
        out.append(f"{name}, write: the write artifact stage took {w['write_artifact_s']:.3f} s for "
                   f"{w['weights_mib']:.1f} MiB of weights, `cp` {w['cp_s']:.3f} s, `cp` + `sync` "
                   f"{w['cp_sync_s']:.3f} s; ptexport's stage line: `{w.get('write_line', '')}`.")
    if ev["met"]["memory"] is False:
        out.append(f"{name}, memory: ptexport peak {p['peak_rss_mib']:.0f} MiB (--no-verify "
                   f"{_f(nv.get('peak_rss_mib'), '', 0)} MiB) against torch {t['peak_rss_mib']:.0f} MiB; "
                   f"weights {m['write'].get('weights_mib', 0):.0f} MiB.")
    if ev["met"]["memory_no_verify"] is False:
        out.append(f"{name}, memory without verification: --no-verify peak {nv['peak_rss_mib']:.0f} MiB against "
                   f"weights {m['write']['weights_mib']:.0f} MiB + {RSS_OVER_WEIGHTS_MIB} MiB.")
    return out


def markdown(doc: dict) -> str:
    env = doc["environment"]
    L = []
    L.append("# Benchmarks: ptexport against torch.export")
    L.append("")
    L.append("Generated by `" + doc["command"] + "` (bench/compare.py; do not edit by hand).")
    L.append("")
    L.append(f"- date: {doc['date']}")
    L.append(f"- machine: {env['cpu']}, {env['cores']} cores, {env['memory_gib']:.0f} GiB, {env['os']}")
    L.append(f"- load average (1, 5, 15 min): before {env['load_before']}, after {env['load_after']}"
             + (" — **the machine was busy (load above its core count): timings are noisy**"
                if env.get("noisy") else ""))
    L.append(f"- versions: ptexport {env['versions'].get('ptexport', '?')}, LibTorch {env['versions'].get('libtorch', '?')}, "
             f"Z3 {env['versions'].get('z3', '?')}, python3-torch {env['torch']}, torchvision {env['torchvision']}, "
             f"python {env['python']}")
    L.append(f"- rounds: {doc['repeat']} per tool and model after {WARMUPS[doc['warmup']]}, "
             "the tools alternating in each round; figures are medians (peak RSS: the maximum)"
             + (f"; a tool whose run took over {doc['slow_limit_s']:.0f} s is not run again on that model (the cell "
                "shows its number of runs)" if "slow_limit_s" in doc else ""))
    L.append("")
    L.append("Each figure is a fresh process. **ptexport** is `ptexport export model.pt inputs.json -o X.pt2 --json` "
             "(the default: it verifies the artifact against the eager model, values at the sample and at small "
             "valid sizes, shapes and dtypes only at the largest); **no-verify** adds `--no-verify`; **torch** is `python3 -c` that "
             "imports torch, `torch.load`s the same module (pickled, same weights), calls `torch.export.export` "
             "with `torch.export.Dim`s of the same ranges and `torch.export.save`. torch.export does not verify, "
             "so the no-verify column is the like-for-like one; **the targets are checked against the default "
             "`export`** (what users run), and the no-verify ratios are shown beside them.")
    L.append("")
    if doc.get("launcher"):
        d = doc["launcher"]
        L.append(f"Launcher overhead (issue 13): the installed `ptexport --version` (scripts/install.sh: the root's "
                 f"loader and libraries, no chroot) {d['launcher_ms']:.1f} ms against the raw binary's "
                 f"{d['binary_ms']:.1f} ms, medians of {d['runs']}: **{d['overhead_ms']:.1f} ms**, target under "
                 f"30 ms: {'met' if d['overhead_ms'] < 30 else 'missed'}.")
        L.append("")
    if doc.get("baseline"):
        L.append("Fixed cost of a process (median wall, peak RSS): " + ", ".join(
            f"`{b['what']}` {b['wall_s']:.2f} s, {b['peak_rss_mib']:.0f} MiB" for b in doc["baseline"]) + ".")
        L.append("")
    L.append("## Whole process: load the model, write the .pt2")
    L.append("")
    L.append("| model | dynamic | ptexport | no-verify | torch export+save | speed-up | speed-up no-verify | >= 4x | no-verify >= 10x |")
    L.append("|---|---|---|---|---|---|---|---|---|")
    for m in doc["models"]:
        dyn = ", ".join(f"{k} [{v[0]}, {v[1]}]" for k, v in m["dynamic"].items())
        ev = m["eval"]
        L.append(f"| {m['model']} | {dyn} | {_cell(m['ptexport'], repeat=doc['repeat'])} | "
                 f"{_cell(m['no_verify'], repeat=doc['repeat'])} | {_cell(m['torch'], repeat=doc['repeat'])} | "
                 f"{_f(ev['ratios']['whole_process'], 'x')} | {_f(ev['ratios']['whole_process_no_verify'], 'x')} | "
                 f"{_verdict(ev['met']['whole_process'])} | {_verdict(ev['met']['whole_process_no_verify'])} |")
    L.append("")
    L.append("## In process: ptexport's stages and torch.export's calls (seconds)")
    L.append("")
    L.append("| model | load model | load inputs | trace | solve | verify | write artifact | torch: import | torch.load | "
             "export() | save() | analysis speed-up (trace+solve vs export()) | >= 20x |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for m in doc["models"]:
        pt = m["ptexport"].get("timings") or m["no_verify"].get("timings") or {}
        tt = m["torch"].get("timings", {})
        ev = m["eval"]
        cells = [_f(pt.get(k), "", 3) for k in STAGES]
        label = m["model"]
        if m["ptexport"].get("ok", 0) == 0 and m["no_verify"].get("ok", 0) == 0:
            cells[0] = f"**fails (exit {m['ptexport'].get('exit')})**"
        elif m["ptexport"].get("ok", 0) == 0:
            label += " (the --no-verify run's stages: the default export " + (
                "timed out)" if m["ptexport"].get("exit") == "timeout" else f"failed, exit {m['ptexport'].get('exit')})")
        tcells = [_f(tt.get(k), "", 3) for k in ("import torch", "load model", "export", "save")]
        if m["torch"].get("ok", 0) == 0:
            tcells[0] = f"**fails (exit {m['torch'].get('exit')})**"
        L.append(f"| {label} | " + " | ".join(cells) + " | " + " | ".join(tcells) +
                 f" | {_f(ev['ratios']['analysis'], 'x')} | {_verdict(ev['met']['analysis'])} |")
    L.append("")
    L.append("## Writing weights (issue 5) and peak memory")
    L.append("")
    L.append("`cp` copies a file of the weights' size (warm in the page cache, as ptexport's weights are in memory) "
             "to the same folder; `cp`+`sync` also flushes it to disk, as ptexport's atomic write does "
             "(temporary file, fsync, rename). Peak RSS is the process's maximum resident set (getrusage).")
    L.append("")
    L.append("| model | weights | write artifact | cp | cp+sync | write / cp | <= 1.5x | ptexport RSS | no-verify RSS "
             "| torch RSS | ptexport / torch | RSS / weights (no-verify) | below torch | no-verify <= weights + "
             f"{RSS_OVER_WEIGHTS_MIB} MiB |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for m in doc["models"]:
        w, ev = m.get("write") or {}, m["eval"]
        rss_w = _ratio(m["no_verify"].get("peak_rss_mib"), w.get("weights_mib"))
        L.append(f"| {m['model']} | {_f(w.get('weights_mib'), ' MiB', 1)} | {_f(w.get('write_artifact_s'), ' s', 3)} | "
                 f"{_f(w.get('cp_s'), ' s', 3)} | {_f(w.get('cp_sync_s'), ' s', 3)} | {_f(ev['ratios']['write'], 'x')} | "
                 f"{_verdict(ev['met']['write'])} | {_cell(m['ptexport'], 'peak_rss_mib', ' MiB', 0)} | "
                 f"{_cell(m['no_verify'], 'peak_rss_mib', ' MiB', 0)} | {_cell(m['torch'], 'peak_rss_mib', ' MiB', 0)} | "
                 f"{_f(ev['ratios']['memory'], 'x')} | {_f(rss_w, 'x')} | {_verdict(ev['met']['memory'])} | "
                 f"{_verdict(ev['met']['memory_no_verify'])} |")
    L.append("")
    L.append("## Targets")
    L.append("")
    L.append("| target | met on | missed on | not measured |")
    L.append("|---|---|---|---|")
    for key, text in TARGETS.items():
        met = [m["model"] for m in doc["models"] if m["eval"]["met"][key] is True]
        miss = [m["model"] for m in doc["models"] if m["eval"]["met"][key] is False]
        na = [m["model"] for m in doc["models"] if m["eval"]["met"][key] is None]
        L.append(f"| {text} | {', '.join(met) or '–'} | {', '.join(miss) or '–'} | {', '.join(na) or '–'} |")
    L.append("")
    fails = [(m["model"], tool, m[key]) for m in doc["models"]
             for tool, key in (("ptexport", "ptexport"), ("ptexport --no-verify", "no_verify"), ("torch", "torch"))
             if m[key].get("exit")]
    if fails:
        L.append("## Failures")
        L.append("")
        for model, tool, s in fails:
            L.append(f"- {model}, {tool}: exit {s['exit']}: `{s.get('error', '')}`")
        L.append("")
    why = [w for m in doc["models"] for w in _why(m)]
    if why:
        L.append("## Why a target is missed (measured)")
        L.append("")
        for w in why:
            L.append(f"- {w}")
        L.append("")
    analysis = os.path.join(os.path.dirname(os.path.abspath(__file__)), "analysis.md")
    if os.path.exists(analysis):  # the hand-written reasons, from a profile
        with open(analysis) as f:
            L.append(f.read().rstrip("\n"))
        L.append("")
    if doc.get("notes"):
        L.append("## Notes")
        L.append("")
        for n in doc["notes"]:
            L.append(f"- {n}")
        L.append("")
    return "\n".join(L)


def readme_summary(doc: dict) -> str:
    """The README's short table of the current ratios (between its bench markers)."""
    env = doc["environment"]
    L = [f"Last run: {doc['date']}, `{doc['command']}`, load average {env['load_before'][0]} before and "
         f"{env['load_after'][0]} after on {env['cores']} cores"
         + (" (busy: noisy timings)" if env.get("noisy") else "") + ". Speed-up is torch's time over ptexport's:",
         "",
         "| model | whole process (default export / --no-verify) | analysis vs export() | peak RSS vs torch |",
         "|---|---|---|---|"]
    for m in doc["models"]:
        r = m["eval"]["ratios"]
        if m["ptexport"].get("ok", 0) == 0 and m["no_verify"].get("ok", 0) == 0:
            L.append(f"| {m['model']} | ptexport fails (exit {m['ptexport'].get('exit')}) | – | – |")
            continue
        default = _f(r["whole_process"], "x") if m["ptexport"].get("ok") else (
            "timeout" if m["ptexport"].get("exit") == "timeout" else f"fails (exit {m['ptexport'].get('exit')})")
        L.append(f"| {m['model']} | {default} / {_f(r['whole_process_no_verify'], 'x')} | "
                 f"{_f(r['analysis'], 'x')} | {_f(r['memory'], 'x')} (--no-verify {_f(r['memory_no_verify'], 'x')}) |")
    L.append("")
    for key, text in TARGETS.items():
        met = [m["model"] for m in doc["models"] if m["eval"]["met"][key] is True]
        miss = [m["model"] for m in doc["models"] if m["eval"]["met"][key] is False]
        L.append(f"- {text}: met on {', '.join(met) or 'none'}; missed on {', '.join(miss) or 'none'}")
    return "\n".join(L)


README_BEGIN = "<!-- bench:begin (scripts/bench.sh rewrites this block) -->"
README_END = "<!-- bench:end -->"


def update_readme(doc: dict, path: str) -> bool:
    with open(path) as f:
        text = f.read()
    if README_BEGIN not in text or README_END not in text:
        return False
    head, rest = text.split(README_BEGIN, 1)
    _, tail = rest.split(README_END, 1)
    with open(path + ".tmp", "w") as f:
        f.write(head + README_BEGIN + "\n" + readme_summary(doc) + "\n" + README_END + tail)
    os.replace(path + ".tmp", path)
    return True
