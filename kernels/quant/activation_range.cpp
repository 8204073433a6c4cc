// reference: llm-compressor src/llmcompressor/observers/min_max.py and
// modifiers/transform/smoothquant/base.py.
#include "kernels/quant/activation_range.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include <ATen/ATen.h>

namespace dcomp::quant {

RangeAveraging activation_range_averaging(const std::optional<std::string>& observer) {
  if (!observer || *observer == "memoryless_minmax" || *observer == "memoryless") return RangeAveraging::LastBatch;
  if (*observer == "static_minmax") return RangeAveraging::Running;
  if (*observer == "minmax") return RangeAveraging::MovingAverage;
  throw QuantConfigError("observer '" + *observer +
                         "' is not supported for activations (known: static_minmax, minmax, memoryless_minmax)");
}

ActivationRange::ActivationRange(RangeAveraging averaging, double averaging_constant)
    : averaging_(averaging), averaging_constant_(static_cast<float>(averaging_constant)) {
  if (!(averaging_constant > 0.0 && averaging_constant <= 1.0)) {
    throw std::invalid_argument("ActivationRange: averaging_constant must be in (0, 1], got " +
                                std::to_string(averaging_constant));
  }
}

void ActivationRange::observe(const at::Tensor& x) {
  if (!x.defined() || x.numel() == 0) return;
  const at::Tensor values = x.to(at::kFloat);
  const float batch_min = values.min().item<float>();
  const float batch_max = values.max().item<float>();
  if (batches_ == 0 || averaging_ == RangeAveraging::LastBatch) {
    min_ = batch_min;
    max_ = batch_max;
  } else if (averaging_ == RangeAveraging::Running) {
    min_ = std::min(min_, batch_min);
    max_ = std::max(max_, batch_max);
  } else {
    min_ += averaging_constant_ * (batch_min - min_);
    max_ += averaging_constant_ * (batch_max - max_);
  }
  ++batches_;
}

void ActivationRange::merge(const ActivationRange& other) {
  if (other.averaging_ != averaging_) {
    throw std::invalid_argument("ActivationRange::merge: the two ranges average batches differently");
  }
  if (other.empty()) return;
  if (empty()) {
    *this = other;
    return;
  }
  if (averaging_ == RangeAveraging::MovingAverage) {
    const auto total = static_cast<double>(merged_ranges_ + other.merged_ranges_);
    min_ = static_cast<float>((static_cast<double>(min_) * merged_ranges_ + static_cast<double>(other.min_) * other.merged_ranges_) / total);
    max_ = static_cast<float>((static_cast<double>(max_) * merged_ranges_ + static_cast<double>(other.max_) * other.merged_ranges_) / total);
  } else {
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }
  merged_ranges_ += other.merged_ranges_;
  batches_ += other.batches_;
}

QParams ActivationRange::qparams(const QuantizationArgs& args) const {
  if (empty()) throw std::logic_error("ActivationRange::qparams: no activation was observed");
  return compute_qparams(at::full({1}, min_, at::kFloat), at::full({1}, max_, at::kFloat), args);
}

ChannelRange::ChannelRange(int64_t channels)
    : channels_(channels),
      min_(at::full({channels}, std::numeric_limits<float>::infinity(), at::kFloat)),
      max_(at::full({channels}, -std::numeric_limits<float>::infinity(), at::kFloat)) {
  if (channels <= 0) throw std::invalid_argument("ChannelRange: channels must be positive");
}

void ChannelRange::observe(const at::Tensor& x) {
  if (!x.defined() || x.dim() < 1 || x.size(-1) != channels_) {
    throw std::invalid_argument("ChannelRange::observe: expected x [..., " + std::to_string(channels_) + "]");
  }
  if (x.numel() == 0) return;
  const at::Tensor flat = x.reshape({-1, channels_}).to(at::kFloat);
  min_ = at::minimum(min_, std::get<0>(flat.min(0)));
  max_ = at::maximum(max_, std::get<0>(flat.max(0)));
  ++batches_;
}

void ChannelRange::merge(const ChannelRange& other) {
  if (other.channels_ != channels_) {
    throw std::invalid_argument("ChannelRange::merge: " + std::to_string(other.channels_) + " channels vs " +
                                std::to_string(channels_));
  }
  min_ = at::minimum(min_, other.min_);
  max_ = at::maximum(max_, other.max_);
  batches_ += other.batches_;
}

}  // namespace dcomp::quant
