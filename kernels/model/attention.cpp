// reference: transformers/models/llama/modeling_llama.py (LlamaAttention.forward,
// eager_attention_forward, repeat_kv), transformers/models/qwen3/modeling_qwen3.py
// (q_norm/k_norm over head_dim before RoPE), transformers/models/glm4_moe/modeling_glm4_moe.py
// (apply_rotary_pos_emb on the first rotary_dim dimensions), transformers/masking_utils.py
// (causal and sliding-window masks: key j is visible to query i iff j <= i and i - j < window).
#include "kernels/model/attention.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/model/rms_norm.hpp"

namespace dcomp::model {

at::Tensor causal_attention_mask(int64_t queries, int64_t keys, int64_t first_query,
                                 const std::optional<int64_t>& sliding_window, c10::Device device, int64_t first_key) {
  const auto longs = at::TensorOptions().dtype(at::kLong).device(device);
  const at::Tensor query_positions = at::arange(first_query, first_query + queries, longs).unsqueeze(1);  // [q, 1]
  const at::Tensor key_positions = at::arange(first_key, first_key + keys, longs).unsqueeze(0);           // [1, k]
  at::Tensor allowed = key_positions <= query_positions;                                                      // [q, k]
  if (sliding_window) allowed = at::logical_and(allowed, (query_positions - key_positions) < *sliding_window);
  return at::zeros({queries, keys}, at::TensorOptions().dtype(at::kFloat).device(device)).masked_fill(allowed.logical_not(), -std::numeric_limits<float>::infinity());
}

// reference: Dao et al., "FlashAttention" (arXiv 2205.14135) §3.1 (attention by blocks of
// queries; here each block keeps its full row of scores, so the softmax is the plain one).
at::Tensor causal_grouped_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t first_query,
                                    const std::optional<int64_t>& sliding_window, std::optional<double> scale) {
  const int64_t batch = q.size(0), heads = q.size(1), seq = q.size(2), head_dim = q.size(3);
  const int64_t kv_heads = k.size(1), total = k.size(2), value_dim = v.size(3);
  const int64_t group = heads / kv_heads;
  // The 1/√D scale on the queries (S·D values) rather than on the scores (S·T).
  const at::Tensor scaled_q = q * scale.value_or(1.0 / std::sqrt(static_cast<double>(head_dim)));  // [B, H, S, D]
  at::Tensor context = at::empty({batch, heads, seq, value_dim}, q.options());                     // [B, H, S, D_v]
  for (int64_t first = 0; first < seq; first += kAttentionQueryBlock) {
    const int64_t count = std::min(kAttentionQueryBlock, seq - first);
    // Keys this block may see: positions up to its last query, within the window.
    const int64_t key_end = std::min(total, first_query + first + count);
    const int64_t key_begin =
        sliding_window ? std::max<int64_t>(0, first_query + first - *sliding_window + 1) : int64_t{0};
    const int64_t keys = key_end - key_begin;
    // Query head h = kv * group + g reads key/value head kv: fold the group into the query rows.
    const at::Tensor grouped_q = scaled_q.narrow(2, first, count).reshape({batch, kv_heads, group * count, head_dim});
    const at::Tensor block_k = k.narrow(2, key_begin, keys);  // [B, K, T', D]
    const at::Tensor block_v = v.narrow(2, key_begin, keys);  // [B, K, T', D]
    at::Tensor scores = at::matmul(grouped_q, block_k.transpose(-1, -2))  // [B, K, G*n, T']
                            .view({batch, kv_heads, group, count, keys});  // [B, K, G, n, T']
    // One query sees exactly keys [key_begin, key_end); several need the causal triangle.
    // Without a window it lies in the last `count` keys (those at the block's own
    // positions), which alone are masked; a window also cuts keys off at the start.
    if (count > 1 && sliding_window) {
      scores.add_(causal_attention_mask(count, keys, first_query + first, sliding_window, scores.device(), key_begin));
    } else if (count > 1) {
      scores.narrow(-1, keys - count, count)
          .add_(causal_attention_mask(count, count, first_query + first, std::nullopt, scores.device(), key_end - count));
    }
    const at::Tensor probabilities = at::softmax(scores, /*dim=*/-1).view({batch, kv_heads, group * count, keys});
    context.narrow(2, first, count).copy_(at::matmul(probabilities, block_v).view({batch, heads, count, value_dim}));
  }
  return context;
}

at::Tensor self_attention_forward(const ModelConfig& config, const DecoderLayerWeights& weights, const at::Tensor& normed,
                                  const RotaryEmbedding& rope, LayerKVCache* cache, const LinearInputHook* hook,
                                  const KeyValueHook* kv_hook) {
  TORCH_CHECK(normed.dim() == 3 && normed.size(2) == config.hidden_size, "attention expects [batch, seq, ",
              config.hidden_size, "], got ", normed.sizes());
  const int64_t batch = normed.size(0);
  const int64_t seq = normed.size(1);
  const int64_t heads = config.num_attention_heads;
  const int64_t kv_heads = config.num_key_value_heads;
  const int64_t head_dim = config.head_dim;

  const LayerLayout& layout = *weights.layout;
  notify_linear_input(hook, layout.readers_with(LinearRole::Query), normed);
  at::Tensor q = linear_forward(weights.q_proj, normed).view({batch, seq, heads, head_dim});     // [B, S, H, D]
  at::Tensor k = linear_forward(weights.k_proj, normed).view({batch, seq, kv_heads, head_dim});  // [B, S, K, D]
  at::Tensor v = linear_forward(weights.v_proj, normed).view({batch, seq, kv_heads, head_dim});  // [B, S, K, D]
  if (layout.has(ParameterRole::QueryNorm)) {
    q = rms_norm(q, weights.parameter(ParameterRole::QueryNorm), config.rms_norm_eps);
    k = rms_norm(k, weights.parameter(ParameterRole::KeyNorm), config.rms_norm_eps);
  }
  const int64_t start = cache != nullptr ? cache->length() : 0;
  q = rope.apply_leading(q.transpose(1, 2), start);  // [B, H, S, D]
  k = rope.apply_leading(k.transpose(1, 2), start);  // [B, K, S, D]
  v = v.transpose(1, 2);                     // [B, K, S, D]
  if (kv_hook != nullptr && *kv_hook) (*kv_hook)(k, v);
  if (weights.key_quantizer) k = weights.key_quantizer(k);
  if (weights.value_quantizer) v = weights.value_quantizer(v);

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
  const at::Tensor context = causal_grouped_attention(q, k, v, start, config.sliding_window)  // [B, H, S, D]
                                 .transpose(1, 2)
                                 .reshape({batch, seq, heads * head_dim});  // [B, S, H*D]

  notify_linear_input(hook, layout.readers_with(LinearRole::Output), context);
  return linear_forward(weights.o_proj, context);  // [B, S, hidden]
}

}  // namespace dcomp::model
