#!/usr/bin/env bash
# dcomp quick start: sets up and builds dcomp, creates the built-in synthetic
# Llama model, compresses it with GPTQ W4A16 on the built-in calibration text,
# prints each module's output error for GPTQ and for round-to-nearest, and the
# perplexity before and after.
# Environment: DCOMP_QUICKSTART_DIR (default: /tmp/dcomp-quickstart).
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DCOMP_BUILD_TARGETS=dcomp "$repo_root/launch/setup.sh"  # the quick start runs the executable only
dcomp="${DCOMP_BUILD_DIR:-$repo_root/build}/bin/dcomp"
work="${DCOMP_QUICKSTART_DIR:-/tmp/dcomp-quickstart}"
mkdir -p "$work"

if [ ! -f "$work/model/config.json" ]; then
  rm -rf "$work/model"
  "$dcomp" create-model --output "$work/model" --write-text "$work/calibration.txt"
fi

"$dcomp" --log-level warn oneshot --model "$work/model" --scheme W4A16 --dataset "$work/calibration.txt" \
  --num-calibration-samples 16 --max-seq-length 256 --output "$work/model-w4a16" --overwrite \
  --compare-rtn --report "$work/report.json"

before=$("$dcomp" eval --model "$work/model" --dataset "$work/calibration.txt" --max-seq-length 256 --json)
after=$("$dcomp" eval --model "$work/model-w4a16" --dataset "$work/calibration.txt" --max-seq-length 256 --json)

python3 - "$work/report.json" "$before" "$after" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
before, after = json.loads(sys.argv[2]), json.loads(sys.argv[3])
print(f"\nGPTQ W4A16 (group 128) on {report['model']}: output error ||WX - QX||^2 per module")
print(f"{'module':40s} {'GPTQ':>12s} {'RTN':>12s} {'GPTQ/RTN':>9s}")
for layer in report["layers"]:
    for m in layer["modules"]:
        ratio = m["output_error"] / m["output_error_round_to_nearest"] if m["output_error_round_to_nearest"] else 0
        print(f"{m['module']:40s} {m['output_error']:12.4g} {m['output_error_round_to_nearest']:12.4g} {ratio:9.3f}")
print(f"\nperplexity on the calibration text: original {before['perplexity']:.4f}, "
      f"W4A16 {after['perplexity']:.4f} ({report['total_seconds']:.1f} s to compress)")
print(f"compressed checkpoint: {report['output']}")
PY
