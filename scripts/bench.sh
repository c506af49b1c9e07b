#!/usr/bin/env bash
# scripts/bench.sh: ptexport against torch.export, side by side (bench/compare.py), inside the build
# environment. Builds ptexport first (scripts/build.sh), then
#   scripts/bench.sh [--quick] [--models mlp,resnet18,...] [--repeat N] [--out DIR]
# writes docs/benchmarks.md and docs/benchmarks.json (--quick: an MLP smoke run into build/bench/).
# Models and artifacts live in build/bench/. Run it on a quiet machine: the report states the load.
set -euo pipefail
CHECKOUT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
if [[ -z "${PTEXPORT_IN_ENV:-}" && -z "${PTEXPORT_NATIVE:-}" ]]; then
  exec "$CHECKOUT/scripts/env.sh" run "$CHECKOUT/scripts/bench.sh" "$@"
fi
"$CHECKOUT/scripts/build.sh"
BUILD=${PTEXPORT_BUILD_DIR:-$CHECKOUT/build}
# The installed launcher's overhead is measured too (scripts/install.sh into build/bench/prefix).
"$CHECKOUT/scripts/install.sh" --no-build "$BUILD/bench/prefix" 2> /dev/null
exec python3 "$CHECKOUT/bench/compare.py" --ptexport "$BUILD/cmd/ptexport" --launcher "$BUILD/bench/prefix/bin/ptexport" \
  --work "$BUILD/bench" "$@"
