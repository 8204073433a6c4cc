#!/usr/bin/env python3
"""llm-compressor's oneshot on a model folder, for bench/compare_llmcompressor.sh.

Usage: llmcompressor_oneshot.py MODEL RECIPE CALIBRATION.jsonl OUTPUT THREADS
The calibration file holds one {"input_ids": [...]} per line: the same token ids dcomp
reads from it. Prints one JSON line: the seconds of each phase (import, load, oneshot,
save) and the process's peak RSS.
"""
import json
import resource
import sys
import time

started = time.time()
model_dir, recipe, calibration, output, threads = sys.argv[1:6]
import torch  # noqa: E402

torch.set_num_threads(int(threads))
from datasets import Dataset  # noqa: E402
from llmcompressor import oneshot  # noqa: E402
from transformers import AutoModelForCausalLM  # noqa: E402

imported = time.time()
rows = [json.loads(line)["input_ids"] for line in open(calibration)]
model = AutoModelForCausalLM.from_pretrained(model_dir, dtype="auto")
dataset = Dataset.from_dict({"input_ids": rows, "attention_mask": [[1] * len(r) for r in rows]})
loaded = time.time()
oneshot(model=model, dataset=dataset, recipe=recipe, num_calibration_samples=len(rows),
        max_seq_length=max(len(r) for r in rows), shuffle_calibration_samples=False)
compressed = time.time()
model.save_pretrained(output, save_compressed=True)
saved = time.time()
print(json.dumps({"import": imported - started, "load": loaded - imported, "oneshot": compressed - loaded,
                  "save": saved - compressed, "total": saved - started,
                  "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
