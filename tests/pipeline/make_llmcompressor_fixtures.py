#!/usr/bin/env python3
"""Writes tests/pipeline/fixtures/llmcompressor/: what llm-compressor 0.14's oneshot makes of
TinyStories-656K (../shared/data) for four jobs, on fixed calibration token ids, as the
reference for tests/pipeline/llmcompressor_parity.sh.

Run by hand in a virtual environment with llmcompressor==0.14.0 (and its torch, transformers,
compressed-tensors); the tests only read its output. Arguments: the shared data folder and the
fixtures folder, then optionally the names of the jobs to write (default: all).

calibration.jsonl  16 rows of {"input_ids": BOS + 127 tokens} of text/tinystories_valid_sample.txt
<job>/recipe.yaml  the recipe, as given to oneshot
<job>/losses.json  GPTQ jobs: each module's GPTQ loss, as quantize_weight returned it
<job>/digests.json sha256 of every quantized tensor llm-compressor saved (codes, scales, zero points, global
                   scales, k/v scales), and the value of each fp32 scalar
<job>/codes.safetensors  GPTQ and AWQ jobs: the quantized weight tensors themselves, for the share of identical
                   codes (AWQ: with its scales and zero points, compared by value)
Jobs: gptq_w4a16 (GPTQ, W4A16: int4 symmetric groups of 128), rtn_w4a16 (QuantizationModifier,
W4A16), gptq_w8a8 (GPTQ, W8A8: int8 channel weights, dynamic int8 token activations),
fp8_dynamic (QuantizationModifier, FP8_DYNAMIC), rtn_nvfp4a16 / gptq_nvfp4a16 (NVFP4A16: FP4 weights in
groups of 16, FP8 group scales, a global scale per fused group), rtn_nvfp4 (NVFP4: also FP4 activations,
input_global_scale from calibration), rtn_mxfp4a16 / gptq_mxfp4a16 (MXFP4A16: FP4 weights in groups of
32, E8M0 scales), fp8_kv_cache (FP8 with an FP8 kv_cache_scheme: k_scale / v_scale), awq_w4a16_asym (AWQModifier with
duo_scaling, then QuantizationModifier W4A16_ASYM; awq_errors.json: each mapping's grid-search error before
and after, as AWQModifier logs them), rtn_nvfp4a16_mse / rtn_mxfp4a16_mse (the FP4 presets with the MSE
weight observer).
BF16 jobs (bf16_*): the same TinyStories-656K in BF16 (make_bf16_model.py, as the parity test makes it):
bf16_fp8_dynamic, bf16_rtn_w4a16, bf16_rtn_w4a16_asym (zero points), bf16_rtn_w8a8, bf16_rtn_nvfp4a16,
bf16_gptq_w4a16, bf16_gptq_w8a8 and bf16_awq_w4a16_asym: what llm-compressor computes and stores on a BF16 model (scales, zero points
and global scales in BF16 arithmetic, codes from the stored BF16 scales).
Every job also keeps the quantization_config llm-compressor wrote (quantization_config.json).
"""
import hashlib
import json
import os
import sys

import runpy

import torch
from datasets import Dataset
from safetensors.torch import load_file, save_file
from tokenizers import Tokenizer

import llmcompressor
import llmcompressor.modifiers.gptq.base as gptq_base
from llmcompressor import oneshot
from transformers import AutoModelForCausalLM

data, out = sys.argv[1], sys.argv[2]
model_dir = os.path.join(data, "tinystories-656k")
torch.set_num_threads(2)
# The BF16 source of the bf16_* jobs, written as the parity test writes it.
bf16_model_dir = "/tmp/llmcompressor-fixture-bf16-source"
runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "make_bf16_model.py"))["convert"](
    model_dir, bf16_model_dir)
tokenizer = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
ids = tokenizer.encode(open(os.path.join(data, "text/tinystories_valid_sample.txt")).read(),
                       add_special_tokens=False).ids
rows = [[1] + ids[i * 127:(i + 1) * 127] for i in range(16)]
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "calibration.jsonl"), "w") as f:
    for row in rows:
        f.write(json.dumps({"input_ids": row}) + "\n")

# Exact GPTQ losses: the names of each batch of modules, then quantize_weight's losses for it.
recorded, current = [], {}
original_assign, original_quantize = gptq_base.assign_batches, gptq_base.quantize_weight
original_compress = gptq_base.GPTQModifier.compress_module_list
def compress_module_list(self, module_list):
    current["modifier"] = self
    return original_compress(self, module_list)
def assign_batches(*args, **kwargs):
    for batch in original_assign(*args, **kwargs):
        current["names"] = [current["modifier"]._module_names[m] for m in batch]
        yield batch
def quantize_weight(*args, **kwargs):
    result = original_quantize(*args, **kwargs)
    recorded.extend(zip(current["names"], [float(loss) for loss in result[1]]))
    return result
gptq_base.GPTQModifier.compress_module_list = compress_module_list

# AWQ: each mapping's grid-search errors, as the modifier logs them at finalize.
import llmcompressor.modifiers.transform.awq.base as awq_base
awq_metrics = []
original_log = awq_base.AWQModifier._log_error_metrics
def log_error_metrics(self):
    awq_metrics.extend(dict(m) for m in self._error_metrics)
    return original_log(self)
awq_base.AWQModifier._log_error_metrics = log_error_metrics
# AWQ pins its cached inputs for faster copies to a GPU, which fails without one; pinning
# changes no value, so on this CPU-only machine it is skipped.
import llmcompressor.pipelines.cache as pipeline_cache
pipeline_cache.IntermediatesCache.pin_memory = lambda self, batch_index: None
gptq_base.assign_batches = assign_batches
gptq_base.quantize_weight = quantize_weight

jobs = {
    "gptq_w4a16": "GPTQModifier", "rtn_w4a16": "QuantizationModifier",
    "gptq_w8a8": "GPTQModifier", "fp8_dynamic": "QuantizationModifier",
    "rtn_nvfp4a16": "QuantizationModifier", "gptq_nvfp4a16": "GPTQModifier", "rtn_nvfp4": "QuantizationModifier",
    "rtn_mxfp4a16": "QuantizationModifier", "gptq_mxfp4a16": "GPTQModifier", "fp8_kv_cache": "QuantizationModifier",
    "awq_w4a16_asym": "QuantizationModifier", "rtn_nvfp4a16_mse": "QuantizationModifier",
    "rtn_mxfp4a16_mse": "QuantizationModifier",
    "bf16_fp8_dynamic": "QuantizationModifier", "bf16_rtn_w4a16": "QuantizationModifier",
    "bf16_rtn_w4a16_asym": "QuantizationModifier", "bf16_rtn_w8a8": "QuantizationModifier",
    "bf16_rtn_nvfp4a16": "QuantizationModifier", "bf16_gptq_w4a16": "GPTQModifier", "bf16_gptq_w8a8": "GPTQModifier",
    "bf16_awq_w4a16_asym": "QuantizationModifier",
}
schemes = {"gptq_w4a16": "W4A16", "rtn_w4a16": "W4A16", "gptq_w8a8": "W8A8", "fp8_dynamic": "FP8_DYNAMIC",
           "rtn_nvfp4a16": "NVFP4A16", "gptq_nvfp4a16": "NVFP4A16", "rtn_nvfp4": "NVFP4",
           "rtn_mxfp4a16": "MXFP4A16", "gptq_mxfp4a16": "MXFP4A16", "fp8_kv_cache": "FP8",
           "awq_w4a16_asym": "W4A16_ASYM", "rtn_nvfp4a16_mse": "NVFP4A16", "rtn_mxfp4a16_mse": "MXFP4A16",
           "bf16_fp8_dynamic": "FP8_DYNAMIC", "bf16_rtn_w4a16": "W4A16", "bf16_rtn_w4a16_asym": "W4A16_ASYM",
           "bf16_rtn_w8a8": "W8A8", "bf16_rtn_nvfp4a16": "NVFP4A16", "bf16_gptq_w4a16": "W4A16",
           "bf16_gptq_w8a8": "W8A8", "bf16_awq_w4a16_asym": "W4A16_ASYM"}
kv_cache_scheme = ("      kv_cache_scheme:\n        num_bits: 8\n        type: float\n        strategy: tensor\n"
                   "        dynamic: false\n        symmetric: true\n")
selected = sys.argv[3:] or list(jobs)
for job in selected:
    modifier = jobs[job]
    folder = os.path.join(out, job)
    os.makedirs(folder, exist_ok=True)
    awq = "    AWQModifier:\n      duo_scaling: true\n" if "awq" in job else ""
    recipe = (f"quant_stage:\n  quant_modifiers:\n{awq}    {modifier}:\n      targets: [\"Linear\"]\n"
              f"      ignore: [\"lm_head\"]\n      scheme: {schemes[job]}\n"
              + (kv_cache_scheme if job == "fp8_kv_cache" else "")
              + ("      weight_observer: mse\n" if job.endswith("_mse") else ""))
    open(os.path.join(folder, "recipe.yaml"), "w").write(recipe)
    recorded.clear()
    awq_metrics.clear()
    source = bf16_model_dir if job.startswith("bf16_") else model_dir
    model = AutoModelForCausalLM.from_pretrained(source, dtype="auto")
    assert model.dtype == (torch.bfloat16 if job.startswith("bf16_") else torch.float32), model.dtype
    dataset = Dataset.from_dict({"input_ids": rows, "attention_mask": [[1] * len(r) for r in rows]})
    oneshot(model=model, dataset=dataset, recipe=os.path.join(folder, "recipe.yaml"), num_calibration_samples=16,
            max_seq_length=128, shuffle_calibration_samples=False)
    saved = os.path.join("/tmp", "llmcompressor-fixture-" + job)
    model.save_pretrained(saved, save_compressed=True)
    tensors = load_file(os.path.join(saved, "model.safetensors"))
    quantized = {k: v for k, v in tensors.items()
                 if k.endswith(("weight_packed", "weight_scale", "weight_zero_point", "weight_shape",
                                "weight_global_scale", "input_global_scale", "input_scale", "k_scale", "v_scale"))
                 or (k.endswith(".weight") and v.dtype in (torch.int8, torch.float8_e4m3fn))}
    digests = {k: {"dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape),
                   "sha256": hashlib.sha256(v.contiguous().view(torch.uint8).numpy().tobytes()).hexdigest()}
               for k, v in sorted(quantized.items())}
    for k, v in quantized.items():  # calibrated scalars also by value, for a relative comparison
        if v.numel() == 1 and v.dtype == torch.float32:
            digests[k]["value"] = float(v.item())
    json.dump(digests, open(os.path.join(folder, "digests.json"), "w"), indent=1)
    config = json.load(open(os.path.join(saved, "config.json")))
    json.dump(config.get("quantization_config"), open(os.path.join(folder, "quantization_config.json"), "w"),
              indent=1, sort_keys=True)
    if awq_metrics:
        json.dump({m["layer_name"]: {"initial_error": m["initial_error"], "best_error": m["best_error"]}
                   for m in awq_metrics}, open(os.path.join(folder, "awq_errors.json"), "w"), indent=1)
    if recorded:
        json.dump(dict(recorded), open(os.path.join(folder, "losses.json"), "w"), indent=1)
    if recorded or awq_metrics:  # AWQ also keeps its scales, compared by value
        save_file({k: v.contiguous() for k, v in quantized.items()
                   if k.endswith("weight_packed") or (k.endswith(".weight") and v.dtype == torch.int8)
                   or (awq_metrics and k.endswith(("weight_scale", "weight_zero_point")))},
                  os.path.join(folder, "codes.safetensors"))
    print(job, len(digests), "tensors,", len(recorded), "losses")
if len(selected) < len(jobs):
    sys.exit(0)
json.dump({"llmcompressor": llmcompressor.__version__, "torch": torch.__version__,
           "transformers": __import__("transformers").__version__,
           "compressed_tensors": __import__("compressed_tensors").__version__},
          open(os.path.join(out, "versions.json"), "w"), indent=1)
