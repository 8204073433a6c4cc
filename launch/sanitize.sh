#!/usr/bin/env bash
# Builds dcomp with AddressSanitizer and UndefinedBehaviorSanitizer at -O0 (build-asan/,
# no CUDA) and runs the unit tests and a 2-rank `dcomp oneshot` under them. Any
# sanitizer report fails the run (halt_on_error). Leaks inside Open MPI's own
# start-up code are suppressed (tests/sanitizers/lsan.supp); dcomp's are not.
# Open MPI unloads its plugins in MPI_Finalize, after which LeakSanitizer cannot
# name their modules; tests/sanitizers/keep_plugins_loaded.c, preloaded, keeps
# them mapped so that the suppressions can match them.
# Usage: launch/sanitize.sh [GoogleTest arguments, e.g. --gtest_filter=Recipe*]
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${DCOMP_ASAN_BUILD_DIR:-$repo_root/build-asan}"
data="${DCOMP_SHARED_DATA:-$repo_root/../shared/data}"
# Only what the run below uses: the executable and the test programs (no benchmarks).
DCOMP_BUILD_DIR="$build_dir" DCOMP_BUILD_TARGETS="dcomp dcomp_tests" "$repo_root/launch/setup.sh" -DDCOMP_SANITIZERS=ON -DDCOMP_WITH_CUDA=OFF \
  -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS="-O0 -g1"

keep_loaded="$build_dir/keep_plugins_loaded.so"
cc -shared -fPIC -O1 -o "$keep_loaded" "$repo_root/tests/sanitizers/keep_plugins_loaded.c"
export LD_PRELOAD="$keep_loaded${LD_PRELOAD:+ $LD_PRELOAD}"
# verify_asan_link_order=0: the shim is preloaded ahead of the ASan runtime.
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=0:verify_asan_link_order=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export LSAN_OPTIONS="suppressions=$repo_root/tests/sanitizers/lsan.supp:print_suppressions=0"
export OMPI_MCA_btl=self,vader OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# Each unit-test program runs once with all its tests (not once per test as ctest
# does: starting a sanitized process that loads LibTorch takes about a second).
echo "dcomp sanitize: unit tests under ASan + UBSan"
logs="$build_dir/sanitize-logs"
rm -rf "$logs" && mkdir -p "$logs"
programs=()
for program in "$build_dir"/tests/test_*; do
  name="$(basename "$program")"
  [ -x "$program" ] && [ "$name" != test_gpu ] && programs+=("$name")  # test_gpu: label gpu, needs a GPU
done
# MPI programs: some of Open MPI's start-up allocations come from code built without
# frame pointers, where the fast unwinder loses the stack and with it the module
# name the suppressions match; the slow (DWARF) unwinder keeps it.
mpi_unwind="fast_unwind_on_malloc=0"
export build_dir logs mpi_unwind
if ! printf '%s\n' "${programs[@]}" | xargs -P "$(nproc)" -I{} bash -c \
    'cd "$build_dir/tests" && if [ {} = test_comm ]; then export ASAN_OPTIONS="$ASAN_OPTIONS:$mpi_unwind"; fi &&
     timeout 1800 ./{} --gtest_brief=1 "$@" >"$logs/{}.log" 2>&1 || { echo "FAILED: {}"; exit 1; }' \
    _ "$@"; then
  for log in "$logs"/*.log; do
    if grep -qE "FAILED|ERROR: (Address|Leak)Sanitizer|runtime error:" "$log"; then
      echo "--- $(basename "$log" .log)"; grep -E -A40 "FAILED|ERROR: (Address|Leak)Sanitizer|runtime error:" "$log" | head -80
    fi
  done
  echo "dcomp sanitize: unit tests failed under the sanitizers (logs: $logs)" >&2
  exit 1
fi
for program in "${programs[@]}"; do
  echo "  $program: $(grep -E "^\[  PASSED  \]" "$logs/$program.log" | head -1)$(grep -E "^\[  SKIPPED \]" "$logs/$program.log" | head -1 | sed 's/^/, /')"
done

if [ ! -d "$data/tinystories-656k" ]; then
  echo "dcomp sanitize: SKIP the 2-rank oneshot: shared data folder not found: $data"
  exit 0
fi
echo "dcomp sanitize: 2-rank oneshot under ASan + UBSan"
work="$(mktemp -d /tmp/dcomp-sanitize.XXXXXX)"
trap 'rm -rf "$work"' EXIT
export ASAN_OPTIONS="$ASAN_OPTIONS:$mpi_unwind"
if ! mpirun --allow-run-as-root -np 2 -x ASAN_OPTIONS -x UBSAN_OPTIONS -x LSAN_OPTIONS -x LD_PRELOAD \
    "$build_dir/bin/dcomp" --log-level warn oneshot --model "$data/tinystories-656k" --scheme W4A16 \
    --dataset "$data/text/tinystories_valid_sample.txt" --num-calibration-samples 16 --max-seq-length 128 \
    --threads 1 --output "$work/out" >"$work/log" 2>&1; then
  cat "$work/log"
  echo "dcomp sanitize: the 2-rank oneshot failed" >&2
  exit 1
fi
if grep -E "AddressSanitizer|LeakSanitizer|runtime error:" "$work/log"; then
  echo "dcomp sanitize: sanitizer reports in the 2-rank oneshot" >&2
  exit 1
fi
[ -f "$work/out/config.json" ] || { echo "dcomp sanitize: no checkpoint written" >&2; exit 1; }
echo "dcomp sanitize: clean"
