#!/usr/bin/env bash
# scripts/env.sh: the build environment of ptexport (a Debian sid root with LibTorch 2.14, Z3, ...).
#
#   scripts/env.sh setup            create the root if missing, or update it when the package list changed
#   scripts/env.sh run CMD [ARG...] run CMD inside the root; the checkout, the caller's working directory
#                                   and /tmp are visible at the same paths, and CMD starts in that directory
#   scripts/env.sh path             print where the root lives
#
# The root lives outside the checkout, in $PTEXPORT_ENV_DIR (default /var/cache/ptexport/sid-root), so
# fresh clones (CI) reuse it. Facts behind each step: ../shared/design/ENVIRONMENT.md and docs/environment.md.
# Needs root (debootstrap, unshare, mount, chroot). Exit 1 with the failed step and what to do on failure.
set -euo pipefail

ROOT_DIR=${PTEXPORT_ENV_DIR:-/var/cache/ptexport/sid-root}
CHECKOUT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)

# The package list. Changing it makes the next `setup` install the difference into the existing root.
PACKAGES=(
  libtorch-dev libz3-dev libcli11-dev libspdlog-dev nlohmann-json3-dev libzip-dev catch2
  cmake g++ make ninja-build ccache pkg-config time
  python3-torch python3-torchvision python3-numpy python3-torchaudio python3-transformers
  libbenchmark-dev hyperfine gdb
  libopenblas0-openmp
)
STAMP="$ROOT_DIR/.ptexport-packages"

fail() {  # fail STEP HINT
  echo "ptexport env: step '$1' failed." >&2
  echo "  what to do: $2" >&2
  exit 1
}

mirror() {
  local m=""
  if [[ -r /etc/apt/sources.list.d/debian.sources ]]; then
    m=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [[ -z "$m" && -r /etc/apt/sources.list ]]; then
    m=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list)
  fi
  echo "${PTEXPORT_MIRROR:-${m:-http://deb.debian.org/debian}}"
}

package_list() { printf '%s\n' "${PACKAGES[@]}" | sort; }

in_root() {  # run a command inside the root with /proc mounted, as root, no bind of the checkout
  unshare --mount --propagation private -- bash -c '
    set -e; r=$1; shift
    mount -t proc proc "$r/proc"
    mount --rbind /dev "$r/dev"
    exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
      DEBIAN_FRONTEND=noninteractive "$@"' _ "$ROOT_DIR" "$@"
}

setup() {
  [[ $(id -u) -eq 0 ]] || fail "check for root" "run as root: debootstrap, unshare and chroot need it"
  # Already has every package of this checkout's list? (A stamp may list more: other checkouts.)
  missing_packages() { comm -23 <(package_list) <(sort -u "$STAMP" 2>/dev/null); }
  if [[ -f "$STAMP" && -z "$(missing_packages)" ]]; then
    return 0
  fi
  # One setup at a time (several checkouts, CI and a developer may start one together).
  mkdir -p "$(dirname "$ROOT_DIR")"
  exec 9>"$(dirname "$ROOT_DIR")/setup.lock"
  flock 9
  if [[ -f "$STAMP" && -z "$(missing_packages)" ]]; then
    exec 9>&-
    return 0
  fi
  local t0=$SECONDS
  if [[ ! -x "$ROOT_DIR/usr/bin/apt-get" ]]; then
    if ! command -v debootstrap >/dev/null; then
      echo "ptexport env: installing debootstrap on the host" >&2
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; } >&2 \
        || fail "install debootstrap" "apt-get install debootstrap on the host (needs the Debian mirror)"
    fi
    local m; m=$(mirror)
    echo "ptexport env: creating a Debian sid root in $ROOT_DIR from $m (about 30 s)" >&2
    rm -rf "$ROOT_DIR.partial"; mkdir -p "$(dirname "$ROOT_DIR")"
    debootstrap --variant=minbase --include=ca-certificates sid "$ROOT_DIR.partial" "$m" \
        > "$(dirname "$ROOT_DIR")/debootstrap.log" 2>&1 \
      || { rm -rf "$ROOT_DIR.partial"; false; } \
      || fail "debootstrap sid" "see $(dirname "$ROOT_DIR")/debootstrap.log; check that $m is reachable (set PTEXPORT_MIRROR)"
    # The mirror's sid Release file can be past its Valid-Until date.
    echo 'Acquire::Check-Valid-Until "false";' > "$ROOT_DIR.partial/etc/apt/apt.conf.d/99ptexport-no-valid-until"
    echo 'APT::Install-Recommends "false";' > "$ROOT_DIR.partial/etc/apt/apt.conf.d/99ptexport-no-recommends"
    mv "$ROOT_DIR.partial" "$ROOT_DIR"
  fi
  cp -L /etc/resolv.conf "$ROOT_DIR/etc/resolv.conf" 2>/dev/null || true
  echo "ptexport env: installing ${#PACKAGES[@]} packages into the root (about a minute)" >&2
  in_root apt-get update -qq >&2 || fail "apt-get update in the root" "check the mirror in $ROOT_DIR/etc/apt/sources.list"
  in_root apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" > "$(dirname "$ROOT_DIR")/apt.log" 2>&1 \
    || fail "apt-get install in the root" "see $(dirname "$ROOT_DIR")/apt.log"
  # OpenBLAS built for OpenMP shares LibTorch's OpenMP threads (libgomp). The pthread build, if a root
  # has it, keeps its own threads, which fight LibTorch's spinning OpenMP workers for the cores (vit_b_16's
  # trace 2.6 s instead of 1.4 s on 2 cores): choose the OpenMP build whatever else is installed.
  local alt
  for alt in libblas.so.3 liblapack.so.3 libopenblas.so.0; do
    in_root update-alternatives --set "$alt-x86_64-linux-gnu" "/usr/lib/x86_64-linux-gnu/openblas-openmp/$alt" >&2 \
      || fail "choose OpenBLAS (OpenMP) for $alt" "see update-alternatives --display $alt-x86_64-linux-gnu in the root"
  done
  in_root apt-get clean >&2 || true
  { package_list; cat "$STAMP" 2>/dev/null || true; } | sort -u > "$STAMP.new"
  mv "$STAMP.new" "$STAMP"
  exec 9>&-
  echo "ptexport env: ready in $((SECONDS - t0)) s" >&2
}

run() {
  setup
  local cwd; cwd=$(pwd -P)
  # Paths visible inside at the same place: the checkout, the caller's directory, /tmp, extra ones.
  local want=("$CHECKOUT" "$cwd" /tmp) binds=() b
  if [[ -n "${PTEXPORT_ENV_BINDS:-}" ]]; then IFS=: read -r -a extra <<< "$PTEXPORT_ENV_BINDS"; want+=("${extra[@]}"); fi
  # Never bind / (a caller in /) or a folder that holds the root itself over the root.
  for b in "${want[@]}"; do
    [[ -n "$b" && "$b" != / && "$ROOT_DIR/" != "${b%/}/"* ]] && binds+=("$b")
  done
  local keep=(PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 PTEXPORT_IN_ENV=1
              "PTEXPORT_ENV_DIR=$ROOT_DIR"
              "CCACHE_DIR=$(dirname "$ROOT_DIR")/ccache"
              # Worktrees and fresh clones beside each other share cache hits (paths made relative).
              "CCACHE_BASEDIR=$(dirname "$CHECKOUT")" CCACHE_NOHASHDIR=1
              # LibTorch's UCX memory hooks: about 0.4 s of every process that loads it, ptexport's and
              # python's alike (docs/environment.md, "Start-up"); the caller's value is kept.
              "UCX_MEM_EVENTS=${UCX_MEM_EVENTS-no}")
  local v
  for v in TERM NO_COLOR CI PTEXPORT_LOGS TORCH_LOGS PTEXPORT_BUILD_DIR PTEXPORT_JOBS COLUMNS; do
    [[ -n "${!v:-}" ]] && keep+=("$v=${!v}")
  done
  mkdir -p "$(dirname "$ROOT_DIR")/ccache"
  unshare --mount --propagation private -- bash -c '
    set -e; r=$1; cwd=$2; nb=$3; shift 3
    binds=("${@:1:$nb}"); shift "$nb"
    for b in "${binds[@]}" "'"$(dirname "$ROOT_DIR")"'/ccache"; do
      [[ -d "$b" ]] || continue
      mkdir -p "$r$b"; mount --rbind "$b" "$r$b"
    done
    mount -t proc proc "$r/proc"
    mount --rbind /dev "$r/dev"
    mkdir -p "$r/dev/shm" 2>/dev/null || true
    # The root at its own path too, so that a launcher (scripts/launcher.sh) also runs inside.
    mkdir -p "$r$r"; mount --bind "$r" "$r$r"
    exec chroot "$r" /bin/bash -c '\''cd "$1" && shift && exec /usr/bin/env -i "$@"'\'' _ "$cwd" "$@"
  ' _ "$ROOT_DIR" "$cwd" "${#binds[@]}" "${binds[@]}" "${keep[@]}" "$@"
}

case "${1:-}" in
  setup) setup ;;
  run) shift; [[ $# -gt 0 ]] || { echo "usage: scripts/env.sh run CMD [ARG...]" >&2; exit 2; }; run "$@" ;;
  path) echo "$ROOT_DIR" ;;
  *) echo "usage: scripts/env.sh setup | run CMD [ARG...] | path" >&2; exit 2 ;;
esac
