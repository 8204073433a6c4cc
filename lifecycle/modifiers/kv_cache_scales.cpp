// reference: llm-compressor observers/min_max.py, observers/helpers.py (lerp),
// compressed-tensors quantization/utils/helpers.py (calculate_qparams).
#include "lifecycle/modifiers/kv_cache_scales.hpp"

#include <ATen/ATen.h>

#include <algorithm>

#include "kernels/quant/element_formats.hpp"
#include "kernels/quant/qparams.hpp"
#include "lifecycle/errors.hpp"

namespace dcomp::lifecycle {
namespace {

enum class RangeFold { MovingAverage, Static, Memoryless };

RangeFold fold_of(const quant::QuantizationArgs& args) {
  if (!args.observer || *args.observer == "minmax") return RangeFold::MovingAverage;
  if (*args.observer == "static_minmax") return RangeFold::Static;
  if (*args.observer == "memoryless_minmax") return RangeFold::Memoryless;
  throw quant::QuantConfigError("kv_cache_scheme.observer: \"" + *args.observer +
                                "\" is not supported for the KV cache (known: minmax, static_minmax, memoryless_minmax)");
}

double averaging_constant(const quant::QuantizationArgs& args) {
  const auto it = args.observer_kwargs.find("averaging_constant");
  if (it == args.observer_kwargs.end() || it->is_null()) return 0.01;
  if (!it->is_number() || !(it->get<double>() >= 0.0 && it->get<double>() <= 1.0)) {
    throw quant::QuantConfigError("kv_cache_scheme.observer_kwargs.averaging_constant must be a number in [0, 1], got " +
                                  it->dump());
  }
  return it->get<double>();
}

// The folded (min, max) of one state's per-sample ranges.
std::pair<float, float> fold(const std::vector<float>& mins, const std::vector<float>& maxs, RangeFold how,
                             double constant) {
  float lo = mins.front(), hi = maxs.front();
  for (size_t i = 1; i < mins.size(); ++i) {
    switch (how) {
      case RangeFold::MovingAverage:
        if (constant != 1.0) {
          // lerp(start, end, w) = start·(1 − w) + end·w, each product and the sum rounded to fp32
          const auto keep = static_cast<float>(1.0 - constant);
          const auto take = static_cast<float>(constant);
          const float lo_kept = lo * keep, lo_taken = mins[i] * take;
          const float hi_kept = hi * keep, hi_taken = maxs[i] * take;
          lo = lo_kept + lo_taken;
          hi = hi_kept + hi_taken;
        } else {
          lo = mins[i];
          hi = maxs[i];
        }
        break;
      case RangeFold::Static:
        lo = std::min(lo, mins[i]);
        hi = std::max(hi, maxs[i]);
        break;
      case RangeFold::Memoryless:
        lo = mins[i];
        hi = maxs[i];
        break;
    }
  }
  return {lo, hi};
}

}  // namespace

void validate_kv_cache_scheme(const quant::QuantizationArgs& args) {
  if (args.element_format() != quant::ElementFormat::Fp8E4m3 || !args.traits().takes_bits(args.num_bits)) {
    throw quant::QuantConfigError("kv_cache_scheme: dcomp calibrates FP8 KV caches (type float, num_bits 8), not " +
                                  std::to_string(args.num_bits) + "-bit " + quant::to_string(args.type));
  }
  if (args.resolved_strategy() != quant::Strategy::Tensor) {
    throw quant::QuantConfigError("kv_cache_scheme.strategy: only tensor (one k_scale and one v_scale per layer, "
                                  "what vLLM reads) is supported, not " + quant::to_string(args.resolved_strategy()));
  }
  if (!args.symmetric) throw quant::QuantConfigError("kv_cache_scheme.symmetric: FP8 KV caches are symmetric");
  if (args.dynamic) {
    throw quant::QuantConfigError("kv_cache_scheme.dynamic: KV-cache scales are calibrated (dynamic: false)");
  }
  const RangeFold how = fold_of(args);
  if (args.observer_kwargs.is_object()) {
    for (const auto& item : args.observer_kwargs.items()) {
      if (item.key() == "averaging_constant" && how == RangeFold::MovingAverage) continue;
      throw quant::QuantConfigError("kv_cache_scheme.observer_kwargs." + item.key() + ": the observer '" +
                                    args.observer.value_or("minmax") + "' takes no such argument (" +
                                    (how == RangeFold::MovingAverage ? "it takes: averaging_constant" : "it takes none") +
                                    ")");
    }
  }
  averaging_constant(args);
}

std::pair<at::Tensor, at::Tensor> kv_cache_scales(const KeyValueRanges& ranges, const quant::QuantizationArgs& args,
                                                  const std::string& layer_name) {
  if (ranges.empty()) {
    throw LifecycleError(layer_name + ": kv_cache_scheme needs calibration data, but no keys and values were "
                         "observed");
  }
  const RangeFold how = fold_of(args);
  const double constant = averaging_constant(args);
  const auto scale_of = [&](const std::vector<float>& mins, const std::vector<float>& maxs) {
    const auto [lo, hi] = fold(mins, maxs, how, constant);
    quant::QParams qparams = quant::compute_qparams(at::full({1}, lo, at::kFloat), at::full({1}, hi, at::kFloat), args);
    return qparams.scale.reshape({1});
  };
  return {scale_of(ranges.key_min, ranges.key_max), scale_of(ranges.value_min, ranges.value_max)};
}

}  // namespace dcomp::lifecycle
