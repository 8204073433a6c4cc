// Multi-head latent attention (MLA) of DeepSeek-V2/V3 and Kimi-K2: queries through a low-rank
// q_a_proj → RMSNorm → q_b_proj (or one q_proj); keys and values decompressed by kv_b_proj
// from the RMS-normed kv_lora_rank part of kv_a_proj_with_mqa, whose last qk_rope_head_dim
// outputs are one rotary key shared by every head. Each head's query and key are its
// qk_nope_head_dim no-rope part followed by its qk_rope_head_dim rotary part.
//
// reference: DeepSeek-AI, "DeepSeek-V2: A Strong, Economical, and Efficient Mixture-of-Experts
// Language Model" (2024) §2.1 (MLA, decoupled rotary key); transformers/models/deepseek_v3/
// modeling_deepseek_v3.py (DeepseekV3Attention.forward, expand_kv, yarn_apply_mscale).
#pragma once

#include <ATen/core/Tensor.h>

#include "kernels/model/attention.hpp"
#include "kernels/model/decoder_layer_weights.hpp"
#include "kernels/model/kv_cache.hpp"
#include "kernels/model/linear.hpp"
#include "kernels/model/model_config.hpp"
#include "kernels/model/rotary_embedding.hpp"

namespace dcomp::model {

/// The softmax scale of MLA: qk_head_dim^-1/2, times mscale(factor, mscale_all_dim)² when the
/// rope scaling is not the default and mscale_all_dim is non-zero.
double latent_attention_scale(const ModelConfig& config);

/// normed [batch, seq, hidden] fp32 (the input_layernorm output) → o_proj output
/// [batch, seq, hidden] fp32, for tokens at positions [p, p + seq), p = cache->length() (0
/// without a cache). The cache holds the expanded keys [B, H, T, D_qk] and values [B, H, T, D_v]
/// (equal to transformers' cached latents expanded by kv_b_proj). The hook sees, in order, the
/// normed input (q_a_proj or q_proj, kv_a_proj_with_mqa), q_a_layernorm's output (q_b_proj),
/// kv_a_layernorm's output (kv_b_proj) and the attention output (o_proj). `kv_hook` sees the
/// expanded keys and values.
at::Tensor latent_attention_forward(const ModelConfig& config, const DecoderLayerWeights& weights,
                                    const at::Tensor& normed, const RotaryEmbedding& rope,
                                    LayerKVCache* cache = nullptr, const LinearInputHook* hook = nullptr,
                                    const KeyValueHook* kv_hook = nullptr);

}  // namespace dcomp::model
