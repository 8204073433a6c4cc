// reference: transformers/models/llama/modeling_llama.py (LlamaDecoderLayer.forward),
// transformers/models/qwen3_moe/modeling_qwen3_moe.py (Qwen3MoeDecoderLayer.forward),
// transformers/models/deepseek_v3/modeling_deepseek_v3.py (DeepseekV3DecoderLayer.forward).
#include "kernels/model/decoder_layer.hpp"

#include <ATen/ATen.h>

#include <utility>

#include "kernels/model/attention.hpp"
#include "kernels/model/latent_attention.hpp"
#include "kernels/model/mlp.hpp"
#include "kernels/model/rms_norm.hpp"
#include "kernels/model/sparse_moe.hpp"

namespace dcomp::model {
namespace {

// The MLP's input, mlp_norm(h) [B, S, hidden], and h itself (the norms as the layout names them).
std::pair<at::Tensor, at::Tensor> run_attention(const ModelConfig& config, const DecoderLayerWeights& weights,
                                                const at::Tensor& hidden, const RotaryEmbedding& rope,
                                                LayerKVCache* cache, const LinearInputHook* hook,
                                                const KeyValueHook* kv_hook = nullptr) {
  TORCH_CHECK(hidden.dim() == 3 && hidden.size(2) == config.hidden_size, "decoder layer expects [batch, seq, ",
              config.hidden_size, "] fp32, got ", hidden.sizes());
  TORCH_CHECK(hidden.scalar_type() == at::kFloat, "decoder layer expects fp32 hidden states, got ", hidden.scalar_type());
  const at::Tensor attention_input =
      rms_norm(hidden, weights.parameter(ParameterRole::AttentionNorm), config.rms_norm_eps);
  const at::Tensor attention_output =
      weights.layout->attention == AttentionKind::Latent
          ? latent_attention_forward(config, weights, attention_input, rope, cache, hook, kv_hook)
          : self_attention_forward(config, weights, attention_input, rope, cache, hook, kv_hook);
  at::Tensor after_attention = hidden + attention_output;  // [B, S, hidden]
  at::Tensor mlp_input = rms_norm(after_attention, weights.parameter(ParameterRole::MlpNorm), config.rms_norm_eps);
  return {std::move(mlp_input), std::move(after_attention)};
}

at::Tensor run_layer(const ModelConfig& config, const DecoderLayerWeights& weights, const at::Tensor& hidden,
                     const RotaryEmbedding& rope, LayerKVCache* cache, const LinearInputHook* hook) {
  const auto [mlp_input, after_attention] = run_attention(config, weights, hidden, rope, cache, hook);
  if (weights.sparse()) return after_attention + sparse_moe_forward(config, weights, mlp_input, hook);
  return after_attention + swiglu_mlp_forward(weights, mlp_input, hook);  // [B, S, hidden]
}

}  // namespace

at::Tensor decoder_layer_forward(const ModelConfig& config, const DecoderLayerWeights& weights, const at::Tensor& hidden,
                                 const RotaryEmbedding& rope, const LinearInputHook* hook) {
  return run_layer(config, weights, hidden, rope, nullptr, hook);
}

void decoder_layer_observe_inputs(const ModelConfig& config, const DecoderLayerWeights& weights,
                                  const at::Tensor& hidden, const RotaryEmbedding& rope, const LinearInputHook& hook,
                                  const KeyValueHook* kv_hook, const ExpertCalibration* experts) {
  const auto [mlp_input, after_attention] = run_attention(config, weights, hidden, rope, nullptr, &hook, kv_hook);
  if (weights.sparse()) {
    sparse_moe_observe_inputs(config, weights, mlp_input, hook, experts ? *experts : ExpertCalibration{});
    return;
  }
  swiglu_mlp_observe_inputs(weights, mlp_input, hook);
}

at::Tensor decoder_layer_forward_cached(const ModelConfig& config, const DecoderLayerWeights& weights,
                                        const at::Tensor& hidden, const RotaryEmbedding& rope, LayerKVCache& cache,
                                        const LinearInputHook* hook) {
  return run_layer(config, weights, hidden, rope, &cache, hook);
}

}  // namespace dcomp::model
