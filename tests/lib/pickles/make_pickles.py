#!/usr/bin/env python3
"""Makes the torch.save test files of tests/lib/{unpickler,pickled_module,fuzz_unpickler}_test.cpp.

Run at test time by ctest (tests/CMakeLists.txt, fixture `models`) with the environment's torch:
    make_pickles.py --out BUILD/pickles

For every model NAME in MODELS it writes
    NAME.pt          torch.save(model): what ptexport loads with its restricted unpickler
    NAME.ref.pt      torch.save({"input": x, "output": model.eval()(x)}): tensors only, the eager
                     reference (read back with our own unpickler)
    NAME.script.pt   torch.jit.script(model.eval()).save(...) when torch can script the model: the
                     TorchScript path, to compare the generated graph with
Refusal and malformed inputs:
    os_system.pt, posix_system.pt, builtins_eval.pt   malicious pickles; each payload would create
                     the file MARKER.<name> in --out. Each payload is proven real here: a plain
                     `pickle.loads` runs it and the marker appears; then the marker is removed, and the
                     C++ tests check that ptexport's loader never makes it appear again.
    user_class.pt, user_block.pt, state_dict.pt, module_list.pt, lstm.pt, legacy.pt,
    bad_storage_size.pt, missing_storage.pt, big_endian.pt, torchscript.pt
"""
import argparse
import io
import os
import pickle
import shutil
import sys
import warnings
import zipfile
from collections import OrderedDict

import torch
import torch.nn as nn

warnings.simplefilter("ignore")


def mlp():
    torch.manual_seed(1)
    m = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(), nn.Dropout(0.2), nn.Linear(16, 4))
    return m, (torch.randn(5, 8),)


def cnn():
    torch.manual_seed(2)
    m = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, stride=2, padding=1, padding_mode="reflect"), nn.BatchNorm2d(16), nn.ReLU(),
        nn.AdaptiveAvgPool2d((2, 2)), nn.Flatten(), nn.Linear(64, 10))
    warm_up(m, torch.randn(4, 3, 16, 16))
    m.train()  # saved in training mode on purpose: ptexport exports in eval mode
    return m, (torch.randn(2, 3, 16, 16),)


def emb():
    torch.manual_seed(3)
    m = nn.Sequential(nn.Embedding(50, 16, padding_idx=0), nn.LayerNorm(16), nn.GELU(), nn.Linear(16, 8),
                      nn.Softmax(dim=-1))
    return m, (torch.randint(0, 50, (2, 7)),)


def zoo1d():
    torch.manual_seed(4)
    m = nn.Sequential(
        nn.Conv1d(4, 8, 3, padding="same"), nn.BatchNorm1d(8), nn.LeakyReLU(0.1), nn.MaxPool1d(2),
        nn.Conv1d(8, 8, 3, padding=1, padding_mode="circular", groups=2), nn.ELU(0.7), nn.AvgPool1d(2),
        nn.ConvTranspose1d(8, 4, 3, stride=2), nn.GroupNorm(2, 4), nn.SiLU(), nn.ConstantPad1d((1, 2), 0.5),
        nn.ZeroPad1d(1), nn.AdaptiveAvgPool1d(3), nn.Hardswish(), nn.Flatten(), nn.Linear(12, 6), nn.Mish(),
        nn.LogSoftmax(dim=1))
    warm_up(m, torch.randn(6, 4, 20))
    return m, (torch.randn(3, 4, 20),)


def zoo2d():
    torch.manual_seed(5)
    m = nn.Sequential(
        nn.ZeroPad2d((1, 0, 2, 1)), nn.Conv2d(2, 4, (3, 2), stride=(1, 2), dilation=(2, 1), bias=False),
        nn.BatchNorm2d(4, track_running_stats=False), nn.Hardtanh(-0.5, 0.5),
        nn.ConvTranspose2d(4, 3, 3, stride=2, output_padding=1), nn.ReLU6(),
        nn.AvgPool2d(2, ceil_mode=True, count_include_pad=False), nn.Sigmoid(), nn.ConstantPad2d(1, -1.0),
        nn.MaxPool2d((2, 3), stride=1, padding=1), nn.Hardsigmoid(), nn.PReLU(3), nn.AvgPool2d(3, stride=1, padding=1, divisor_override=7),
        nn.AdaptiveAvgPool2d((None, 2)), nn.Softplus(2.0, 5.0), nn.Identity(), nn.Flatten(0, 1), nn.Softmax())
    return m, (torch.randn(2, 2, 9, 10),)


def nested():
    torch.manual_seed(6)
    block = nn.Sequential(OrderedDict([
        ("norm", nn.BatchNorm1d(12, affine=False, momentum=None)), ("act", nn.SiLU(inplace=True))]))
    m = nn.Sequential(OrderedDict([
        ("fc1", nn.Linear(6, 12, bias=False)), ("block", block), ("unflat", nn.Unflatten(1, (1, 1, 3, 4))),
        ("conv", nn.Conv3d(1, 2, (1, 2, 2))), ("bn3", nn.BatchNorm3d(2)), ("flat", nn.Flatten()),
        ("fc2", nn.Linear(2 * 1 * 2 * 3, 3))]))
    warm_up(m, torch.randn(8, 6))
    return m, (torch.randn(4, 6),)


def single():
    torch.manual_seed(7)
    return nn.Linear(3, 2), (torch.randn(4, 3),)


MODELS = {"mlp": mlp, "cnn": cnn, "emb": emb, "zoo1d": zoo1d, "zoo2d": zoo2d, "nested": nested, "single": single}


def warm_up(m, x):
    """A few training steps' worth of batch statistics, so running_mean/var are not 0/1."""
    m.train()
    with torch.no_grad():
        for _ in range(3):
            m(x + torch.randn_like(x) * 0.1)


def save_models(out):
    for name, make in MODELS.items():
        model, inputs = make()
        torch.save(model, os.path.join(out, name + ".pt"))
        model.eval()
        with torch.no_grad():
            output = model(*[x.clone() for x in inputs])
        torch.save({"input": inputs[0], "output": output}, os.path.join(out, name + ".ref.pt"))
        try:
            torch.jit.script(model).save(os.path.join(out, name + ".script.pt"))
        except Exception as e:  # AdaptiveAvgPool2d((None, k)) cannot be scripted, for one
            print(f"make_pickles: {name}: not scriptable ({str(e).splitlines()[0][:80]}...)")


class _Payload:
    """Pickles as a call of `func(*args)`: what a malicious model file does."""

    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def replace_pickle(src, dst, data_pkl, drop=(), extra=None):
    """Copies the torch.save zip `src` to `dst`, replacing data.pkl (and dropping/adding records)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        top = zin.namelist()[0].split("/")[0]
        for info in zin.infolist():
            rel = info.filename[len(top) + 1:]
            if rel in drop:
                continue
            data = zin.read(info.filename)
            if rel == "data.pkl" and data_pkl is not None:
                data = data_pkl
            if extra and rel in extra:
                data = extra[rel]
            zout.writestr(info.filename, data)


def save_malicious(out):
    def marker(name):
        return os.path.join(out, "MARKER." + name)

    # os.system named as such (hand-written protocol 2 pickle: GLOBAL 'os system').
    cmd = f"touch '{marker('os_system')}'".encode()
    handmade = b"\x80\x02cos\nsystem\nq\x00X" + len(cmd).to_bytes(4, "little") + cmd + b"\x85q\x01Rq\x02."
    # What pickling os.system gives on Linux (its __module__ is posix), and builtins.eval.
    posix = pickle.dumps(_Payload(os.system, (f"touch '{marker('posix_system')}'",)), protocol=2)
    evil_eval = pickle.dumps(
        _Payload(eval, (f"__import__('os').system(\"touch '{marker('builtins_eval')}'\")",)), protocol=2)
    base = os.path.join(out, "mlp.pt")
    for name, data in [("os_system", handmade), ("posix_system", posix), ("builtins_eval", evil_eval)]:
        path = os.path.join(out, name + ".pt")
        replace_pickle(base, path, data)
        # Prove the payload is real: an unrestricted load runs it.
        if os.path.exists(marker(name)):
            os.remove(marker(name))
        with zipfile.ZipFile(path) as z:
            pickle.loads(z.read(z.namelist()[0].split("/")[0] + "/data.pkl"))
        if not os.path.exists(marker(name)):
            sys.exit(f"make_pickles: the {name} payload did not create its marker")
        os.remove(marker(name))


class Net(nn.Module):  # a user class: pickled as __main__.Net
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 3)

    def forward(self, x):
        return self.fc(x).relu()


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return x + self.fc(x)


def save_refusals(out):
    torch.manual_seed(8)
    torch.save(Net(), os.path.join(out, "user_class.pt"))
    torch.save(nn.Sequential(nn.Linear(4, 4), Block()), os.path.join(out, "user_block.pt"))
    torch.save(nn.Sequential(nn.Linear(4, 4), nn.ReLU()).state_dict(), os.path.join(out, "state_dict.pt"))
    torch.save(nn.ModuleList([nn.Linear(2, 2)]), os.path.join(out, "module_list.pt"))
    torch.save(nn.Sequential(nn.Linear(4, 4), nn.LSTM(4, 3)), os.path.join(out, "lstm.pt"))
    torch.save(nn.Sequential(nn.Linear(2, 2)), os.path.join(out, "legacy.pt"), _use_new_zipfile_serialization=False)
    torch.jit.script(nn.Sequential(nn.Linear(2, 2))).save(os.path.join(out, "torchscript.pt"))
    base = os.path.join(out, "mlp.pt")
    with zipfile.ZipFile(base) as z:
        top = z.namelist()[0].split("/")[0]
        short = z.read(top + "/data/0")[:-4]
    replace_pickle(base, os.path.join(out, "bad_storage_size.pt"), None, extra={"data/0": short})
    replace_pickle(base, os.path.join(out, "missing_storage.pt"), None, drop=("data/1",))
    replace_pickle(base, os.path.join(out, "big_endian.pt"), None, extra={"byteorder": b"big"})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    out = os.path.abspath(args.out)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    save_models(out)
    save_malicious(out)
    save_refusals(out)
    print(f"make_pickles: wrote {len(os.listdir(out))} files to {out}")


if __name__ == "__main__":
    main()
