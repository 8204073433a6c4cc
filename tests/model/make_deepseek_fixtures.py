#!/usr/bin/env python3
"""Writes tests/model/fixtures/<name>/ for the architectures with DeepSeek-V3's routing
(DeepseekV3ForCausalLM, Glm4MoeForCausalLM): tiny random DeepSeek-V3, Kimi-K2-like and GLM-4.5-like
models made and saved by Hugging Face transformers in BF16, with transformers' own float32 logits
and greedy tokens for a fixed prompt.

Run by hand in a virtual environment with torch and transformers (5.x); the tests only read its
output. Argument: the fixtures folder.

Each model: hidden 64, 2 layers (first_k_dense_replace 1: layer 0 a dense MLP of intermediate 96,
layer 1 a mixture of experts), 4 heads of multi-head latent attention (kv_lora_rank 16,
qk_nope_head_dim 16, qk_rope_head_dim 8, v_head_dim 16), vocab 128, random weights (seed 0,
initializer_range 0.1), RMSNorm weights 1 + N(0, 0.2) and a random e_score_correction_bias
(transformers starts both at constants).
- deepseek_v3: rms_norm_eps 1e-5 (the latent norms keep RMSNorm's default 1e-6), q_lora_rank 32, 8 experts of intermediate 16 in 4 groups (topk_group 2), top-3
  renormalised, routed_scaling_factor 2.5, one shared expert, YaRN (factor 4, mscale 0.8,
  mscale_all_dim 1.0: cos/sin and the softmax scale both rescaled), interleaved rotary pairs.
- deepseek_v3_q_proj: q_lora_rank null (a plain q_proj), rotary pairs not interleaved, default
  rope, top-2 not renormalised, 2 shared experts.
- kimi_k2: 16 experts of intermediate 8, n_group 1 / topk_group 1, top-4, routed_scaling_factor
  2.827, YaRN (factor 8, mscale = mscale_all_dim = 1.0).
- glm4_moe (Glm4MoeForCausalLM): grouped-query attention (4 heads / 2 KV heads of 16) with
  partial_rotary_factor 0.5, q/k/v bias, use_qk_norm, rms_norm_eps 1e-5; 8 experts of intermediate
  16 in 2 groups (topk_group 1), top-2 renormalised, routed_scaling_factor 1.5, one shared expert.
Files: config.json, model.safetensors (BF16), tokenizer.json and tokenizer_config.json (byte-level
BPE without merges: id b is byte b for b < 128, so text of those bytes encodes to its bytes, and
BOS / EOS come from config.json), reference.safetensors ("logits" float32 [1, 24, 128], "prompt" int64 [24], "greedy" int64 [8]).
"""
import os
import sys

import json

import tokenizers
import torch
import transformers
from safetensors.torch import save_file


def byte_characters():
    """GPT-2's byte-level alphabet: printable bytes stand for themselves, the others for 256 + n."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    extra = [b for b in range(256) if b not in printable]
    return {b: chr(b) if b in printable else chr(256 + extra.index(b)) for b in range(256)}


def write_tokenizer(folder, prompt_ids):
    characters = byte_characters()
    vocab = {characters[b]: b for b in range(128)}
    tokenizer = tokenizers.Tokenizer(tokenizers.models.BPE(vocab=vocab, merges=[]))
    tokenizer.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = tokenizers.decoders.ByteLevel()
    tokenizer.save(os.path.join(folder, "tokenizer.json"))
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as out:
        json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 256}, out, indent=2)
    text = bytes(prompt_ids).decode("ascii")
    assert tokenizer.encode(text).ids == prompt_ids, "the prompt text must encode to its bytes"

out = sys.argv[1]
common = dict(hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
              num_key_value_heads=4, vocab_size=128, max_position_embeddings=256, initializer_range=0.1,
              rms_norm_eps=1e-6, bos_token_id=1, eos_token_id=2, tie_word_embeddings=False,
              kv_lora_rank=16, qk_nope_head_dim=16, qk_rope_head_dim=8, v_head_dim=16, first_k_dense_replace=1)
models = {
    "deepseek_v3": dict(architecture=transformers.DeepseekV3Config, q_lora_rank=32, rms_norm_eps=1e-5, moe_intermediate_size=16, n_routed_experts=8, n_group=4, topk_group=2,
                        num_experts_per_tok=3, norm_topk_prob=True, routed_scaling_factor=2.5, n_shared_experts=1,
                        rope_interleave=True,
                        rope_parameters=dict(rope_type="yarn", rope_theta=10000.0, factor=4.0,
                                             original_max_position_embeddings=64, beta_fast=32, beta_slow=1,
                                             mscale=0.8, mscale_all_dim=1.0)),
    "deepseek_v3_q_proj": dict(architecture=transformers.DeepseekV3Config, q_lora_rank=None, moe_intermediate_size=16, n_routed_experts=8, n_group=2,
                               topk_group=1, num_experts_per_tok=2, norm_topk_prob=False, routed_scaling_factor=1.5,
                               n_shared_experts=2, rope_interleave=False,
                               rope_parameters=dict(rope_type="default", rope_theta=10000.0)),
    "kimi_k2": dict(architecture=transformers.DeepseekV3Config, q_lora_rank=32, moe_intermediate_size=8, n_routed_experts=16, n_group=1, topk_group=1,
                    num_experts_per_tok=4, norm_topk_prob=True, routed_scaling_factor=2.827, n_shared_experts=1,
                    rope_interleave=True,
                    rope_parameters=dict(rope_type="yarn", rope_theta=50000.0, factor=8.0,
                                         original_max_position_embeddings=32, beta_fast=32, beta_slow=1,
                                         mscale=1.0, mscale_all_dim=1.0)),
    "glm4_moe": dict(architecture=transformers.Glm4MoeConfig, num_key_value_heads=2, head_dim=16, rms_norm_eps=1e-5,
                     attention_bias=True, use_qk_norm=True, moe_intermediate_size=16, n_routed_experts=8, n_group=2,
                     topk_group=1, num_experts_per_tok=2, norm_topk_prob=True, routed_scaling_factor=1.5,
                     n_shared_experts=1,
                     rope_parameters=dict(rope_type="default", rope_theta=10000.0, partial_rotary_factor=0.5)),
}
latent_attention = ("kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim")
prompt = torch.tensor([[1] + [(7 * i + 3) % 125 + 3 for i in range(23)]])
for name, extra in models.items():
    torch.manual_seed(0)
    extra = dict(extra)
    config_class = extra.pop("architecture")
    fields = {**common, **extra}
    if config_class is not transformers.DeepseekV3Config:
        fields = {key: value for key, value in fields.items() if key not in latent_attention}
    config = config_class(**fields)
    model = transformers.AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    with torch.no_grad():
        for module_name, parameter in model.named_buffers():
            if module_name.endswith("e_score_correction_bias"):
                parameter.normal_(0.0, 0.1)
        for module_name, parameter in model.named_parameters():
            if module_name.endswith("bias"):  # q/k/v biases start at zero
                parameter.normal_(0.0, config.initializer_range)
            if module_name.endswith("gate.weight") and parameter.abs().max() == 0:
                parameter.normal_(0.0, config.initializer_range)
            if module_name.endswith("norm.weight"):  # the RMSNorms start at one: spread them
                parameter.add_(torch.randn_like(parameter) * 0.2)
    folder = os.path.join(out, name)
    model.to(torch.bfloat16).save_pretrained(folder)
    write_tokenizer(folder, prompt[0, 1:].tolist())
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
