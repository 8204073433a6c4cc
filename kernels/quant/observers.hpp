// Weight observers: the per-qparam range (min, max) of an [out, in] weight, either the
// plain min/max or the MSE grid search that shrinks the range to minimise the
// quantization error, and the scales / zero points that follow from it.
//
// Weights are always observed memorylessly: "minmax", "static_minmax" and
// "memoryless_minmax" all mean the min/max of the given weight; "mse" and
// "memoryless_mse" mean the grid search on it.
//
// reference: llm-compressor src/llmcompressor/observers/{min_max,mse,grid_search}.py
// (eager _grid_search_observer) and modifiers/quantization/calibration.py
// (initialize_observer: weight observers are memoryless).
#pragma once

#include <cstdint>

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include "kernels/quant/qparams.hpp"
#include "kernels/quant/quant_args.hpp"

namespace dcomp::quant {

enum class WeightObserverKind { MinMax, Mse };

/// The weight observer named by args.observer (unset → MinMax). Throws
/// QuantConfigError for a name that is not a min/max or MSE observer.
WeightObserverKind weight_observer_kind(const QuantizationArgs& args);

/// Parameters of the MSE grid search. Candidate i (0 ≤ i < int(maxshrink·grid)) is the
/// range [p·min, p·max] with p = 1 − i/grid; the error is Σ|fake_quant(x) − x|^norm per
/// qparam; the search stops after `patience` candidates in a row that improve no qparam.
struct MseSearchOptions {
  double maxshrink = 0.20;
  double grid = 100.0;
  double norm = 2.4;
  int64_t patience = 5;
  double expand = 1.0;  // the observed range is first multiplied by this

  /// Defaults overridden by the keys present in `observer_kwargs` (maxshrink, grid, norm,
  /// patience, expand; other keys are ignored as upstream does). Throws
  /// QuantConfigError naming the key for a non-numeric or out-of-range value.
  static MseSearchOptions from_kwargs(const nlohmann::json& observer_kwargs);
};

/// Observed range per qparam entry.
struct WeightRange {
  at::Tensor min;  // fp32, the qparam shape of the strategy (see QParams)
  at::Tensor max;  // fp32, same shape
};

/// Min and max of each qparam group of w [out, in] fp32 (g_idx: int [in], Group only).
WeightRange weight_min_max(const at::Tensor& w, const QuantizationArgs& args, const at::Tensor& g_idx = {});

/// The range chosen by the MSE grid search (see MseSearchOptions).
WeightRange mse_weight_range(const at::Tensor& w, const QuantizationArgs& args, const MseSearchOptions& options,
                             const at::Tensor& g_idx = {});

/// Scales and zero points of w [out, in] fp32 from the observer args.observer names,
/// with options from args.observer_kwargs. TensorGroup (NVFP4) needs `global_scale`
/// (fp32 [1], see global_scale_for_absmax and range_absmax; fused modules share one); the MSE search for it
/// compares candidates with unrounded scales and no global scale, as upstream does.
QParams observe_weight(const at::Tensor& w, const QuantizationArgs& args, const at::Tensor& g_idx = {},
                       const at::Tensor& global_scale = {});

/// The range the observer args.observer names picks for each qparam entry.
WeightRange observe_weight_range(const at::Tensor& w, const QuantizationArgs& args, const at::Tensor& g_idx = {});

/// The largest magnitude an observed range spans: max over entries of max(−min, max). The
/// global scale of TensorGroup weights is fp4_global_scale of this, taken over every module
/// that shares it (llm-compressor's observers: the observed statistics, after any MSE search).
float range_absmax(const WeightRange& range);

}  // namespace dcomp::quant
