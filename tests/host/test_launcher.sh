#!/usr/bin/env bash
# tests/host/test_launcher.sh: the installed ptexport on the host's own file system (issue 13). It runs
# outside the build root (scripts/test.sh calls it on the host before ctest, which runs inside), so it
# sees what a user sees: a prefix installed by scripts/install.sh, a model and inputs in a folder outside
# the checkout and /tmp (under /var/tmp), reached through a symbolic link, an npy named by a relative
# path, calls from that folder and from /, exit codes and streams; and a second `scripts/env.sh setup`
# on a ready root that does nothing (no apt) in under a second. Every artifact is then loaded by
# torch.export.load inside the root and compared with the eager model at min, max and interior sizes.
# Prints "host: N passed, M failed"; exits 1 if any check failed.
set -uo pipefail
CHECKOUT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
BUILD=${PTEXPORT_BUILD_DIR:-$CHECKOUT/build}
passed=0 failed=0
ok() { echo "host: ok: $*"; passed=$((passed + 1)); }
bad() { echo "host: FAILED: $*"; failed=$((failed + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

WORK=$(mktemp -d /var/tmp/ptx-host-test.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
PREFIX=$WORK/prefix
DATA=$WORK/user-data
mkdir -p "$DATA/models/real" "$DATA/arrays" "$DATA/out"

# 1. Install into a fresh prefix; the launcher is a small script, the binary beside it.
if "$CHECKOUT/scripts/install.sh" --no-build "$PREFIX" 2> "$WORK/install.err"; then
  ok "scripts/install.sh --no-build $PREFIX"
else
  bad "scripts/install.sh failed: $(cat "$WORK/install.err")"; echo "host: $passed passed, $failed failed"; exit 1
fi
PTX=$PREFIX/bin/ptexport
check "the launcher runs no chroot and no build" bash -c "! grep -v '^#' '$PTX' | grep -qE 'chroot|unshare|build.sh|cmake'"
# The launcher's environment, seen by a program it starts in place of ptexport (the root's env).
ENVL=$WORK/env-launcher
"$CHECKOUT/scripts/launcher.sh" write "$ENVL" "$("$CHECKOUT/scripts/env.sh" path)/usr/bin/env" 2> /dev/null
check "the launcher switches LibTorch's UCX memory hooks off (0.4 s of every start)" \
  bash -c "env -u UCX_MEM_EVENTS '$ENVL' | grep -qx UCX_MEM_EVENTS=no"
check "the launcher keeps the caller's UCX_MEM_EVENTS" bash -c "UCX_MEM_EVENTS=yes '$ENVL' | grep -qx UCX_MEM_EVENTS=yes"

# 2. The user's files: the shipped example model behind a symlink, an npy named relatively.
cp "$CHECKOUT/examples/mlp/model.pt" "$DATA/models/real/model.pt"
ln -s real/model.pt "$DATA/models/model.pt"
PTEXPORT_ENV_BINDS=$WORK "$CHECKOUT/scripts/env.sh" run python3 -c "
import numpy as np; np.save('$DATA/arrays/x.npy', np.random.default_rng(0).standard_normal((8, 16)).astype(np.float32))"
cat > "$DATA/inputs.json" <<'JSON'
{"schema": "ptexport.inputs/v1", "args": [
  {"name": "x", "dtype": "float32", "shape": [8, 16], "dims": ["batch", null], "data": {"npy": "arrays/x.npy"}}]}
JSON

# 3. From the user's folder, relative paths through the symlink; then from /, absolute paths.
(cd "$DATA" && "$PTX" export models/model.pt inputs.json --dynamic batch=1:64 -o out/rel.pt2 \
   > "$WORK/rel.out" 2> "$WORK/rel.err"); rc=$?
check "export from the user's folder, relative and symlinked paths: exit 0 (got $rc; $(tail -1 "$WORK/rel.err"))" test $rc -eq 0
check "  ... wrote out/rel.pt2" test -s "$DATA/out/rel.pt2"
(cd / && "$PTX" "$DATA/models/model.pt" "$DATA/inputs.json" --dynamic batch=1:64 -o "$DATA/out/abs.pt2" --json \
   > "$WORK/abs.json" 2> "$WORK/abs.err"); rc=$?
check "export called from / with absolute paths: exit 0 (got $rc; $(tail -1 "$WORK/abs.err"))" test $rc -eq 0
check "  ... --json: stdout is one JSON document with status ok" python3 -c "
import json, sys; d = json.load(open('$WORK/abs.json')); sys.exit(0 if d.get('exit_code') == 0 else 1)"

# 4. Exit codes and streams are the binary's own.
"$PTX" --version > "$WORK/v.out" 2> "$WORK/v.err"; rc=$?
check "--version: exit 0, a version on stdout, nothing on stderr" bash -c "[[ $rc -eq 0 && -s '$WORK/v.out' && ! -s '$WORK/v.err' ]]"
(cd "$DATA" && "$PTX" export models/missing.pt inputs.json > /dev/null 2> "$WORK/missing.err"); rc=$?
check "a missing model: exit 3 naming the file (got $rc)" bash -c "[[ $rc -eq 3 ]] && grep -q 'missing.pt' '$WORK/missing.err'"
(cd "$DATA" && "$PTX" export models/model.pt inputs.json --no-such-flag > /dev/null 2>&1); rc=$?
check "an unknown flag: exit 2 (got $rc)" test $rc -eq 2
(cd "$DATA" && "$PTX" check models/model.pt inputs.json --dynamic batch=1:64 < /dev/null > "$WORK/check.out" 2> /dev/null); rc=$?
check "check from the user's folder: exit 0 (got $rc)" test $rc -eq 0
# The launcher execs: the process the caller started is ptexport itself (signals, exit codes are its own).
(cd "$DATA" && exec "$PTX" check models/model.pt inputs.json > /dev/null 2>&1) & pid=$!
sleep 0.1; exe=$(readlink "/proc/$pid/exe" 2>/dev/null || echo gone); wait $pid
check "the launcher execs the root's loader in the caller's process (exe: $exe)" bash -c "[[ '$exe' == */ld-linux-x86-64.so.2 ]]"

# 5. The artifacts in torch.export.load, against the eager model at min, max and interior sizes.
PTEXPORT_ENV_BINDS=$WORK "$CHECKOUT/scripts/env.sh" run python3 -c "
import torch
m = torch.jit.load('$DATA/models/model.pt')
for name in ('rel', 'abs'):
    ep = torch.export.load('$DATA/out/' + name + '.pt2')
    for b in (1, 37, 64):
        x = torch.randn(b, 16)
        torch.testing.assert_close(ep.module()(x), m(x))
    try:
        ep.module()(torch.randn(65, 16)); raise SystemExit('batch 65 was accepted')
    except RuntimeError:
        pass
" > "$WORK/load.out" 2>&1; rc=$?
check "torch.export.load of both artifacts equals eager at batch 1, 37, 64 and refuses 65 ($(tail -1 "$WORK/load.out"))" test $rc -eq 0

# 6. A second setup on a ready root is a no-op: no apt, under a second.
apt_before=$(stat -c %Y "$(dirname "$("$CHECKOUT/scripts/env.sh" path)")/apt.log" 2>/dev/null || echo none)
t0=$(date +%s%N)
"$CHECKOUT/scripts/env.sh" setup > "$WORK/setup.out" 2>&1; rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
apt_after=$(stat -c %Y "$(dirname "$("$CHECKOUT/scripts/env.sh" path)")/apt.log" 2>/dev/null || echo none)
check "scripts/env.sh setup on a ready root: exit 0, silent, no apt run, ${ms} ms" \
  bash -c "[[ $rc -eq 0 && ! -s '$WORK/setup.out' && '$apt_before' == '$apt_after' && $ms -lt 1000 ]]"

# 7. The launcher's overhead (reported, not asserted: no wall-clock limits in tests).
t0=$(date +%s%N); for _ in 1 2 3 4 5; do "$PTX" --version > /dev/null; done; tl=$(( ($(date +%s%N) - t0) / 5000000 ))
echo "host: note: installed ptexport --version takes ${tl} ms (median figures: scripts/bench.sh)"

echo "host: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
