#!/usr/bin/env bash
# What `dcomp oneshot` says about bad input, end to end: each case must exit
# non-zero with a message naming the file and the problem, and leave no output
# (neither the output folder nor a temporary one). One case, a dataset with
# fewer samples than requested, is a warning and the run goes on.
# Cases: model folder (no config.json, unsupported architecture, an MoE routing mode dcomp
# lacks, unsupported dtype, a tensor shape that contradicts config.json, a truncated safetensors
# file); recipe (invalid YAML with line and column, unknown modifier, scheme
# together with config_groups, targets that match nothing); dataset (empty, an
# invalid JSON line with its number), a recipe whose keys hold no modifiers, the newer schemes'
# impossible options (FP4 with zero points or another group size, a block wider than the
# matrix, an integer KV cache, AWQ's grid and duo_scaling),
# --backend nccl on the CPU, and --device cuda with a LibTorch that lacks CUDA.
# Usage: input_errors.sh <dcomp binary> <shared data folder>
set -uo pipefail
dcomp="$1"; data="$2"
source_model="$data/tinystories-656k"
[ -d "$source_model" ] || { echo "SKIP: shared data folder not found: $data"; exit 77; }
work="$(mktemp -d /tmp/dcomp-input-errors.XXXXXX)"
trap 'rm -rf "$work"' EXIT
failures=0
dataset="$data/text/tinystories_valid_sample.txt"

variant() {  # variant <name> <python statement editing config dict c>: a model copy with config.json edited
  local dir="$work/models/$1"
  mkdir -p "$dir" && cp "$source_model"/* "$dir"/
  python3 - "$dir/config.json" "$2" <<'PY'
import json, sys
path, edit = sys.argv[1], sys.argv[2]
c = json.load(open(path))
exec(edit)
json.dump(c, open(path, "w"), indent=2)
PY
  echo "$dir"
}

expect_failure() {  # expect_failure <case> <expected message part> -- <oneshot args...>
  local name="$1" expected="$2"; shift 3
  local out="$work/out-${name// /_}"
  local defaults=(--num-calibration-samples 8 --max-seq-length 64 --threads 1)
  if [ -n "${OWN_NUMBERS:-}" ]; then defaults=(); fi  # the case gives its own (a flag may appear once)
  "$dcomp" --log-level warn oneshot "${defaults[@]}" --output "$out" "$@" >"$work/log" 2>&1
  local status=$?
  if [ "$status" -eq 0 ]; then echo "FAIL [$name]: exited 0"; failures=$((failures + 1)); return; fi
  if ! grep -qF -- "$expected" "$work/log"; then
    echo "FAIL [$name]: message lacks \"$expected\":"; cat "$work/log"; failures=$((failures + 1)); return
  fi
  if ls -d "$out" "$out".tmp-* >/dev/null 2>&1; then
    echo "FAIL [$name]: output left behind"; failures=$((failures + 1)); return
  fi
  echo "ok [$name]: $(grep -F -- "$expected" "$work/log" | head -1)"
}

# Model folder.
no_config="$work/models/no-config"; mkdir -p "$no_config"; cp "$source_model"/model.safetensors "$no_config"/
expect_failure "no config.json" "$no_config/config.json" -- --model "$no_config" --scheme W4A16 --dataset "$dataset"
gpt2="$(variant gpt2 'c["architectures"] = ["GPT2LMHeadModel"]; c["model_type"] = "gpt2"')"
expect_failure "unsupported architecture" "GPT2LMHeadModel" -- --model "$gpt2" --scheme W4A16 --dataset "$dataset"
# A mixture-of-experts config with a routing mode dcomp lacks (DeepSeek's grouped sigmoid routing).
moe_source="$(cd "$(dirname "$0")/../model/fixtures/qwen3_moe" && pwd)"
moe_routing="$work/models/moe-routing"; mkdir -p "$moe_routing" && cp "$moe_source"/*.json "$moe_source"/model.safetensors "$moe_routing"/
python3 - "$moe_routing/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["scoring_func"] = "sigmoid"; json.dump(c, open(sys.argv[1], "w"))
PY
expect_failure "unsupported MoE routing" "$moe_routing/config.json: field \"scoring_func\" \"sigmoid\" is not supported" -- \
  --model "$moe_routing" --scheme W4A16 --dataset "$dataset"
int8="$(variant int8 'c["torch_dtype"] = "int8"')"
expect_failure "unsupported dtype" "int8" -- --model "$int8" --scheme W4A16 --dataset "$dataset"
wide="$(variant wide 'c["intermediate_size"] = c["intermediate_size"] * 2')"
expect_failure "shape contradicts config.json" "mlp.gate_proj.weight" -- --model "$wide" --scheme W4A16 \
  --dataset "$dataset"
truncated="$work/models/truncated"; mkdir -p "$truncated"; cp "$source_model"/* "$truncated"/
truncate -s 100000 "$truncated/model.safetensors"
expect_failure "truncated safetensors" "$truncated/model.safetensors" -- --model "$truncated" --scheme W4A16 \
  --dataset "$dataset"

# Recipe.
printf 'stage:\n  mods:\n    GPTQModifier: {scheme: W4A16\n' >"$work/bad.yaml"
expect_failure "invalid YAML" "bad.yaml:" -- --model "$source_model" --recipe "$work/bad.yaml" --dataset "$dataset"
printf 'q_stage:\n  q_modifiers:\n    GPTQModifer:\n      scheme: W4A16\n' >"$work/typo.yaml"
expect_failure "unknown modifier" "typo.yaml:3:5: unknown modifier 'GPTQModifer'" -- --model "$source_model" \
  --recipe "$work/typo.yaml" --dataset "$dataset"
printf 'q_stage:\n  q_modifiers:\n    GPTQModifier:\n      scheme: W4A16\n      config_groups:\n        g: {targets: [Linear], weights: {num_bits: 8}}\n' >"$work/both.yaml"
expect_failure "scheme and config_groups" "mutually exclusive" -- --model "$source_model" --recipe "$work/both.yaml" \
  --dataset "$dataset"
printf 'q_stage:\n  q_modifiers:\n    GPTQModifier:\n      scheme: W4A16\n      targets: [Conv2d]\n' >"$work/nothing.yaml"
expect_failure "targets match nothing" "match no module" -- --model "$source_model" --recipe "$work/nothing.yaml" \
  --dataset "$dataset"

# The newer schemes' impossible options, each named with its recipe line.
printf 'q_stage:\n  q_modifiers:\n    QuantizationModifier:\n      config_groups:\n        g:\n          targets: [Linear]\n          weights: {num_bits: 4, type: float, strategy: tensor_group, group_size: 16, symmetric: false}\n' >"$work/fp4asym.yaml"
expect_failure "FP4 with zero points" "fp4asym.yaml:4:7: QuantizationModifier: config_groups.g.weights.symmetric: FP4" -- \
  --model "$source_model" --recipe "$work/fp4asym.yaml"
printf 'q_stage:\n  q_modifiers:\n    QuantizationModifier:\n      config_groups:\n        g:\n          targets: [Linear]\n          weights: {num_bits: 4, type: float, strategy: tensor_group, group_size: 64}\n' >"$work/fp4group.yaml"
expect_failure "FP4 group size" "FP4 needs the NVFP4 layout" -- --model "$source_model" --recipe "$work/fp4group.yaml"
printf 'q_stage:\n  q_modifiers:\n    QuantizationModifier:\n      config_groups:\n        g:\n          targets: [Linear]\n          weights: {num_bits: 8, type: float, strategy: block, block_structure: [256, 256]}\n' >"$work/block.yaml"
expect_failure "block wider than the matrix" "block_structure [256, 256] is wider than" -- --model "$source_model" \
  --recipe "$work/block.yaml"
printf 'q_stage:\n  q_modifiers:\n    QuantizationModifier:\n      config_groups:\n        g:\n          targets: [Linear]\n          weights: {num_bits: 8, type: float, strategy: channel}\n          input_activations: {num_bits: 8, type: float, strategy: group, group_size: 96, dynamic: true}\n' >"$work/actgroup.yaml"
expect_failure "activation group size" "not divisible by the input activations' group_size 96" -- \
  --model "$source_model" --recipe "$work/actgroup.yaml"
printf 'q_stage:\n  q_modifiers:\n    QuantizationModifier:\n      scheme: FP8\n      kv_cache_scheme: {num_bits: 8, type: int, strategy: tensor, dynamic: false, symmetric: true}\n' >"$work/kvint.yaml"
expect_failure "kv_cache_scheme int8" "kvint.yaml:5:24: QuantizationModifier argument 'kv_cache_scheme'" -- \
  --model "$source_model" --recipe "$work/kvint.yaml" --dataset "$dataset"
printf 'q_stage:\n  q_modifiers:\n    AWQModifier: {n_grid: 2}\n    QuantizationModifier: {scheme: W4A16_ASYM, targets: [Linear], ignore: [lm_head]}\n' >"$work/awqgrid.yaml"
expect_failure "AWQ n_grid" "n_grid" -- --model "$source_model" --recipe "$work/awqgrid.yaml" --dataset "$dataset"
printf 'q_stage:\n  q_modifiers:\n    AWQModifier: {duo_scaling: half}\n    QuantizationModifier: {scheme: W4A16_ASYM}\n' >"$work/awqduo.yaml"
expect_failure "AWQ duo_scaling" "duo_scaling" -- --model "$source_model" --recipe "$work/awqduo.yaml" --dataset "$dataset"

printf 'stage:\n  mods:\n    GPTQModifier:\n      scheme: W4A16\n' >"$work/unnamed.yaml"
expect_failure "no modifiers" "defines no modifiers" -- --model "$source_model" --recipe "$work/unnamed.yaml" \
  --dataset "$dataset"

# Dataset.
: >"$work/empty.txt"
expect_failure "empty dataset" "$work/empty.txt" -- --model "$source_model" --scheme W4A16 --dataset "$work/empty.txt"
printf '{"text": "Once upon a time"}\n{"text": "broken\n{"text": "The end"}\n' >"$work/rows.jsonl"
expect_failure "invalid JSON line" "line 2" -- --model "$source_model" --scheme W4A16 --dataset "$work/rows.jsonl"

# Numbers on the command line: refused before any work, never wrapped.
OWN_NUMBERS=1
expect_failure "negative sample count" "--num-calibration-samples: Value -1 not in range" -- --model "$source_model" \
  --scheme W4A16 --dataset "$dataset" --num-calibration-samples=-1
expect_failure "negative sequence length" "--max-seq-length: Value -1 not in range" -- --model "$source_model" \
  --scheme W4A16 --dataset "$dataset" --max-seq-length=-1
expect_failure "sequence longer than the model's positions" "max_position_embeddings" -- --model "$source_model" \
  --scheme W4A16 --dataset "$dataset" --max-seq-length 100000
expect_failure "zero threads" "--threads: Value 0 not in range" -- --model "$source_model" --scheme W4A16 \
  --dataset "$dataset" --threads 0
expect_failure "absurd thread count" "--threads: Value 100000 not in range" -- --model "$source_model" \
  --scheme W4A16 --dataset "$dataset" --threads 100000
expect_failure "threads far above the hardware" "more than 4 threads per hardware thread" -- --model \
  "$source_model" --scheme W4A16 --dataset "$dataset" --threads 4000
expect_failure "zero chunk size" "--chunk-size: Value 0 not in range" -- --model "$source_model" --scheme W4A16 \
  --dataset "$dataset" --chunk-size 0
OWN_NUMBERS=

# Devices and backends.
expect_failure "nccl on the CPU" "computes on the CPU" -- --model "$source_model" --scheme W4A16 \
  --dataset "$dataset" --device cpu --backend nccl
if "$dcomp" version | grep -q "^LibTorch .*, CUDA no"; then
  expect_failure "cuda without a CUDA LibTorch" "LibTorch without CUDA support" -- --model "$source_model" \
    --scheme W4A16 --dataset "$dataset" --device cuda
elif "$dcomp" version | grep -q "^LibTorch .*, CUDA yes, GPUs visible 0"; then
  expect_failure "cuda without a GPU" "LibTorch sees no GPU" -- --model "$source_model" --scheme W4A16 \
    --dataset "$dataset" --device cuda
else
  echo "skip [cuda without a GPU]: this machine has one"
fi

# Fewer samples than requested: a warning, and the run completes.
printf 'Once upon a time there was a cat.\n' >"$work/short.txt"
if "$dcomp" --log-level warn oneshot --model "$source_model" --scheme W4A16 --dataset "$work/short.txt" \
    --num-calibration-samples 64 --threads 1 --output "$work/short-out" >"$work/log" 2>&1 &&
   grep -q "fewer than the 64 requested" "$work/log" && [ -f "$work/short-out/config.json" ]; then
  echo "ok [fewer samples than requested]: $(grep -F "fewer than" "$work/log" | head -1)"
else
  echo "FAIL [fewer samples than requested]:"; cat "$work/log"; failures=$((failures + 1))
fi

[ "$failures" -eq 0 ] || { echo "$failures case(s) failed"; exit 1; }
echo "all cases passed"
