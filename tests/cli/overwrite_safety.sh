#!/usr/bin/env bash
# No `dcomp oneshot --overwrite` can delete a file it did not create. On a copy of
# TinyStories-656K laid out as a user might (work/par/model, work/par/data/calib.txt),
# files are planted above, beside and inside the model and dataset folders; then every
# dangerous output is tried with --overwrite: the model folder, a folder inside it, the
# folders that contain the model or the dataset (par, work), the dataset file itself, a
# symbolic link to the model folder, a filesystem root, the home folder, and an unrelated
# folder of the user's. Each must exit non-zero before any work, naming the problem, and
# afterwards every planted file and every model file must be unchanged. Last, a real
# checkpoint is written and replaced by a second run with --overwrite, which says so.
# Usage: overwrite_safety.sh <dcomp binary> <shared data folder>
set -uo pipefail
dcomp="$1"; data="$2"
[ -d "$data/tinystories-656k" ] || { echo "SKIP: shared data folder not found: $data"; exit 77; }
work="$(mktemp -d /tmp/dcomp-overwrite-safety.XXXXXX)"
trap 'rm -rf "$work"' EXIT
failures=0

mkdir -p "$work/par/data" "$work/home" "$work/notes" "$work/logs"
cp -R "$data/tinystories-656k" "$work/par/model" && chmod -R u+w "$work/par/model"
head -c 200000 "$data/text/tinystories_valid_sample.txt" >"$work/par/data/calib.txt"
echo above >"$work/above.txt"
echo beside >"$work/par/beside.txt"
echo inside-model >"$work/par/model/notes.txt"
echo inside-data >"$work/par/data/notes.txt"
echo mine >"$work/notes/todo.txt"
ln -s "$work/par/model" "$work/model-link"
fingerprint() { (cd "$work" && find . -path ./out -prune -o -path ./logs -prune -o -type f -print0 |
                 sort -z | xargs -0 sha256sum); }
before="$(fingerprint)"

args=(--model "$work/par/model" --scheme W4A16 --dataset "$work/par/data/calib.txt"
      --num-calibration-samples 8 --max-seq-length 64 --threads 1)
refused() {  # refused <case> <expected message part> <output>
  local name="$1" expected="$2" output="$3"
  HOME="$work/home" "$dcomp" --log-level warn oneshot "${args[@]}" --output "$output" --overwrite \
    >"$work/logs/run.log" 2>&1
  local status=$?
  if [ "$status" -eq 0 ]; then
    echo "FAIL [$name]: exited 0"; failures=$((failures + 1))
  elif ! grep -qF -- "$expected" "$work/logs/run.log"; then
    echo "FAIL [$name]: message lacks \"$expected\":"; cat "$work/logs/run.log"; failures=$((failures + 1))
  else
    echo "ok [$name]: $(grep -F -- "$expected" "$work/logs/run.log" | head -1)"
  fi
}
refused "output = model folder" "the output is the model folder" "$work/par/model"
refused "output inside the model folder" "lies inside the model folder" "$work/par/model/w4a16"
refused "output contains the model" "contains the model folder" "$work/par"
refused "output two levels above" "contains the model folder" "$work"
refused "output = dataset folder" "contains the dataset" "$work/par/data"
refused "output = dataset file" "the output is the dataset" "$work/par/data/calib.txt"
refused "output = link to the model" "is the model folder" "$work/model-link"
refused "output = root" "filesystem root" "/"
refused "output = home" "the home folder" "$work/home"
refused "output = a folder of the user's" "is neither empty nor a checkpoint" "$work/notes"

after="$(fingerprint)"
if [ "$before" != "$after" ]; then
  echo "FAIL: files changed or disappeared:"; diff <(echo "$before") <(echo "$after"); failures=$((failures + 1))
else
  echo "ok: all $(echo "$after" | wc -l) planted and model files are unchanged"
fi
leftovers="$(find "$work" -name '*.tmp-*' 2>/dev/null; find / -maxdepth 1 -name '*.tmp-*' 2>/dev/null)"
[ -z "$leftovers" ] || { echo "FAIL: temporary folders left: $leftovers"; failures=$((failures + 1)); }

# A checkpoint is replaced, and the run says so; files beside it survive.
if ! "$dcomp" --log-level warn oneshot "${args[@]}" --output "$work/out" >"$work/logs/run.log" 2>&1; then
  echo "FAIL [first checkpoint]:"; cat "$work/logs/run.log"; failures=$((failures + 1))
elif ! "$dcomp" --log-level warn oneshot "${args[@]}" --output "$work/out" --overwrite >"$work/logs/run.log" 2>&1; then
  echo "FAIL [replacing a checkpoint]:"; cat "$work/logs/run.log"; failures=$((failures + 1))
elif ! grep -q "holds a checkpoint; it is replaced" "$work/logs/run.log" || [ ! -f "$work/out/config.json" ]; then
  echo "FAIL [replacing a checkpoint]: no notice or no checkpoint:"; cat "$work/logs/run.log"; failures=$((failures + 1))
else
  echo "ok [replacing a checkpoint]: $(grep -o -- '--overwrite: .*' "$work/logs/run.log" | head -1)"
fi
[ "$before" = "$(fingerprint)" ] || { echo "FAIL: files changed by the checkpoint runs"; failures=$((failures + 1)); }

if [ "$failures" -ne 0 ]; then echo "$failures case(s) failed"; exit 1; fi
echo "overwrite safety: every case passed"
