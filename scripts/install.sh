#!/usr/bin/env bash
# scripts/install.sh [--no-build] [PREFIX]: builds ptexport if needed (inside the build environment)
# and installs it on PATH (default PREFIX /usr/local):
#   PREFIX/lib/ptexport/ptexport   the binary
#   PREFIX/bin/ptexport            its launcher: runs the binary with the build root's loader and
#                                  libraries on the caller's file system; it never rebuilds
# --no-build installs what build/ holds (the tests use it while ctest runs). Re-run it after pulling
# new sources. Uninstall: rm -r PREFIX/bin/ptexport PREFIX/lib/ptexport.
set -euo pipefail
CHECKOUT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
build=1
if [[ ${1:-} == --no-build ]]; then build=0; shift; fi
[[ $# -le 1 && ${1:-} != -* ]] || { echo "usage: scripts/install.sh [--no-build] [PREFIX]" >&2; exit 2; }
PREFIX=${1:-/usr/local}
[[ $PREFIX == /* ]] || PREFIX=$(pwd -P)/$PREFIX
if (( build )); then (cd "$CHECKOUT" && scripts/build.sh); fi
BUILD=${PTEXPORT_BUILD_DIR:-$CHECKOUT/build}
[[ -x "$BUILD/cmd/ptexport" ]] || { echo "ptexport: nothing built in $BUILD (run scripts/build.sh)" >&2; exit 1; }
mkdir -p "$PREFIX/lib/ptexport" "$PREFIX/bin"
# Copy under a temporary name, then rename: a running ptexport keeps its old file.
cp "$BUILD/cmd/ptexport" "$PREFIX/lib/ptexport/.ptexport.new.$$"
mv -f "$PREFIX/lib/ptexport/.ptexport.new.$$" "$PREFIX/lib/ptexport/ptexport"
"$CHECKOUT/scripts/launcher.sh" write "$PREFIX/bin/ptexport" "$PREFIX/lib/ptexport/ptexport"
echo "ptexport: installed $PREFIX/bin/ptexport ($("$PREFIX/bin/ptexport" --version))" >&2
