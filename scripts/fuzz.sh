#!/usr/bin/env bash
# scripts/fuzz.sh: builds the libFuzzer targets of tests/fuzz/ with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer in build-fuzz/ (-DPTX_LIBFUZZER=ON -DPTX_SANITIZE=ON) and runs each for
# a bounded time, one after the other, at the lowest CPU priority (nice 19; PTEXPORT_FUZZ_NICE, set
# inside the root, says another: env.sh passes only a few variables in). Not part of ctest.
#
#   scripts/fuzz.sh                        every target, 600 s each
#   scripts/fuzz.sh --time 60 sym_parse    one target for a minute
#   scripts/fuzz.sh --build-only
#   scripts/fuzz.sh --unit-tests [ARGS]    the same instrumented build (ASan + UBSan) of everything:
#                                          the C++ unit tests (ctest labels shapes ir lib passes
#                                          serialize cmd; ARGS go to ctest) and every target once on
#                                          the committed seeds (docs/security.md, "Sanitizer builds")
#
# Each target starts from the committed seeds (tests/fuzz/corpus/<target>/, small text files) plus
# seeds made at run time from real files (a TorchScript model, a torch.save file, a .pt2 export;
# tests/fuzz/make_seeds.py) and keeps its growing corpus in build-fuzz/corpus/<target>/. A finding is
# written to build-fuzz/findings/<target>/ and the script exits 1. The log of each run is
# build-fuzz/fuzz-<target>.log; the last line of the summary gives the executions and the time.
# Needs clang and libclang-rt-dev (libFuzzer and the sanitizer runtimes) in the build root. They are
# not in scripts/env.sh's package list (every fresh setup and CI would pay for them): the first run
# installs them into the root with apt-get (needs the Debian mirror, about a minute, once per root).
set -euo pipefail
CHECKOUT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
if [[ -z "${PTEXPORT_IN_ENV:-}" && -z "${PTEXPORT_NATIVE:-}" ]]; then
  exec "$CHECKOUT/scripts/env.sh" run "$CHECKOUT/scripts/fuzz.sh" "$@"
fi
TIME=600
BUILD_ONLY=0
UNIT=0
CTEST_ARGS=()
TARGETS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --time) TIME=$2; shift 2 ;;
    --build-only) BUILD_ONLY=1; shift ;;
    --unit-tests) UNIT=1; shift; CTEST_ARGS=("$@"); break ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) TARGETS+=("$1"); shift ;;
  esac
done
ALL=(inputs_json dynamic sym_parse unpickler pt2_reader torchscript_check npy)
[[ ${#TARGETS[@]} -eq 0 ]] && TARGETS=("${ALL[@]}")
BUILD=${PTEXPORT_FUZZ_BUILD_DIR:-$CHECKOUT/build-fuzz}
JOBS=${PTEXPORT_JOBS:-$(nproc)}
# CPU priority of the build and the fuzzers (19, the lowest, unless PTEXPORT_FUZZ_NICE says otherwise).
NICE=${PTEXPORT_FUZZ_NICE:-19}
# Inside the root (env.sh run) this script is root: install what the fuzz build needs on demand.
have_libfuzzer() { compgen -G "/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a" > /dev/null; }
if ! command -v clang++ > /dev/null || ! have_libfuzzer; then
  [[ -n "${PTEXPORT_IN_ENV:-}" ]] || { echo "fuzz.sh: needs clang and libclang-rt-dev (apt-get install clang libclang-rt-dev)" >&2; exit 1; }
  echo "fuzz.sh: installing clang and libclang-rt-dev into the build root (once; see docs/security.md)" >&2
  { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 \
      clang libclang-rt-dev; } > /tmp/ptexport-fuzz-apt.log 2>&1 ||
    { tail -20 /tmp/ptexport-fuzz-apt.log >&2; echo "fuzz.sh: apt-get install clang libclang-rt-dev failed (log /tmp/ptexport-fuzz-apt.log)" >&2; exit 1; }
fi
mkdir -p "$BUILD"
if [[ ! -f "$BUILD/build.ninja" ]]; then
  CC=clang CXX=clang++ cmake -S "$CHECKOUT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DPTX_LIBFUZZER=ON -DPTX_SANITIZE=ON > "$BUILD/configure.log" 2>&1 ||
    { cat "$BUILD/configure.log" >&2; exit 1; }
fi
# --unit-tests builds everything (the unit tests, ptexport and the fuzz targets), else the targets.
BUILD_TARGETS=(all)
[[ $UNIT -eq 1 ]] || BUILD_TARGETS=($(printf 'fuzz_%s ' "${TARGETS[@]}"))
nice -n "$NICE" cmake --build "$BUILD" -j "$JOBS" --target "${BUILD_TARGETS[@]}" > "$BUILD/build.log" 2>&1 ||
  { grep -E "error|FAILED" -A3 "$BUILD/build.log" | head -60 >&2; echo "fuzz.sh: build failed ($BUILD/build.log)" >&2; exit 1; }
[[ $BUILD_ONLY -eq 1 ]] && exit 0

SEEDS="$BUILD/seeds"
if [[ ! -f "$SEEDS/.done" ]]; then
  python3 "$CHECKOUT/tests/fuzz/make_seeds.py" --out "$SEEDS" \
    > "$BUILD/seeds.log" 2>&1 || { cat "$BUILD/seeds.log" >&2; exit 1; }
  touch "$SEEDS/.done"
fi
# LibTorch and the leaked archive writer (serialize/pt2_writer.cpp) are not leak-clean; a stack
# overflow is reported by ASan as such.
# An allocation above 2 GiB returns null (a valid input may ask for a large sample: fuzz_common.h).
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:symbolize=1:allocator_may_return_null=1:max_allocation_size_mb=2048
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
if [[ $UNIT -eq 1 ]]; then
  # The unit tests (and the fixtures they need: test models made by python, outside ASan's
  # reach), then each target once over its committed seeds (-runs=0: every file, no mutation).
  status=0
  (cd "$BUILD" && nice -n "$NICE" ctest --output-on-failure -j "$JOBS" -L '^(shapes|ir|lib|passes|serialize|cmd)$' \
     "${CTEST_ARGS[@]}") || status=1
  for t in "${ALL[@]}"; do
    if nice -n "$NICE" "$BUILD/tests/fuzz_$t" -runs=0 "$CHECKOUT/tests/fuzz/corpus/$t" > "$BUILD/seeds-$t.log" 2>&1; then
      echo "fuzz_$t: the committed seeds replay clean"
    else
      echo "fuzz_$t: FINDING on a committed seed (see $BUILD/seeds-$t.log)"; status=1
    fi
  done
  exit $status
fi
status=0
for t in "${TARGETS[@]}"; do
  corpus="$BUILD/corpus/$t"
  findings="$BUILD/findings/$t"
  mkdir -p "$corpus" "$findings"
  cp -n "$CHECKOUT/tests/fuzz/corpus/$t/"* "$corpus/" 2> /dev/null || true
  [[ -d "$SEEDS/$t" ]] && cp -n "$SEEDS/$t/"* "$corpus/" 2> /dev/null || true
  start=$(date +%s)
  if nice -n "$NICE" "$BUILD/tests/fuzz_$t" "$corpus" -max_total_time="$TIME" -timeout=30 -rss_limit_mb=8192 \
       -malloc_limit_mb=8192 -max_len=65536 -print_final_stats=1 -artifact_prefix="$findings/" \
       > "$BUILD/fuzz-$t.log" 2>&1; then
    result=clean
  else
    result="FINDING (see $BUILD/fuzz-$t.log and $findings/)"
    status=1
  fi
  runs=$(grep -o "stat::number_of_executed_units: *[0-9]*" "$BUILD/fuzz-$t.log" | grep -o "[0-9]*$" || echo "?")
  echo "fuzz_$t: $result, $(( $(date +%s) - start )) s, $runs executions, corpus $(ls "$corpus" | wc -l) files"
done
exit $status
