// reference: arXiv 2211.10438 eq. 4; llm-compressor modifiers/transform/smoothquant/base.py.
#include "kernels/quant/smoothquant.hpp"

#include <stdexcept>
#include <string>

#include <ATen/ATen.h>

namespace dcomp::quant {

namespace {

constexpr double kMinimumSmoothingScale = 1e-5;

at::Tensor activation_range(const at::Tensor& act_min, const at::Tensor& act_max, const char* what) {
  if (!act_min.defined() || !act_max.defined() || act_min.dim() != 1 || act_min.sizes() != act_max.sizes()) {
    throw std::invalid_argument(std::string(what) + ": act_min and act_max must be 1-D of one length [in]");
  }
  return act_max.to(at::kFloat) - act_min.to(at::kFloat);  // [in]
}

}  // namespace

at::Tensor smoothquant_scales(const at::Tensor& act_min, const at::Tensor& act_max,
                              const std::vector<at::Tensor>& balance_weights, double alpha) {
  const at::Tensor range = activation_range(act_min, act_max, "smoothquant_scales");
  if (!(alpha >= 0.0 && alpha <= 1.0)) {
    throw std::invalid_argument("smoothquant_scales: smoothing strength must be in [0, 1], got " + std::to_string(alpha));
  }
  if (balance_weights.empty()) throw std::invalid_argument("smoothquant_scales: no balance layer");
  const int64_t in = range.size(0);
  at::Tensor weight_scale;  // [in]
  for (size_t k = 0; k < balance_weights.size(); ++k) {
    const at::Tensor& w = balance_weights[k];
    if (!w.defined() || w.dim() != 2 || w.size(1) != in) {
      throw std::invalid_argument("smoothquant_scales: balance weight " + std::to_string(k) + " must be [out, " +
                                  std::to_string(in) + "]");
    }
    const at::Tensor column_max = std::get<0>(w.to(at::kFloat).abs().max(0));  // [in]
    weight_scale = weight_scale.defined() ? at::maximum(weight_scale, column_max) : column_max;
  }
  weight_scale = weight_scale * 2.0;
  at::Tensor scales = range.pow(alpha) / weight_scale.pow(1.0 - alpha);
  scales = at::where(weight_scale.gt(0.0), scales, range);
  return scales.clamp_min(kMinimumSmoothingScale);
}

at::Tensor log_equalization_scales(const at::Tensor& act_min, const at::Tensor& act_max) {
  const at::Tensor range = activation_range(act_min, act_max, "log_equalization_scales");
  return (range / at::log2(range + 2.0)).clamp_min(kMinimumSmoothingScale);
}

}  // namespace dcomp::quant
