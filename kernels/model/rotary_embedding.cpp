// reference: transformers/modeling_rope_utils.py (_compute_default_rope_parameters,
// _compute_llama3_parameters) and transformers/models/llama/modeling_llama.py
// (LlamaRotaryEmbedding.forward, rotate_half, apply_rotary_pos_emb).
#include "kernels/model/rotary_embedding.hpp"

#include <ATen/ATen.h>

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

RotaryEmbedding::RotaryEmbedding(const ModelConfig& config) : head_dim_(config.head_dim) {
  // inv_freq[i] = theta^(-2i/d), computed in fp32 as transformers does.
  const at::Tensor exponents = at::arange(0, head_dim_, 2, at::kLong).to(at::kFloat) / static_cast<double>(head_dim_);
  inv_freq_ = 1.0 / at::pow(config.rope_theta, exponents);  // [head_dim/2] fp32
  if (config.rope_scaling.type == RopeScalingType::Llama3) {
    inv_freq_ = llama3_scaled_inverse_frequencies(inv_freq_, config.rope_scaling);
  }
  inv_freq_ = inv_freq_.to(at::kFloat).contiguous();
}

void RotaryEmbedding::to(c10::Device device) { inv_freq_ = inv_freq_.to(device); }

std::pair<at::Tensor, at::Tensor> RotaryEmbedding::cos_sin(int64_t start, int64_t length) const {
  const at::Tensor positions =
      at::arange(start, start + length, inv_freq_.options().dtype(at::kLong)).to(at::kFloat);  // [length]
  const at::Tensor angles = at::outer(positions, inv_freq_);                                 // [length, d/2]
  const at::Tensor table = at::cat({angles, angles}, /*dim=*/-1);                             // [length, d]
  return {table.cos(), table.sin()};
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

}  // namespace dcomp::model
