// Causal grouped-query self-attention of one decoder layer, with optional
// per-head RMSNorm on queries and keys (Qwen3) and an optional sliding window
// (Mistral).
//
// reference: Vaswani et al., "Attention Is All You Need" (2017) (scaled dot product);
// Ainslie et al., "GQA" (2023) (query head h reads key/value head h / (heads/kv_heads));
// transformers/models/{llama,qwen3}/modeling_*.py (LlamaAttention, Qwen3Attention, repeat_kv).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include <ATen/core/Tensor.h>

#include "kernels/model/decoder_layer_weights.hpp"
#include "kernels/model/kv_cache.hpp"
#include "kernels/model/linear.hpp"
#include "kernels/model/model_config.hpp"
#include "kernels/model/rotary_embedding.hpp"

namespace dcomp::model {

/// Sees the keys (after q/k norm and RoPE, as a KV cache stores them) and the values of one
/// attention call: both [batch, kv_heads, seq, head_dim] fp32. For calibrating KV-cache scales.
using KeyValueHook = std::function<void(const at::Tensor& keys, const at::Tensor& values)>;

/// normed [batch, seq, hidden] fp32 (the input_layernorm output) → o_proj output
/// [batch, seq, hidden] fp32. The tokens sit at positions [p, p + seq) where
/// p = cache->length() (0 without a cache); with a cache, this call's keys and
/// values are appended to it and attention covers every cached position.
/// The hook sees the q/k/v input and the o_proj input; `kv_hook` this call's keys and values.
at::Tensor self_attention_forward(const ModelConfig& config, const DecoderLayerWeights& weights, const at::Tensor& normed,
                                  const RotaryEmbedding& rope, LayerKVCache* cache = nullptr,
                                  const LinearInputHook* hook = nullptr, const KeyValueHook* kv_hook = nullptr);

/// Additive attention mask [queries, keys] fp32 (0 where allowed, -inf elsewhere) for
/// queries at positions [first_query, first_query + queries) over keys at
/// [first_key, first_key + keys): causal, and limited to the last `sliding_window`
/// positions when given. Built on `device`.
at::Tensor causal_attention_mask(int64_t queries, int64_t keys, int64_t first_query,
                                 const std::optional<int64_t>& sliding_window, c10::Device device = c10::kCPU,
                                 int64_t first_key = 0);

/// Queries per block of the causal attention: a block of queries is scored only against
/// the keys it may see (never the causal upper triangle), and no score tensor is larger
/// than heads × block × keys.
inline constexpr int64_t kAttentionQueryBlock = 256;

/// Scaled dot-product attention of grouped queries over their keys, causal from
/// position `first_query` on: q [B, H, S, D], k [B, K, T, D] and v [B, K, T, D_v] fp32 with
/// H = K·G; query s sits at position first_query + s and key t at position t. Returns the
/// context [B, H, S, D_v]. Scores are scaled by `scale` (1/√D when unset). Computed by blocks
/// of kAttentionQueryBlock queries.
at::Tensor causal_grouped_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t first_query,
                                    const std::optional<int64_t>& sliding_window,
                                    std::optional<double> scale = std::nullopt);

}  // namespace dcomp::model
