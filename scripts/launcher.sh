#!/usr/bin/env bash
# scripts/launcher.sh: writes a ptexport launcher, a small /bin/sh script that runs the built binary on
# the caller's own file system (no chroot): through the build root's own dynamic loader and with the
# root's libraries, so paths, the working folder, permissions, signals, exit codes, standard streams and
# terminal detection are the caller's.
#
#   scripts/launcher.sh write DEST BINARY [ROOT]    ROOT defaults to the build root (scripts/env.sh path)
#
# The library path is fixed when the launcher is written: the root's library folders (its ld.so.conf)
# and, first, the folders that the root's alternatives point into (Debian links libblas.so.3 to
# /etc/alternatives/... by absolute links, which would resolve on the host: the OpenBLAS folder comes
# first so that the loader never follows them). The loader runs with --inhibit-cache, so the host's
# /etc/ld.so.cache is never read. How it works and what to do when the root is missing or moved:
# docs/environment.md.
set -euo pipefail
CHECKOUT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)

die() { echo "ptexport launcher: $*" >&2; exit 1; }

# resolve_in_root ROOT PATH: follow PATH's symbolic links inside ROOT (absolute links are ROOT-relative).
resolve_in_root() {
  local root=$1 p=$2 n=0 t
  while [[ -L "$root$p" ]]; do
    (( ++n < 40 )) || die "too many links at $root$p"
    t=$(readlink "$root$p")
    if [[ $t == /* ]]; then p=$t; else p=$(dirname "$p")/$t; fi
    p=$(realpath -m -s "$p")
  done
  echo "$p"
}

library_path() {  # library_path ROOT: colon-separated folders on the host's file system
  local root=$1 dirs=() d l
  local main=(/usr/local/lib/x86_64-linux-gnu /usr/local/lib /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu /usr/lib /lib)
  # Folders that absolute links in the library folders point into (the alternatives), first.
  for d in /usr/lib/x86_64-linux-gnu; do
    [[ -d "$root$d" ]] || continue
    while IFS= read -r l; do
      l=${l#"$root"}
      local target; target=$(resolve_in_root "$root" "$l")
      dirs+=("$(dirname "$target")")
    done < <(find "$root$d" -maxdepth 1 -lname '/*' 2>/dev/null | sort)
  done
  dirs+=("${main[@]}")
  local out="" seen=" " real
  for d in "${dirs[@]}"; do
    [[ -d "$root$d" ]] || continue
    real=$(realpath "$root$d")  # merged /usr: /lib/x86_64-linux-gnu is /usr/lib/x86_64-linux-gnu
    [[ $seen != *" $real "* ]] || continue
    seen+="$real "
    out+="${out:+:}$root$d"
  done
  echo "$out"
}

write() {  # write DEST BINARY [ROOT]
  local dest=$1 bin=$2 root=${3:-$("$CHECKOUT/scripts/env.sh" path)}
  [[ -x "$bin" ]] || die "no ptexport binary at $bin (build it first: scripts/build.sh)"
  local loader; loader=$root$(resolve_in_root "$root" /usr/lib64/ld-linux-x86-64.so.2)
  [[ -x "$loader" ]] || die "the build root has no dynamic loader at $loader (create it: scripts/env.sh setup)"
  local lp; lp=$(library_path "$root")
  local q
  for q in "$dest" "$bin" "$root" "$lp"; do
    [[ $q != *"'"* ]] || die "a path with a single quote cannot be written into the launcher: $q"
  done
  mkdir -p "$(dirname "$dest")"
  cat > "$dest.tmp.$$" <<EOF
#!/bin/sh
# ptexport launcher (written by scripts/launcher.sh; see docs/environment.md). It runs the binary with
# the build root's loader and libraries on the caller's file system: no chroot, no rebuild.
loader='$loader'
if [ ! -x "\$loader" ]; then
  echo "ptexport: its build environment is missing: '$root' holds the libraries it runs with." >&2
  echo "  what to do: in a ptexport checkout, run scripts/env.sh setup, then scripts/install.sh again (docs/environment.md)" >&2
  exit 1
fi
# LibTorch's UCX memory hooks (libucm) cost about 0.4 s of every start; ptexport never uses UCX
# (docs/environment.md, "Start-up"). A caller's own UCX_MEM_EVENTS is kept.
UCX_MEM_EVENTS=\${UCX_MEM_EVENTS-no}; export UCX_MEM_EVENTS
exec "\$loader" --inhibit-cache --library-path '$lp' --argv0 "\$0" '$bin' "\$@"
EOF
  chmod 0755 "$dest.tmp.$$"
  mv -f "$dest.tmp.$$" "$dest"
}

case "${1:-}" in
  write) shift; [[ $# -ge 2 ]] || die "usage: scripts/launcher.sh write DEST BINARY [ROOT]"; write "$@" ;;
  *) echo "usage: scripts/launcher.sh write DEST BINARY [ROOT]" >&2; exit 2 ;;
esac
