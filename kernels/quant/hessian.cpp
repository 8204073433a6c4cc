// reference: llm-compressor src/llmcompressor/modifiers/gptq/gptq_quantize.py (accumulate_hessian).
#include "kernels/quant/hessian.hpp"

#include <stdexcept>
#include <string>

#include <ATen/ATen.h>

namespace dcomp::quant {

HessianAccumulator::HessianAccumulator(int64_t in_features)
    : in_features_(in_features) {
  if (in_features <= 0) {
    throw std::invalid_argument("HessianAccumulator: in_features must be positive, got " + std::to_string(in_features));
  }
  sum_ = at::zeros({in_features, in_features}, at::kFloat);
}

void HessianAccumulator::add(const at::Tensor& x, int64_t num_sequences) {
  if (!x.defined() || x.dim() < 1 || x.size(-1) != in_features_ || !at::isFloatingType(x.scalar_type())) {
    throw std::invalid_argument("HessianAccumulator::add: expected float activations [tokens, " +
                                std::to_string(in_features_) + "]");
  }
  if (num_sequences < 0) {
    throw std::invalid_argument("HessianAccumulator::add: num_sequences must be ≥ 0, got " + std::to_string(num_sequences));
  }
  const at::Tensor tokens = x.reshape({-1, in_features_}).to(at::kFloat).contiguous();  // [tokens, in]
  if (tokens.size(0) > 0) sum_.addmm_(tokens.t(), tokens, /*beta=*/1, /*alpha=*/2);
  num_samples_ += num_sequences;
}

void HessianAccumulator::set(at::Tensor sum, int64_t samples) {
  if (!sum.defined() || sum.dim() != 2 || sum.size(0) != in_features_ || sum.size(1) != in_features_ ||
      sum.scalar_type() != at::kFloat) {
    throw std::invalid_argument("HessianAccumulator::set: expected an fp32 [" + std::to_string(in_features_) + ", " +
                                std::to_string(in_features_) + "] sum");
  }
  if (samples < 0) throw std::invalid_argument("HessianAccumulator::set: negative sample count");
  sum_ = std::move(sum);
  num_samples_ = samples;
}

at::Tensor normalized(const at::Tensor& sum, int64_t num_samples) {
  if (num_samples <= 0) {
    throw std::invalid_argument("normalized Hessian: the sample count is " + std::to_string(num_samples) +
                                " (no calibration data reached this layer)");
  }
  return sum.div(static_cast<double>(num_samples));
}

}  // namespace dcomp::quant
