#!/usr/bin/env bash
# Every check of a recipe's values runs when the recipe is initialized, before any
# calibration: NaN, infinite and out-of-range numbers (dampening_frac, smoothing_strength,
# sparsity), observers dcomp does not implement and observer_kwargs they do not read, AWQ and
# SmoothQuant mappings that select nothing, and targets that select norms. Each case must exit
# non-zero with a message naming the recipe file, the modifier and the field, print nothing of
# the calibration pass ("calibration:" is logged when it starts), and leave no output.
# Usage: recipe_value_errors.sh <dcomp binary>
set -uo pipefail
dcomp="$1"
work="$(mktemp -d /tmp/dcomp-recipe-values.XXXXXX)"
trap 'rm -rf "$work"' EXIT
failures=0

"$dcomp" create-model --output "$work/model" --layers 2 --hidden-size 128 --intermediate-size 256 --heads 2 \
  --kv-heads 1 --write-text "$work/calibration.txt" >/dev/null || { echo "FAIL: create-model"; exit 1; }

expect_refusal() {  # expect_refusal <case> <expected message part> <recipe text>
  local name="$1" expected="$2" recipe="$work/${1//[^A-Za-z0-9]/_}.yaml"
  local out="$work/out-${1//[^A-Za-z0-9]/_}"
  printf '%s\n' "$3" >"$recipe"
  "$dcomp" --log-level info oneshot --threads 2 --num-calibration-samples 8 --max-seq-length 64 --model "$work/model" \
    --recipe "$recipe" --dataset "$work/calibration.txt" --output "$out" >"$work/log" 2>&1
  local status=$?
  if [ "$status" -eq 0 ]; then echo "FAIL [$name]: exited 0"; failures=$((failures + 1)); return; fi
  if ! grep -qF -- "$(basename "$recipe"):" "$work/log" || ! grep -qF -- "$expected" "$work/log"; then
    echo "FAIL [$name]: message lacks the recipe file or \"$expected\":"; tail -3 "$work/log"
    failures=$((failures + 1)); return
  fi
  if grep -qF "calibration:" "$work/log"; then
    echo "FAIL [$name]: refused only after calibration started"; failures=$((failures + 1)); return
  fi
  if ls -d "$out" "$out".tmp-* >/dev/null 2>&1; then
    echo "FAIL [$name]: output left behind"; failures=$((failures + 1)); return
  fi
  echo "ok [$name]: $(grep -F -- "$expected" "$work/log" | head -1 | sed 's/^.*error: //')"
}

gptq() { printf 'quant_stage:\n  quant_modifiers:\n    GPTQModifier:\n      scheme: W4A16\n      ignore: [lm_head]\n%s' "$1"; }
group() {  # a QuantizationModifier with one config group whose weights (and input activations) are given
  printf 'quant_stage:\n  quant_modifiers:\n    QuantizationModifier:\n      ignore: [lm_head]\n      config_groups:\n        g:\n          targets: [Linear]\n          weights: %s\n%s' "$1" "${2:-}"
}
w4='{num_bits: 4, type: int, symmetric: true, strategy: group, group_size: 32'

# Numbers.
expect_refusal "dampening_frac NaN" "GPTQModifier argument 'dampening_frac' must be a finite number, not .nan" \
  "$(gptq '      dampening_frac: .nan')"
expect_refusal "dampening_frac infinite" "GPTQModifier argument 'dampening_frac' must be a finite number, not .inf" \
  "$(gptq '      dampening_frac: .inf')"
expect_refusal "dampening_frac 1.5" "GPTQModifier argument 'dampening_frac' must be in [0, 1)" \
  "$(gptq '      dampening_frac: 1.5')"
expect_refusal "smoothing_strength NaN" "SmoothQuantModifier argument 'smoothing_strength' must be a finite number" \
  "$(printf 'sq_stage:\n  sq_modifiers:\n    SmoothQuantModifier:\n      smoothing_strength: .nan\n    GPTQModifier: {scheme: W8A8, ignore: [lm_head]}')"
expect_refusal "sparsity NaN" "SparseGPTModifier argument 'sparsity' must be a finite number" \
  "$(printf 'sparse_stage:\n  sparse_modifiers:\n    SparseGPTModifier:\n      sparsity: .nan')"

# Observers.
expect_refusal "unknown weight observer" "config group 'g' weights: observer 'histogram' is not supported for weights" \
  "$(group "$w4, observer: histogram}")"
expect_refusal "weight_observer override" "(the observer was set by weight_observer)" \
  "$(gptq '      weight_observer: minmaxx')"
expect_refusal "observer_kwargs unknown key" "weights: observer_kwargs.maxshrnk: observer 'mse' takes no such argument" \
  "$(group "$w4, observer: mse, observer_kwargs: {maxshrnk: 0.5}}")"
expect_refusal "observer_kwargs out of range" "weights: observer_kwargs.maxshrink = 2 is outside [0" \
  "$(group "$w4, observer: mse, observer_kwargs: {maxshrink: 2}}")"
expect_refusal "observer_kwargs for min/max" "observer_kwargs.grid: observer 'memoryless_minmax' takes no such argument" \
  "$(group "$w4, observer: memoryless_minmax, observer_kwargs: {grid: 50}}")"
expect_refusal "activation observer mse" "input_activations: observer 'mse' is not supported for activations" \
  "$(group '{num_bits: 8, type: float, strategy: tensor}' '          input_activations: {num_bits: 8, type: float, strategy: tensor, observer: mse}')"
expect_refusal "KV cache observer_kwargs" "kv_cache_scheme.observer_kwargs.maxshrink" \
  "$(printf 'quant_stage:\n  quant_modifiers:\n    QuantizationModifier:\n      scheme: FP8\n      ignore: [lm_head]\n      kv_cache_scheme: {num_bits: 8, type: float, strategy: tensor, dynamic: false, symmetric: true, observer_kwargs: {maxshrink: 0.1}}')"

# What the recipe selects.
expect_refusal "SmoothQuant mapping selects nothing" \
  "SmoothQuantModifier mapping [re:.*qproj] <- re:.*input_layernorm: the balance layers match no Linear" \
  "$(printf 'sq_stage:\n  sq_modifiers:\n    SmoothQuantModifier:\n      mappings:\n        - [[\"re:.*qproj\"], \"re:.*input_layernorm\"]\n    GPTQModifier: {scheme: W8A8, ignore: [lm_head]}')"
expect_refusal "AWQ mapping selects nothing" \
  "AWQModifier mapping [re:.*down_proj] <- re:.*up_prj: the smooth layer 're:.*up_prj' matches no norm or Linear" \
  "$(printf 'awq_stage:\n  awq_modifiers:\n    AWQModifier:\n      mappings:\n        - {smooth_layer: \"re:.*up_prj\", balance_layers: [\"re:.*down_proj\"]}\n    QuantizationModifier: {scheme: W4A16_ASYM, ignore: [lm_head]}')"
expect_refusal "AWQ mapping of an unknown parent" "AWQModifier mapping [re:.*q_proj, re:.*o_proj] <- re:.*input_layernorm: in model.layers.0" \
  "$(printf 'awq_stage:\n  awq_modifiers:\n    AWQModifier:\n      mappings:\n        - {smooth_layer: \"re:.*input_layernorm\", balance_layers: [\"re:.*q_proj\", \"re:.*o_proj\"]}\n    QuantizationModifier: {scheme: W4A16_ASYM, ignore: [lm_head]}')"
expect_refusal "targets select a norm" "GPTQModifier: its targets select model.layers.0.input_layernorm (RMSNorm)" \
  "$(printf 'quant_stage:\n  quant_modifiers:\n    GPTQModifier:\n      scheme: W8A8\n      targets: [Linear, \"re:.*input_layernorm\"]\n      ignore: [lm_head]')"

# The valid forms of the same arguments still run.
printf 'quant_stage:\n  quant_modifiers:\n    GPTQModifier:\n      ignore: [lm_head]\n      dampening_frac: 0.0\n      config_groups:\n        g:\n          targets: [Linear]\n          weights: %s, observer: mse, observer_kwargs: {maxshrink: 0.3, grid: 50}}\n' "$w4" >"$work/valid.yaml"
if "$dcomp" --log-level warn oneshot --threads 2 --num-calibration-samples 8 --max-seq-length 64 --model "$work/model" \
     --recipe "$work/valid.yaml" --dataset "$work/calibration.txt" --output "$work/valid-out" >"$work/log" 2>&1 &&
   [ -f "$work/valid-out/config.json" ]; then
  echo "ok [valid values]: written"
else
  echo "FAIL [valid values]:"; tail -5 "$work/log"; failures=$((failures + 1))
fi

[ "$failures" -eq 0 ] || { echo "$failures case(s) failed"; exit 1; }
echo "all cases passed"
