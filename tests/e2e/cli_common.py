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


def run(*args, env=None, cwd=None) -> subprocess.CompletedProcess:
    """Runs ptexport with pipes for stdin, stdout and stderr (none of them a terminal)."""
    return subprocess.run([EXE, *map(str, args)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=env or clean_env(), cwd=cwd)


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
