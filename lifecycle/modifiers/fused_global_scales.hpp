// The global scales of NVFP4 (tensor_group) weights in one layer. vLLM runs q/k/v as one
// fused qkv_proj and gate/up as one gate_up_proj, so modules fused there share one global
// scale: 448·6 over the largest magnitude any of their observed ranges spans.
//
// reference: llm-compressor src/llmcompressor/observers/helpers.py (FUSED_LAYER_NAMES,
// fuse_weight_observers) and observers/base.py (Observer.get_global_scale).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "kernels/quant/quant_args.hpp"
#include "lifecycle/layer_work.hpp"

namespace dcomp::lifecycle {

/// For each module of `modules` whose weights `weight_args_of` gives as tensor_group: its global
/// scale (fp32 [1]). Modules of one fused group (the layer's LayerLayout::fused_groups) share theirs; every member of
/// such a group that the layer has must be tensor_group too (LifecycleError naming them
/// otherwise, as upstream refuses it). Ranges come from each module's observer (min/max or MSE).
std::map<std::string, at::Tensor> fused_weight_global_scales(
    const LayerWork& layer, const std::vector<LinearModule*>& modules,
    const std::function<const quant::QuantizationArgs*(const LinearModule&)>& weight_args_of);

}  // namespace dcomp::lifecycle
