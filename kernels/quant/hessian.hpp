// The GPTQ / SparseGPT Hessian of one Linear: H = Σ 2·xᵀx over every calibration
// token x of its input, kept as a sum with the number of sequences it covers, and
// divided by that count only when the layer is compressed.
//
// reference: llm-compressor src/llmcompressor/modifiers/gptq/gptq_quantize.py
// (make_empty_hessian, accumulate_hessian: H += (√2·X)(√2·X)ᵀ, num_samples += batch
// sequences; H / num_samples at compress time, LLMC ≥ 0.10.0).
#pragma once

#include <cstdint>

#include <ATen/core/Tensor.h>

namespace dcomp::quant {

class HessianAccumulator {
 public:
  /// A zero [in_features, in_features] fp32 sum.
  explicit HessianAccumulator(int64_t in_features);

  /// x [tokens, in_features] (or [..., in_features], flattened), any float dtype, computed
  /// in fp32: sum += 2·xᵀx with one GEMM (addmm_, beta 1, alpha 2), which costs
  /// 2·tokens·in² FLOPs (the full product, not only one triangle). `num_sequences`
  /// (≥ 0) is added to the sample count: upstream counts sequences, not tokens.
  void add(const at::Tensor& x, int64_t num_sequences);

  /// The running sum [in, in] fp32 (e.g. to all-reduce it in place).
  at::Tensor& sum() { return sum_; }
  const at::Tensor& sum() const { return sum_; }
  int64_t num_samples() const { return num_samples_; }
  int64_t in_features() const { return in_features_; }

  /// Replaces the state, e.g. with a sum reduced across ranks: sum [in, in] fp32.
  void set(at::Tensor sum, int64_t samples);

 private:
  int64_t in_features_;
  at::Tensor sum_;
  int64_t num_samples_ = 0;
};

/// sum [in, in] / num_samples (the Hessian handed to GPTQ / SparseGPT); a new tensor.
/// Throws std::invalid_argument when num_samples ≤ 0 (nothing was calibrated).
at::Tensor normalized(const at::Tensor& sum, int64_t num_samples);

}  // namespace dcomp::quant
