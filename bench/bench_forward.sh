#!/usr/bin/env bash
# The forward pass side by side, in one run: for each model folder given (e.g. an F32 and
# a BF16 checkpoint of one model), bench_forward's one window (tokens/s, GFLOP/s against
# at::mm on the same GEMM shapes), then `dcomp eval` over TEXT in windows of WINDOW tokens
# (wall time, peak memory, perplexity), and, when DCOMP_BENCH_PYTHON names a Python with
# torch and transformers (run by hand; nothing here installs them), transformers on the
# same windows (BOS + WINDOW-1 tokens each, every position after BOS scored) with the same
# number of threads.
# Usage: bench/bench_forward.sh <build/bin folder> <TEXT> <WINDOW> MODEL_DIR [MODEL_DIR...]
# Environment: OMP_NUM_THREADS (default: all hardware threads), DCOMP_BENCH_PYTHON.
set -euo pipefail
bin="$1"; text="$2"; window="$3"; shift 3
threads="${OMP_NUM_THREADS:-$(nproc)}"
export OMP_NUM_THREADS="$threads"
echo "== bench_forward ($threads thread(s))"
"$bin/bench_forward" "$window" "$@"
echo
echo "== perplexity of $(basename "$text") in windows of $window tokens ($threads thread(s))"
printf '%-34s %-14s %10s %12s %14s\n' model engine seconds "peak MiB" perplexity
for model in "$@"; do
  out="$(mktemp)"
  /usr/bin/time -f '%e %M' -o "$out.time" "$bin/dcomp" --log-level warn eval --model "$model" --dataset "$text" \
    --max-seq-length "$window" --json >"$out"
  read -r seconds kib <"$out.time"
  perplexity="$(python3 -c 'import json,sys; print("%.6f" % json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])["perplexity"])' "$out")"
  printf '%-34s %-14s %10s %12d %14s\n' "$(basename "$model")" "dcomp eval" "$seconds" "$((kib / 1024))" "$perplexity"
  if [ -n "${DCOMP_BENCH_PYTHON:-}" ]; then
    /usr/bin/time -f '%e %M' -o "$out.time" "$DCOMP_BENCH_PYTHON" - "$model" "$text" "$window" "$threads" >"$out" <<'PY'
import math, sys, time
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer
model_dir, text_path, window, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
tokenizer = AutoTokenizer.from_pretrained(model_dir)
model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
ids = tokenizer(open(text_path, encoding="utf-8").read(), add_special_tokens=False)["input_ids"]
nll, count, started = 0.0, 0, time.time()
with torch.no_grad():
    for begin in range(0, len(ids), window - 1):
        chunk = ids[begin:begin + window - 1]
        logits = model(torch.tensor([[tokenizer.bos_token_id] + chunk])).logits[0, :-1].double()
        nll -= torch.log_softmax(logits, -1)[torch.arange(len(chunk)), torch.tensor(chunk)].sum().item()
        count += len(chunk)
print(f"{math.exp(nll / count):.6f} {time.time() - started:.2f}")
PY
    read -r seconds kib <"$out.time"
    read -r hf_perplexity forward_seconds <"$out"
    printf '%-34s %-14s %10s %12d %14s   (forward alone %s s)\n' "$(basename "$model")" "transformers" "$seconds" \
      "$((kib / 1024))" "$hf_perplexity" "$forward_seconds"
  fi
  rm -f "$out" "$out.time"
done
