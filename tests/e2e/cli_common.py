"""Helpers for the tests/e2e/test_cli_*.py tests: run the built ptexport as a subprocess, with its
streams captured (stdout and stderr apart) or under a pseudo-terminal.

PTX_EXE names the binary (ctest sets it); PTX_MODELS_DIR the test models (tests/models/make_models.py);
PTX_SOURCE_DIR the checkout.
"""
from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import time

EXE = os.environ.get("PTX_EXE", "")
MODELS = os.environ.get("PTX_MODELS_DIR", "")
SOURCE = os.environ.get("PTX_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

ESC = "\x1b"
# "[3/6] propagate shapes (412 nodes, 2 symbols) 0.04s" / "[4/6] solve failed after 0.31s"
STAGE_LINE = re.compile(r"^\[(\d+)/(\d+)\] (.+?) (?:failed after )?(\d+\.\d\ds|\d+\.\ds|\d+m\d\ds)$")


def clean_env(**extra) -> dict:
    """The process environment without the variables that change ptexport's output, plus `extra`
    (a value of None removes the variable)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("NO_COLOR", "PTEXPORT_LOGS", "TORCH_LOGS", "COLUMNS", "CLICOLOR_FORCE")}
    env.setdefault("TERM", "xterm-256color")
    for k, v in extra.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def run(*args, env=None, cwd=None, conformance=True) -> subprocess.CompletedProcess:
    """Runs ptexport with pipes for stdin, stdout and stderr (none of them a terminal). An export
    that succeeds has its artifact checked by the real torch.export.load against the eager model
    (check_written_artifact), unless conformance=False (a model made to differ from its export)."""
    r = subprocess.run([EXE, *map(str, args)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, env=env or clean_env(), cwd=cwd)
    if conformance and r.returncode == 0:
        check_written_artifact([str(a) for a in args], cwd)
    return r


COMMANDS = ("export", "check", "inspect", "run", "verify", "help")
# Options of export that take a value (the others are flags).
VALUE_OPTIONS = {"-o", "--output", "--dynamic", "--report", "--atol", "--rtol", "--solver-timeout",
                 "--color", "--verify-elements", "--log-file", "--log-level", "--verify", "--verify-budget",
                 "--method"}


def check_written_artifact(args: list[str], cwd=None):
    """If `args` is a successful `export` (or the shorthand) that wrote an artifact, loads it with
    torch.export.load and runs it against the eager model on the sample inputs (conformance.py); an
    input outside the range constraints must be rejected when the ranges come from inputs.json alone.
    Every artifact the CLI tests write is checked this way (the project's rule)."""
    if not args or args[0] in COMMANDS[1:] or args[0].startswith("-"):
        return
    positional, out, dynamic, method = [], None, False, None
    i = 1 if args[0] == "export" else 0
    while i < len(args):
        a = args[i]
        if a in VALUE_OPTIONS:
            if a in ("-o", "--output"):
                out = args[i + 1]
            if a == "--method":
                method = args[i + 1]
            dynamic |= a == "--dynamic"
            i += 2
            continue
        if a.startswith("--output=") or a.startswith("-o="):
            out = a.split("=", 1)[1]
        elif a.startswith("--dynamic="):
            dynamic = True
        elif not a.startswith("-"):
            positional.append(a)
        i += 1
    if len(positional) < 2:
        return
    model, inputs = positional[0], positional[1]
    if out is None:
        out = os.path.splitext(model)[0] + ".pt2"
    if cwd:
        model, inputs, out = (p if os.path.isabs(p) else os.path.join(cwd, p) for p in (model, inputs, out))
    if not os.path.exists(out) or not os.path.exists(model):
        return
    import sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import conformance
    conformance.check_artifact(out, model, inputs, None, check_out_of_range=not dynamic, method=method)


def describe(r: subprocess.CompletedProcess) -> str:
    return f"exit {r.returncode}\n--- stdout\n{r.stdout}\n--- stderr\n{r.stderr}"


def one_json_document(text: str):
    """Parses `text` as exactly one JSON document (json.loads rejects trailing data)."""
    return json.loads(text)


def stage_lines(stderr: str) -> list[re.Match]:
    return [m for m in (STAGE_LINE.match(line) for line in stderr.splitlines()) if m]


def run_in_pty(args, env=None, cwd=None, interrupt_when=None, columns=100):
    """Runs ptexport with stdin, stdout and stderr on a new pseudo-terminal; returns (exit code,
    everything the terminal received). `interrupt_when(output_so_far)` -> True sends SIGINT once."""
    pid, fd = pty.fork()
    if pid == 0:  # child
        try:
            if cwd:
                os.chdir(cwd)
            import fcntl
            import struct
            import termios
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 30, columns, 0, 0))
            # As a shell starts a foreground command: ^C acts even when this test runs as a
            # background job (which inherits SIGINT ignored, and ptexport then stays deaf to it).
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.execve(EXE, [EXE, *map(str, args)], env or clean_env())
        finally:
            os._exit(127)
    out = b""
    interrupted = False
    while True:
        try:
            ready, _, _ = select.select([fd], [], [], 0.05)
        except InterruptedError:
            continue
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
        if interrupt_when and not interrupted and interrupt_when(out.decode("utf-8", "replace")):
            os.kill(pid, signal.SIGINT)
            interrupted = True
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    code = os.waitstatus_to_exitcode(status)
    return code, out.decode("utf-8", "replace")
