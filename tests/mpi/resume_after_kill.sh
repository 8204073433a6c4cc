#!/usr/bin/env bash
# Resume after a crash: a `dcomp oneshot` run is killed with SIGKILL in the
# middle of a decoder layer (DCOMP_FAULT_KILL=<rank>:<layer>, the same signal as
# `kill -9`), then continued with --resume on another number of ranks. The
# resumed checkpoint must equal, byte for byte, an uninterrupted 1-rank run
# (every file but the run report, whose timings differ). Also checked: no output
# folder after the crash, the saved progress names the complete layers, and a
# resume with other settings is refused with the setting named, and so is a resume after a
# tensor of the model was changed in place (same file size, other content).
# Usage: resume_after_kill.sh <dcomp binary> <shared data folder>
# Optional environment: DCOMP_MPIRUN, the launcher command (default mpirun; the cluster tests
# name tests/cluster/mpirun_two_nodes.sh), DCOMP_RESUME_CASES, the crashes and resumes as
# "<ranks> <rank>:<layer> <resume ranks>" separated by commas (default "2 1:2 3, 1 0:4 2").
set -euo pipefail
dcomp="$1"; data="$2"
[ -d "$data/stories260k" ] || { echo "SKIP: shared data folder not found: $data"; exit 77; }
work="$(mktemp -d "${TMPDIR:-/tmp}/dcomp-resume.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cat >"$work/channel_w4.yaml" <<'YAML'
quant_stage:
  quant_modifiers:
    GPTQModifier:
      ignore: [lm_head]
      config_groups:
        group_0:
          targets: [Linear]
          weights: {num_bits: 4, type: int, symmetric: true, strategy: channel}
YAML
export OMPI_MCA_btl=self,vader OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
read -ra mpirun <<<"${DCOMP_MPIRUN:-mpirun}"
IFS=, read -ra cases <<<"${DCOMP_RESUME_CASES:-2 1:2 3, 1 0:4 2}"
# stories260k has 5 decoder layers; a copy, so that one of its tensors can be changed.
cp -R "$data/stories260k" "$work/model" && chmod -R u+w "$work/model"
args=(--model "$work/model" --dataset "$data/text/tinystories_valid_sample.txt"
      --num-calibration-samples 24 --max-seq-length 128 --threads 1)
recipe="$work/channel_w4.yaml"
run() {  # run <ranks> <output> [extra arguments...], with $recipe
  local ranks="$1" out="$2"; shift 2
  "${mpirun[@]}" --allow-run-as-root --oversubscribe -np "$ranks" -x DCOMP_FAULT_KILL "$dcomp" --log-level warn oneshot \
    "${args[@]}" --recipe "$recipe" --output "$out" "$@"
}
fail() { echo "FAIL: $*"; exit 1; }
killed_run() {  # killed_run <DCOMP_FAULT_KILL> <log> <ranks> <output>: the run must fail
  local status
  set +e
  DCOMP_FAULT_KILL="$1" run "$3" "$4" >"$2" 2>&1
  status=$?
  set -e
  [ "$status" -ne 0 ] || fail "the run with DCOMP_FAULT_KILL=$1 exited 0"
}
source "$(dirname "$0")/../support/same_checkpoint.sh"
# Negates one tensor of the model copy in place (flips the sign bit of every F32 value), or
# undoes that when run again: the file keeps its size and header.
flip_tensor_signs() {
  python3 - "$work/model/model.safetensors" "$1" <<'PY'
import json, struct, sys
path, name = sys.argv[1], sys.argv[2]
with open(path, "r+b") as f:
    header_len = struct.unpack("<Q", f.read(8))[0]
    entry = json.loads(f.read(header_len))[name]
    assert entry["dtype"] == "F32", entry
    begin, end = (8 + header_len + offset for offset in entry["data_offsets"])
    f.seek(begin)
    data = bytearray(f.read(end - begin))
    for i in range(3, len(data), 4):
        data[i] ^= 0x80
    f.seek(begin)
    f.write(data)
PY
}
completed_layers() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["completed_layers"])' "$1"; }

export DCOMP_FAULT_KILL=""
run 1 "$work/reference" || fail "the uninterrupted run failed"
# The checkpoint says how it was made: recipe.yaml holds the recipe file's text, not its path.
cmp "$work/channel_w4.yaml" "$work/reference/recipe.yaml" || fail "recipe.yaml is not the text of the recipe file"

for case in "${cases[@]}"; do
  read -r ranks kill resume_ranks <<<"$case"
  out="$work/out-$ranks-$resume_ranks"
  killed_run "$kill" "$work/crash.log" "$ranks" "$out"
  [ ! -e "$out" ] || fail "an output folder exists after the crash"
  partial=( "$out".tmp-* )
  [ -f "${partial[0]}/progress/state.json" ] || fail "no saved progress after the crash"
  expected_layers="${kill#*:}"
  [ "$(completed_layers "${partial[0]}/progress/state.json")" = "$expected_layers" ] ||
    fail "saved progress does not list $expected_layers complete layers"
  echo "killed rank ${kill%:*} of $ranks in layer $expected_layers: $expected_layers layer(s) saved in ${partial[0]}"

  # Other settings: refused, the progress kept.
  if run "$resume_ranks" "$out" --resume --seed 7 >"$work/mismatch.log" 2>&1; then fail "resume with another seed ran"; fi
  grep -q "used other settings (seed)" "$work/mismatch.log" || { cat "$work/mismatch.log"; fail "no clear message"; }
  [ -f "${partial[0]}/progress/state.json" ] || fail "a refused resume removed the saved progress"
  # A tensor of a layer still to come changed in place: refused, naming the file.
  flip_tensor_signs model.layers.4.self_attn.q_proj.weight
  if run "$resume_ranks" "$out" --resume >"$work/changed.log" 2>&1; then fail "resume with a changed tensor ran"; fi
  grep -q "used other settings (model_files: model.safetensors)" "$work/changed.log" ||
    { cat "$work/changed.log"; fail "no clear message for the changed tensor"; }
  flip_tensor_signs model.layers.4.self_attn.q_proj.weight  # restored: the resume below is accepted

  run "$resume_ranks" "$out" --resume || fail "the resumed run failed"
  same_checkpoint "$work/reference" "$out"
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["resumed_layers"]==int(sys.argv[2]), r["resumed_layers"]; assert len(r["layers"])==5' \
    "$out/dcomp_report.json" "$expected_layers" || fail "the run report does not describe the resumed run"
  ! ls -d "$out".tmp-* >/dev/null 2>&1 || fail "the temporary folder is left behind"
  echo "resumed on $resume_ranks rank(s): identical to the uninterrupted run"
done

# lm_head compressed too (no ignore): it is the subgraph after the last layer, not saved
# progress. Killed there (DCOMP_FAULT_KILL=0:5), a resume on 2 ranks finds all 5 layers
# complete, reads the hidden states after the last one and compresses the head again:
# the checkpoint equals an uninterrupted 1-rank run's.
sed '/ignore: \[lm_head\]/d' "$work/channel_w4.yaml" >"$work/with_head.yaml"
recipe="$work/with_head.yaml"
DCOMP_FAULT_KILL="" run 1 "$work/head-reference" || fail "the uninterrupted run with lm_head failed"
python3 -c 'import json,sys; assert "lm_head.weight_packed" in json.load(open(sys.argv[1]))["weight_map"]' \
  "$work/head-reference/model.safetensors.index.json" || fail "lm_head is not compressed"
killed_run 0:5 "$work/head-crash.log" 1 "$work/head"
partial=( "$work"/head.tmp-* )
[ "$(completed_layers "${partial[0]}/progress/state.json")" = 5 ] || fail "killed at lm_head, yet not 5 layers saved"
run 2 "$work/head" --resume || fail "the resumed run with lm_head failed"
same_checkpoint "$work/head-reference" "$work/head"
echo "killed in the lm_head subgraph, resumed on 2 ranks: identical to the uninterrupted run"
recipe="$work/channel_w4.yaml"

# A run killed before it saved any layer leaves a temporary folder that can never be
# resumed: the next run of the same output removes it.
killed_run 0:0 "$work/early.log" 1 "$work/early"
abandoned=( "$work"/early.tmp-* )
[ -d "${abandoned[0]}" ] || fail "no temporary folder after the kill in layer 0"
[ ! -e "${abandoned[0]}/progress/state.json" ] || fail "killed in layer 0, yet progress was saved"
DCOMP_FAULT_KILL="" run 1 "$work/early" >"$work/early2.log" 2>&1 || { cat "$work/early2.log"; fail "the next run failed"; }
! ls -d "$work"/early.tmp-* >/dev/null 2>&1 || fail "the abandoned temporary folder ${abandoned[0]} is left behind"
echo "killed in layer 0: the next run of the same output removed ${abandoned[0]}"

# A mixture-of-experts model (the Qwen3-MoE fixture: layers 0 and 2 sparse, 1 dense), killed
# in layer 2 and resumed on 2 ranks: the resumed run writes only layer 2, yet the checkpoint's
# ignore list names the router of layer 0 too (read from the adopted shards), as the
# uninterrupted run's does.
fixture="$(dirname "$0")/../model/fixtures/qwen3_moe"
mkdir -p "$work/moe-model"
cp "$fixture/config.json" "$fixture/model.safetensors" "$work/moe-model/"
python3 -c '
import json, random, sys
rng = random.Random(3)
with open(sys.argv[1], "w") as out:
    for _ in range(12):
        out.write(json.dumps({"input_ids": [rng.randrange(3, 128) for _ in range(48)]}) + "\n")' "$work/moe-ids.jsonl"
args=(--model "$work/moe-model" --dataset "$work/moe-ids.jsonl" --num-calibration-samples 12 --max-seq-length 48
      --threads 1)
DCOMP_FAULT_KILL="" run 1 "$work/moe-reference" || fail "the uninterrupted MoE run failed"
python3 -c 'import json,sys; i=json.load(open(sys.argv[1]))["quantization_config"]["ignore"]; assert i == ["lm_head", "model.layers.0.mlp.gate", "model.layers.2.mlp.gate"], i' \
  "$work/moe-reference/config.json" || fail "the MoE checkpoint does not name its dense routers in ignore"
killed_run 0:2 "$work/moe-crash.log" 1 "$work/moe"
run 2 "$work/moe" --resume || fail "the resumed MoE run failed"
same_checkpoint "$work/moe-reference" "$work/moe"
echo "MoE model killed in layer 2, resumed on 2 ranks: identical to the uninterrupted run (routers in ignore)"
