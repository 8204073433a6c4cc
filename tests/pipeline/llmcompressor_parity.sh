#!/usr/bin/env bash
# dcomp against llm-compressor 0.14 on TinyStories-656K: the same recipes and calibration token
# ids as tests/pipeline/fixtures/llmcompressor/ (made by make_llmcompressor_fixtures.py with
# llm-compressor itself). For each job dcomp's checkpoint is compared with llm-compressor's:
#   rtn_w4a16, fp8_dynamic   every quantized tensor (codes, scales, zero points) byte for byte;
#   gptq_w4a16, gptq_w8a8    every scale byte for byte; each module's GPTQ loss within a relative
#                            tolerance (1e-3 in layer 0, whose inputs are the same; 1e-2 in layer 1,
#                            whose inputs come through the quantized layer 0); the share of identical
#                            integer codes printed and held to at least 99.9 %.
# Usage: llmcompressor_parity.sh <dcomp binary> <source folder> <shared data folder>
set -uo pipefail
dcomp="$1"; source_dir="$2"; data="$3"
fixtures="$source_dir/tests/pipeline/fixtures/llmcompressor"
[ -d "$data/tinystories-656k" ] || { echo "SKIP: shared data folder not found: $data"; exit 77; }
work="$(mktemp -d /tmp/dcomp-llmcompressor-parity.XXXXXX)"
trap 'rm -rf "$work"' EXIT
failures=0
for job in gptq_w4a16 rtn_w4a16 gptq_w8a8 fp8_dynamic; do
  if ! "$dcomp" --log-level warn oneshot --model "$data/tinystories-656k" --recipe "$fixtures/$job/recipe.yaml" \
      --dataset "$fixtures/calibration.jsonl" --num-calibration-samples 16 --max-seq-length 128 --threads 1 \
      --output "$work/$job" >"$work/$job.log" 2>&1; then
    echo "FAIL [$job]: dcomp oneshot failed:"; cat "$work/$job.log"; failures=$((failures + 1)); continue
  fi
  python3 - "$work/$job" "$fixtures/$job" "$job" <<'PY' || failures=$((failures + 1))
import glob, hashlib, json, os, struct, sys
out, reference, job = sys.argv[1:4]

def read_tensors(paths):  # name -> (dtype, shape, raw bytes); the safetensors layout, by hand
    tensors = {}
    for path in paths:
        blob = open(path, "rb").read()
        size = struct.unpack("<Q", blob[:8])[0]
        header = json.loads(blob[8:8 + size])
        for name, info in header.items():
            if name != "__metadata__":
                begin, end = info["data_offsets"]
                tensors[name] = (info["dtype"], info["shape"], blob[8 + size + begin:8 + size + end])
    return tensors

ours = read_tensors(glob.glob(os.path.join(out, "*.safetensors")))
digests = json.load(open(os.path.join(reference, "digests.json")))
problems = []
gptq = os.path.exists(os.path.join(reference, "losses.json"))
for name, expected in digests.items():
    if name not in ours:
        problems.append(f"{name}: missing from dcomp's checkpoint")
        continue
    dtype, shape, raw = ours[name]
    if shape != expected["shape"]:
        problems.append(f"{name}: shape {shape}, llm-compressor {expected['shape']}")
    codes = name.endswith("weight_packed") or (name.endswith(".weight") and dtype == "I8")
    if hashlib.sha256(raw).hexdigest() != expected["sha256"] and not (gptq and codes):
        problems.append(f"{name}: bytes differ from llm-compressor's")

if gptq:
    losses = json.load(open(os.path.join(reference, "losses.json")))
    report = json.load(open(os.path.join(out, "dcomp_report.json")))
    dcomp_losses = {}
    for layer in report["layers"]:
        for modifier in layer["modifiers"]:
            dcomp_losses.update(modifier.get("loss", {}))
    worst = {0: 0.0, 1: 0.0}
    for module, expected in losses.items():
        layer = int(module.split(".")[2])
        relative = abs(dcomp_losses[module] - expected) / max(abs(expected), 1e-12)
        worst[layer] = max(worst[layer], relative)
        if relative > (1e-3 if layer == 0 else 1e-2):
            problems.append(f"{module}: GPTQ loss {dcomp_losses[module]:.6g}, llm-compressor {expected:.6g}")
    references = read_tensors([os.path.join(reference, "codes.safetensors")])
    same = total = 0
    for name, (dtype, shape, raw) in references.items():
        mine = ours[name][2]
        if dtype == "I32":  # eight 4-bit codes per int32: compare nibble by nibble
            for a, b in zip(mine, raw):
                same += ((a & 15) == (b & 15)) + ((a >> 4) == (b >> 4))
            total += 2 * len(raw)
        else:
            same += sum(a == b for a, b in zip(mine, raw))
            total += len(raw)
    share = same / total
    print(f"     [{job}] identical codes {100 * share:.3f} % of {total}; largest relative loss difference "
          f"layer 0 {worst[0]:.2e}, layer 1 {worst[1]:.2e}")
    if share < 0.999:
        problems.append(f"identical codes {100 * share:.3f} %, below 99.9 %")
for problem in problems:
    print(f"FAIL [{job}]: {problem}")
if not problems:
    print(f"ok   [{job}]: {len(digests)} tensors compared" + (" (scales byte for byte)" if gptq else " byte for byte"))
sys.exit(1 if problems else 0)
PY
done
[ "$failures" -eq 0 ] && echo "dcomp matches llm-compressor 0.14 on every job" || { echo "$failures job(s) differ"; exit 1; }
