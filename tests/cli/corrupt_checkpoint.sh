#!/usr/bin/env bash
# Corrupt compressed checkpoints are found, not used: a W4A16 checkpoint of TinyStories-656K
# passes `dcomp inspect --verify`; then, in copies of it, one weight_scale value is set to
# NaN, one scale tensor is relabelled I32 in the header (same bytes, integer dtype), and a
# tensor of a layer beyond num_hidden_layers is added. `inspect --verify` must exit 1
# naming the tensor, and for the two bad scales `eval` must exit non-zero instead of
# printing a perplexity.
# Usage: corrupt_checkpoint.sh <dcomp binary> <shared data folder>
set -uo pipefail
dcomp="$1"; data="$2"
[ -d "$data/tinystories-656k" ] || { echo "SKIP: shared data folder not found: $data"; exit 77; }
work="$(mktemp -d /tmp/dcomp-corrupt.XXXXXX)"
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
text="$data/text/tinystories_sample.txt"

"$dcomp" --log-level warn oneshot --model "$data/tinystories-656k" --scheme W4A16 --algorithm rtn \
  --output "$work/good" --threads 1 >"$work/log" 2>&1 || { cat "$work/log"; echo "FAIL: the checkpoint run failed"; exit 1; }
if "$dcomp" inspect --verify "$work/good" >"$work/log" 2>&1; then
  echo "ok [sound checkpoint]: $(grep '^verify:' "$work/log")"
else
  cat "$work/log"; fail "inspect --verify refused a sound checkpoint"
fi

# edit <folder> <tensor name suffix> <python statement>: finds the shard holding the first
# tensor whose name ends so, runs the statement with `name`, `header` (dict), `data`
# (bytearray of the data area) and `index` (the weight map of model.safetensors.index.json,
# or None), then writes the shard back (the data area unchanged, the header padded to 8
# bytes) and the index.
edit() {
  python3 - "$1" "$2" "$3" <<'PY'
import glob, json, os, struct, sys
folder, suffix, statement = sys.argv[1], sys.argv[2], sys.argv[3]
index_path = os.path.join(folder, "model.safetensors.index.json")
index_doc = json.load(open(index_path)) if os.path.exists(index_path) else None
index = index_doc["weight_map"] if index_doc else None
for path in sorted(glob.glob(os.path.join(folder, "*.safetensors"))):
    raw = open(path, "rb").read()
    length = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + length])
    names = sorted(n for n in header if n.endswith(suffix))
    if names:
        break
else:
    sys.exit("no tensor ends with " + suffix)
name, data, shard = names[0], bytearray(raw[8 + length:]), os.path.basename(path)
exec(statement)
text = json.dumps(header, separators=(",", ":")).encode()
text += b" " * (-len(text) % 8)
open(path, "wb").write(struct.pack("<Q", len(text)) + text + bytes(data))
if index_doc:
    json.dump(index_doc, open(index_path, "w"))
PY
}
expect_refused() {  # expect_refused <case> <folder> <message part> <eval too: 1 or 0>
  local name="$1" folder="$2" expected="$3" eval_too="$4"
  if "$dcomp" inspect --verify "$folder" >"$work/log" 2>&1; then
    fail "[$name] inspect --verify exited 0"
  elif ! grep -qF -- "$expected" "$work/log"; then
    cat "$work/log"; fail "[$name] inspect --verify does not say \"$expected\""
  else
    echo "ok [$name] inspect --verify: $(grep -F -- "$expected" "$work/log" | head -1)"
  fi
  [ "$eval_too" = 1 ] || return 0
  if "$dcomp" --log-level warn eval --model "$folder" --dataset "$text" --max-seq-length 128 >"$work/eval.log" 2>&1; then
    cat "$work/eval.log"; fail "[$name] eval exited 0"
  else
    echo "ok [$name] eval: $(grep 'error' "$work/eval.log" | head -1)"
  fi
}

cp -R "$work/good" "$work/nan"
edit "$work/nan" "layers.1.mlp.up_proj.weight_scale" '
e = header[name]; assert e["dtype"] in ("F32", "BF16", "F16"), e
begin = e["data_offsets"][0]
data[begin:begin + (4 if e["dtype"] == "F32" else 2)] = (b"\x00\x00\xc0\x7f" if e["dtype"] == "F32" else b"\xc0\x7f")'
expect_refused "NaN scale" "$work/nan" "model.layers.1.mlp.up_proj.weight_scale\": 1 of" 1
cp -R "$work/good" "$work/int-scale"
edit "$work/int-scale" "layers.0.self_attn.q_proj.weight_scale" '
e = header[name]; e["dtype"] = {"F32": "I32", "BF16": "I16", "F16": "I16"}[e["dtype"]]'
expect_refused "integer scale" "$work/int-scale" "expected floating point (F32, F16 or BF16)" 1

cp -R "$work/good" "$work/deeper"
layers=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["num_hidden_layers"])' "$work/good/config.json")
edit "$work/deeper" "layers.0.input_layernorm.weight" "
extra = 'model.layers.$layers.input_layernorm.weight'
begin, end = header[name]['data_offsets']
header[extra] = dict(header[name], data_offsets=[len(data), len(data) + end - begin])
data += data[begin:end]
if index is not None: index[extra] = shard"
expect_refused "layer beyond the config" "$work/deeper" "num_hidden_layers $layers" 0

if [ "$failures" -ne 0 ]; then echo "$failures case(s) failed"; exit 1; fi
echo "corrupt checkpoints: every case passed"
