#!/usr/bin/env bash
# scripts/test.sh: build ptexport and run the whole test suite. Extra arguments go to ctest (e.g.
# -R shapes, -L e2e, --rerun-failed). Without arguments (as CI calls it), the host tests run first:
# tests/host/test_launcher.sh, the installed ptexport on the host's own file system (it cannot run
# inside the root, where ctest runs); PTEXPORT_HOST_TESTS=0 skips them, =1 runs them with arguments too.
set -euo pipefail
CHECKOUT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
if [[ -z "${PTEXPORT_IN_ENV:-}" && -z "${PTEXPORT_NATIVE:-}" ]]; then
  host=${PTEXPORT_HOST_TESTS:-$([[ $# -eq 0 ]] && echo 1 || echo 0)}
  host_rc=0
  if [[ $host == 1 ]]; then
    "$CHECKOUT/scripts/build.sh"
    "$CHECKOUT/tests/host/test_launcher.sh" || host_rc=$?
  fi
  rc=0
  "$CHECKOUT/scripts/env.sh" run "$CHECKOUT/scripts/test.sh" "$@" || rc=$?
  if [[ $host_rc -ne 0 ]]; then
    echo "scripts/test.sh: the host tests failed (tests/host/test_launcher.sh, above)" >&2
    [[ $rc -ne 0 ]] || rc=1
  fi
  exit $rc
fi
"$CHECKOUT/scripts/build.sh"
BUILD=${PTEXPORT_BUILD_DIR:-$CHECKOUT/build}
cd "$BUILD"
exec ctest --output-on-failure -j "${PTEXPORT_JOBS:-$(nproc)}" "$@"
