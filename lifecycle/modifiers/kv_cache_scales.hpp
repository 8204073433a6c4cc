// The per-tensor FP8 scales of a layer's KV cache (k_scale, v_scale, where vLLM reads them)
// from the ranges its keys and values took on each calibration sample.
//
// The kv_cache_scheme's observer folds the per-sample ranges in sample order:
//   unset / "minmax"     llm-compressor's default: a moving average; the first sample sets
//                        min and max, each later one moves them by averaging_constant (0.01)
//                        toward its own, as start·(1 − c) + sample·c in fp32;
//   "static_minmax"      the min and max over every sample;
//   "memoryless_minmax"  the last sample's.
// The scale is then that of symmetric FP8: max(|min|, |max|) / 448.
//
// reference: llm-compressor src/llmcompressor/observers/min_max.py (MinMaxObserver,
// StaticMinMaxObserver, MemorylessMinMaxObserver, helpers.lerp) and
// modifiers/quantization/calibration.py (initialize_observer: "minmax" for unset activation
// observers); compressed-tensors quantization/utils/helpers.py (calculate_qparams).
#pragma once

#include <utility>

#include <ATen/core/Tensor.h>

#include "kernels/quant/quant_args.hpp"
#include "lifecycle/layer_work.hpp"

namespace dcomp::lifecycle {

/// Checks that `args` is a KV-cache scheme dcomp calibrates (FP8, strategy tensor, symmetric,
/// static, a min/max observer); throws QuantConfigError naming the field otherwise.
void validate_kv_cache_scheme(const quant::QuantizationArgs& args);

/// (k_scale, v_scale), each fp32 [1]. Throws LifecycleError when `ranges` is empty.
std::pair<at::Tensor, at::Tensor> kv_cache_scales(const KeyValueRanges& ranges, const quant::QuantizationArgs& args,
                                                  const std::string& layer_name);

}  // namespace dcomp::lifecycle
