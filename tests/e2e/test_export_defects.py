"""The defects found by trying models as a new user would (issue 17), one check each. Every model is
scripted here from a few lines of python; every artifact written is loaded by the real
torch.export.load and compared with the eager model (conformance.check_artifact), at the sample and
at the ends of its ranges, and inputs outside the ranges must be rejected.

    python3 tests/e2e/test_export_defects.py [CHECK...]
"""
import json
import os
import sys
import tempfile
import traceback
import warnings
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cli_common  # noqa: E402
import conformance  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torchvision  # noqa: E402  (torch.ops.torchvision for scripting and for torch.export.load)


def save_scripted(module: nn.Module, tmp: str, name: str) -> str:
    torch.manual_seed(0)
    path = os.path.join(tmp, name + ".pt")
    torch.jit.save(torch.jit.script(module.eval()), path)
    return path


def write_inputs(tmp: str, name: str, args: list, dims: dict, method=None) -> str:
    doc = {"schema": conformance.SCHEMA, "args": args, "dims": {k: {"min": lo, "max": hi} for k, (lo, hi) in dims.items()}}
    if method:
        doc["method"] = method
    path = os.path.join(tmp, name + ".json")
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


def tensor(name, shape, dims, dtype="float32"):
    return {"name": name, "dtype": dtype, "shape": shape, "dims": dims, "data": {"random": {"seed": 0}}}


def export(model, inputs, out, *flags):
    r = cli_common.run("export", model, inputs, "-o", out, "--json", *flags, conformance=False)
    doc = json.loads(r.stdout) if r.stdout.strip().startswith("{") else {}
    return r, doc


def expect(cond, what, r=None):
    if not cond:
        raise AssertionError(what + ("\n" + cli_common.describe(r) if r is not None else ""))


# ---------------------------------------------------------------------------------------------
# A scripted bare nn.LSTM has only forward__0 (Tensor) and forward__1 (PackedSequence): the inputs choose

def check_lstm_overload(tmp):
    model = save_scripted(nn.LSTM(8, 16, batch_first=True), tmp, "lstm")
    inputs = write_inputs(tmp, "lstm", [tensor("input", [2, 5, 8], ["batch", "seq", None])],
                          {"batch": (1, 16), "seq": (1, 32)})
    out = os.path.join(tmp, "lstm.pt2")
    r, doc = export(model, inputs, out)
    expect(r.returncode == 0, "bare scripted LSTM without a method: export failed", r)
    expect(doc["method"] == {"name": "forward__0", "chosen_by": "overload",
                             "overloads": ["forward__0", "forward__1"]}, f"report method {doc.get('method')}", r)
    text = cli_common.run("check", model, inputs, conformance=False)
    expect(text.returncode == 0 and "method forward__0 (the overload of forward that the inputs match" in text.stdout,
           "check's summary does not say which overload it chose", text)
    conformance.check_artifact(out, model, inputs, [{}, {"batch": 1, "seq": 1}, {"batch": 16, "seq": 32},
                                                    {"batch": 5, "seq": 11}], method="forward__0")
    # --method names another overload: the tensor input does not match PackedSequence's tuple
    r2, _ = export(model, inputs, os.path.join(tmp, "lstm1.pt2"), "--method", "forward__1")
    expect(r2.returncode == 3 and "input" in r2.stderr, "--method forward__1 with a tensor input: expected exit 3", r2)
    r3, _ = export(model, inputs, os.path.join(tmp, "lstm2.pt2"), "--method", "forward__0")
    expect(r3.returncode == 0 and doc["method"]["name"] == "forward__0", "--method forward__0", r3)
    r4, _ = export(model, inputs, os.path.join(tmp, "lstm3.pt2"), "--method", "fwd")
    expect(r4.returncode == 2 and "forward__0, forward__1" in r4.stderr, "--method fwd: exit 2 naming the methods", r4)


# A scripted nn.LSTM reads its weights through _flat_weights (a list attribute holding the
# parameters): the artifact holds them once, as parameters, not again as lifted constants

def check_lstm_weights_once(tmp):
    model = save_scripted(nn.LSTM(8, 16, batch_first=True), tmp, "lstm_once")
    inputs = write_inputs(tmp, "lstm_once", [tensor("input", [2, 5, 8], ["batch", "seq", None])],
                          {"batch": (1, 16), "seq": (1, 32)})
    out = os.path.join(tmp, "lstm_once.pt2")
    r, _ = export(model, inputs, out)
    expect(r.returncode == 0, "scripted LSTM: export failed", r)
    ep = torch.export.load(out)
    expect(not ep.constants, f"the artifact holds constant copies of the weights: {sorted(ep.constants)}")
    expect(sorted(ep.state_dict) == sorted(n for n, _ in nn.LSTM(8, 16).named_parameters()),
           f"parameters {sorted(ep.state_dict)}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ep.module()
    lifted = [str(w.message) for w in caught if "lifted_tensor" in str(w.message)]
    expect(not lifted, f"torch's loader warns about lifted copies: {lifted}")
    conformance.check_artifact(out, model, inputs, [{}, {"batch": 1, "seq": 1}, {"batch": 16, "seq": 32}],
                               method="forward__0")


# ---------------------------------------------------------------------------------------------
# torch.export.load's input check skips lower bounds of 2 or less: the artifact asserts them itself

class Double(nn.Module):
    def forward(self, x):
        return x * 2.0


def check_lower_bounds(tmp):
    model = save_scripted(Double(), tmp, "double")
    for lo in (1, 2):
        inputs = write_inputs(tmp, f"double{lo}", [tensor("x", [4, 3], ["batch", None])], {"batch": (lo, 64)})
        out = os.path.join(tmp, f"double{lo}.pt2")
        r, doc = export(model, inputs, out)
        expect(r.returncode == 0, f"batch={lo}:64: export failed", r)
        s = conformance.check_artifact(out, model, inputs, [{}, {"batch": lo}, {"batch": 64}])
        below = [o for o in s.get("out_of_range_all", []) if o["sizes"] == {"batch": lo - 1}]
        expect(below and "Runtime assertion failed" in below[0]["raised"],
               f"batch={lo}:64: batch {lo - 1} was not refused by the artifact: {s.get('out_of_range_all')}")
    # a range from 0 needs no assert: batch 0 runs and equals eager
    inputs = write_inputs(tmp, "double0", [tensor("x", [4, 3], ["batch", None])], {"batch": (0, 64)})
    out = os.path.join(tmp, "double0.pt2")
    r, _ = export(model, inputs, out)
    expect(r.returncode == 0, "batch=0:64: export failed", r)
    conformance.check_artifact(out, model, inputs, [{}, {"batch": 0}, {"batch": 64}])


# ---------------------------------------------------------------------------------------------
# x.squeeze(0) with batch in [0, 1024]: torch.export exports it (the squeeze is a no-op unless batch is 1)

class Squeeze(nn.Module):
    def forward(self, x):
        return x.squeeze(0) + 1.0


def check_squeeze(tmp):
    model = save_scripted(Squeeze(), tmp, "squeeze")
    inputs = write_inputs(tmp, "squeeze", [tensor("x", [4, 3], ["batch", None])], {"batch": (0, 1024)})
    out = os.path.join(tmp, "squeeze.pt2")
    r, doc = export(model, inputs, out)
    expect(r.returncode == 0, "squeeze(0) with batch=0:1024: export failed", r)
    c = cli_common.run("check", model, inputs, "--json", conformance=False)
    expect(c.returncode == r.returncode, f"check exits {c.returncode}, export {r.returncode}", c)
    # The guard Ne(s0, 1) holds everywhere but at 1: the proven range [0, 1024] says so with "excluded"
    # (the artifact refuses 1 at run time), never a bare allowed_at_1 false beside a range holding 1.
    sym = doc["constraints"]["symbols"][0]
    lo, hi = sym["proven"]["min"], sym["proven"]["max"]
    expect((lo, hi) == (0, 1024) and not sym["allowed_at_1"] and sym.get("excluded") == [1],
           f"the report contradicts itself: proven [{lo}, {hi}], allowed_at_1 {sym['allowed_at_1']}, "
           f"excluded {sym.get('excluded')}")
    text = cli_common.run("check", model, inputs, conformance=False)
    expect("proven [0, 1024], 1 refused at run time (a guard fails there)" in text.stdout, "the summary does not say 1 is refused",
           text)
    conformance.check_artifact(out, model, inputs, [{}, {"batch": 2}, {"batch": 1024}, {"batch": 0}])
    args, _ = conformance.load_inputs(inputs, {"batch": 1})
    try:
        torch.export.load(out).module()(*args)
    except RuntimeError as e:
        expect("Runtime assertion failed" in str(e), f"batch 1 refused with another error: {e}")
    else:
        raise AssertionError("batch 1 (where squeeze(0) drops the dim) ran through the artifact")


# ---------------------------------------------------------------------------------------------
# TorchScript-only overloads (x.to(an Optional device) scripts to aten::to.prim_Device) become the
# call torch.export writes, aten.to.dtype_layout, which torch.export.load can run

class ToOptionalDevice(nn.Module):
    def forward(self, x):
        d: Optional[torch.device] = x.device
        return x.to(d) * 2.0 + x.to(d, torch.float64).to(torch.float32)


def check_to_prim_device(tmp):
    model = save_scripted(ToOptionalDevice(), tmp, "to_device")
    targets = {n.kind() + "." + n.schema().split("(")[0].split(".")[-1] for n in torch.jit.load(model).graph.nodes()
               if n.kind() == "aten::to"}
    expect("aten::to.prim_Device" in targets, f"the scripted model does not call to.prim_Device: {targets}")
    inputs = write_inputs(tmp, "to_device", [tensor("x", [4, 3], ["batch", None])], {"batch": (1, 64)})
    out = os.path.join(tmp, "to_device.pt2")
    r, _ = export(model, inputs, out)
    expect(r.returncode == 0, "x.to(optional device): export failed", r)
    ep = torch.export.load(out)
    called = {str(n.target) for n in ep.graph.nodes if n.op == "call_function"}
    expect("aten.to.dtype_layout" in called and not any("prim" in c for c in called), f"artifact calls {called}")
    conformance.check_artifact(out, model, inputs, [{}, {"batch": 1}, {"batch": 64}])


# ---------------------------------------------------------------------------------------------
# A dict of tensors filled item by item and indexed (torchvision's IntermediateLayerGetter + FCN)

class DictFlow(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(4, 4)
        self.b = nn.Linear(4, 4)

    def forward(self, x):
        feats: Dict[str, torch.Tensor] = {}
        feats["out"] = self.a(x)
        feats["aux"] = self.b(x)
        feats["out"] = feats["out"].relu()
        total = x.new_zeros(x.shape)
        for v in feats.values():
            total = total + v
        result: Dict[str, torch.Tensor] = {}
        result["out"] = feats["out"] * 2.0
        result["sum"] = total
        return result


def check_dict_flow(tmp):
    model = save_scripted(DictFlow(), tmp, "dict_flow")
    inputs = write_inputs(tmp, "dict_flow", [tensor("x", [3, 4], ["batch", None])], {"batch": (1, 64)})
    out = os.path.join(tmp, "dict_flow.pt2")
    r, _ = export(model, inputs, out)
    expect(r.returncode == 0, "a dict filled item by item: export failed", r)
    conformance.check_artifact(out, model, inputs, [{}, {"batch": 1}, {"batch": 64}])


class DictFromPairs(nn.Module):
    """torchvision's SSD feature extractor: OrderedDict([(str(i), v) for i, v in enumerate(output)]) (a
    dict made by aten::dict from a list of pairs, evaluated on the sample), then list(d.values()). Its
    tensors are the feature maps, not constants (they were lifted with the sample's values)."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(4, 4)

    def forward(self, x):
        output = [self.a(x), x * 2.0]
        feats = OrderedDict([(str(i), v) for i, v in enumerate(output)])
        values = list(feats.values())
        return values[0] + values[1]


class SizeAsTensor(nn.Module):
    """torchvision's resize_boxes: torch.tensor(s, dtype=torch.float32) of a symbolic size, as
    torch.export writes it: aten.scalar_tensor(s) (was aten::tensor.int, which no interpreter runs)."""

    def forward(self, x):
        ratio = torch.tensor(x.shape[0], dtype=torch.float32, device=x.device) / torch.tensor(4.0)
        return x * ratio


def check_dict_from_pairs(tmp):
    for name, module in [("dict_pairs", DictFromPairs()), ("size_tensor", SizeAsTensor())]:
        model = save_scripted(module, tmp, name)
        inputs = write_inputs(tmp, name, [tensor("x", [3, 4], ["batch", None])], {"batch": (1, 64)})
        out = os.path.join(tmp, name + ".pt2")
        r, _ = export(model, inputs, out)
        expect(r.returncode == 0, f"{name}: export failed", r)
        conformance.check_artifact(out, model, inputs, [{}, {"batch": 1}, {"batch": 64}])


# ---------------------------------------------------------------------------------------------
# Module attributes assigned inside forward (torchvision's RAFT: self.corr_pyramid = [...])

class AttrWithinCall(nn.Module):
    levels: List[torch.Tensor]  # TorchScript wants the type in the class body

    def __init__(self):
        super().__init__()
        self.levels = []

    def build(self, x):
        self.levels = [x]
        self.levels.append(x * 0.5)

    def forward(self, x):
        self.build(x)
        return self.levels[0] + self.levels[1]


class AttrAcrossCalls(nn.Module):
    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, x):
        y = x * float(self.calls)
        self.calls = self.calls + 1
        return y


class WarnOnce(nn.Module):
    """torchvision's warn-once flag (SSD, GeneralizedRCNN when scripted): read, then assigned in a
    branch that only warns. Its state decides whether a warning shows, nothing the program computes."""

    def __init__(self):
        super().__init__()
        self._has_warned = False

    def forward(self, x):
        if not self._has_warned:
            warnings.warn("returns x twice")
            self._has_warned = True
        return x * 2.0


def check_setattr(tmp):
    model = save_scripted(AttrWithinCall(), tmp, "attr_within")
    inputs = write_inputs(tmp, "attr_within", [tensor("x", [3, 4], ["batch", None])], {"batch": (1, 64)})
    out = os.path.join(tmp, "attr_within.pt2")
    r, _ = export(model, inputs, out)
    expect(r.returncode == 0, "an attribute assigned and read within the call: export failed", r)
    conformance.check_artifact(out, model, inputs, [{}, {"batch": 1}, {"batch": 64}])
    model = save_scripted(AttrAcrossCalls(), tmp, "attr_across")
    r2, _ = export(model, inputs, os.path.join(tmp, "attr_across.pt2"))
    expect(r2.returncode == 4 and "carries state from one call to the next" in r2.stderr and ".py:" in r2.stderr,
           "an attribute read then assigned: expected exit 4 naming the line", r2)
    model = save_scripted(WarnOnce(), tmp, "warn_once")
    out = os.path.join(tmp, "warn_once.pt2")
    r3, _ = export(model, inputs, out)
    expect(r3.returncode == 0, "a warn-once flag read then assigned in a branch that only warns: export failed", r3)
    conformance.check_artifact(out, model, inputs, [{}, {"batch": 1}, {"batch": 64}])


# ---------------------------------------------------------------------------------------------
# An object of a TorchScript class made in forward (torchvision's detection transform returns an
# ImageList(tensors, image_sizes)): its attributes keep their symbolic values, its methods run inlined

@torch.jit.script
class Holder:
    def __init__(self, tensors: torch.Tensor, sizes: List[Tuple[int, int]]):
        self.tensors = tensors
        self.sizes = sizes

    def scaled(self, k: float) -> torch.Tensor:
        return self.tensors * k


class MakesObject(nn.Module):
    def forward(self, x):
        sizes: List[Tuple[int, int]] = []
        for k in range(2):
            sizes.append((x.shape[-2] + k, x.shape[-1]))
        holder = Holder(x, sizes)
        other = holder  # a second reference sees the update below
        other.tensors = holder.scaled(2.0) + 1.0
        h, w = holder.sizes[0]
        return holder.tensors.flatten(1)[:, :h * w], holder.sizes, x.new_zeros(len(holder.sizes), w)


class ReturnsObject(nn.Module):
    def forward(self, x) -> Holder:
        return Holder(x, [(x.shape[0], x.shape[1])])


def check_script_object(tmp):
    model = save_scripted(MakesObject(), tmp, "make_object")
    inputs = write_inputs(tmp, "make_object", [tensor("x", [2, 3, 5, 6], ["batch", None, "h", "w"])],
                          {"batch": (1, 8), "h": (2, 16), "w": (2, 16)})
    out = os.path.join(tmp, "make_object.pt2")
    r, doc = export(model, inputs, out)
    expect(r.returncode == 0, "an object of a TorchScript class made in forward: export failed", r)
    expect(not doc.get("guards"), f"guards: {doc.get('guards')}", r)
    conformance.check_artifact(out, model, inputs, [{}, {"batch": 1, "h": 2, "w": 2}, {"batch": 8, "h": 16, "w": 16},
                                                    {"batch": 3, "h": 7, "w": 11}])
    model = save_scripted(ReturnsObject(), tmp, "return_object")
    inputs = write_inputs(tmp, "return_object", [tensor("x", [2, 3], ["batch", None])], {"batch": (1, 8)})
    r2, _ = export(model, inputs, os.path.join(tmp, "return_object.pt2"))
    expect(r2.returncode == 4 and "returns an object of the TorchScript class" in r2.stderr and "Holder" in r2.stderr,
           "an object returned by forward: expected exit 4 naming its class", r2)


# ---------------------------------------------------------------------------------------------
# An int output that does not depend on the dynamic sizes (a constant in the output spec, as torch.export
# keeps it): check and export must agree (export exited 6, counting it as a missing output)

# ---------------------------------------------------------------------------------------------
# A dim marked without a range (requested [0, int_oo]) whose guards fail at 0 or 1: the proven range
# is narrower, and the report and the summary say what was cut, by which guard and why (torch's 0/1
# specialization rule), instead of "every guard holds over the requested ranges"

class Pool(nn.Module):
    def forward(self, x):
        return torch.nn.functional.max_pool1d(x, 2) * 2.0


class Gt4(nn.Module):
    def forward(self, x):
        if x.size(0) > 4:
            return x + 1.0
        return x - 1.0


def check_narrowed(tmp):
    model = save_scripted(Pool(), tmp, "pool")
    inputs = write_inputs(tmp, "pool", [tensor("x", [2, 3, 8], [None, None, "L"])], {})
    out = os.path.join(tmp, "pool.pt2")
    r, doc = export(model, inputs, out)
    expect(r.returncode == 0, "max_pool1d with an unranged L: export failed", r)
    sym = doc["constraints"]["symbols"][0]
    expect(sym["requested"] == {"min": 0, "max": None} and sym["proven"] == {"min": 2, "max": None},
           f"L: requested {sym['requested']}, proven {sym['proven']}")
    # (torch.export 2.14 with Dim("L") on the same module fails: "You marked L as dynamic but your code
    # specialized it to be a constant (8)"; asked on 2026-12-07. Its range for a plain x * 2 is [0, int_oo].)
    narrowed = sym.get("narrowed")
    expect(narrowed and narrowed["reason"] == "zero_one" and
           [g["op"] for g in narrowed["guards"]] == ["aten::max_pool1d"] and
           "size" in narrowed["note"] and "0 and 1 break" in narrowed["note"] and "0/1 specialization" in narrowed["note"],
           f"the narrowing of L is not explained: {narrowed}")
    text = cli_common.run("check", model, inputs, conformance=False)
    expect("every guard holds over the proven ranges (narrower than requested where noted)" in text.stdout and
           "requested [0, int_oo], proven [2, int_oo]\n    narrowed from the requested [0, int_oo]: sizes 0 and 1 break "
           in text.stdout and "every guard holds over the requested ranges" not in text.stdout,
           "the summary does not say L was narrowed", text)
    conformance.check_artifact(out, model, inputs, [{}, {"L": 2}, {"L": 3}, {"L": 101}])
    # A named range that already starts at 2 is not narrowed: no note
    inputs2 = write_inputs(tmp, "pool2", [tensor("x", [2, 3, 8], [None, None, "L"])], {"L": (2, 64)})
    r, doc = export(model, inputs2, os.path.join(tmp, "pool2.pt2"))
    expect(r.returncode == 0 and "narrowed" not in doc["constraints"]["symbols"][0], "L=2:64 got a narrowing note", r)
    # A Dim.DYNAMIC dim takes the range its guards allow: said so
    model = save_scripted(Gt4(), tmp, "gt4")
    inputs = write_inputs(tmp, "gt4", [tensor("x", [8, 3], ["dynamic", None])], {})
    out = os.path.join(tmp, "gt4.pt2")
    r, doc = export(model, inputs, out)
    expect(r.returncode == 0, "an if on a Dim.DYNAMIC size: export failed", r)
    sym = doc["constraints"]["symbols"][0]
    narrowed = sym.get("narrowed") or {}
    expect(sym["proven"] == {"min": 5, "max": None} and narrowed.get("reason") == "dim_hint" and
           narrowed["note"].startswith("narrowed from the requested [0, int_oo]: sizes 0 to 4 break s0 >= 5"),
           f"Dim.DYNAMIC narrowing: proven {sym['proven']}, {narrowed}")
    conformance.check_artifact(out, model, inputs, [{}])
    m, eager = torch.export.load(out).module(), torch.jit.load(model)
    for n in (5, 40):
        x = torch.randn(n, 3)
        torch.testing.assert_close(m(x.clone()), eager(x.clone()))
    try:
        m(torch.randn(4, 3))
    except (RuntimeError, AssertionError):
        pass
    else:
        raise AssertionError("gt4: 4 rows, below the proven range [5, int_oo], ran through the artifact")


# ---------------------------------------------------------------------------------------------
# PTEXPORT_LOGS=+dynamic: the symbols and guards are logged inside the trace stage that made them,
# the verdicts inside the solve stage (they came after the last stage, verify, before)

def check_log_order(tmp):
    model = save_scripted(Gt4(), tmp, "gt4_logs")
    inputs = write_inputs(tmp, "gt4_logs", [tensor("x", [8, 3], ["dynamic", None])], {})
    r = cli_common.run("export", model, inputs, "-o", os.path.join(tmp, "gt4_logs.pt2"),
                       env=cli_common.clean_env(PTEXPORT_LOGS="+dynamic"))
    expect(r.returncode == 0, "export with PTEXPORT_LOGS=+dynamic failed", r)
    lines = r.stderr.splitlines()

    def first(prefix):
        at = [i for i, line in enumerate(lines) if line.startswith(prefix)]
        expect(at, f"no stderr line starts with {prefix!r}", r)
        return at[0]

    trace_end, solve_end = first("[3/6] trace "), first("[4/6] solve ")
    symbol = first("debug[shapes]: symbol s0 = x.size()[0]")
    guard = first("debug[shapes]: guard s0 >= 5 on x.size()[0]: prim::If")
    verdict = first("info[solver]: x.size()[0]: ok, proven [5, int_oo]")
    expect(first("[2/6] load inputs") < symbol < guard < trace_end < verdict < solve_end < first("[5/6] write artifact"),
           "the +dynamic lines are not inside the stages that made them", r)


# ---------------------------------------------------------------------------------------------
# An archive calling torchvision's operators loads: their library is found beside LibTorch and loaded
# (it was exit 3, "Unknown builtin op: torchvision::nms"); with PTEXPORT_TORCHVISION_LIBRARY set empty
# it is not, and the error says how to give it. nms has a shape rule: its output count is an unbacked
# size u in [0, N], as torchvision's fake kernel says (it was exit 4, no shape rule).

class Nms(nn.Module):
    def forward(self, boxes, scores, labels):
        b = torch.cat([boxes[:, :2], boxes[:, :2] + boxes[:, 2:].abs()], 1)  # valid boxes: x1 <= x2, y1 <= y2
        keep = torch.ops.torchvision.nms(b, scores, 0.3)
        per_class = torchvision.ops.batched_nms(b, scores, labels, 0.3)  # boxes.numel() <= 4000: one nms
        return b[keep], scores[keep][:3] * 2.0, per_class


def check_torchvision_ops(tmp):
    model = save_scripted(Nms(), tmp, "nms")
    inputs = write_inputs(tmp, "nms", [tensor("boxes", [40, 4], ["n", None]), tensor("scores", [40], ["n"]),
                                       dict(tensor("labels", [40], ["n"], dtype="int64"),
                                            data={"random": {"dist": "int", "low": 0, "high": 2, "seed": 1}})],
                          {"n": (1, 64)})
    r = cli_common.run("check", model, inputs, conformance=False)
    expect(r.returncode == 0 and "load model (torchscript, operators from " in r.stderr and "torchvision/_C" in r.stderr,
           "torchvision's library was not loaded for an archive calling torchvision::nms", r)
    out = os.path.join(tmp, "nms.pt2")
    r, doc = export(model, inputs, out)
    expect(r.returncode == 0, "nms and batched_nms: export failed", r)
    # the kept counts differ from size to size (random boxes): each is compared with eager
    conformance.check_artifact(out, model, inputs, [{}, {"n": 1}, {"n": 64}, {"n": 23}])
    r = cli_common.run("check", model, inputs, conformance=False, env=cli_common.clean_env(PTEXPORT_TORCHVISION_LIBRARY=""))
    expect(r.returncode == 3 and "Unknown builtin op: torchvision::nms" in r.stderr and
           "torchvision's operator library was not found beside LibTorch" in r.stderr,
           "without the library: not the documented exit 3 and hint", r)


class IntOut(nn.Module):
    def forward(self, x):
        return x * 2.0, x.size(1), x.size(0)


def check_int_output(tmp):
    model = save_scripted(IntOut(), tmp, "int_out")
    inputs = write_inputs(tmp, "int_out", [tensor("x", [3, 4], ["batch", None])], {"batch": (1, 64)})
    out = os.path.join(tmp, "int_out.pt2")
    r, _ = export(model, inputs, out)
    c = cli_common.run("check", model, inputs, conformance=False)
    expect(r.returncode == 0 and c.returncode == 0, f"int outputs: export exit {r.returncode}, check {c.returncode}", r)
    conformance.check_artifact(out, model, inputs, [{}, {"batch": 1}, {"batch": 64}])


CHECKS = {"script_object": check_script_object, "int_output": check_int_output, "dict_flow": check_dict_flow,
          "dict_from_pairs": check_dict_from_pairs, "setattr": check_setattr, "to_prim_device": check_to_prim_device, "lstm_overload": check_lstm_overload, "lstm_weights_once": check_lstm_weights_once, "lower_bounds": check_lower_bounds, "squeeze": check_squeeze, "narrowed": check_narrowed, "log_order": check_log_order,
          "torchvision_ops": check_torchvision_ops}


def run_checks(checks: dict, names: list) -> int:
    """Runs the named checks (all when none), each in a shared temporary folder; 1 if any failed."""
    names = names or list(checks)
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            try:
                checks[name](tmp)
                print(f"ok   {name}", flush=True)
            except Exception as e:  # noqa: BLE001
                failures.append(name)
                print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
                if not isinstance(e, AssertionError):
                    traceback.print_exc()
    print(f"{len(names) - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


def main(argv=None) -> int:
    return run_checks(CHECKS, argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
