// The observers a recipe may name and the observer_kwargs each takes, checked when the
// recipe is initialized (before any calibration) rather than when the first layer is
// observed. The names are those dcomp implements; keys other than an observer's own are
// refused, since they would change nothing.
// reference: llm-compressor src/llmcompressor/observers/{base,min_max,mse}.py (the registry
// names and the observer_kwargs each observer reads: averaging_constant for the moving
// averages; maxshrink, patience, grid, norm for the MSE search).
#pragma once

#include "kernels/quant/quant_args.hpp"

namespace dcomp::quant {

/// What an observer watches: weights (observe_weight) or activations (calibrated ranges).
enum class ObservedTensor { Weights, Activations };

/// Throws QuantConfigError naming the field ("observer", "observer_kwargs.grid") when
/// args.observer is not an observer dcomp implements for `tensor`, or args.observer_kwargs
/// holds a key that observer does not read or a value outside its range. Dynamic
/// arguments (no observer) accept no observer_kwargs.
void validate_observer(const QuantizationArgs& args, ObservedTensor tensor);

}  // namespace dcomp::quant
