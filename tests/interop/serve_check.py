#!/usr/bin/env python3
"""Runs dcomp's checkpoints in vLLM (its CPU build) or in transformers (+ compressed-tensors)
and writes what each computed, for launch/interop.sh to compare with `dcomp eval` / `generate`.

  serve_check.py vllm         --jobs JOBS.json --out RESULTS.json
  serve_check.py transformers --jobs JOBS.json --out RESULTS.json
  serve_check.py structure    --jobs JOBS.json --out RESULTS.json

JOBS.json: {"jobs": [{"name", "model", "original", "vllm_dtype", "ids": [token ids], "bos": BOS id,
"prompt_ids": [...], "new_tokens": N}, ...]} ("original": the unquantized model it was made from).
For each job: the perplexity of the ids (BOS prepended, every position after BOS scored, as
`dcomp eval` scores one window) from the prompt log-probabilities, and the greedy continuation
of prompt_ids. A job that fails to load records the error instead, so one scheme cannot hide
the others. vLLM runs in one process per model (VLLM_ENABLE_V1_MULTIPROCESSING=0 inside it), that
model's checkpoints one at a time.

`structure` is for the schemes vLLM's CPU build has no kernel for: vLLM's own compressed-tensors
config class parses the checkpoint's quantization_config, picks the scheme of every quantized Linear
(its kernel choice, which fails on this CPU, replaced by a stand-in) and creates that Linear's
parameters as its loader would; every one must be in the checkpoint with that shape and dtype, and
the checkpoint must hold no other tensor of that Linear.
"""
import argparse
import gc
import json
import math
import os
import sys
import time
import traceback


def perplexity(logprobs):
    return math.exp(-sum(logprobs) / len(logprobs))


def first_line(error):
    return f"{type(error).__name__}: {error}".splitlines()[0][:400]


def run_jobs(engine, jobs, dtype_of, load, score, generate):
    """Each job's model loaded (load(job)), the perplexity of its ids (score(model, job): the
    log-probabilities of every position after BOS) and its greedy continuation (generate(model,
    job)), with the time taken. A job that fails to load or run records the error instead, so
    one scheme cannot hide the others; one model is held at a time."""
    results = {}
    for job in jobs:
        started = time.time()
        entry = {"engine": engine, "dtype": dtype_of(job)}
        try:
            model = load(job)
        except Exception as error:  # a scheme the engine cannot run: recorded, checked by the caller
            entry["load_error"] = first_line(error)
            results[job["name"]] = entry
            gc.collect()
            continue
        try:
            entry["perplexity"] = perplexity(score(model, job))
            entry["generated_ids"] = generate(model, job)
        except Exception as error:
            entry["run_error"] = first_line(error)
            traceback.print_exc()
        entry["seconds"] = round(time.time() - started, 1)
        results[job["name"]] = entry
        print(f"{engine}: {job['name']}: " + json.dumps({k: v for k, v in entry.items() if k != "generated_ids"}),
              file=sys.stderr, flush=True)
        del model
        gc.collect()
    return results


def run_vllm(jobs):
    from vllm import LLM, SamplingParams
    from vllm.inputs import TokensPrompt

    def load(job):
        return LLM(model=job["model"], dtype=job["vllm_dtype"], enforce_eager=True, max_model_len=2048, seed=0)

    def score(llm, job):
        scored = [job["bos"]] + job["ids"]
        out = llm.generate([TokensPrompt(prompt_token_ids=scored)],
                           SamplingParams(max_tokens=1, prompt_logprobs=0), use_tqdm=False)
        return [out[0].prompt_logprobs[i][token].logprob for i, token in enumerate(scored) if i > 0]

    def generate(llm, job):
        greedy = llm.generate([TokensPrompt(prompt_token_ids=job["prompt_ids"])],
                              SamplingParams(max_tokens=job["new_tokens"], temperature=0.0), use_tqdm=False)
        return list(greedy[0].outputs[0].token_ids)

    return run_jobs("vllm", jobs, lambda job: job["vllm_dtype"], load, score, generate)


def run_vllm_per_model(jobs, jobs_file):
    """vLLM in a fresh process for each model's jobs (its original first): after a load that
    failed, vLLM's in-process parallel state does not serve a later model of another kind (a
    mixture-of-experts model loaded after a dense one that failed: "expert parallel group is not
    initialized"), so one model's refused schemes must not decide another model's load."""
    import subprocess
    import tempfile

    results = {}
    for family in dict.fromkeys(job["family"] for job in jobs):
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            subprocess.run([sys.executable, os.path.abspath(__file__), "vllm", "--jobs", jobs_file, "--model", family,
                            "--out", out.name], check=True)
            results.update(json.load(open(out.name)))
    return results


def run_transformers(jobs):
    import torch
    from transformers import AutoModelForCausalLM, CompressedTensorsConfig

    def load(job):
        # Decompressed once at load (run_compressed=False), not in every forward; the input
        # activations are still quantized as the checkpoint declares.
        quantized = "quantization_config" in json.load(open(os.path.join(job["model"], "config.json")))
        extra = {"quantization_config": CompressedTensorsConfig(run_compressed=False)} if quantized else {}
        # compressed-tensors 0.17 decompresses FP4 weights to bfloat16 whatever the dtype asked:
        # the model is made float32 again (its FP4 values then carry bfloat16 rounding).
        return AutoModelForCausalLM.from_pretrained(job["model"], dtype=torch.float32, **extra).float()

    def score(model, job):
        scored = torch.tensor([[job["bos"]] + job["ids"]])
        with torch.no_grad():
            logits = model(scored).logits[0, :-1].float()
        return torch.log_softmax(logits, dim=-1).gather(1, scored[0, 1:, None])[:, 0].double().tolist()

    def generate(model, job):
        prompt = torch.tensor([job["prompt_ids"]])
        with torch.no_grad():
            generated = model.generate(prompt, max_new_tokens=job["new_tokens"], do_sample=False)
        return generated[0, prompt.shape[1]:].tolist()

    return run_jobs("transformers", jobs, lambda job: "float32", load, score, generate)


def check_structure(jobs):
    import importlib
    import pkgutil

    import torch
    from safetensors import safe_open
    import vllm.model_executor.layers.quantization.compressed_tensors.schemes as schemes
    import vllm.model_executor.parameter as parameter
    from vllm.config import ModelConfig, VllmConfig, set_current_vllm_config
    from vllm.model_executor.layers.quantization.compressed_tensors.compressed_tensors import (
        CompressedTensorsConfig)

    class NoKernel:  # stands in for the kernel a scheme chooses (or its class): only the parameters are wanted
        def __call__(self, *args, **kwargs):
            return self

        def __getattr__(self, name):
            return lambda *args, **kwargs: None

    for info in pkgutil.iter_modules(schemes.__path__):
        module = importlib.import_module(f"{schemes.__name__}.{info.name}")
        for attr in dir(module):
            if "kernel" in attr.lower() and attr.startswith(("init_", "choose_")) and callable(getattr(module, attr)):
                setattr(module, attr, lambda *args, **kwargs: NoKernel())
    parameter.get_tensor_model_parallel_rank = lambda: 0
    parameter.get_tensor_model_parallel_world_size = lambda: 1

    def tensors(folder):
        found = {}
        for file in sorted(os.listdir(folder)):
            if file.endswith(".safetensors"):
                with safe_open(os.path.join(folder, file), "pt") as f:
                    for key in f.keys():
                        found[key] = f.get_slice(key)
        return found

    dtype_names = {torch.uint8: "U8", torch.int8: "I8", torch.int32: "I32", torch.int64: "I64",
                   torch.float32: "F32", torch.bfloat16: "BF16", torch.float16: "F16",
                   torch.float8_e4m3fn: "F8_E4M3"}
    FLOATS = ("F32", "BF16", "F16")
    results = {}
    for job in jobs:
        dense = tensors(job["original"])
        stored = tensors(job["model"])
        config = json.load(open(os.path.join(job["model"], "config.json")))["quantization_config"]
        quant_config = CompressedTensorsConfig.from_config(config)
        problems, checked, names = [], 0, set()
        try:
            vllm_config = VllmConfig(model_config=ModelConfig(model=job["model"], dtype=job["vllm_dtype"]))
        except Exception as error:  # the config itself is what vLLM refuses
            results[job["name"]] = {"engine": "vllm-structure", "schemes": [], "linears": 0,
                                    "problems": [f"vLLM's ModelConfig refuses the checkpoint: {error}"[:300]]}
            continue
        with set_current_vllm_config(vllm_config):
            for key in sorted(dense):
                if not key.endswith(".weight") or len(dense[key].get_shape()) != 2 or "embed_tokens" in key:
                    continue
                # A routed expert's Linear is checked as one Linear: vLLM's fused-experts loader reads the
                # same per-expert tensors (gate_proj / up_proj / down_proj, or w1 / w3 / w2) into its slices.
                # A router is checked too: vLLM builds some (Qwen3-MoE's GateLinear) with the quantization
                # config, so a router kept dense must be one the config gives no scheme (it is ignored).
                module = key[: -len(".weight")]
                probe = torch.nn.Linear(1, 1, bias=False)
                del probe.weight
                scheme = quant_config.get_scheme(layer=probe, layer_name=module)
                if scheme is None:
                    continue
                names.add(type(scheme).__name__)
                out_features, in_features = dense[key].get_shape()
                layer = torch.nn.Module()
                scheme.create_weights(layer=layer, output_partition_sizes=[out_features],
                                      input_size_per_partition=in_features, params_dtype=torch.bfloat16,
                                      weight_loader=lambda *args, **kwargs: None, input_size=in_features,
                                      output_size=out_features)
                expected = dict(layer.named_parameters())
                for name, value in expected.items():
                    got = stored.get(f"{module}.{name}")
                    want = (list(value.shape), dtype_names.get(value.dtype, str(value.dtype)))
                    if got is None:
                        problems.append(f"{module}.{name} missing (vLLM expects {want})")
                    elif list(got.get_shape()) != want[0] or (got.get_dtype() != want[1] and not (
                            got.get_dtype() in FLOATS and want[1] in FLOATS)):  # vLLM's loaders cast float scales
                        problems.append(f"{module}.{name}: {list(got.get_shape())} {got.get_dtype()}, vLLM expects {want}")
                if f"{module}.bias" in dense:  # vLLM's LinearBase makes the bias itself, in the model's dtype
                    got = stored.get(f"{module}.bias")
                    if got is None or list(got.get_shape()) != [out_features] or got.get_dtype() not in FLOATS:
                        problems.append(f"{module}.bias: {'missing' if got is None else list(got.get_shape())}, "
                                        f"vLLM expects [{out_features}] in a float type")
                    expected["bias"] = None
                extra = [k for k in stored if k.startswith(module + ".") and k[len(module) + 1:] not in expected]
                problems.extend(f"{k}: not a parameter of vLLM's {type(scheme).__name__}" for k in extra)
                checked += 1
        results[job["name"]] = {"engine": "vllm-structure", "schemes": sorted(names), "linears": checked,
                                "problems": problems[:20]}
    results["@amx"] = bool(torch.cpu._is_amx_tile_supported())  # vLLM's quantized CPU experts need AMX
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("engine", choices=["vllm", "transformers", "structure"])
    parser.add_argument("--jobs", required=True)
    parser.add_argument("--model", help="only the jobs of this model (schemes.tsv's first column)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    spec = json.load(open(args.jobs))
    if args.engine == "structure":
        results = check_structure([job for job in spec["jobs"] if job["class"] in ("no-cpu-kernel", "moe-needs-amx")])
    elif args.engine == "vllm" and args.model is None:
        results = run_vllm_per_model(spec["jobs"], args.jobs)
    else:
        jobs = [job for job in spec["jobs"] if args.model is None or job["family"] == args.model]
        results = (run_vllm if args.engine == "vllm" else run_transformers)(jobs)
    json.dump(results, open(args.out, "w"), indent=1)


if __name__ == "__main__":
    main()
