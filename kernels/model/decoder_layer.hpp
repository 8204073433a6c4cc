// One pre-norm decoder layer of the Llama family, runnable on its own (the
// layer-by-layer compression pipeline feeds it one layer at a time):
//   h = x + attention(input_layernorm(x));  y = h + mlp(post_attention_layernorm(h))
// where mlp is a SwiGLU MLP or, in sparse layers, a mixture of SwiGLU experts.
//
// reference: transformers/models/llama/modeling_llama.py (LlamaDecoderLayer.forward),
// transformers/models/qwen3_moe/modeling_qwen3_moe.py (Qwen3MoeDecoderLayer).
#pragma once

#include <ATen/core/Tensor.h>

#include "kernels/model/attention.hpp"
#include "kernels/model/decoder_layer_weights.hpp"
#include "kernels/model/kv_cache.hpp"
#include "kernels/model/linear.hpp"
#include "kernels/model/model_config.hpp"
#include "kernels/model/rotary_embedding.hpp"
#include "kernels/model/sparse_moe.hpp"

namespace dcomp::model {

/// hidden [batch, seq, hidden] fp32 at positions [0, seq) → [batch, seq, hidden] fp32.
/// `hook` (optional) is called once per distinct Linear input (see LinearInputHook).
at::Tensor decoder_layer_forward(const ModelConfig& config, const DecoderLayerWeights& weights, const at::Tensor& hidden,
                                 const RotaryEmbedding& rope, const LinearInputHook* hook = nullptr);

/// The hook's calls of decoder_layer_forward (every Linear input, in the same order and
/// with the same values) without computing the layer's output: the down projection and
/// the last residual are skipped, a quarter of a Llama MLP's arithmetic. For calibration
/// passes, whose outputs are recomputed with the compressed weights anyway.
/// `kv_hook` (optional) sees the attention's keys and values (see KeyValueHook); `experts`
/// (optional) sets how a sparse MLP's experts are observed (default: the routed tokens only).
void decoder_layer_observe_inputs(const ModelConfig& config, const DecoderLayerWeights& weights,
                                  const at::Tensor& hidden, const RotaryEmbedding& rope, const LinearInputHook& hook,
                                  const KeyValueHook* kv_hook = nullptr, const ExpertCalibration* experts = nullptr);

/// As decoder_layer_forward, for tokens at positions [cache.length(), cache.length() + seq);
/// appends their keys and values to `cache` (incremental decoding).
at::Tensor decoder_layer_forward_cached(const ModelConfig& config, const DecoderLayerWeights& weights,
                                        const at::Tensor& hidden, const RotaryEmbedding& rope, LayerKVCache& cache,
                                        const LinearInputHook* hook = nullptr);

}  // namespace dcomp::model
