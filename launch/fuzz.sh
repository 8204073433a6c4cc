#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (ASan + UBSan) in build-fuzz,
# replays every regression input and seed, then fuzzes each target for a bounded
# time, two targets at a time. Installs what it needs from Debian 12 when missing.
# Exits non-zero, printing the saved input, when a fuzzer finds a crash, a sanitizer
# report, a leak, a slow input (over 10 s) or an out-of-memory input.
# Usage: launch/fuzz.sh [target...]   (default: every target)
# Environment: DCOMP_FUZZ_SECONDS (per target, default 60), DCOMP_FUZZ_BUILD_DIR
#   (default: build-fuzz), DCOMP_FUZZ_PARALLEL (targets at once, default 2),
#   DCOMP_JOBS (build jobs, default nproc).
# reference: https://llvm.org/docs/LibFuzzer.html
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${DCOMP_FUZZ_BUILD_DIR:-$repo_root/build-fuzz}"
seconds="${DCOMP_FUZZ_SECONDS:-60}"
parallel="${DCOMP_FUZZ_PARALLEL:-2}"
jobs="${DCOMP_JOBS:-$(nproc)}"
all_targets=(safetensors_header recipe tokenizer tokenizer_text model_config gguf)
targets=("$@")
if ((${#targets[@]} == 0)); then targets=("${all_targets[@]}"); fi
started=$SECONDS

# -- packages: the build's own list (launch/setup.sh) plus clang ----------------------
DCOMP_PACKAGES_ONLY=1 DCOMP_EXTRA_PACKAGES="clang" "$repo_root/launch/setup.sh"

# -- build ------------------------------------------------------------------------
mkdir -p "$build_dir"
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  generator=()
  if command -v ninja >/dev/null; then generator=(-G Ninja); fi
  CC=clang CXX=clang++ cmake -S "$repo_root/tests/fuzz" -B "$build_dir" "${generator[@]}" >"$build_dir/configure.log"
fi
echo "dcomp fuzz: building in $build_dir (log: $build_dir/build.log)"
if ! cmake --build "$build_dir" -j "$jobs" >"$build_dir/build.log" 2>&1; then
  grep -E "error|Error" "$build_dir/build.log" | head -40
  echo "dcomp fuzz: the build failed; see $build_dir/build.log" >&2
  exit 1
fi

# -- replay: regression inputs and seeds (tests/fuzz/CMakeLists.txt, label fuzz) --
echo "dcomp fuzz: replaying regressions and seeds"
if ! ctest --test-dir "$build_dir" -L fuzz -j "$parallel" --output-on-failure >"$build_dir/replay.log" 2>&1; then
  grep -E "Running: |ERROR|SUMMARY|fuzz target:|Failed|\*\*\*Failed" "$build_dir/replay.log" | head -40
  echo "dcomp fuzz: a regression or seed input fails; see $build_dir/replay.log" >&2
  exit 1
fi

# -- fuzz: each target for $seconds s on a scratch copy of its corpus ---------------
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:symbolize=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

# Runs one fuzzer; its log and any saved input land under $build_dir.
fuzz_one() {
  local target="$1"
  local corpus="$build_dir/corpus/$target" artifacts="$build_dir/artifacts/$target"
  mkdir -p "$corpus" "$artifacts"
  # Seeds and regressions are copied in; inputs found by earlier runs stay.
  for dir in "$repo_root/tests/fuzz/corpus/$target" "$repo_root/tests/fuzz/regressions/$target"; do
    if [ -d "$dir" ]; then cp -R "$dir/." "$corpus/"; fi
  done
  "$build_dir/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -detect_leaks=1 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" >"$build_dir/logs/$target.log" 2>&1
}

mkdir -p "$build_dir/logs"
echo "dcomp fuzz: fuzzing ${targets[*]} for ${seconds} s each, $parallel at a time (logs: $build_dir/logs)"
declare -A pid_of=()
failed=()
reap() {  # waits for one fuzzer to finish and records a failure
  local finished_pid target
  wait -n -p finished_pid || true
  for target in "${!pid_of[@]}"; do
    [ "${pid_of[$target]}" = "$finished_pid" ] || continue
    wait "$finished_pid" || failed+=("$target")
    unset "pid_of[$target]"
  done
}
for target in "${targets[@]}"; do
  while ((${#pid_of[@]} >= parallel)); do reap; done
  fuzz_one "$target" &
  pid_of[$target]=$!
done
while ((${#pid_of[@]})); do reap; done

# -- report -------------------------------------------------------------------------
for target in "${targets[@]}"; do
  log="$build_dir/logs/$target.log"
  runs=$(grep -o 'stat::number_of_executed_units:[[:space:]]*[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  rate=$(grep -o 'stat::average_exec_per_sec:[[:space:]]*[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  printf 'dcomp fuzz: %-20s %10s runs %8s exec/s\n' "$target" "$runs" "$rate"
done
status=0
for target in "${failed[@]}"; do
  status=1
  log="$build_dir/logs/$target.log"
  echo "dcomp fuzz: fuzz_$target FAILED (log: $log)" >&2
  grep -E "ERROR: |SUMMARY: |fuzz target: |runtime error" "$log" | head -5 >&2 || true
  grep -o "Test unit written to .*" "$log" | sed 's/Test unit written to /dcomp fuzz: crashing input: /' >&2 || true
done
echo "dcomp fuzz: done in $((SECONDS - started)) s"
exit $status
