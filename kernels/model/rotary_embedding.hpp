// Rotary position embeddings (RoPE) in the Hugging Face "rotate_half" layout:
// dimension i of a head is paired with dimension i + head_dim/2, and the pair
// is rotated by the angle position * inv_freq[i].
//
// reference: Su et al., "RoFormer: Enhanced Transformer with Rotary Position
// Embedding" (2021); transformers/models/llama/modeling_llama.py (rotate_half,
// apply_rotary_pos_emb, LlamaRotaryEmbedding); transformers/modeling_rope_utils.py
// (_compute_default_rope_parameters, _compute_llama3_parameters, _compute_yarn_parameters);
// Peng et al., "YaRN: Efficient Context Window Extension of Large Language Models" (2023).
#pragma once

#include <cstdint>
#include <utility>

#include <ATen/core/Tensor.h>

#include "kernels/model/model_config.hpp"

namespace dcomp::model {

/// The rotary frequencies of one model and their application to query/key heads.
class RotaryEmbedding {
 public:
  /// inv_freq[i] = rope_theta^(-2i/d), then rescaled per config.rope_scaling, where d is
  /// config.rotary_dim() (head_dim but for partial rotary embeddings); head_dim() returns d.
  explicit RotaryEmbedding(const ModelConfig& config);

  /// [head_dim/2] fp32.
  const at::Tensor& inverse_frequencies() const { return inv_freq_; }
  /// Keeps the frequencies on `device`: apply() then takes inputs there.
  void to(c10::Device device);
  int64_t head_dim() const { return head_dim_; }

  /// cos and sin of position * inv_freq for positions [start, start + length), each
  /// [length, head_dim] fp32 (the half-size table repeated twice, as rotate_half needs),
  /// times attention_scaling().
  std::pair<at::Tensor, at::Tensor> cos_sin(int64_t start, int64_t length) const;

  /// x [batch, heads, seq, head_dim] fp32 whose tokens sit at positions
  /// [start, start + seq) → x * cos + rotate_half(x) * sin, same shape.
  at::Tensor apply(const at::Tensor& x, int64_t start) const;

  /// x [batch, heads, seq, D] with D >= head_dim(): apply() on the first head_dim() dimensions,
  /// the others unchanged (partial rotary embeddings, transformers' apply_rotary_pos_emb with
  /// rotary_dim = cos.shape[-1]).
  at::Tensor apply_leading(const at::Tensor& x, int64_t start) const;

  /// As apply(), for x whose rotary pairs are interleaved (dimensions 2i and 2i+1 form pair i,
  /// DeepSeek's layout): the result is in rotate_half order, pair i at i and i + head_dim/2
  /// (transformers' apply_rotary_pos_emb_interleave).
  at::Tensor apply_interleaved(const at::Tensor& x, int64_t start) const;

  /// The multiplier of cos and sin: YaRN's attention factor, 1 otherwise.
  double attention_scaling() const { return attention_scaling_; }

 private:
  int64_t head_dim_;
  at::Tensor inv_freq_;  // [head_dim/2] fp32
  double attention_scaling_ = 1.0;
};

/// The llama3 band-wise rescaling of inv_freq [n] fp32 (exposed for tests):
/// wavelengths longer than original_max/low_freq_factor are divided by `factor`,
/// shorter than original_max/high_freq_factor are kept, and the band between is
/// interpolated smoothly.
at::Tensor llama3_scaled_inverse_frequencies(const at::Tensor& inv_freq, const RopeScaling& scaling);

/// YaRN's inverse frequencies [head_dim/2] fp32: those of wavelengths within the original
/// context (beta_fast rotations) kept, those beyond it (beta_slow) divided by `factor`, a
/// linear ramp between.
at::Tensor yarn_inverse_frequencies(int64_t head_dim, double theta, const RopeScaling& scaling);

/// YaRN's multiplier of cos and sin: attention_factor when given, else
/// mscale(factor, mscale) / mscale(factor, mscale_all_dim) when both are non-zero, else
/// mscale(factor, 1), with mscale(s, m) = 0.1·m·ln(s) + 1 (1 for s <= 1).
double yarn_attention_factor(const RopeScaling& scaling);

/// yarn_get_mscale of transformers: 0.1·m·ln(scale) + 1, or 1 for scale <= 1.
double yarn_mscale(double scale, double m);

}  // namespace dcomp::model
