#!/usr/bin/env bash
# `dcomp create-model --architecture deepseek_v3` at a small shape (hidden 256, the release's MLA
# ranks, 4 experts in 2 groups, layer 0 dense):
# - with --fp8-block 128 its Linears are F8_E4M3 with F32 weight_scale_inv, config.json carries
#   DeepSeek's quantization_config, and `dcomp eval` on token ids reads it (FP8 blocks decoded)
#   with a perplexity within 5 % of the same seed's dense fp32 model's;
# - flags of the other architecture and routing the config reader refuses fail at once, naming
#   the flag or field, with no output folder left.
# Usage: create_model_deepseek.sh <dcomp binary>
set -euo pipefail
dcomp="$1"
work="$(mktemp -d "${TMPDIR:-/tmp}/dcomp-create-deepseek.XXXXXX")"
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS=1
shape=(--architecture deepseek_v3 --layers 2 --first-k-dense-replace 1 --hidden-size 256 --intermediate-size 384
       --heads 2 --experts 4 --topk-groups 1 --experts-per-token 2 --expert-intermediate-size 128 --seed 5)
small=("${shape[@]}" --expert-groups 2)

"$dcomp" --log-level warn create-model "${small[@]}" --fp8-block 128 --output "$work/fp8"
"$dcomp" --log-level warn create-model "${small[@]}" --dtype float32 --output "$work/dense"
python3 - "$work/fp8" <<'PY'
import json, struct, sys
folder = sys.argv[1]
config = json.load(open(folder + "/config.json"))
assert config["architectures"] == ["DeepseekV3ForCausalLM"] and config["torch_dtype"] == "bfloat16", config
assert config["quantization_config"] == {"activation_scheme": "dynamic", "fmt": "e4m3", "quant_method": "fp8",
                                         "weight_block_size": [128, 128]}, config["quantization_config"]
assert (config["q_lora_rank"], config["kv_lora_rank"], config["qk_nope_head_dim"], config["qk_rope_head_dim"],
        config["v_head_dim"], config["routed_scaling_factor"], config["scoring_func"]) == \
       (1536, 512, 128, 64, 128, 2.5, "sigmoid"), config
with open(folder + "/model.safetensors", "rb") as f:
    (n,) = struct.unpack("<Q", f.read(8)); header = json.loads(f.read(n))
kv_a = "model.layers.1.self_attn.kv_a_proj_with_mqa."
assert header[kv_a + "weight"]["dtype"] == "F8_E4M3" and header[kv_a + "weight"]["shape"] == [576, 256]
assert header[kv_a + "weight_scale_inv"]["dtype"] == "F32" and header[kv_a + "weight_scale_inv"]["shape"] == [5, 2]
assert header["model.layers.1.mlp.experts.3.down_proj.weight"]["dtype"] == "F8_E4M3"
assert header["model.layers.1.mlp.gate.weight"]["dtype"] == "BF16"
assert header["model.layers.1.mlp.gate.e_score_correction_bias"]["dtype"] == "F32"
assert header["model.embed_tokens.weight"]["dtype"] == "BF16"
print("fp8 model: config and dtypes as released")
PY

python3 "$(dirname "$0")/../support/token_ids.py" "$work/ids.jsonl" 4 32 777
for name in fp8 dense; do
  "$dcomp" --log-level warn eval --model "$work/$name" --dataset "$work/ids.jsonl" --max-seq-length 32 --json \
    >"$work/$name-eval.json"
done
python3 - "$work/fp8-eval.json" "$work/dense-eval.json" <<'PY'
import json, math, sys
fp8, dense = (json.load(open(p)) for p in sys.argv[1:3])
print("perplexity: fp8 blocks %.4f, dense %.4f" % (fp8["perplexity"], dense["perplexity"]))
assert math.isfinite(fp8["perplexity"]) and fp8["tokens"] == dense["tokens"] > 0, (fp8, dense)
assert abs(fp8["perplexity"] / dense["perplexity"] - 1) < 0.05, (fp8, dense)
PY

refused() {  # refused <expected message> <flags...>
  local expected="$1"; shift
  if "$dcomp" --log-level warn create-model "$@" --output "$work/refused" >"$work/refused.log" 2>&1; then
    echo "accepted: $*"; exit 1
  fi
  grep -qF -- "$expected" "$work/refused.log" || { echo "expected '$expected' in:"; cat "$work/refused.log"; exit 1; }
  [ ! -e "$work/refused" ] || { echo "output left behind by: $*"; exit 1; }
}
refused "--kv-heads" "${small[@]}" --kv-heads 1
refused "--first-k-dense-replace" --first-k-dense-replace 1
refused "n_routed_experts 4 must split into n_group 3" "${shape[@]}" --expert-groups 3
echo "create-model deepseek_v3: ok"
