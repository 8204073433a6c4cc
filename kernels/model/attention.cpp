// reference: transformers/models/llama/modeling_llama.py (LlamaAttention.forward,
// eager_attention_forward, repeat_kv), transformers/models/qwen3/modeling_qwen3.py
// (q_norm/k_norm over head_dim before RoPE), transformers/masking_utils.py
// (causal and sliding-window masks: key j is visible to query i iff j <= i and i - j < window).
#include "kernels/model/attention.hpp"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>

#include "kernels/model/rms_norm.hpp"

namespace dcomp::model {

at::Tensor causal_attention_mask(int64_t queries, int64_t keys, int64_t first_query,
                                 const std::optional<int64_t>& sliding_window, c10::Device device) {
  const auto longs = at::TensorOptions().dtype(at::kLong).device(device);
  const at::Tensor query_positions = at::arange(first_query, first_query + queries, longs).unsqueeze(1);  // [q, 1]
  const at::Tensor key_positions = at::arange(0, keys, longs).unsqueeze(0);                                // [1, k]
  at::Tensor allowed = key_positions <= query_positions;                                                      // [q, k]
  if (sliding_window) allowed = at::logical_and(allowed, (query_positions - key_positions) < *sliding_window);
  return at::zeros({queries, keys}, at::TensorOptions().dtype(at::kFloat).device(device)).masked_fill(allowed.logical_not(), -std::numeric_limits<float>::infinity());
}

at::Tensor self_attention_forward(const ModelConfig& config, const DecoderLayerWeights& weights, const at::Tensor& normed,
                                  const RotaryEmbedding& rope, LayerKVCache* cache, const LinearInputHook* hook) {
  TORCH_CHECK(normed.dim() == 3 && normed.size(2) == config.hidden_size, "attention expects [batch, seq, ",
              config.hidden_size, "], got ", normed.sizes());
  const int64_t batch = normed.size(0);
  const int64_t seq = normed.size(1);
  const int64_t heads = config.num_attention_heads;
  const int64_t kv_heads = config.num_key_value_heads;
  const int64_t group = config.query_heads_per_kv_head();
  const int64_t head_dim = config.head_dim;

  notify_linear_input(hook, {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"}, normed);
  at::Tensor q = linear_forward(weights.q_proj, normed).view({batch, seq, heads, head_dim});     // [B, S, H, D]
  at::Tensor k = linear_forward(weights.k_proj, normed).view({batch, seq, kv_heads, head_dim});  // [B, S, K, D]
  at::Tensor v = linear_forward(weights.v_proj, normed).view({batch, seq, kv_heads, head_dim});  // [B, S, K, D]
  if (config.qk_norm) {
    q = rms_norm(q, weights.q_norm, config.rms_norm_eps);
    k = rms_norm(k, weights.k_norm, config.rms_norm_eps);
  }
  const int64_t start = cache != nullptr ? cache->length() : 0;
  q = rope.apply(q.transpose(1, 2), start);  // [B, H, S, D]
  k = rope.apply(k.transpose(1, 2), start);  // [B, K, S, D]
  v = v.transpose(1, 2);                     // [B, K, S, D]

  if (cache != nullptr) {
    if (cache->keys.defined()) {
      cache->keys = at::cat({cache->keys, k}, /*dim=*/2);
      cache->values = at::cat({cache->values, v}, /*dim=*/2);
    } else {
      cache->keys = k.contiguous();
      cache->values = v.contiguous();
    }
    k = cache->keys;    // [B, K, T, D]
    v = cache->values;  // [B, K, T, D]
  }
  const int64_t total = k.size(2);

  // Query head h = kv * group + g reads key/value head kv: fold the group into the query rows.
  const at::Tensor grouped_q = q.reshape({batch, kv_heads, group * seq, head_dim});  // [B, K, G*S, D]
  at::Tensor scores = at::matmul(grouped_q, k.transpose(-1, -2))                     // [B, K, G*S, T]
                          .mul_(1.0 / std::sqrt(static_cast<double>(head_dim)))
                          .view({batch, kv_heads, group, seq, total});  // [B, K, G, S, T]
  if (seq > 1 || config.sliding_window) {
    scores.add_(causal_attention_mask(seq, total, start, config.sliding_window, scores.device()));  // broadcast [S, T]
  }
  const at::Tensor probabilities = at::softmax(scores, /*dim=*/-1).view({batch, kv_heads, group * seq, total});
  const at::Tensor context = at::matmul(probabilities, v)                   // [B, K, G*S, D]
                                 .view({batch, heads, seq, head_dim})        // [B, H, S, D]
                                 .transpose(1, 2)
                                 .reshape({batch, seq, heads * head_dim});  // [B, S, H*D]

  notify_linear_input(hook, {"self_attn.o_proj"}, context);
  return linear_forward(weights.o_proj, context);  // [B, S, hidden]
}

}  // namespace dcomp::model
