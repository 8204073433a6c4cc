#!/usr/bin/env bash
# dcomp against llm-compressor 0.14 on TinyStories-656K: the same recipes and calibration token
# ids as tests/pipeline/fixtures/llmcompressor/ (made by make_llmcompressor_fixtures.py with
# llm-compressor itself). For each job dcomp's checkpoint is compared with llm-compressor's:
#   RTN jobs (rtn_*, fp8_*)  every weight tensor (codes, scales, zero points, global scales) byte for
#                            byte;
#   GPTQ jobs (gptq_*)       every scale and global scale byte for byte; each module's GPTQ loss within
#                            a relative tolerance (1e-3 in layer 0, whose inputs are the same; 1e-2 in
#                            layer 1, whose inputs come through the quantized layer 0); the share of
#                            identical codes (FP4 and INT4 nibble by nibble) printed per layer and held
#                            to at least 99.9 % in layer 0 and 99.5 % in layer 1;
#   calibrated scalars       (input_scale, input_global_scale, k_scale, v_scale) by value: layer 0
#                            within 1e-6 relative (its inputs are the same, up to the forward's
#                            rounding), layer 1 within 3 %: llm-compressor's RTN calibrates layer 1 on
#                            the outputs of the unquantized layer 0 (its pipeline disables quantization
#                            and RTN leaves the weights in place), dcomp on those of the quantized one,
#                            the model a deployment runs;
#   AWQ (awq_w4a16_asym)     layer 0, whose inputs are the same: every code and zero point byte for
#                            byte, scales within 1e-6 relative (the activation means are summed in another
#                            order), each mapping's grid-search errors within 1e-5; layer 1, calibrated
#                            on the quantized layer 0 by dcomp and on the unquantized one by llm-compressor
#                            (see above): errors within 5 %, the share of identical codes printed;
#   quantization_config      equal to llm-compressor's, but for the compressed-tensors version.
# BF16 jobs (bf16_*) run on a BF16 copy of the model (make_bf16_model.py, written here), where
# llm-compressor computes scales, zero points and global scales in BF16 and the codes from the
# stored BF16 scales; they are checked the same way, but for GPTQ's losses and codes: dcomp's
# forward is FP32 where llm-compressor's is BF16, so the Hessians differ by the BF16 rounding of
# the activations and GPTQ rounds some columns the other way, moving the later ones (measured: losses
# within 0.3 % in layer 0 and 0.8 % in layer 1, 96 % and 90-96 % identical codes; held to 1 % and 2 %,
# 95 % and 88 %). Their scales, which come from the weights alone, are compared byte for byte.
# bf16_awq_w4a16_asym: each mapping's grid-search errors within 5 % and at least 88 % identical codes
# (measured 2 % and 91.6 %; with FP32 smoothing and FP32 qparams, as dcomp had them, 4.4 % and 83.9 %).
# The samples are taken in file order (--no-shuffle), as the fixtures were: the KV-cache observer's
# moving average depends on the order, and fp32 Hessian sums round differently in another one.
# Usage: llmcompressor_parity.sh <dcomp binary> <source folder> <shared data folder>
set -uo pipefail
dcomp="$1"; source_dir="$2"; data="$3"
fixtures="$source_dir/tests/pipeline/fixtures/llmcompressor"
[ -d "$data/tinystories-656k" ] || { echo "SKIP: shared data folder not found: $data"; exit 77; }
work="$(mktemp -d /tmp/dcomp-llmcompressor-parity.XXXXXX)"
trap 'rm -rf "$work"' EXIT
failures=0
jobs="gptq_w4a16 rtn_w4a16 gptq_w8a8 fp8_dynamic rtn_nvfp4a16 gptq_nvfp4a16 rtn_nvfp4 rtn_mxfp4a16 gptq_mxfp4a16
      fp8_kv_cache awq_w4a16_asym rtn_nvfp4a16_mse rtn_mxfp4a16_mse bf16_fp8_dynamic bf16_rtn_w4a16 bf16_rtn_w4a16_asym
      bf16_rtn_w8a8 bf16_rtn_nvfp4a16 bf16_gptq_w4a16 bf16_gptq_w8a8 bf16_awq_w4a16_asym"
python3 "$source_dir/tests/pipeline/make_bf16_model.py" "$data/tinystories-656k" "$work/tinystories-656k-bf16" ||
  { echo "FAIL: cannot write the BF16 copy of TinyStories-656K"; exit 1; }
for job in $jobs; do
  model="$data/tinystories-656k"
  case "$job" in bf16_*) model="$work/tinystories-656k-bf16" ;; esac
  if ! "$dcomp" --log-level warn oneshot --model "$model" --recipe "$fixtures/$job/recipe.yaml" \
      --dataset "$fixtures/calibration.jsonl" --num-calibration-samples 16 --max-seq-length 128 --no-shuffle --threads 1 \
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
awq = os.path.exists(os.path.join(reference, "awq_errors.json"))
awq_values = read_tensors([os.path.join(reference, "codes.safetensors")]) if awq else {}
bf16 = job.startswith("bf16_")  # run on the BF16 copy, where the forward passes differ (see above)

def floats(raw):
    return struct.unpack(f"<{len(raw) // 4}f", raw)

def modifier_results():  # every modifier's result for every layer, from dcomp's run report
    report = json.load(open(os.path.join(out, "dcomp_report.json")))
    return [modifier for layer in report["layers"] for modifier in layer["modifiers"]]

def same_nibbles(mine, theirs):  # 4-bit codes, two a byte (INT4 in int32 words, FP4): (identical, total)
    return sum(((a & 15) == (b & 15)) + ((a >> 4) == (b >> 4)) for a, b in zip(mine, theirs)), 2 * len(theirs)
calibrated = ("input_scale", "input_global_scale", "k_scale", "v_scale")
worst_scalar = {0: 0.0, 1: 0.0}
for name, expected in digests.items():
    if name not in ours:
        problems.append(f"{name}: missing from dcomp's checkpoint")
        continue
    dtype, shape, raw = ours[name]
    if shape != expected["shape"]:
        problems.append(f"{name}: shape {shape}, llm-compressor {expected['shape']}")
    if name.endswith(calibrated):
        value = struct.unpack("<f", raw)[0] if dtype == "F32" and len(raw) == 4 else float("nan")
        layer = int(name.split(".")[2])
        relative = abs(value - expected["value"]) / abs(expected["value"])
        worst_scalar[layer] = max(worst_scalar[layer], relative)
        if not relative <= (1e-6 if layer == 0 else 3e-2):
            problems.append(f"{name}: {value:.9g} ({dtype}), llm-compressor {expected['value']:.9g}")
        continue
    codes = name.endswith("weight_packed") or (name.endswith(".weight") and dtype == "I8")
    if awq and (bf16 or int(name.split(".")[2]) > 0):
        continue  # compared through the grid-search errors and the share of identical codes below
    if awq and name.endswith("weight_scale"):
        theirs, mine = floats(awq_values[name][2]), floats(raw)
        relative = max(abs(a - b) / abs(a) for a, b in zip(theirs, mine))
        if relative > 1e-6:
            problems.append(f"{name}: scales differ by {relative:.2e} relative")
        continue
    if hashlib.sha256(raw).hexdigest() != expected["sha256"] and not (gptq and codes):
        problems.append(f"{name}: bytes differ from llm-compressor's")
if any(name.endswith(calibrated) for name in digests):
    print(f"     [{job}] calibrated scalars: largest relative difference layer 0 {worst_scalar[0]:.2e}, "
          f"layer 1 {worst_scalar[1]:.2e}")
config = json.load(open(os.path.join(out, "config.json")))["quantization_config"]
reference_config = json.load(open(os.path.join(reference, "quantization_config.json")))
for key in sorted(set(config) | set(reference_config)):
    if key != "version" and config.get(key) != reference_config.get(key):
        problems.append(f"quantization_config.{key}: {json.dumps(config.get(key))} , llm-compressor "
                        f"{json.dumps(reference_config.get(key))}")

if awq:
    expected_errors = json.load(open(os.path.join(reference, "awq_errors.json")))
    mine = {mapping["smooth"]: mapping for modifier in modifier_results()
            for mapping in modifier.get("smoothed", []) if isinstance(mapping, dict)}
    worst = {0: 0.0, 1: 0.0}
    error_tolerance = {0: 5e-2, 1: 5e-2} if bf16 else {0: 1e-5, 1: 5e-2}
    for smooth, expected in expected_errors.items():
        if smooth not in mine:
            problems.append(f"{smooth}: not smoothed by dcomp")
            continue
        layer = int(smooth.split(".")[2])
        for key in ("initial_error", "best_error"):
            relative = abs(mine[smooth][key] - expected[key]) / expected[key]
            worst[layer] = max(worst[layer], relative)
            if relative > error_tolerance[layer]:
                problems.append(f"{smooth}: AWQ {key} {mine[smooth][key]:.6g}, llm-compressor {expected[key]:.6g}")
    same = total = 0
    counted = ("model.layers.0.", "model.layers.1.") if bf16 else ("model.layers.1.",)
    for name, (dtype, shape, raw) in awq_values.items():
        if name.endswith("weight_packed") and name.startswith(counted):
            identical, count = same_nibbles(ours[name][2], raw)
            same, total = same + identical, total + count
    print(f"     [{job}] grid-search errors: largest relative difference layer 0 {worst[0]:.2e}, layer 1 "
          f"{worst[1]:.2e}; identical codes in layer{'s 0 and' if bf16 else ''} 1 {100 * same / max(total, 1):.2f} %")
    if bf16 and same < 0.88 * total:
        problems.append(f"identical codes {100 * same / max(total, 1):.2f} %, below 88 %")

if gptq:
    losses = json.load(open(os.path.join(reference, "losses.json")))
    dcomp_losses = {}
    for modifier in modifier_results():
        dcomp_losses.update(modifier.get("loss", {}))
    worst = {0: 0.0, 1: 0.0}
    loss_tolerance = {0: 1e-2, 1: 2e-2} if bf16 else {0: 1e-3, 1: 1e-2}
    for module, expected in losses.items():
        layer = int(module.split(".")[2])
        relative = abs(dcomp_losses[module] - expected) / max(abs(expected), 1e-12)
        worst[layer] = max(worst[layer], relative)
        if relative > loss_tolerance[layer]:
            problems.append(f"{module}: GPTQ loss {dcomp_losses[module]:.6g}, llm-compressor {expected:.6g}")
    references = read_tensors([os.path.join(reference, "codes.safetensors")])
    same, total = {0: 0, 1: 0}, {0: 0, 1: 0}
    for name, (dtype, shape, raw) in references.items():
        mine = ours[name][2]
        layer = int(name.split(".")[2])
        if dtype == "I32" or dtype == "U8":  # 4-bit codes: by nibble
            identical, count = same_nibbles(mine, raw)
            same[layer] += identical
            total[layer] += count
        else:
            same[layer] += sum(a == b for a, b in zip(mine, raw))
            total[layer] += len(raw)
    share = {layer: same[layer] / total[layer] for layer in same}
    print(f"     [{job}] identical codes layer 0 {100 * share[0]:.3f} %, layer 1 {100 * share[1]:.3f} % of "
          f"{total[0] + total[1]}; largest relative loss difference layer 0 {worst[0]:.2e}, layer 1 {worst[1]:.2e}")
    # Layer 1 sees layer 0's output: one rounding flip there moves its Hessians and, through the
    # activation order, its columns.
    floors = {0: 0.95, 1: 0.88} if bf16 else {0: 0.999, 1: 0.995}
    for layer, floor in floors.items():
        if share[layer] < floor:
            problems.append(f"identical codes in layer {layer} {100 * share[layer]:.3f} %, below {100 * floor:.1f} %")
for problem in problems:
    print(f"FAIL [{job}]: {problem}")
if not problems:
    how = (" (scales byte for byte)" if gptq else " (shapes; errors and codes as above)" if awq and bf16
           else " (layer 0's codes byte for byte)" if awq else " byte for byte")
    print(f"ok   [{job}]: {len(digests)} tensors compared{how}")
sys.exit(1 if problems else 0)
PY
done
[ "$failures" -eq 0 ] && echo "dcomp matches llm-compressor 0.14 on every job" || { echo "$failures job(s) differ"; exit 1; }
