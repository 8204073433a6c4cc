// Rotary position embeddings (RoPE) in the Hugging Face "rotate_half" layout:
// dimension i of a head is paired with dimension i + head_dim/2, and the pair
// is rotated by the angle position * inv_freq[i].
//
// reference: Su et al., "RoFormer: Enhanced Transformer with Rotary Position
// Embedding" (2021); transformers/models/llama/modeling_llama.py (rotate_half,
// apply_rotary_pos_emb, LlamaRotaryEmbedding); transformers/modeling_rope_utils.py
// (_compute_default_rope_parameters, _compute_llama3_parameters).
#pragma once

#include <cstdint>
#include <utility>

#include <ATen/core/Tensor.h>

#include "kernels/model/model_config.hpp"

namespace dcomp::model {

/// The rotary frequencies of one model and their application to query/key heads.
class RotaryEmbedding {
 public:
  /// inv_freq[i] = rope_theta^(-2i/head_dim), then rescaled per config.rope_scaling.
  explicit RotaryEmbedding(const ModelConfig& config);

  /// [head_dim/2] fp32.
  const at::Tensor& inverse_frequencies() const { return inv_freq_; }
  /// Keeps the frequencies on `device`: apply() then takes inputs there.
  void to(c10::Device device);
  int64_t head_dim() const { return head_dim_; }

  /// cos and sin of position * inv_freq for positions [start, start + length), each
  /// [length, head_dim] fp32 (the half-size table repeated twice, as rotate_half needs).
  std::pair<at::Tensor, at::Tensor> cos_sin(int64_t start, int64_t length) const;

  /// x [batch, heads, seq, head_dim] fp32 whose tokens sit at positions
  /// [start, start + seq) → x * cos + rotate_half(x) * sin, same shape.
  at::Tensor apply(const at::Tensor& x, int64_t start) const;

 private:
  int64_t head_dim_;
  at::Tensor inv_freq_;  // [head_dim/2] fp32
};

/// The llama3 band-wise rescaling of inv_freq [n] fp32 (exposed for tests):
/// wavelengths longer than original_max/low_freq_factor are divided by `factor`,
/// shorter than original_max/high_freq_factor are kept, and the band between is
/// interpolated smoothly.
at::Tensor llama3_scaled_inverse_frequencies(const at::Tensor& inv_freq, const RopeScaling& scaling);

}  // namespace dcomp::model
