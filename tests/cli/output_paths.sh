#!/usr/bin/env bash
# The single output files dcomp writes (oneshot --report, eval --dump-logits, create-model
# --write-text) and the checks of numeric options, end to end. Each refused case must exit
# non-zero before any work with a message naming the path (or option) and the problem, and
# leave every input byte for byte as it was and no output folder behind:
#   - an input as output: the model's weights, a file inside the model folder, the dataset,
#     through a symbolic link or a hard link;
#   - a path whose folder does not exist; a path inside the run's output folder;
#   - an existing file that is not an earlier output of the same kind;
#   - --seed -1 or above 2^64 - 1; create-model counts below their minimum.
# Then the accepted cases: a new file, and an earlier output of the same kind replaced,
# without temporary files left beside it.
# Usage: output_paths.sh <dcomp binary> <shared data folder>
set -uo pipefail
dcomp="$1"; data="$2"
[ -d "$data/tinystories-656k" ] || { echo "SKIP: shared data folder not found: $data"; exit 77; }
work="$(mktemp -d /tmp/dcomp-output-paths.XXXXXX)"
trap 'rm -rf "$work"' EXIT
failures=0
# Copies, so that a regression can only ever damage these.
model="$work/model" dataset="$work/calib.txt"
cp -r "$data/tinystories-656k" "$model"
cp "$data/text/tinystories_valid_sample.txt" "$dataset"
echo "my notes" >"$work/notes.txt"
ln "$model/model.safetensors" "$work/weights-hardlink"
ln -s "$dataset" "$work/data-symlink"
snapshot() { (cd "$work" && find . \( -path ./out -o -path ./log \) -prune -o -type f -print0 | sort -z | xargs -0 sha256sum); }
fail() { echo "FAIL [$1]: $2"; failures=$((failures + 1)); }
compress=(oneshot --model "$model" --scheme W4A16 --algorithm rtn --dataset "$dataset" --num-calibration-samples 4
          --max-seq-length 32 --threads 1 --output "$work/out")
evaluate=(eval --model "$model" --dataset "$dataset" --max-seq-length 32)

expect_refused() {  # expect_refused <case> <expected message part> -- <dcomp args...>
  local name="$1" expected="$2"; shift 3
  local before; before="$(snapshot)"
  "$dcomp" --log-level warn "$@" >"$work/log" 2>&1
  local status=$?
  [ "$status" -ne 0 ] || { fail "$name" "exited 0"; return; }
  grep -qF -- "$expected" "$work/log" || { fail "$name" "message lacks \"$expected\": $(cat "$work/log")"; return; }
  [ "$(snapshot)" = "$before" ] || { fail "$name" "a file changed"; return; }
  [ ! -e "$work/out" ] && [ ! -e "$work/cm" ] || { fail "$name" "an output folder was written"; return; }
  echo "ok   [$name]: exit $status: $(grep -F -- "$expected" "$work/log" | head -n 1)"
}

expect_refused "--report the model's weights" "lies inside the model folder" -- \
  "${compress[@]}" --report "$model/model.safetensors"
expect_refused "--report the dataset" "this is the dataset" -- "${compress[@]}" --report "$dataset"
expect_refused "--report a symbolic link to the dataset" "this is the dataset" -- \
  "${compress[@]}" --report "$work/data-symlink"
expect_refused "--report a hard link to the weights" "hard link to a file of the model folder" -- \
  "${compress[@]}" --report "$work/weights-hardlink"
expect_refused "--report through .." "lies inside the model folder" -- \
  "${compress[@]}" --report "$work/out/../model/config.json"
expect_refused "--report in a missing folder" "$work/missing/report.json: the folder $work/missing does not exist" -- \
  "${compress[@]}" --report "$work/missing/report.json"
expect_refused "--report an unrelated file" "exists and is not a dcomp run report" -- \
  "${compress[@]}" --report "$work/notes.txt"
expect_refused "--report inside the output folder" "lies inside the output folder" -- \
  "${compress[@]}" --report "$work/out/report.json"
expect_refused "--dump-logits the model's weights" "--dump-logits $model/model.safetensors: this lies inside the model folder" -- \
  "${evaluate[@]}" --dump-logits "$model/model.safetensors"
expect_refused "--dump-logits the dataset" "this is the dataset" -- "${evaluate[@]}" --dump-logits "$dataset"
expect_refused "--dump-logits an unrelated file" "exists and is not a logits dump" -- \
  "${evaluate[@]}" --dump-logits "$work/notes.txt"
expect_refused "--dump-logits in a missing folder" "does not exist" -- \
  "${evaluate[@]}" --dump-logits "$work/missing/logits.safetensors"
expect_refused "--seed -1" "--seed: Value -1 not in range" -- "${compress[@]}" --seed -1
expect_refused "--seed 2^64" "not in range" -- "${compress[@]}" --seed 18446744073709551616
expect_refused "--seed 0x10" "not in range" -- "${compress[@]}" --seed 0x10
for option in "--layers -1" "--layers 0" "--hidden-size 0" "--intermediate-size -5" "--heads 0" "--kv-heads -1" \
              "--head-dim -2" "--experts -1" "--experts-per-token 0" "--expert-intermediate-size 0" \
              "--vocab-size 100" "--seed -1"; do
  set -- $option
  expect_refused "create-model $option" "$1: Value $2 not in range" -- create-model --output "$work/cm" "$@"
done
expect_refused "--write-text an unrelated file" "exists and is not dcomp's built-in calibration text" -- \
  create-model --output "$work/cm" --layers 1 --write-text "$work/notes.txt"
expect_refused "--write-text inside the model folder" "lies inside the output folder" -- \
  create-model --output "$work/cm" --layers 1 --write-text "$work/cm/calib.txt"

# Accepted: new files, then earlier outputs of the same kind replaced.
no_temporaries() { ! compgen -G "$work/.*.tmp-*" >/dev/null || fail "$1" "temporary files left: $(ls -a "$work")"; }
for round in first second; do
  if "$dcomp" --log-level warn "${compress[@]}" --overwrite --seed 18446744073709551615 --report "$work/report.json" \
      >"$work/log" 2>&1 && python3 -c 'import json, sys; r = json.load(open(sys.argv[1]))
assert r["determinism"]["seed"] == 18446744073709551615 and r["output"] == sys.argv[2]' "$work/report.json" "$work/out"; then
    echo "ok   [--report, $round run]"
  else
    fail "--report, $round run" "$(cat "$work/log")"
  fi
  if "$dcomp" "${evaluate[@]}" --dump-logits "$work/logits.safetensors" >"$work/log" 2>&1 && python3 -c '
import json, struct, sys
blob = open(sys.argv[1], "rb").read()
header = json.loads(blob[8:8 + struct.unpack("<Q", blob[:8])[0]])
assert sorted(k for k in header if k != "__metadata__") == ["input_ids", "logits", "logits_activation_quantized"]
' "$work/logits.safetensors"; then
    echo "ok   [--dump-logits, $round run]"
  else
    fail "--dump-logits, $round run" "$(cat "$work/log")"
  fi
  rm -rf "$work/cm"
  if "$dcomp" create-model --output "$work/cm" --layers 1 --write-text "$work/text.txt" >"$work/log" 2>&1 \
      && [ -s "$work/text.txt" ] && [ -f "$work/cm/config.json" ]; then
    echo "ok   [--write-text, $round run]"
  else
    fail "--write-text, $round run" "$(cat "$work/log")"
  fi
  no_temporaries "$round run"
done
cmp -s "$work/weights-hardlink" "$model/model.safetensors" && cmp -s "$model/model.safetensors" \
  "$data/tinystories-656k/model.safetensors" || fail "inputs" "the model's weights changed"

[ "$failures" -eq 0 ] || { echo "$failures case(s) failed"; exit 1; }
echo "all cases passed"
