#!/usr/bin/env bash
# scripts/test.sh: build ptexport and run the whole test suite (ctest) inside the build
# environment. Extra arguments go to ctest (e.g. -R shapes, -L e2e, --rerun-failed).
set -euo pipefail
CHECKOUT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
if [[ -z "${PTEXPORT_IN_ENV:-}" && -z "${PTEXPORT_NATIVE:-}" ]]; then
  exec "$CHECKOUT/scripts/env.sh" run "$CHECKOUT/scripts/test.sh" "$@"
fi
"$CHECKOUT/scripts/build.sh"
BUILD=${PTEXPORT_BUILD_DIR:-$CHECKOUT/build}
cd "$BUILD"
exec ctest --output-on-failure -j "${PTEXPORT_JOBS:-$(nproc)}" "$@"
