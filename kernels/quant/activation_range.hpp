// Range accumulators for activations observed during calibration: a per-tensor range
// (static activation scales) and a per-channel range (SmoothQuant statistics), both
// mergeable across ranks.
//
// reference: llm-compressor src/llmcompressor/observers/min_max.py (static_minmax:
// running min of mins / max of maxes, synced with all_reduce MIN/MAX; minmax: moving
// average v += c·(v_new − v), synced with AVG; memoryless_minmax: the last batch) and
// modifiers/transform/smoothquant/base.py (per-channel output min/max hooks).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <ATen/core/Tensor.h>

#include "kernels/quant/qparams.hpp"
#include "kernels/quant/quant_args.hpp"

namespace dcomp::quant {

/// How successive batches combine into one range.
enum class RangeAveraging {
  Running,        // "static_minmax": min of the mins, max of the maxes
  MovingAverage,  // "minmax": v ← v + c·(v_batch − v), first batch taken as is
  LastBatch,      // "memoryless_minmax" (and unset): the range of the last batch only
};

/// The averaging an activation observer name asks for (nullopt → LastBatch, the
/// compressed-tensors default for static activations). Throws QuantConfigError for
/// other names (the MSE observers are not supported for activations).
RangeAveraging activation_range_averaging(const std::optional<std::string>& observer);

/// Per-tensor range of activations, e.g. Linear inputs x [tokens, in].
class ActivationRange {
 public:
  explicit ActivationRange(RangeAveraging averaging = RangeAveraging::Running, double averaging_constant = 0.01);

  /// Folds in the min/max over all elements of `x` (any shape, fp32; empty is ignored).
  void observe(const at::Tensor& x);
  /// Combines another rank's range: Running and LastBatch take min/max; MovingAverage
  /// takes the mean weighted by how many ranges each side already merged.
  void merge(const ActivationRange& other);

  bool empty() const { return batches_ == 0; }
  float min() const { return min_; }
  float max() const { return max_; }
  int64_t batches() const { return batches_; }

  /// Scale and zero point (shape [1]) for the per-tensor `args`; throws std::logic_error when empty.
  QParams qparams(const QuantizationArgs& args) const;

 private:
  RangeAveraging averaging_;
  float averaging_constant_;
  float min_ = 0.0f;
  float max_ = 0.0f;
  int64_t batches_ = 0;
  int64_t merged_ranges_ = 1;
};

/// Per-channel running min/max of x [tokens, channels] (static_minmax semantics).
class ChannelRange {
 public:
  explicit ChannelRange(int64_t channels);

  /// x [..., channels] fp32: folds in the column-wise min and max.
  void observe(const at::Tensor& x);
  /// Element-wise min/max with another rank's range (all_reduce MIN/MAX).
  void merge(const ChannelRange& other);

  bool empty() const { return batches_ == 0; }
  int64_t channels() const { return channels_; }
  const at::Tensor& min() const { return min_; }  // fp32 [channels]
  const at::Tensor& max() const { return max_; }  // fp32 [channels]

 private:
  int64_t channels_;
  at::Tensor min_;
  at::Tensor max_;
  int64_t batches_ = 0;
};

}  // namespace dcomp::quant
