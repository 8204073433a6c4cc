// reference: transformers/models/deepseek_v3/modeling_deepseek_v3.py (DeepseekV3Attention,
// DeepseekV3RMSNorm for q_a_layernorm / kv_a_layernorm with eps 1e-6, yarn_get_mscale).
#include "kernels/model/latent_attention.hpp"

#include <ATen/ATen.h>

#include <cmath>

#include "kernels/model/rms_norm.hpp"

namespace dcomp::model {
namespace {

// q_a_layernorm and kv_a_layernorm are built with RMSNorm's default eps, not rms_norm_eps.
constexpr double kLatentNormEps = 1e-6;

// Queries [B, H, S, D_qk] before RoPE: q_proj, or q_b_proj(q_a_layernorm(q_a_proj(x))).
at::Tensor latent_queries(const ModelConfig& config, const DecoderLayerWeights& weights, const at::Tensor& normed,
                          const LinearInputHook* hook) {
  const LatentAttentionConfig& mla = *config.latent_attention;
  const int64_t batch = normed.size(0), seq = normed.size(1);
  at::Tensor q;
  if (mla.q_lora_rank) {
    const at::Tensor compressed = rms_norm(linear_forward(weights.q_a_proj, normed),
                                           weights.parameter(ParameterRole::LatentQueryNorm), kLatentNormEps);
    notify_linear_input(hook, weights.layout->readers_with(LinearRole::LatentQueryB), compressed);  // [B, S, r_q]
    q = linear_forward(weights.q_b_proj, compressed);
  } else {
    q = linear_forward(weights.q_proj, normed);
  }
  return q.view({batch, seq, config.num_attention_heads, mla.qk_head_dim()}).transpose(1, 2);
}

}  // namespace

double latent_attention_scale(const ModelConfig& config) {
  const LatentAttentionConfig& mla = *config.latent_attention;
  double scale = std::pow(static_cast<double>(mla.qk_head_dim()), -0.5);
  const RopeScaling& rope = config.rope_scaling;
  if (rope.type != RopeScalingType::Default && rope.mscale_all_dim != 0) {
    const double mscale = yarn_mscale(rope.factor, rope.mscale_all_dim);
    scale = scale * mscale * mscale;
  }
  return scale;
}

at::Tensor latent_attention_forward(const ModelConfig& config, const DecoderLayerWeights& weights,
                                    const at::Tensor& normed, const RotaryEmbedding& rope, LayerKVCache* cache,
                                    const LinearInputHook* hook, const KeyValueHook* kv_hook) {
  TORCH_CHECK(normed.dim() == 3 && normed.size(2) == config.hidden_size, "attention expects [batch, seq, ",
              config.hidden_size, "], got ", normed.sizes());
  const LatentAttentionConfig& mla = *config.latent_attention;
  const int64_t batch = normed.size(0), seq = normed.size(1), heads = config.num_attention_heads;
  const int64_t nope = mla.qk_nope_head_dim, rotary = mla.qk_rope_head_dim;
  const int64_t start = cache != nullptr ? cache->length() : 0;

  const LayerLayout& layout = *weights.layout;
  notify_linear_input(hook, layout.readers_with(LinearRole::LatentKeyValueA), normed);  // with q_a_proj or q_proj
  const at::Tensor q = latent_queries(config, weights, normed, hook);  // [B, H, S, D_qk]
  const at::Tensor compressed_kv = linear_forward(weights.kv_a_proj, normed);  // [B, S, r_kv + rotary]
  const at::Tensor latent = rms_norm(compressed_kv.narrow(-1, 0, mla.kv_lora_rank),
                                     weights.parameter(ParameterRole::LatentKeyValueNorm), kLatentNormEps);
  notify_linear_input(hook, layout.readers_with(LinearRole::LatentKeyValueB), latent);  // [B, S, r_kv]
  at::Tensor key_rot = compressed_kv.narrow(-1, mla.kv_lora_rank, rotary).reshape({batch, 1, seq, rotary});
  at::Tensor query_rot = q.narrow(-1, nope, rotary);  // [B, H, S, rotary]
  if (mla.rope_interleave) {
    query_rot = rope.apply_interleaved(query_rot, start);
    key_rot = rope.apply_interleaved(key_rot, start);
  } else {
    query_rot = rope.apply(query_rot, start);
    key_rot = rope.apply(key_rot, start);
  }
  const at::Tensor queries = at::cat({q.narrow(-1, 0, nope), query_rot}, /*dim=*/-1);  // [B, H, S, D_qk]
  const at::Tensor expanded = linear_forward(weights.kv_b_proj, latent)                // [B, S, H*(nope+D_v)]
                                  .view({batch, seq, heads, nope + mla.v_head_dim})
                                  .transpose(1, 2);                                    // [B, H, S, nope+D_v]
  at::Tensor keys = at::cat({expanded.narrow(-1, 0, nope), key_rot.expand({batch, heads, seq, rotary})}, -1);
  at::Tensor values = expanded.narrow(-1, nope, mla.v_head_dim).contiguous();  // [B, H, S, D_v]
  if (kv_hook != nullptr && *kv_hook) (*kv_hook)(keys, values);
  if (cache != nullptr) {
    cache->keys = cache->keys.defined() ? at::cat({cache->keys, keys}, 2) : keys.contiguous();
    cache->values = cache->values.defined() ? at::cat({cache->values, values}, 2) : values;
    keys = cache->keys;
    values = cache->values;
  }
  const at::Tensor context =
      causal_grouped_attention(queries, keys, values, start, std::nullopt, latent_attention_scale(config))
          .transpose(1, 2)
          .reshape({batch, seq, heads * mla.v_head_dim});  // [B, S, H*D_v]
  notify_linear_input(hook, layout.readers_with(LinearRole::Output), context);
  return linear_forward(weights.o_proj, context);  // [B, S, hidden]
}

}  // namespace dcomp::model
