#include "lifecycle/modifiers/weight_quantization.hpp"

#include <ATen/ATen.h>

#include <algorithm>

#include "kernels/quant/observers.hpp"
#include "kernels/quant/element_formats.hpp"
#include "kernels/quant/qparams.hpp"
#include "lifecycle/errors.hpp"

namespace dcomp::lifecycle {

bool needs_static_input_scale(const quant::QuantizationScheme& scheme) {
  return scheme.input_activations && (!scheme.input_activations->dynamic || scheme.input_activations->local_dynamic);
}

quant::CompressedWeight quantize_round_to_nearest(const at::Tensor& weight, const quant::QuantizationArgs& args,
                                                  const at::Tensor& global_scale) {
  quant::CompressedWeight out;
  out.weight_args = args;
  quant::QParams qparams = quant::observe_weight(weight, args, {}, global_scale);
  out.codes = quant::quantize_codes(weight, qparams, args);
  out.scale = qparams.scale;
  out.global_scale = qparams.global_scale;
  if (!args.symmetric) out.zero_point = qparams.zero_point;
  if (args.actorder == quant::ActOrder::Group && args.resolved_strategy() == quant::Strategy::Group) {
    // Rounding visits no columns out of order: each column keeps its own group, c / group_size.
    out.g_idx = at::arange(weight.size(1), at::kLong).div(*args.group_size, "floor").to(at::kInt);  // [in] int32
  }
  out.effective_weight = quant::dequantize_codes(out.codes, qparams, args);
  return out;
}

void attach_input_quantization(quant::CompressedWeight& weight, const quant::QuantizationScheme& scheme,
                               const InputStatistics* input, const std::string& module_name) {
  if (!scheme.input_activations) return;
  const auto& args = *scheme.input_activations;
  weight.input_args = args;
  if (args.local_dynamic) {
    // NVFP4 activations: group scales per call, the global scale from the largest magnitude
    // over every calibration token (static_minmax).
    if (!input || !input->channel_min.defined() || input->num_tokens == 0) {
      throw LifecycleError(module_name + ": NVFP4 input activations need calibration data for their global "
                           "scale, but no input statistics were collected");
    }
    weight.input_global_scale = quant::global_scale_for_absmax(
        quant::range_absmax({input->channel_min, input->channel_max}), args.model_dtype);
    return;
  }
  if (args.dynamic) return;
  if (args.resolved_strategy() != quant::Strategy::Tensor) {
    throw LifecycleError(module_name + ": static input activations support the tensor strategy only, not " +
                         quant::to_string(args.resolved_strategy()));
  }
  if (!input || !input->channel_min.defined() || input->num_tokens == 0) {
    throw LifecycleError(module_name + ": static input activation quantization needs calibration data, "
                         "but no input statistics were collected");
  }
  // static_minmax over every calibration token: the min of mins and the max of maxes.
  at::Tensor min_value = input->channel_min.min().reshape({1});
  at::Tensor max_value = input->channel_max.max().reshape({1});
  quant::QParams qparams = quant::compute_qparams(min_value, max_value, args);
  weight.input_scale = qparams.scale.reshape({1});
  if (!args.symmetric) weight.input_zero_point = qparams.zero_point.reshape({1}).to(at::kInt);
}

void apply_sparsity_mask(quant::CompressedWeight& weight) {
  if (!weight.sparsity_mask.defined() || !weight.codes.defined()) return;
  at::Tensor zero_code;
  if (weight.weight_args && weight.weight_args->traits().is_float) {
    zero_code = at::zeros_like(weight.codes);  // +0 is the bit pattern 0 (E4M3, E2M1)
  } else if (weight.zero_point.defined()) {
    const auto& args = *weight.weight_args;
    // Each column's group zero point, as an int8 code.
    at::Tensor zp = weight.zero_point;
    if (args.resolved_strategy() == quant::Strategy::Group) {
      const int64_t group_size = *args.group_size;
      at::Tensor column_group = weight.g_idx.defined()
                                    ? weight.g_idx.to(at::kLong)
                                    : at::arange(weight.codes.size(1), at::kLong).div(group_size, "floor");
      zp = zp.index_select(1, column_group);
    }
    zero_code = zp.expand_as(weight.codes).to(weight.codes.scalar_type());
  } else {
    zero_code = at::zeros_like(weight.codes);
  }
  weight.codes = at::where(weight.sparsity_mask, weight.codes, zero_code);
  weight.effective_weight = at::where(weight.sparsity_mask, weight.effective_weight,
                                      at::zeros_like(weight.effective_weight));
}

}  // namespace dcomp::lifecycle
