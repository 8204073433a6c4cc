#!/usr/bin/env bash
# What `dcomp convert-gguf` says about bad input, end to end: each case must exit non-zero
# with a message naming the GGUF file and the problem, and leave no output folder and no
# temporary folder. The variants are the fixture (tests/gguf/fixtures/tiny_llama.gguf)
# rewritten by tests/gguf/edit_gguf.py with one change each. Then the output rules: an
# existing folder is refused without --overwrite, replaced with it, and a folder that holds
# anything else is never replaced.
# Usage: convert_gguf_errors.sh <dcomp binary> <source folder>
set -uo pipefail
dcomp="$1"; source_dir="$2"
fixture="$source_dir/tests/gguf/fixtures/tiny_llama.gguf"
edit="$source_dir/tests/gguf/edit_gguf.py"
work="$(mktemp -d /tmp/dcomp-convert-errors.XXXXXX)"
trap 'rm -rf "$work"' EXIT
failures=0

expect_failure() {  # expect_failure <case> <gguf> <expected message part>
  local name="$1" gguf="$2" expected="$3" out="$work/out"
  if "$dcomp" convert-gguf "$gguf" "$out" >"$work/log" 2>&1; then
    echo "FAIL [$name]: exited 0"; failures=$((failures + 1)); return
  fi
  if ! grep -qF -- "$gguf" "$work/log" || ! grep -qF -- "$expected" "$work/log"; then
    echo "FAIL [$name]: expected the file and \"$expected\" in:"; cat "$work/log"; failures=$((failures + 1)); return
  fi
  if compgen -G "$out*" >/dev/null; then
    echo "FAIL [$name]: left output behind: $(ls -d "$out"*)"; failures=$((failures + 1)); return
  fi
  echo "ok   [$name]: $(tail -n 1 "$work/log")"
}

variant() {  # variant <name> <edit args...>: prints the path of the edited copy
  local name="$1"; shift
  python3 "$edit" "$fixture" "$work/$name.gguf" "$@" || { echo "edit_gguf.py failed for $name" >&2; exit 1; }
  echo "$work/$name.gguf"
}

printf 'not a model\n' >"$work/text.gguf"
expect_failure "not a GGUF file" "$work/text.gguf" 'not a GGUF file'
head -c 100000 "$fixture" >"$work/truncated.gguf"
expect_failure "truncated tensor data" "$work/truncated.gguf" "truncated: tensor 'blk.0.ffn_up.weight'"
head -c 900 "$fixture" >"$work/short.gguf"
expect_failure "truncated metadata" "$work/short.gguf" "more than the file holds"
expect_failure "another architecture" "$(variant qwen2 set-string general.architecture qwen2)" \
  "general.architecture is 'qwen2'"
expect_failure "unsupported quant type" "$(variant q5 retype blk.0.ffn_up.weight 6 32 22)" \
  "tensor 'blk.0.ffn_up.weight' is Q5_0, which dcomp cannot dequantize"
expect_failure "wrong tensor shape" "$(variant shape reshape blk.1.attn_q.weight 64 32)" \
  "tensor 'blk.1.attn_q.weight' has shape [32, 64], expected [64, 64]"
expect_failure "missing tensor" "$(variant missing drop blk.1.ffn_down.weight)" \
  "the tensor for 'model.layers.1.mlp.down_proj.weight' is missing"
expect_failure "unknown tensor" "$(variant unknown rename blk.1.ffn_down.weight blk.1.ffn_dwn.weight)" \
  "tensor 'blk.1.ffn_dwn.weight' is not part of a Llama model"
expect_failure "unknown pre-tokenizer" "$(variant tekken set-string tokenizer.ggml.pre tekken)" \
  "tokenizer.ggml.pre 'tekken'"
expect_failure "unknown tokenizer model" "$(variant bert set-string tokenizer.ggml.model bert)" \
  "tokenizer.ggml.model 'bert'"
# Metadata that would give a config.json dcomp refuses (rms_norm_eps and rope_theta must be
# finite and above 0; JSON writes NaN and infinity as null).
for change in "llama.attention.layer_norm_rms_epsilon 0" "llama.attention.layer_norm_rms_epsilon -1" \
              "llama.attention.layer_norm_rms_epsilon nan" "llama.rope.freq_base 0" "llama.rope.freq_base inf" \
              "llama.rope.freq_base -5"; do
  read -r key value <<<"$change"
  expect_failure "metadata $key = $value" "$(variant "$key-$value" set-number "$key" "$value")" \
    "metadata '$key' is"
done
# Every conversion that succeeds loads back: config.json through dcomp's own validation.
"$dcomp" convert-gguf "$fixture" "$work/loads" >/dev/null && "$dcomp" inspect --verify "$work/loads" >"$work/log" 2>&1 \
  && echo "ok   [the fixture's conversion passes inspect --verify]" \
  || { echo "FAIL [the fixture's conversion passes inspect --verify]:"; cat "$work/log"; failures=$((failures + 1)); }
rm -rf "$work/loads"
# A temporary folder left by a killed conversion (no lock holds it) is removed by the next one.
mkdir -p "$work/model.tmp-0123456789ab" && echo partial >"$work/model.tmp-0123456789ab/model.safetensors"
"$dcomp" convert-gguf "$fixture" "$work/model" >"$work/log" 2>&1
if [ -e "$work/model.tmp-0123456789ab" ] || ! grep -qF "removed $work/model.tmp-0123456789ab" "$work/log"; then
  echo "FAIL [abandoned temporary folder]: not removed"; cat "$work/log"; failures=$((failures + 1))
else
  echo "ok   [abandoned temporary folder]: $(head -n 1 "$work/log")"
fi
rm -rf "$work/model"

# Output rules.
out="$work/model"
"$dcomp" convert-gguf "$fixture" "$out" >/dev/null || { echo "FAIL: the fixture does not convert"; exit 1; }
if "$dcomp" convert-gguf "$fixture" "$out" >"$work/log" 2>&1; then
  echo "FAIL [existing output]: replaced without --overwrite"; failures=$((failures + 1))
else
  echo "ok   [existing output]: $(tail -n 1 "$work/log")"
fi
before="$(stat -c %Y "$out/model.safetensors")"
sleep 1
"$dcomp" convert-gguf "$fixture" "$out" --dtype bfloat16 --overwrite >/dev/null \
  && grep -q '"torch_dtype": "bfloat16"' "$out/config.json" && [ "$(stat -c %Y "$out/model.safetensors")" != "$before" ] \
  && echo "ok   [--overwrite replaces an earlier conversion]" \
  || { echo "FAIL [--overwrite replaces an earlier conversion]"; failures=$((failures + 1)); }
mkdir -p "$work/notes" && echo keep >"$work/notes/keep.txt"
if "$dcomp" convert-gguf "$fixture" "$work/notes" --overwrite >"$work/log" 2>&1 || [ ! -f "$work/notes/keep.txt" ]; then
  echo "FAIL [a folder of other files]: replaced or emptied"; failures=$((failures + 1))
else
  echo "ok   [a folder of other files]: $(tail -n 1 "$work/log")"
fi
if compgen -G "$work/*.tmp-*" >/dev/null; then echo "FAIL: temporary folders left: $(ls -d "$work"/*.tmp-*)"; failures=$((failures + 1)); fi

[ "$failures" -eq 0 ] && echo "all convert-gguf error cases pass" || { echo "$failures case(s) failed"; exit 1; }
