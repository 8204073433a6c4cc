#!/usr/bin/env python3
"""launch/interop.sh's bookkeeping: the job list for serve_check.py, then the comparison of what
vLLM and transformers computed with what dcomp computed, printed as a Markdown table.

  interop_table.py jobs    --work DIR --out JOBS.json
  interop_table.py compare --work DIR --table TABLE.md      (exit 1 when a check fails)

Tolerances (relative perplexity difference to `dcomp eval` of the same checkpoint, same 1,023 ids):
  exact        vLLM and transformers compute in float32 on the stored weights, as dcomp eval does; only
               the order of float32 sums differs: 1e-4 (the BF16 original gives about 1e-6).
  bf16-kernel  vLLM's CPU int4 kernel (cpu_gemm_wna16) runs in bfloat16 only. bfloat16 keeps 8
               significant bits (unit roundoff 2^-9 = 0.2 %); over 30 layers the rounding of every
               activation and of the dequantized weights adds a noise to the logits whose effect on
               the mean log-likelihood the BF16 original itself shows when vLLM runs it in bfloat16
               (measured by this stage each run, "bf16 drift" below). The bound is 4 x that drift, at
               least 1 %. The stored weights themselves are checked exactly by transformers, which
               decompresses them to dense float32: 1e-4.
  activations  vLLM quantizes each Linear's input itself (per token, or per tensor, in its own arithmetic),
               as dcomp eval and compressed-tensors do. On one 1,023-token window the perplexity of
               an activation-quantized model is chaotic: scaling the embedding by (1 + 1e-6 noise)
               moves SmolLM2's FP8_DYNAMIC perplexity between 14.05 and 14.27 (one rounding boundary
               crossed changes later tokens), int8 W8A8 likewise; over 6,138 tokens the
               implementations agree within 0.2 %. The bound, 3 %, is twice that spread (1.6 %).
  kv-cache     as activations, against dcomp eval --kv-cache-rounding toward-zero (vLLM's CPU cache
               rounds toward zero) for vLLM and the default rounding to nearest for transformers.
  no-cpu-kernel  vLLM's CPU build has no kernel for the scheme: its load must fail, and every tensor
               must be what vLLM's own scheme class creates for that Linear (shape; dtype, float scales
               being cast by vLLM's loaders).
  moe-needs-amx  a quantized mixture-of-experts model: vLLM's CPU build runs quantized experts only with
               Intel AMX (its CPUExpertsInt4 / CPUExpertsInt8 / CPU FP8 experts check
               torch.cpu._is_amx_tile_supported()). Without AMX the load must fail and the tensors are
               checked as for no-cpu-kernel (each routed expert's Linears as Linears: vLLM's fused-experts
               loader reads the same per-expert tensors; routers stay dense in vLLM). With AMX the
               perplexity is held to the activations bound (AMX kernels compute in bfloat16 / int8).
Each model's bounds use its own original: the bf16 drift of the BF16 original in vLLM, per model.
transformers (+ compressed-tensors) decompresses the stored weights to dense float32: 1e-4 where that
is exact; the activations bound where compressed-tensors' forward quantizes inputs or the KV cache;
the bf16-kernel bound for FP4 weights, which compressed-tensors 0.17 decompresses in bfloat16, and for
quantized mixture-of-experts models, whose routed experts transformers 5 fuses into one module (not a
Linear) and keeps in bfloat16. That fused module is also why compressed-tensors does not quantize the
routed experts' inputs there: for an activation-quantized MoE model transformers computes a milder
scheme than dcomp and vLLM, and only the activations bound applies (DeepSeek-V3 FP8_DYNAMIC: -1.8 %).
Greedy continuations (24 tokens) must equal dcomp generate's where the engine computes in float32 with
no activation quantization of its own; elsewhere the table shows how many leading tokens agree.
"""
import argparse
import json
import math
import os
import re
import sys

EXACT = 1e-4
ACTIVATIONS = 0.03
# The reasons a scheme without a CPU kernel may give for not loading: any other load error fails.
MISSING_KERNEL = {"no-cpu-kernel": re.compile(r"kernel|Kernel|_C::"), "moe-needs-amx": re.compile(r"MoE backend")}


def read_json(path):
    with open(path) as f:
        return json.loads(f.read().strip().splitlines()[-1])


def checkpoints(work, listing="checkpoints.tsv"):
    rows = []
    with open(os.path.join(work, listing)) as f:
        for line in f:
            family, name, cls, dtype, model, original = line.rstrip("\n").split("\t")
            rows.append({"family": family, "name": name, "class": cls, "vllm_dtype": dtype, "model": model,
                         "original": original})
    return rows


def make_jobs(work, out, negative=False):
    jobs = []
    for row in checkpoints(work, "negative.tsv" if negative else "checkpoints.tsv"):
        generated = read_json(os.path.join(work, row["name"] + ".generate.json"))
        ids = read_json(os.path.join(work, f"ids-{row['family']}.jsonl"))["input_ids"]
        jobs.append(dict(row, ids=ids, bos=generated["prompt_ids"][0], prompt_ids=generated["prompt_ids"],
                         new_tokens=24))
    if not negative:
        # Each BF16 original once more in bfloat16: the drift that bfloat16 arithmetic alone gives.
        for original in [job for job in jobs if job["class"] == "exact"]:
            jobs.append(dict(original, name=original["name"] + "@bfloat16", vllm_dtype="bfloat16",
                             **{"class": "drift"}))
    json.dump({"jobs": jobs}, open(out, "w"))


def is_mixture_of_experts(model):
    config = json.load(open(os.path.join(model, "config.json")))
    return any(config.get(key) for key in ("num_local_experts", "num_experts", "n_routed_experts"))


def transformers_bound(model, bf16_bound):
    """transformers' tolerance for a checkpoint: activations quantized by compressed-tensors'
    forward: ACTIVATIONS; FP4 weights, which compressed-tensors 0.17 decompresses in bfloat16: the
    bfloat16 bound; otherwise the weights decompress exactly: EXACT."""
    config = json.load(open(os.path.join(model, "config.json"))).get("quantization_config") or {}
    groups = (config.get("config_groups") or {}).values()
    if any(group.get("input_activations") for group in groups) or config.get("kv_cache_scheme"):
        return ACTIVATIONS
    if "fp4" in str(config.get("format", "")) or (config and is_mixture_of_experts(model)):
        return bf16_bound
    return EXACT


def leading_agreement(a, b):
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def compare(work, table_path, negative=False):
    suffix = "-negative" if negative else ""
    vllm = json.load(open(os.path.join(work, f"vllm{suffix}.json")))
    hf = json.load(open(os.path.join(work, f"transformers{suffix}.json")))
    structure = {} if negative else json.load(open(os.path.join(work, "structure.json")))
    rows = checkpoints(work, "negative.tsv" if negative else "checkpoints.tsv")
    if negative:
        vllm.update({k: v for k, v in json.load(open(os.path.join(work, "vllm.json"))).items() if "@" in k})
    originals = {row["family"]: row for row in checkpoints(work) if row["class"] == "exact"}
    amx = structure.get("@amx", False)
    bf16_bounds, drift_lines = {}, []
    for family, original in originals.items():
        dcomp_original = read_json(os.path.join(work, original["name"] + ".eval.json"))["perplexity"]
        drift_entry = vllm.get(original["name"] + "@bfloat16", {})
        drift = abs(drift_entry["perplexity"] / dcomp_original - 1) if "perplexity" in drift_entry else None
        bf16_bounds[family] = max(0.01, 4 * drift) if drift is not None else 0.01
        if drift is not None:
            drift_lines.append(f"bf16 drift, {family}: vLLM runs the BF16 original in bfloat16 at "
                               f"{drift_entry['perplexity']:.4f} against dcomp's {dcomp_original:.4f} in float32 "
                               f"({100 * drift:.2f} %): bf16-kernel bound {100 * bf16_bounds[family]:.1f} %.")
    failures = []
    failed_rows = set()
    lines = ["| model | scheme | class | loads in vLLM | vLLM dtype | vLLM ppl | dcomp ppl | vLLM / dcomp - 1 | bound | "
             "transformers ppl (float32) | transformers / dcomp - 1 | greedy: vLLM, transformers |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        name, cls = row["name"], row["class"]
        mine = read_json(os.path.join(work, name + ".eval.json"))["perplexity"]
        mine_nearest = mine
        if cls == "kv-cache":
            mine_nearest = read_json(os.path.join(work, name + ".eval-nearest.json"))["perplexity"]
        greedy = read_json(os.path.join(work, name + ".generate.json"))["generated_ids"]
        v, t = vllm.get(name, {}), hf.get(name, {})
        bf16_bound = bf16_bounds.get(row["family"], 0.01)
        if cls == "moe-needs-amx" and amx:
            cls = "activations"  # AMX present: vLLM's quantized experts run, in bfloat16 / int8
        vllm_bound = {"exact": EXACT, "bf16-kernel": bf16_bound, "activations": ACTIVATIONS,
                      "kv-cache": ACTIVATIONS}.get(cls)
        hf_bound = transformers_bound(row["model"], bf16_bound)
        greedy_exact_vllm = cls == "exact"
        greedy_exact_hf = transformers_bound(row["model"], bf16_bound) == EXACT

        def fail(what):
            failures.append(f"{name}: {what}")
            failed_rows.add(name)

        loads = "yes"
        vllm_ppl = vllm_rel = "–"
        vllm_greedy = "–"
        if cls in MISSING_KERNEL:
            if "load_error" in v and not MISSING_KERNEL[cls].search(v["load_error"]):
                loads = "FAILED: " + v["load_error"][:120]
                fail("vLLM refused the checkpoint, but not for want of a CPU kernel: " + v["load_error"])
            elif "load_error" in v:
                shape = structure.get(name, {})
                loads = ("no CPU kernel (" + v["load_error"][:70].replace("|", "/") + "); tensors as vLLM's " +
                         "/".join(shape.get("schemes", [])) + f" expects: {shape.get('linears', 0)} Linears")
                if not shape.get("linears"):
                    fail("no Linear of the checkpoint was checked against vLLM's scheme")
                for problem in shape.get("problems", []):
                    fail("vLLM's scheme: " + problem)
            else:
                loads = "yes (unexpected: a CPU kernel exists now)"
                fail("vLLM loaded a scheme expected to have no CPU kernel: move it to another class")
        elif "load_error" in v or "run_error" in v:
            loads = "FAILED: " + (v.get("load_error") or v.get("run_error"))[:120]
            fail("vLLM: " + (v.get("load_error") or v.get("run_error")))
        else:
            rel = v["perplexity"] / mine - 1
            vllm_ppl, vllm_rel = f"{v['perplexity']:.4f}", f"{rel:+.2e}"
            if abs(rel) > vllm_bound:
                fail(f"vLLM perplexity {v['perplexity']:.5f} vs dcomp {mine:.5f}: {rel:+.2e} beyond {vllm_bound:.1e}")
            agree = leading_agreement(v["generated_ids"], greedy)
            vllm_greedy = "equal" if agree == len(greedy) else f"first {agree} of {len(greedy)}"
            if greedy_exact_vllm and agree != len(greedy):
                fail(f"vLLM's greedy continuation parts from dcomp's after {agree} tokens")
        if "load_error" in t or "run_error" in t:
            hf_ppl, hf_rel, hf_greedy = "FAILED", "–", "–"
            fail("transformers: " + (t.get("load_error") or t.get("run_error")))
        else:
            rel = t["perplexity"] / mine_nearest - 1
            hf_ppl, hf_rel = f"{t['perplexity']:.4f}", f"{rel:+.2e}"
            if abs(rel) > hf_bound:
                fail(f"transformers perplexity {t['perplexity']:.5f} vs dcomp {mine_nearest:.5f}: {rel:+.2e} "
                     f"beyond {hf_bound:.0e}")
            agree = leading_agreement(t["generated_ids"], greedy)
            hf_greedy = "equal" if agree == len(greedy) else f"first {agree} of {len(greedy)}"
            if greedy_exact_hf and agree != len(greedy):
                fail(f"transformers' greedy continuation parts from dcomp's after {agree} tokens")
        dcomp_text = f"{mine:.4f}" + (f" ({mine_nearest:.4f} rounding to nearest)" if cls == "kv-cache" else "")
        bound = "–" if vllm_bound is None else f"{vllm_bound:.0e}" if vllm_bound < 1e-3 else f"{100 * vllm_bound:.1f} %"
        lines.append(f"| {row['family']} | {name} | {cls} | {loads} | {row['vllm_dtype']} | {vllm_ppl} | {dcomp_text} | {vllm_rel} | "
                     f"{bound} | {hf_ppl} | {hf_rel} | {vllm_greedy}, {hf_greedy} |")
    if drift_lines:
        lines.append("")
        lines.extend(drift_lines)
    table = "\n".join(lines) + "\n"
    open(table_path, "w").write(table)
    print(table)
    if negative:  # every checkpoint broken on purpose must be caught
        for failure in failures:
            print("caught as expected: " + failure)
        missed = [row["name"] for row in rows if row["name"] not in failed_rows]
        for name in missed:
            print(f"FAIL {name}: broken on purpose, yet no check failed", file=sys.stderr)
        return 1 if missed else 0
    for failure in failures:
        print("FAIL " + failure, file=sys.stderr)
    return 1 if failures else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=["jobs", "compare"])
    parser.add_argument("--work", required=True)
    parser.add_argument("--out")
    parser.add_argument("--table")
    parser.add_argument("--negative", action="store_true",
                        help="the checkpoints broken on purpose (negative.tsv): every one must fail a check")
    args = parser.parse_args()
    if args.step == "jobs":
        make_jobs(args.work, args.out, args.negative)
        return 0
    return compare(args.work, args.table, args.negative)


if __name__ == "__main__":
    sys.exit(main())
