#!/usr/bin/env bash
# `dcomp inspect --verify` on a checkpoint of every preset scheme dcomp writes (round to
# nearest on the tiny TinyStories model): each must pass. Then the same checkpoints with one
# scale's dtype changed in the safetensors header (NVFP4 weight_scale F8_E4M3 -> U8, its
# weight_global_scale F32 -> I32, MXFP4 weight_scale U8 -> I8, W4A16 weight_scale F32 -> I32):
# each must fail, naming the tensor and the dtype its format requires.
# Usage: verify_schemes.sh <dcomp binary> <shared data folder>
set -uo pipefail
dcomp="$1"; data="$2"
model="$data/tinystories-656k"
[ -d "$model" ] || { echo "SKIP: shared data folder not found: $data"; exit 77; }
work="$(mktemp -d /tmp/dcomp-verify-schemes.XXXXXX)"
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL [$1]: $2"; failures=$((failures + 1)); }

for scheme in W8A16 W4A16 W4A16_ASYM W8A8 INT8 W4A8 W4AFP8 FP8 FP8_DYNAMIC FP8_BLOCK NVFP4A16 NVFP4 MXFP4A16 MXFP4; do
  out="$work/$scheme"
  if ! "$dcomp" --log-level warn oneshot --model "$model" --scheme "$scheme" --algorithm rtn \
      --dataset "$data/text/tinystories_valid_sample.txt" --num-calibration-samples 4 --max-seq-length 32 \
      --threads 1 --output "$out" >"$work/log" 2>&1; then
    fail "$scheme" "oneshot failed: $(tail -n 1 "$work/log")"; continue
  fi
  if "$dcomp" inspect --verify "$out" >"$work/log" 2>&1; then
    echo "ok   [$scheme]: $(grep '^verify' "$work/log")"
  else
    fail "$scheme" "inspect --verify exited $?: $(grep error "$work/log" | head -n 2)"
  fi
done

# retype <checkpoint> <tensor> <new dtype>: rewrites the header of the file holding the tensor
# with its dtype replaced (same element size, so the data stays valid).
retype() {
  python3 - "$@" <<'PY'
import json, os, struct, sys
folder, name, dtype = sys.argv[1:]
index = os.path.join(folder, "model.safetensors.index.json")
file = json.load(open(index))["weight_map"][name] if os.path.exists(index) else "model.safetensors"
path = os.path.join(folder, file)
blob = open(path, "rb").read()
size = struct.unpack("<Q", blob[:8])[0]
header = json.loads(blob[8:8 + size])
header[name]["dtype"] = dtype
text = json.dumps(header).encode()
text += b" " * (-len(text) % 8)
open(path, "wb").write(struct.pack("<Q", len(text)) + text + blob[8 + size:])
PY
}

expect_wrong_dtype() {  # expect_wrong_dtype <scheme> <tensor> <new dtype> <expected message part>
  local scheme="$1" tensor="$2" dtype="$3" expected="$4" copy="$work/wrong"
  rm -rf "$copy"; cp -r "$work/$scheme" "$copy"
  retype "$copy" "$tensor" "$dtype" || { fail "$scheme $tensor $dtype" "retype failed"; return; }
  if "$dcomp" inspect --verify "$copy" >"$work/log" 2>&1; then
    fail "$scheme $tensor as $dtype" "inspect --verify exited 0"; return
  fi
  if ! grep -qF -- "\"$tensor\" is stored as $dtype; expected $expected" "$work/log"; then
    fail "$scheme $tensor as $dtype" "message lacks the tensor and \"$expected\":"; cat "$work/log"; return
  fi
  echo "ok   [$scheme $tensor as $dtype]: $(grep -F "\"$tensor\"" "$work/log" | head -n 1)"
}
layer=model.layers.0.mlp.down_proj
expect_wrong_dtype NVFP4 "$layer.weight_scale" U8 "F8_E4M3"
expect_wrong_dtype NVFP4A16 "$layer.weight_global_scale" I32 "F32"
expect_wrong_dtype MXFP4 "$layer.weight_scale" I8 "U8 (E8M0"
expect_wrong_dtype W4A16 "$layer.weight_scale" I32 "floating point"

# A NaN code in a byte-coded scale (F8_E4M3 S.1111.111; E8M0 0xFF) is a non-finite scale.
expect_nan_code() {  # expect_nan_code <scheme> <tensor> <byte> <dtype>
  local scheme="$1" tensor="$2" byte="$3" dtype="$4" copy="$work/nan"
  rm -rf "$copy"; cp -r "$work/$scheme" "$copy"
  python3 - "$copy" "$tensor" "$byte" <<'PY'
import json, os, struct, sys
folder, name, byte = sys.argv[1], sys.argv[2], int(sys.argv[3], 16)
index = os.path.join(folder, "model.safetensors.index.json")
path = os.path.join(folder, json.load(open(index))["weight_map"][name] if os.path.exists(index) else "model.safetensors")
blob = bytearray(open(path, "rb").read())
size = struct.unpack("<Q", blob[:8])[0]
blob[8 + size + json.loads(blob[8:8 + size])[name]["data_offsets"][0]] = byte
open(path, "wb").write(blob)
PY
  if "$dcomp" inspect --verify "$copy" >"$work/log" 2>&1; then fail "$scheme NaN code" "inspect --verify exited 0"; return; fi
  grep -qF "\"$tensor\": 1 of" "$work/log" && grep -qF "NaN codes ($dtype)" "$work/log" \
    || { fail "$scheme NaN code" "message lacks the tensor:"; cat "$work/log"; return; }
  echo "ok   [$scheme NaN code in $tensor]: $(grep -F "NaN codes" "$work/log" | head -n 1)"
}
expect_nan_code NVFP4 "$layer.weight_scale" 7f F8_E4M3
expect_nan_code MXFP4 "$layer.weight_scale" ff U8

[ "$failures" -eq 0 ] || { echo "$failures case(s) failed"; exit 1; }
echo "all cases passed"
