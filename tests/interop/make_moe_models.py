#!/usr/bin/env python3
"""Writes the mixture-of-experts models launch/interop.sh compresses with dcomp and runs in vLLM
and transformers: small random Mixtral, Qwen3-MoE, DeepSeek-V3 and GLM-4.5 models, made and saved
by Hugging Face transformers in BF16, as their releases are stored.

  make_moe_models.py OUT_FOLDER      (writes OUT_FOLDER/<name>/ for each name below)

The unit-test fixtures (tests/model/fixtures/, head size 16, latent rank 16) are too small for vLLM's
CPU build: its attention takes head sizes 32, 64, 80, ... only, and its MLA kernel only DeepSeek's
latent cache of kv_lora_rank 512 + qk_rope_head_dim 64 = 576. So these models keep the fixtures'
routing and layer layout with vLLM-sized heads: hidden 256, 4 heads of 64, vocab 256, experts of
intermediate 128 (a multiple of the W4A16 group of 64), max_position_embeddings 2048 (one 1,024-token
window with room to generate).
- mixtral: 2 layers, 2 KV heads, 8 experts, top-2.
- qwen3_moe: 3 layers, 2 KV heads, 8 experts, top-3 renormalised, layer 1 a dense MLP (mlp_only_layers).
- deepseek_v3: 2 layers (first_k_dense_replace 1), multi-head latent attention (q_lora_rank 64,
  kv_lora_rank 512, qk_nope_head_dim 64, qk_rope_head_dim 64, v_head_dim 64, interleaved rope, YaRN
  factor 4 with mscale 0.8), 8 experts in 4 groups (topk_group 2), top-3 renormalised, routed_scaling_factor
  2.5, one shared expert. config.json also carries the release's topk_method "noaux_tc" and scoring_func
  "sigmoid", which transformers 5 does not write and vLLM reads (absent, vLLM routes with softmax).
- glm4_moe: 2 layers (first_k_dense_replace 1), 2 KV heads, partial_rotary_factor 0.5, q/k/v bias,
  use_qk_norm, 8 experts in 2 groups (topk_group 1), top-2 renormalised, routed_scaling_factor 1.5,
  one shared expert.
Random weights (seed 0, initializer_range 0.05), RMSNorm weights 1 + N(0, 0.2), random biases, router
weights and e_score_correction_bias (transformers starts them at constants). Tokenizer: byte-level
BPE without merges over all 256 bytes (id b is byte b), so any text tokenizes, in dcomp and in vLLM
alike; BOS 1, EOS 2 (bytes that text does not contain).
"""
import json
import os
import sys

import tokenizers
import torch
import transformers

COMMON = dict(hidden_size=256, num_attention_heads=4, vocab_size=256, max_position_embeddings=2048,
              initializer_range=0.05, rms_norm_eps=1e-6, bos_token_id=1, eos_token_id=2, tie_word_embeddings=False)
MODELS = {
    "mixtral": (transformers.MixtralConfig,
                dict(num_hidden_layers=2, num_key_value_heads=2, head_dim=64, intermediate_size=128,
                     num_local_experts=8, num_experts_per_tok=2, rope_theta=1000000.0), {}),
    "qwen3_moe": (transformers.Qwen3MoeConfig,
                  dict(num_hidden_layers=3, num_key_value_heads=2, head_dim=64, intermediate_size=256,
                       moe_intermediate_size=128, num_experts=8, num_experts_per_tok=3, norm_topk_prob=True,
                       mlp_only_layers=[1], decoder_sparse_step=1, rope_theta=1000000.0), {}),
    "deepseek_v3": (transformers.DeepseekV3Config,
                    dict(num_hidden_layers=2, num_key_value_heads=4, intermediate_size=256, rms_norm_eps=1e-5,
                         q_lora_rank=64, kv_lora_rank=512, qk_nope_head_dim=64, qk_rope_head_dim=64, v_head_dim=64,
                         first_k_dense_replace=1, moe_intermediate_size=128, n_routed_experts=8, n_group=4,
                         topk_group=2, num_experts_per_tok=3, norm_topk_prob=True, routed_scaling_factor=2.5,
                         n_shared_experts=1, rope_interleave=True,
                         rope_parameters=dict(rope_type="yarn", rope_theta=10000.0, factor=4.0,
                                              original_max_position_embeddings=512, beta_fast=32, beta_slow=1,
                                              mscale=0.8, mscale_all_dim=1.0)),
                    dict(topk_method="noaux_tc", scoring_func="sigmoid")),
    "glm4_moe": (transformers.Glm4MoeConfig,
                 dict(num_hidden_layers=2, num_key_value_heads=2, head_dim=64, intermediate_size=256,
                      rms_norm_eps=1e-5, attention_bias=True, use_qk_norm=True, first_k_dense_replace=1,
                      moe_intermediate_size=128, n_routed_experts=8, n_group=2, topk_group=1, num_experts_per_tok=2,
                      norm_topk_prob=True, routed_scaling_factor=1.5, n_shared_experts=1,
                      rope_parameters=dict(rope_type="default", rope_theta=10000.0, partial_rotary_factor=0.5)), {}),
}


def byte_characters():
    """GPT-2's byte-level alphabet: printable bytes stand for themselves, the others for 256 + n."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    extra = [b for b in range(256) if b not in printable]
    return {b: chr(b) if b in printable else chr(256 + extra.index(b)) for b in range(256)}


def write_byte_tokenizer(folder):
    characters = byte_characters()
    tokenizer = tokenizers.Tokenizer(tokenizers.models.BPE(vocab={characters[b]: b for b in range(256)}, merges=[]))
    tokenizer.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = tokenizers.decoders.ByteLevel()
    tokenizer.save(os.path.join(folder, "tokenizer.json"))
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as out:
        json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 2048,
                   "bos_token": characters[1], "eos_token": characters[2]}, out, indent=2)
    assert tokenizer.encode("Hello, world\n").ids == list(b"Hello, world\n")


def make(name, folder):
    config_class, fields, release_fields = MODELS[name]
    torch.manual_seed(0)
    config = config_class(**{**COMMON, **fields})
    model = transformers.AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    with torch.no_grad():
        for module_name, buffer in model.named_buffers():
            if module_name.endswith("e_score_correction_bias"):
                buffer.normal_(0.0, 0.1)
        for module_name, parameter in model.named_parameters():
            if module_name.endswith("bias") or (module_name.endswith("gate.weight") and parameter.abs().max() == 0):
                parameter.normal_(0.0, config.initializer_range)
            if module_name.endswith("norm.weight"):
                parameter.add_(torch.randn_like(parameter) * 0.2)
    model.to(torch.bfloat16).save_pretrained(folder)
    generation_config = os.path.join(folder, "generation_config.json")
    if os.path.exists(generation_config):
        os.remove(generation_config)
    if release_fields:
        path = os.path.join(folder, "config.json")
        stored = json.load(open(path))
        stored.update(release_fields)
        json.dump(stored, open(path, "w"), indent=2)
    write_byte_tokenizer(folder)


def main():
    out = sys.argv[1]
    for name in MODELS:
        make(name, os.path.join(out, name))
        print(f"make_moe_models: {name} written to {os.path.join(out, name)}")


if __name__ == "__main__":
    main()
