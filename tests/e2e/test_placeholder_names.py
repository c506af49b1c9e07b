"""Placeholder names against torch.export, asked live: for modules whose submodules have names
that are not python identifiers as they stand (`block1-0` as torchvision's regnet has, CamelCase,
a digit), the artifact's graph signature names every parameter, buffer and user input as
torch.export.export names them for the same python module (p_trunk_block1_0_weight, ...), and
torch.export.load compiles and runs the artifact (cli_common's check, against eager).
"""
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "models"))
import cli_common  # noqa: E402
import conformance  # noqa: E402
import make_models  # noqa: E402
import torch  # noqa: E402

MODELS = ["odd_names", "odd_names_traced", "mlp", "conv_bn"]


def signature(ep) -> list[tuple[str, str, str]]:
    out = []
    for spec in ep.graph_signature.input_specs:
        out.append((spec.kind.name, getattr(spec.arg, "name", ""), spec.target or ""))
    return out


def main() -> int:
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in MODELS:
            d = os.path.join(cli_common.MODELS, name)
            out = os.path.join(tmp, name + ".pt2")
            r = cli_common.run("export", os.path.join(d, "model.pt"), os.path.join(d, "inputs.json"), "-o", out)
            if r.returncode != 0:
                failures.append(f"{name}: exit {r.returncode}: {r.stderr[-1500:]}")
                continue
            ours = signature(torch.export.load(out))
            module = make_models.build_eager(make_models.SPECS[name].base)
            theirs = signature(conformance.export_with_torch(module, os.path.join(d, "inputs.json")))
            if ours != theirs:
                failures.append(f"{name}: input specs differ from torch.export's\n  ptexport {ours}\n  torch    {theirs}")
            else:
                print(f"ok   {name}: {[n for _, n, _ in ours]}")
    for f in failures:
        print("FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
