// The random weights of dcomp's synthetic models, drawn in a fixed order from one seeded
// generator (so a model's values depend only on its options and seed, never on how its
// Linears are stored).
#pragma once

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace dcomp::model {

class SyntheticWeights {
 public:
  SyntheticWeights(uint64_t seed, bool outlier_channels)
      : generator_(at::make_generator<at::CPUGeneratorImpl>(seed)), outlier_channels_(outlier_channels) {}

  /// fp32 [out, in] ~ N(0, 1/in): activations stay of order one through the layers.
  at::Tensor linear(int64_t out, int64_t in) {
    return at::randn({out, in}, generator_, at::kFloat) / std::sqrt(static_cast<double>(in));
  }
  /// fp32 [size] ~ 1 + N(0, 0.01), a few leading channels ×8 (trained LLMs' activation
  /// outliers, what SmoothQuant and GPTQ are for) unless outlier channels are off.
  at::Tensor norm(int64_t size) {
    at::Tensor weight = at::ones({size}, at::kFloat) + 0.1 * at::randn({size}, generator_, at::kFloat);
    if (outlier_channels_) weight.slice(0, 0, std::max<int64_t>(1, size / 64)).mul_(8.0);
    return weight;
  }
  /// fp32 of `sizes` ~ N(0, 1).
  at::Tensor normal(at::IntArrayRef sizes) { return at::randn(sizes, generator_, at::kFloat); }

 private:
  at::Generator generator_;
  bool outlier_channels_;
};

}  // namespace dcomp::model
