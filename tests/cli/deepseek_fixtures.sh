#!/usr/bin/env bash
# `dcomp eval`, `generate` and `oneshot` on the fixtures with DeepSeek-V3's routing (tests/model/
# fixtures/{deepseek_v3,deepseek_v3_q_proj,kimi_k2,glm4_moe}, made by transformers 5.19):
# - eval on the fixture's own prompt (as token ids, after BOS) dumps the first window's logits,
#   which must equal transformers' reference logits within 1e-5 of the largest;
# - generate continues the prompt (text whose bytes are its ids: the fixtures' byte-level
#   tokenizer) with transformers' 8 greedy tokens;
# - GPTQ W4A16 per channel (Linear targets, lm_head ignored) writes a checkpoint that eval reads back, with
#   finite perplexity, the routers and e_score_correction_bias dense, every other Linear packed;
# - a kv_cache_scheme on this multi-head latent attention is refused at the start, naming the
#   recipe field and the Linear, with no output left behind; eval refuses a checkpoint declaring one.
# Usage: deepseek_fixtures.sh <dcomp binary>
set -euo pipefail
dcomp="$1"
fixtures="$(cd "$(dirname "$0")/../model/fixtures" && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/dcomp-deepseek.XXXXXX")"
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS=1

python3 - "$fixtures/deepseek_v3/reference.safetensors" "$work/prompt.jsonl" <<'PY'
import json, struct, sys
with open(sys.argv[1], "rb") as f:
    (n,) = struct.unpack("<Q", f.read(8)); header = json.loads(f.read(n)); base = 8 + n
    begin, end = header["prompt"]["data_offsets"]; f.seek(base + begin)
    prompt = struct.unpack("<%dq" % ((end - begin) // 8), f.read(end - begin))
assert prompt[0] == 1  # BOS, which eval puts in front of each window itself
json.dump({"input_ids": list(prompt[1:])}, open(sys.argv[2], "w"))
PY
python3 "$(dirname "$0")/../support/token_ids.py" "$work/ids.jsonl" 16 64 12345

compare_logits() {  # compare_logits <dump from eval> <reference.safetensors>
  python3 - "$1" "$2" <<'PY'
import json, struct, sys
def tensor(path, name):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8)); header = json.loads(f.read(n)); base = 8 + n
        info = header[name]; begin, end = info["data_offsets"]; f.seek(base + begin)
        assert info["dtype"] == "F32", info
        return struct.unpack("<%df" % ((end - begin) // 4), f.read(end - begin))
ours, reference = tensor(sys.argv[1], "logits"), tensor(sys.argv[2], "logits")
assert len(ours) == len(reference), (len(ours), len(reference))
scale = max(abs(v) for v in reference)
difference = max(abs(a - b) for a, b in zip(ours, reference))
print("max |logit difference| %.3g (%.3g of the largest)" % (difference, difference / scale))
sys.exit(0 if difference < 1e-5 * scale else 1)
PY
}

# W4A16 with one scale per output channel (the fixtures' widths, 8 to 64, are below W4A16's groups of 128).
cat >"$work/w4a16.yaml" <<'YAML'
quant_stage:
  quant_modifiers:
    GPTQModifier:
      ignore: [lm_head]
      config_groups:
        group_0:
          targets: [Linear]
          weights: {num_bits: 4, type: int, symmetric: true, strategy: channel}
YAML
cat >"$work/kv.yaml" <<'YAML'
quant_stage:
  quant_modifiers:
    GPTQModifier:
      ignore: [lm_head]
      config_groups:
        group_0:
          targets: [Linear]
          weights: {num_bits: 4, type: int, symmetric: true, strategy: channel}
      kv_cache_scheme: {num_bits: 8, type: float, strategy: tensor, dynamic: false, symmetric: true}
YAML

for name in deepseek_v3 deepseek_v3_q_proj kimi_k2 glm4_moe; do
  "$dcomp" --log-level warn eval --model "$fixtures/$name" --dataset "$work/prompt.jsonl" --max-seq-length 24 \
    --dump-logits "$work/$name-logits.safetensors" --json >"$work/$name-eval.json"
  echo -n "$name eval: "; compare_logits "$work/$name-logits.safetensors" "$fixtures/$name/reference.safetensors"
  python3 - "$dcomp" "$fixtures/$name" <<'PY'
import json, struct, subprocess, sys
dcomp, folder = sys.argv[1], sys.argv[2]
def ids(name):
    with open(folder + "/reference.safetensors", "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8)); header = json.loads(f.read(n)); base = 8 + n
        begin, end = header[name]["data_offsets"]; f.seek(base + begin)
        return list(struct.unpack("<%dq" % ((end - begin) // 8), f.read(end - begin)))
prompt, greedy = ids("prompt"), ids("greedy")
# The byte-level tokenizer maps id b < 128 to byte b both ways; BOS (id 1) is not special, so it is printed.
text = bytes(prompt[1:]).decode("ascii")
printed = subprocess.run([dcomp, "--log-level", "warn", "generate", "--model", folder, "--prompt", text,
                          "--max-new-tokens", str(len(greedy))], check=True, capture_output=True).stdout
expected = bytes(prompt + greedy) + b"\n"
if printed != expected:
    sys.exit("generate printed %r, transformers' greedy continuation is %r" % (printed, expected))
print("generate: transformers' greedy tokens", greedy)
PY

  out="$work/$name-w4a16"
  "$dcomp" --log-level warn oneshot --model "$fixtures/$name" --recipe "$work/w4a16.yaml" --dataset "$work/ids.jsonl" \
    --num-calibration-samples 16 --max-seq-length 64 --threads 1 --output "$out"
  python3 - "$out" "$name" <<'PY'
import json, pathlib, struct, sys
names = set()
for file in pathlib.Path(sys.argv[1]).glob("*.safetensors"):
    with open(file, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8)); names |= set(json.loads(f.read(n)))
assert "model.layers.1.mlp.gate.weight" in names and "model.layers.1.mlp.gate.e_score_correction_bias" in names
assert "model.layers.1.mlp.gate.weight_packed" not in names
latent = sys.argv[2] != "glm4_moe"  # the others have multi-head latent attention
for linear in (("self_attn.kv_a_proj_with_mqa", "self_attn.kv_b_proj") if latent else ("self_attn.k_proj",)) + (
        "self_attn.o_proj", "mlp.experts.0.down_proj", "mlp.shared_experts.gate_proj"):
    assert "model.layers.1.%s.weight_packed" % linear in names, linear
assert "model.layers.0.mlp.down_proj.weight_packed" in names
PY
  "$dcomp" --log-level warn eval --model "$out" --dataset "$work/ids.jsonl" --max-seq-length 64 --json \
    >"$work/$name-w4a16-eval.json"
  python3 - "$work/$name-eval.json" "$work/$name-w4a16-eval.json" <<'PY'
import json, math, sys
quantized = json.load(open(sys.argv[2]))
assert math.isfinite(quantized["perplexity"]) and quantized["tokens"] == 16 * 64, quantized
print("W4A16 perplexity on the ids: %.3f" % quantized["perplexity"])
PY
done

refused="$work/refused"
if "$dcomp" --log-level warn oneshot --model "$fixtures/deepseek_v3" --recipe "$work/kv.yaml" --dataset "$work/ids.jsonl" \
     --num-calibration-samples 16 --max-seq-length 64 --threads 1 --output "$refused" >"$work/kv.log" 2>&1; then
  echo "FAIL: a kv_cache_scheme on multi-head latent attention was accepted"; exit 1
fi
grep -q "kv_cache_scheme is not supported for DeepseekV3ForCausalLM" "$work/kv.log" &&
  grep -q "self_attn.kv_a_proj_with_mqa" "$work/kv.log" || { cat "$work/kv.log"; echo "FAIL: message"; exit 1; }
[ ! -e "$refused" ] || { echo "FAIL: $refused was left behind"; exit 1; }
echo "kv_cache_scheme refused: $(grep -m1 kv_cache_scheme "$work/kv.log")"

declared="$work/deepseek_v3-w4a16"  # the W4A16 output above, its config.json claiming an FP8 KV cache
python3 - "$declared/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["quantization_config"]["kv_cache_scheme"] = {"num_bits": 8, "type": "float", "strategy": "tensor", "dynamic": False,
                                               "symmetric": True}
json.dump(c, open(sys.argv[1], "w"))
PY
if "$dcomp" --log-level warn eval --model "$declared" --dataset "$work/ids.jsonl" >"$work/declared.log" 2>&1; then
  echo "FAIL: eval ran a latent-attention checkpoint declaring a kv_cache_scheme"; exit 1
fi
grep -q "$declared/config.json: quantization_config.kv_cache_scheme is not supported for DeepseekV3ForCausalLM" \
  "$work/declared.log" || { cat "$work/declared.log"; echo "FAIL: message"; exit 1; }
echo "declared kv_cache_scheme refused by eval: $(cat "$work/declared.log")"
