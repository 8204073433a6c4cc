// reference: llm-compressor modifiers/transform/awq/base.py (_get_grid_search_params,
// _compute_best_scale, _compute_layer_means); arXiv 2306.00978 §3.2.
#include "lifecycle/modifiers/awq_scales.hpp"

#include <ATen/ATen.h>

#include <stdexcept>

namespace dcomp::lifecycle {

std::vector<AwqCandidate> awq_grid(DuoScaling duo, int n_grid) {
  std::vector<AwqCandidate> grid;
  switch (duo) {
    case DuoScaling::Both: {
      const int half = n_grid / 2;
      for (int i = 0; i < half; ++i) {
        const double ratio = static_cast<double>(i) / static_cast<double>(half - 1);
        grid.push_back({ratio, false});
        grid.push_back({ratio, true});
      }
      break;
    }
    case DuoScaling::Off:
      for (int i = 0; i < n_grid; ++i) grid.push_back({static_cast<double>(i) / static_cast<double>(n_grid - 1), false});
      break;
    case DuoScaling::On:
      grid.push_back({0.0, false});  // identity scaling is always tried
      for (int i = 0; i < n_grid - 1; ++i) {
        grid.push_back({static_cast<double>(i) / static_cast<double>(n_grid - 2), true});
      }
      break;
  }
  return grid;
}

at::Tensor awq_weight_means(const std::vector<at::Tensor>& weights, const std::vector<quant::QuantizationArgs>& args) {
  if (weights.empty() || weights.size() != args.size()) {
    throw std::invalid_argument("awq_weight_means: one weight args per weight, at least one weight");
  }
  at::Tensor total;  // [in] fp64
  int64_t rows = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    const at::Tensor& weight = weights[i];  // [out, in] fp32
    const int64_t out = weight.size(0), in = weight.size(1);
    at::Tensor magnitude;                   // [out, in] fp32, normalized per chunk
    switch (args[i].resolved_strategy()) {
      case quant::Strategy::Tensor: {
        const at::Tensor flat = weight.reshape({1, -1}).abs();
        magnitude = (flat / (flat.amax(1, true) + 1e-6)).reshape({out, in});
        break;
      }
      case quant::Strategy::Channel: {
        const at::Tensor rows_abs = weight.abs();
        magnitude = rows_abs / (rows_abs.amax(1, true) + 1e-6);
        break;
      }
      case quant::Strategy::Group:
      case quant::Strategy::TensorGroup: {
        const at::Tensor chunks = weight.reshape({-1, *args[i].group_size}).abs();
        magnitude = (chunks / (chunks.amax(1, true) + 1e-6)).reshape({out, in});
        break;
      }
      case quant::Strategy::Block: {
        const auto& block = *args[i].block_structure;
        const at::Tensor tiles = weight.unflatten(0, {-1, block[0]}).unflatten(-1, {-1, block[1]}).transpose(1, 2);
        const auto tile_shape = tiles.sizes().vec();
        const at::Tensor chunks = tiles.reshape({-1, block[0] * block[1]}).abs();
        magnitude = (chunks / (chunks.amax(1, true) + 1e-6)).view(tile_shape).transpose(1, 2).reshape({out, in});
        break;
      }
      case quant::Strategy::Token:
        throw std::invalid_argument("awq_weight_means: weights cannot use the token strategy");
    }
    const at::Tensor sums = magnitude.sum(0, /*keepdim=*/false, at::kDouble);  // [in] fp64
    total = total.defined() ? total + sums : sums;
    rows += out;
  }
  return total / static_cast<double>(rows);
}

at::Tensor awq_candidate_scales(const at::Tensor& x_mean, const at::Tensor& w_mean, const AwqCandidate& candidate) {
  at::Tensor scales;
  if (candidate.duo) {
    scales = (x_mean.pow(candidate.ratio) / (w_mean.pow(1.0 - candidate.ratio) + 1e-4)).clamp_min(1e-4);
  } else {
    scales = x_mean.pow(candidate.ratio).clamp_min(1e-4).view({-1});
  }
  scales = scales / (scales.max() * scales.min()).sqrt();
  scales.masked_fill_(scales.isinf(), 1.0);
  scales.masked_fill_(scales.isnan(), 1.0);
  return scales;
}

}  // namespace dcomp::lifecycle
