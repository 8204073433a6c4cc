#!/usr/bin/env python3
"""Writes tests/model/fixtures/<name>/ for the mixture-of-experts architectures: a tiny
random Mixtral and Qwen3-MoE made and saved by Hugging Face transformers in BF16, with
transformers' own float32 logits and greedy tokens for a fixed prompt.

Run by hand in a virtual environment with torch and transformers (5.x); the tests only
read its output. Argument: the fixtures folder.

Each model: hidden 64, 4 heads / 2 KV heads (head size 16), vocab 128, 8 experts with
intermediate 32, random weights (seed 0, initializer_range 0.1 so that routing and logits
spread). Mixtral: 2 layers, top-2 (weights always renormalised). Qwen3-MoE: 3 layers, top-3
with norm_topk_prob, layer 1 a dense MLP (mlp_only_layers [1], intermediate 96).
Files: config.json, model.safetensors (BF16), reference.safetensors ("logits" float32
[1, 24, 128], "prompt" int64 [24], "greedy" int64 [8]).
"""
import os
import sys

import torch
import transformers
from safetensors.torch import save_file

out = sys.argv[1]
common = dict(hidden_size=64, num_attention_heads=4, num_key_value_heads=2, vocab_size=128,
              max_position_embeddings=256, initializer_range=0.1, rms_norm_eps=1e-6, bos_token_id=1,
              eos_token_id=2, tie_word_embeddings=False)
models = {
    "mixtral": (transformers.MixtralConfig, dict(num_hidden_layers=2, intermediate_size=32, num_local_experts=8,
                                                 num_experts_per_tok=2, rope_theta=1000000.0)),
    "qwen3_moe": (transformers.Qwen3MoeConfig, dict(num_hidden_layers=3, intermediate_size=96, head_dim=16,
                                                    moe_intermediate_size=32, num_experts=8, num_experts_per_tok=3,
                                                    norm_topk_prob=True, mlp_only_layers=[1], decoder_sparse_step=1,
                                                    rope_theta=1000000.0)),
}
prompt = torch.tensor([[1] + [(7 * i + 3) % 125 + 3 for i in range(23)]])
for name, (config_class, extra) in models.items():
    torch.manual_seed(0)
    config = config_class(**common, **extra)
    model = transformers.AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    with torch.no_grad():  # the routers start at zero in some releases: give them random weights too
        for module_name, parameter in model.named_parameters():
            if module_name.endswith("gate.weight") and parameter.abs().max() == 0:
                parameter.normal_(0.0, config.initializer_range)
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
