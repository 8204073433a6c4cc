// The arithmetic of AWQ's scale search for one mapping (a smooth layer and the balance
// Linears reading its output): the candidate grid, the per-channel scales of one candidate,
// the balance weights' normalized magnitudes, and the quantize-then-unscale of a balance
// weight, in the dtypes llm-compressor uses (activation means fp32, weight means fp64).
//
// reference: Lin et al., "AWQ: Activation-aware Weight Quantization for LLM Compression and
// Acceleration" (arXiv 2306.00978) §3.2, eq. 5 (s = s_X^α, grid search over α); llm-compressor
// src/llmcompressor/modifiers/transform/awq/base.py (_get_grid_search_params,
// _compute_best_scale, _compute_layer_means).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "kernels/quant/quant_args.hpp"

namespace dcomp::lifecycle {

/// duo_scaling: true (activations and weights), false (activations only), or "both".
enum class DuoScaling { On, Off, Both };

/// One grid point: the exponent α and whether the weights' magnitudes take part.
struct AwqCandidate {
  double ratio = 0.0;
  bool duo = false;
};

/// The candidates in upstream's order: On → (0, off) then α = i/(n−2) with duo for i < n−1;
/// Off → α = i/(n−1); Both → α = i/(m−1) for m = n/2, each off then on.
std::vector<AwqCandidate> awq_grid(DuoScaling duo, int n_grid);

/// mean over the balance weights' rows of |W| / (max |W| of its quantization chunk + 1e-6):
/// fp64 [in]. A chunk is the whole tensor (tensor), a row (channel), group_size columns of a
/// row (group, tensor_group) or one block. `args` per weight: that Linear's weight args.
at::Tensor awq_weight_means(const std::vector<at::Tensor>& weights /* [out, in] fp32 each */,
                            const std::vector<quant::QuantizationArgs>& args);

/// The scales of one candidate: x_mean^α / (w_mean^(1−α) + 1e-4) clamped to ≥ 1e-4 (duo), or
/// x_mean^α clamped (without), divided by sqrt(max · min); inf and NaN become 1. x_mean is fp32
/// [in]; the result is fp64 with duo (w_mean fp64 promotes it), fp32 without.
at::Tensor awq_candidate_scales(const at::Tensor& x_mean, const at::Tensor& w_mean, const AwqCandidate& candidate);

}  // namespace dcomp::lifecycle
