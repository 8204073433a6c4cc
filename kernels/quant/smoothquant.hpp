// SmoothQuant smoothing scales: per input channel j, s_j moves quantization difficulty
// from activations to weights (the balance layers' columns are multiplied by s_j, the
// smooth layer's output divided by it).
//
// reference: Xiao et al., "SmoothQuant" (arXiv 2211.10438), eq. 4; llm-compressor
// src/llmcompressor/modifiers/transform/smoothquant/base.py
// (_calculate_smoothing_scales, _apply_smoothing: MINIMUM_SMOOTHING_SCALE = 1e-5).
#pragma once

#include <vector>

#include <ATen/core/Tensor.h>

namespace dcomp::quant {

/// act_min / act_max: fp32 [in], per-channel min and max of the smooth layer's output
/// over calibration; balance_weights: each fp32 [out_k, in]. With range_j = max_j − min_j
/// and w_j = 2 · max over balance layers of max_rows |W[:, j]|:
///   s_j = range_j^α / w_j^(1−α)   (s_j = range_j where w_j == 0),   then s_j = max(s_j, 1e-5).
/// Returns fp32 [in]. Throws std::invalid_argument for mismatched shapes, no balance
/// layer, or α outside [0, 1].
at::Tensor smoothquant_scales(const at::Tensor& act_min, const at::Tensor& act_max,
                              const std::vector<at::Tensor>& balance_weights, double alpha);

/// The log-equalization variant: s_j = range_j / log2(2 + range_j), then max(s_j, 1e-5).
at::Tensor log_equalization_scales(const at::Tensor& act_min, const at::Tensor& act_max);

}  // namespace dcomp::quant
