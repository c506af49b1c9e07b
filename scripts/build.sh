#!/usr/bin/env bash
# scripts/build.sh: configure and build ptexport in $PTEXPORT_BUILD_DIR (default build/ in the
# checkout), inside the build environment (scripts/env.sh) unless already there or PTEXPORT_NATIVE=1.
# Quiet when nothing changed; the build log is build/build.log and is shown on failure.
set -euo pipefail
CHECKOUT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
if [[ -z "${PTEXPORT_IN_ENV:-}" && -z "${PTEXPORT_NATIVE:-}" ]]; then
  exec "$CHECKOUT/scripts/env.sh" run "$CHECKOUT/scripts/build.sh" "$@"
fi
BUILD=${PTEXPORT_BUILD_DIR:-$CHECKOUT/build}
JOBS=${PTEXPORT_JOBS:-$(nproc)}
mkdir -p "$BUILD"
log="$BUILD/build.log"
if [[ ! -f "$BUILD/build.ninja" ]]; then
  echo "ptexport: configuring the build in $BUILD" >&2
  cmake -S "$CHECKOUT" -B "$BUILD" -G Ninja "$@" > "$log" 2>&1 || { cat "$log" >&2; echo "ptexport: cmake configure failed (log: $log)" >&2; exit 1; }
  echo "ptexport: building (first build: a few minutes on 2 cores)" >&2
fi
if ! cmake --build "$BUILD" -j "$JOBS" > "$log" 2>&1; then
  grep -E "error|Error|FAILED" -A3 "$log" | head -80 >&2 || true
  echo "ptexport: build failed (full log: $log)" >&2
  exit 1
fi
