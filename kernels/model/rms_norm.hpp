// Root-mean-square layer normalization over the last dimension.
//
// reference: Zhang & Sennrich, "Root Mean Square Layer Normalization" (2019);
// transformers/models/llama/modeling_llama.py (LlamaRMSNorm: fp32 variance, weight applied last).
#pragma once

#include <ATen/core/Tensor.h>

namespace dcomp::model {

/// x [..., d] fp32, weight [d] fp32 → weight * x / sqrt(mean(x²) + eps), [..., d] fp32.
at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps);

}  // namespace dcomp::model
