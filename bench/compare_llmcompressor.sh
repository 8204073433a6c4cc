#!/usr/bin/env bash
# dcomp against llm-compressor on the same job, side by side in one run (by hand, not in CI):
# the same model folder, recipe and calibration token ids, the same number of threads. Prints
# both wall times (whole processes), each one's phases, peak RSS, the perplexity of both
# outputs (measured by `dcomp eval` on the same text), and the share of identical 4-bit codes.
# Usage: bench/compare_llmcompressor.sh <build/bin> MODEL RECIPE CALIBRATION_TEXT EVAL_TEXT [SAMPLES [SEQ]]
# Environment: OMP_NUM_THREADS (default 2); DCOMP_BENCH_PYTHON, a Python with llmcompressor 0.14
# (default: a virtual environment in DCOMP_BENCH_VENV, /tmp/dcomp-llmcompressor-venv, made and
# filled from PyPI on first use: several GB).
set -euo pipefail
bin="$1"; model="$2"; recipe="$3"; calibration="$4"; eval_text="$5"; samples="${6:-32}"; seq="${7:-512}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
python="${DCOMP_BENCH_PYTHON:-}"
if [ -z "$python" ]; then
  venv="${DCOMP_BENCH_VENV:-/tmp/dcomp-llmcompressor-venv}"
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet llmcompressor==0.14.0
  fi
  python="$venv/bin/python"
fi
work="$(mktemp -d /tmp/dcomp-vs-llmcompressor.XXXXXX)"
trap 'rm -rf "$work"' EXIT

# The calibration token ids: consecutive windows of SEQ tokens of the text (model's tokenizer.json).
"$python" - "$model/tokenizer.json" "$calibration" "$samples" "$seq" "$work/calibration.jsonl" <<'PY'
import json, sys
from tokenizers import Tokenizer
tokenizer_path, text_path, samples, seq, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
ids = Tokenizer.from_file(tokenizer_path).encode(open(text_path, encoding="utf-8").read()).ids
if len(ids) < samples * seq:
    sys.exit(f"{text_path}: {len(ids)} tokens, fewer than {samples} x {seq}")
with open(out, "w") as f:
    for i in range(samples):
        f.write(json.dumps({"input_ids": ids[i * seq:(i + 1) * seq]}) + "\n")
PY

echo "== $(basename "$model"), $(basename "$recipe"), $samples x $seq calibration tokens, $OMP_NUM_THREADS thread(s)"
/usr/bin/time -f '%e %M' -o "$work/dcomp.time" "$bin/dcomp" --log-level warn oneshot --model "$model" --recipe "$recipe" \
  --dataset "$work/calibration.jsonl" --num-calibration-samples "$samples" --max-seq-length "$seq" --no-shuffle \
  --output "$work/dcomp-out" --report "$work/dcomp-report.json"
/usr/bin/time -f '%e %M' -o "$work/llmc.time" "$python" "$here/llmcompressor_oneshot.py" "$model" "$recipe" \
  "$work/calibration.jsonl" "$work/llmc-out" "$OMP_NUM_THREADS" >"$work/llmc.json" 2>"$work/llmc.log" \
  || { tail -n 30 "$work/llmc.log"; exit 1; }
cp "$model"/tokenizer*.json "$work/llmc-out/"
for engine in dcomp llmc; do
  "$bin/dcomp" --log-level warn eval --model "$work/$engine-out" --dataset "$eval_text" --max-seq-length 2048 --json \
    | tail -n 1 >"$work/$engine-eval.json"
done
"$bin/dcomp" --log-level warn eval --model "$model" --dataset "$eval_text" --max-seq-length 2048 --json \
  | tail -n 1 >"$work/original-eval.json"

"$python" - "$work" <<'PY'
import glob, json, sys
import torch
from safetensors.torch import load_file
work = sys.argv[1]
def tensors(folder):
    out = {}
    for path in glob.glob(f"{folder}/*.safetensors"):
        out.update(load_file(path))
    return out
dcomp_time, dcomp_rss = open(f"{work}/dcomp.time").read().split()
llmc_time, llmc_rss = open(f"{work}/llmc.time").read().split()
report = json.load(open(f"{work}/dcomp-report.json"))
llmc = json.loads(open(f"{work}/llmc.json").read().strip().splitlines()[-1])
ppl = {e: json.load(open(f"{work}/{e}-eval.json"))["perplexity"] for e in ("dcomp", "llmc", "original")}
print(f"{'engine':16s} {'wall s':>8s} {'peak MiB':>9s} {'perplexity':>11s}  phases (s)")
print(f"{'dcomp':16s} {float(dcomp_time):8.1f} {int(dcomp_rss) / 1024:9.0f} {ppl['dcomp']:11.4f}  " +
      ", ".join(f"{k} {v:.1f}" for k, v in report["seconds_per_phase"].items()))
print(f"{'llm-compressor':16s} {float(llmc_time):8.1f} {int(llmc_rss) / 1024:9.0f} {ppl['llmc']:11.4f}  " +
      ", ".join(f"{k} {llmc[k]:.1f}" for k in ("import", "load", "oneshot", "save")))
print(f"original model perplexity {ppl['original']:.4f}; dcomp {float(llmc_time) / float(dcomp_time):.2f}x faster, "
      f"perplexity {100 * (ppl['dcomp'] / ppl['llmc'] - 1):+.2f} % against llm-compressor's")
a, b = tensors(f"{work}/dcomp-out"), tensors(f"{work}/llmc-out")
same = total = 0
for name, packed in a.items():
    if name.endswith("weight_packed") and name in b:
        unpack = lambda t: torch.stack([(t >> (4 * i)) & 15 for i in range(8)], -1)
        same += (unpack(packed) == unpack(b[name])).sum().item()
        total += unpack(packed).numel()
if total:
    print(f"identical 4-bit codes: {100 * same / total:.2f} % of {total}")
PY
