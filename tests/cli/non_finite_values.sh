#!/usr/bin/env bash
# No NaN or infinity reaches a checkpoint: `dcomp oneshot` on a model holding an infinite or NaN
# weight, or a finite weight so large that the activations overflow, must exit non-zero with a
# message naming the module and the first bad value, leave neither the output nor a temporary
# folder, and not suggest --resume (which could only stop at the same value). Every scheme is
# covered: integer round-to-nearest and GPTQ, NVFP4, MXFP4, FP8 with static input scales, and
# an FP8 KV cache. The same commands on the unedited model succeed and write only finite values.
# The models are made here (dcomp create-model), and edited with tests/support/set_tensor_values.py.
# Usage: non_finite_values.sh <dcomp binary>
set -uo pipefail
dcomp="$1"
support="$(cd "$(dirname "$0")/../support" && pwd)"
work="$(mktemp -d /tmp/dcomp-non-finite.XXXXXX)"
trap 'rm -rf "$work"' EXIT
failures=0

"$dcomp" create-model --output "$work/clean" --layers 2 --hidden-size 128 --intermediate-size 256 --heads 2 \
  --kv-heads 1 --write-text "$work/calibration.txt" >/dev/null || { echo "FAIL: create-model"; exit 1; }
edited() {  # edited <name> <tensor> <row,col=value>...: a copy of the clean model with values overwritten
  local dir="$work/$1"; mkdir -p "$dir" && cp "$work/clean"/* "$dir"/
  python3 "$support/set_tensor_values.py" "$dir/model.safetensors" "${@:2}" >/dev/null || exit 1
  echo "$dir"
}
inf_model="$(edited inf model.layers.1.mlp.down_proj.weight 17,5=inf 3,100=-inf)"
nan_model="$(edited nan model.layers.1.mlp.down_proj.weight 40,7=nan)"
norm_model="$(edited norm model.layers.0.post_attention_layernorm.weight 9=nan)"
# Finite, but x·W overflows fp32 in the first layer's attention.
huge_model="$(edited huge model.layers.0.self_attn.q_proj.weight 0,0=3e38 1,0=-3e38 2,1=3e38)"

kv_recipe="$work/kv.yaml"
printf 'quant_stage:\n  quant_modifiers:\n    QuantizationModifier:\n      scheme: FP8\n      ignore: [lm_head]\n      kv_cache_scheme: {num_bits: 8, type: float, strategy: tensor, dynamic: false, symmetric: true}\n' >"$kv_recipe"

run() {  # run <output> <oneshot args...>: exit status in $status, log in $work/log
  "$dcomp" --log-level info oneshot --threads 2 --num-calibration-samples 8 --max-seq-length 64 --output "$1" \
    "${@:2}" >"$work/log" 2>&1
  status=$?
}

expect_refusal() {  # expect_refusal <case> <expected message part> -- <oneshot args...>
  local name="$1" expected="$2"; shift 3
  local out="$work/out-${name//[^A-Za-z0-9]/_}"
  run "$out" "$@"
  if [ "$status" -eq 0 ]; then echo "FAIL [$name]: exited 0"; failures=$((failures + 1)); return; fi
  if ! grep -qF -- "$expected" "$work/log"; then
    echo "FAIL [$name]: message lacks \"$expected\":"; tail -5 "$work/log"; failures=$((failures + 1)); return
  fi
  if grep -qF -- "--resume" "$work/log"; then
    echo "FAIL [$name]: suggests --resume, which can only stop at the same value:"; grep -F -- "--resume" "$work/log"
    failures=$((failures + 1)); return
  fi
  if ls -d "$out" "$out".tmp-* >/dev/null 2>&1; then
    echo "FAIL [$name]: output or saved progress left behind"; failures=$((failures + 1)); return
  fi
  echo "ok [$name]: $(grep -F -- "$expected" "$work/log" | head -1 | sed 's/^.*error: //')"
}

inf_message="model.layers.1.mlp.down_proj: weight holds 2 non-finite values (first at [3, 100]: -inf)"
nan_message="model.layers.1.mlp.down_proj: weight holds 1 non-finite value (at [40, 7]: nan)"
for scheme in W4A16 NVFP4A16 MXFP4A16 FP8_DYNAMIC; do
  expect_refusal "RTN $scheme, infinite weight" "$inf_message" -- --model "$inf_model" --scheme "$scheme" --algorithm rtn
  expect_refusal "RTN $scheme, NaN weight" "$nan_message" -- --model "$nan_model" --scheme "$scheme" --algorithm rtn
done
# GPTQ completes layer 0 and saves it before meeting layer 1's weight.
expect_refusal "GPTQ W4A16, NaN weight" "$nan_message" -- --model "$nan_model" --scheme W4A16 \
  --dataset "$work/calibration.txt"
expect_refusal "GPTQ NVFP4A16, infinite weight" "$inf_message" -- --model "$inf_model" --scheme NVFP4A16 \
  --dataset "$work/calibration.txt"
expect_refusal "NaN norm" "model.layers.0.post_attention_layernorm: weight holds 1 non-finite value (at [9]: nan)" -- \
  --model "$norm_model" --scheme W4A16 --algorithm rtn
expect_refusal "FP8 static input scales, overflowing activations" "the calibration activations overflow" -- \
  --model "$huge_model" --scheme FP8 --algorithm rtn --dataset "$work/calibration.txt"
expect_refusal "FP8 KV cache, overflowing activations" "model.layers.0." -- --model "$huge_model" \
  --recipe "$kv_recipe" --dataset "$work/calibration.txt"

# The same runs on the clean model succeed, and every floating tensor written is finite.
for args in "--scheme W4A16 --algorithm rtn" "--scheme NVFP4A16 --algorithm rtn" "--scheme MXFP4A16 --algorithm rtn" \
            "--scheme W4A16 --dataset $work/calibration.txt" "--scheme FP8 --dataset $work/calibration.txt" \
            "--recipe $kv_recipe --dataset $work/calibration.txt"; do
  out="$work/clean-out"; rm -rf "$out"
  # shellcheck disable=SC2086
  run "$out" --model "$work/clean" $args
  if [ "$status" -ne 0 ]; then echo "FAIL [clean model, $args]: exit $status"; tail -5 "$work/log"; failures=$((failures + 1)); continue; fi
  if ! python3 - "$out" <<'PY'
import glob, json, math, struct, sys
bad = []
for path in glob.glob(sys.argv[1] + "/*.safetensors"):
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = f.read()
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        raw = data[begin:end]
        if entry["dtype"] == "F32":
            values = struct.unpack("<%df" % (len(raw) // 4), raw)
        elif entry["dtype"] == "BF16":
            values = [struct.unpack("<f", b"\0\0" + raw[i:i + 2])[0] for i in range(0, len(raw), 2)]
        elif entry["dtype"] == "F8_E4M3":
            values = [math.nan if byte & 0x7F == 0x7F else 0.0 for byte in raw]
        else:
            continue
        if any(math.isnan(v) or math.isinf(v) for v in values):
            bad.append(name)
sys.exit("non-finite tensors: " + ", ".join(sorted(bad)) if bad else 0)
PY
  then echo "FAIL [clean model, $args]: wrote non-finite values"; failures=$((failures + 1)); continue; fi
  echo "ok [clean model, $args]: finite checkpoint"
done

[ "$failures" -eq 0 ] || { echo "$failures case(s) failed"; exit 1; }
echo "all cases passed"
