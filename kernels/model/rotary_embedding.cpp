// reference: transformers/modeling_rope_utils.py (_compute_default_rope_parameters,
// _compute_llama3_parameters, _compute_yarn_parameters), transformers/models/llama/modeling_llama.py
// (LlamaRotaryEmbedding.forward, rotate_half, apply_rotary_pos_emb) and
// transformers/models/deepseek_v3/modeling_deepseek_v3.py (apply_rotary_pos_emb_interleave).
#include "kernels/model/rotary_embedding.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

namespace dcomp::model {

at::Tensor llama3_scaled_inverse_frequencies(const at::Tensor& inv_freq, const RopeScaling& scaling) {
  const double original_context = static_cast<double>(scaling.original_max_position_embeddings);
  const double low_freq_wavelength = original_context / scaling.low_freq_factor;
  const double high_freq_wavelength = original_context / scaling.high_freq_factor;

  const at::Tensor wavelength = (2 * M_PI) / inv_freq;  // [n]
  // Long wavelengths (low frequencies) are stretched by `factor`; short ones are kept.
  const at::Tensor rescaled = at::where(wavelength > low_freq_wavelength, inv_freq / scaling.factor, inv_freq);
  // Between the two bands: interpolate between the stretched and the original frequency.
  const at::Tensor smooth = (original_context / wavelength - scaling.low_freq_factor) /
                            (scaling.high_freq_factor - scaling.low_freq_factor);
  const at::Tensor smoothed = (1 - smooth) * rescaled / scaling.factor + smooth * rescaled;
  const at::Tensor is_medium = at::logical_and(wavelength >= high_freq_wavelength, wavelength <= low_freq_wavelength);
  return at::where(is_medium, smoothed, rescaled);
}

double yarn_mscale(double scale, double m) { return scale <= 1 ? 1.0 : 0.1 * m * std::log(scale) + 1.0; }

double yarn_attention_factor(const RopeScaling& scaling) {
  if (scaling.attention_factor) return *scaling.attention_factor;
  if (scaling.mscale != 0 && scaling.mscale_all_dim != 0) {
    return yarn_mscale(scaling.factor, scaling.mscale) / yarn_mscale(scaling.factor, scaling.mscale_all_dim);
  }
  return yarn_mscale(scaling.factor, 1.0);
}

at::Tensor yarn_inverse_frequencies(int64_t head_dim, double theta, const RopeScaling& scaling) {
  const double dim = static_cast<double>(head_dim);
  const double original = static_cast<double>(scaling.original_max_position_embeddings);
  // The dimension whose wavelength turns `rotations` times over the original context.
  const auto correction_dim = [&](double rotations) {
    return dim * std::log(original / (rotations * 2 * M_PI)) / (2 * std::log(theta));
  };
  double low = correction_dim(scaling.beta_fast), high = correction_dim(scaling.beta_slow);
  if (scaling.truncate) {
    low = std::floor(low);
    high = std::ceil(high);
  }
  low = std::max(low, 0.0);
  high = std::min(high, dim - 1);
  if (low == high) high += 0.001;  // no singular ramp
  // In fp32 as transformers computes them.
  const at::Tensor exponents = at::arange(0, head_dim, 2, at::kLong).to(at::kFloat) / dim;
  const at::Tensor position_frequencies = at::pow(theta, exponents);              // [d/2] fp32
  const at::Tensor extrapolation = 1.0 / position_frequencies;                    // [d/2]
  const at::Tensor interpolation = 1.0 / (scaling.factor * position_frequencies);  // [d/2]
  const at::Tensor ramp = ((at::arange(head_dim / 2, at::kLong).to(at::kFloat) - low) / (high - low)).clamp(0, 1);
  const at::Tensor extrapolation_weight = 1 - ramp;
  return interpolation * (1 - extrapolation_weight) + extrapolation * extrapolation_weight;
}

RotaryEmbedding::RotaryEmbedding(const ModelConfig& config) : head_dim_(config.rotary_dim()) {
  // inv_freq[i] = theta^(-2i/d), computed in fp32 as transformers does.
  const at::Tensor exponents = at::arange(0, head_dim_, 2, at::kLong).to(at::kFloat) / static_cast<double>(head_dim_);
  inv_freq_ = 1.0 / at::pow(config.rope_theta, exponents);  // [head_dim/2] fp32
  if (config.rope_scaling.type == RopeScalingType::Llama3) {
    inv_freq_ = llama3_scaled_inverse_frequencies(inv_freq_, config.rope_scaling);
  } else if (config.rope_scaling.type == RopeScalingType::Yarn) {
    inv_freq_ = yarn_inverse_frequencies(head_dim_, config.rope_theta, config.rope_scaling);
    attention_scaling_ = yarn_attention_factor(config.rope_scaling);
  }
  inv_freq_ = inv_freq_.to(at::kFloat).contiguous();
}

void RotaryEmbedding::to(c10::Device device) { inv_freq_ = inv_freq_.to(device); }

std::pair<at::Tensor, at::Tensor> RotaryEmbedding::cos_sin(int64_t start, int64_t length) const {
  const at::Tensor positions =
      at::arange(start, start + length, inv_freq_.options().dtype(at::kLong)).to(at::kFloat);  // [length]
  const at::Tensor angles = at::outer(positions, inv_freq_);                                 // [length, d/2]
  const at::Tensor table = at::cat({angles, angles}, /*dim=*/-1);                             // [length, d]
  if (attention_scaling_ == 1.0) return {table.cos(), table.sin()};
  // transformers multiplies in fp32 by the Python float: the same rounding here.
  return {table.cos() * attention_scaling_, table.sin() * attention_scaling_};
}

at::Tensor RotaryEmbedding::apply(const at::Tensor& x, int64_t start) const {
  TORCH_CHECK(x.dim() == 4 && x.size(3) == head_dim_, "rotary embedding expects [batch, heads, seq, ", head_dim_,
              "], got ", x.sizes());
  const auto [cos, sin] = cos_sin(start, x.size(2));  // [seq, d], broadcast over batch and heads
  const int64_t half = head_dim_ / 2;
  // rotate_half(x) = cat(-x[..., half:], x[..., :half])
  const at::Tensor rotated = at::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, /*dim=*/-1);
  return x * cos + rotated * sin;
}

at::Tensor RotaryEmbedding::apply_leading(const at::Tensor& x, int64_t start) const {
  if (x.size(-1) == head_dim_) return apply(x, start);
  const at::Tensor rotated = apply(x.narrow(-1, 0, head_dim_), start);
  return at::cat({rotated, x.narrow(-1, head_dim_, x.size(-1) - head_dim_)}, /*dim=*/-1);
}

at::Tensor RotaryEmbedding::apply_interleaved(const at::Tensor& x, int64_t start) const {
  TORCH_CHECK(x.dim() == 4 && x.size(3) == head_dim_, "rotary embedding expects [batch, heads, seq, ", head_dim_,
              "], got ", x.sizes());
  const auto [cos, sin] = cos_sin(start, x.size(2));  // [seq, d]: the pair angles are the first half
  const int64_t half = head_dim_ / 2;
  const at::Tensor pair_cos = cos.narrow(-1, 0, half), pair_sin = sin.narrow(-1, 0, half);  // [seq, d/2]
  const at::Tensor even = x.slice(-1, 0, head_dim_, 2), odd = x.slice(-1, 1, head_dim_, 2);   // [B, H, S, d/2]
  return at::cat({even * pair_cos - odd * pair_sin, odd * pair_cos + even * pair_sin}, /*dim=*/-1);
}

}  // namespace dcomp::model
