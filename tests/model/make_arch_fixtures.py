#!/usr/bin/env python3
"""Writes tests/model/fixtures/<name>/: a tiny random model of each architecture dcomp
runs, made and saved by Hugging Face transformers in BF16, with transformers' own logits
and greedy tokens for a fixed prompt (the reference the tests compare dcomp with).

Run by hand in a virtual environment with torch and transformers (5.x); the tests only
read its output. Argument: the fixtures folder.

Each model: hidden 64, 2 layers, 4 heads / 2 KV heads (head size 16), intermediate 96,
vocab 128, random weights (seed 0, initializer_range 0.1 so the logits spread). The
reference forward loads the saved BF16 checkpoint in float32, as dcomp computes.
Files: config.json, model.safetensors (BF16), reference.safetensors ("logits"
float32 [1, 24, 128], "prompt" int64 [24], "greedy" int64 [8]).
"""
import os
import sys

import torch
import transformers
from safetensors.torch import save_file

out = sys.argv[1]
common = dict(hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
              num_key_value_heads=2, vocab_size=128, max_position_embeddings=256, initializer_range=0.1,
              rms_norm_eps=1e-6, bos_token_id=1, eos_token_id=2)
models = {
    # Llama-3.1: llama3 rope scaling, GQA, untied embeddings, rope_theta 500000.
    "llama3": (transformers.LlamaConfig, dict(rope_theta=500000.0, tie_word_embeddings=False, rope_scaling=dict(
        rope_type="llama3", factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0,
        original_max_position_embeddings=32))),
    # Qwen2 / Qwen2.5: q/k/v bias.
    "qwen2": (transformers.Qwen2Config, dict(rope_theta=1000000.0, tie_word_embeddings=False)),
    # Qwen3: q_norm / k_norm, explicit head_dim, no bias.
    "qwen3": (transformers.Qwen3Config, dict(head_dim=16, rope_theta=1000000.0, tie_word_embeddings=False)),
    # Mistral: a sliding window of 16 positions, shorter than the 24-token prompt, untied.
    "mistral": (transformers.MistralConfig, dict(rope_theta=1000000.0, sliding_window=16, tie_word_embeddings=False)),
    # SmolLM2: Llama with tied embeddings.
    "smollm2": (transformers.LlamaConfig, dict(rope_theta=100000.0, tie_word_embeddings=True)),
}
prompt = torch.tensor([[1] + [(7 * i + 3) % 125 + 3 for i in range(23)]])
for name, (config_class, extra) in models.items():
    torch.manual_seed(0)
    config = config_class(**common, **extra)
    model = transformers.AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    folder = os.path.join(out, name)
    model.to(torch.bfloat16).save_pretrained(folder)
    for extra_file in ("generation_config.json",):
        path = os.path.join(folder, extra_file)
        if os.path.exists(path):
            os.remove(path)
    reference = transformers.AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    with torch.no_grad():
        logits = reference(prompt).logits
        greedy = reference.generate(prompt, max_new_tokens=8, do_sample=False, eos_token_id=None,
                                    pad_token_id=0)[0, prompt.shape[1]:]
    save_file({"logits": logits.contiguous(), "prompt": prompt[0].contiguous(), "greedy": greedy.contiguous()},
              os.path.join(folder, "reference.safetensors"),
              metadata={"transformers": transformers.__version__, "torch": torch.__version__})
    print(name, "greedy", greedy.tolist(), "max |logit|", logits.abs().max().item())
