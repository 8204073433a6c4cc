// reference: compressed-tensors quantization/lifecycle/forward.py
#include "kernels/ct/activation_quantizer.hpp"

#include <ATen/ATen.h>

#include "kernels/quant/qparams.hpp"

namespace dcomp::ct {

std::function<at::Tensor(const at::Tensor&)> make_input_quantizer(const quant::QuantizationArgs& args,
                                                                  at::Tensor static_scale,
                                                                  at::Tensor static_zero_point,
                                                                  at::Tensor global_scale) {
  const quant::Strategy strategy = args.resolved_strategy();
  if (args.local_dynamic) {
    // NVFP4: an FP8 scale per token and group of 16 channels, times the calibrated global scale.
    if (!global_scale.defined() || global_scale.numel() != 1) {
      throw quant::QuantConfigError("input activations: locally dynamic (NVFP4) quantization needs the stored "
                                    "input_global_scale");
    }
    const at::Tensor global = global_scale.to(at::kFloat).reshape({1}).clone();
    return [args, global](const at::Tensor& x) {
      const at::Tensor flat = x.reshape({-1, x.size(-1)}).to(at::kFloat).contiguous();  // [tokens, in]
      const int64_t group_size = *args.group_size;
      if (flat.size(1) % group_size != 0) {
        throw quant::QuantConfigError("input activations: group_size " + std::to_string(group_size) +
                                      " does not divide the input's " + std::to_string(flat.size(1)) + " channels");
      }
      const at::Tensor groups = flat.reshape({flat.size(0), -1, group_size});  // [tokens, in/16, 16]
      const at::Tensor lo = std::get<0>(groups.min(2));                       // [tokens, in/16]
      const at::Tensor hi = std::get<0>(groups.max(2));
      return quant::fake_quantize(flat, quant::compute_qparams(lo, hi, args, global), args).reshape(x.sizes());
    };
  }
  const bool grouped = strategy == quant::Strategy::Group && args.dynamic && args.group_size && *args.group_size > 0;
  if (strategy != quant::Strategy::Token && strategy != quant::Strategy::Tensor && !grouped) {
    throw quant::QuantConfigError("input activations: strategy " + quant::to_string(strategy) +
                                  (strategy == quant::Strategy::Group ? " (static)" : "") +
                                  " is not supported when evaluating (token, tensor, or dynamic group)");
  }
  if (!args.dynamic && !static_scale.defined()) {
    throw quant::QuantConfigError("input activations: static quantization needs the stored input_scale");
  }
  // Each row of the flattened input is quantized like one channel of a weight.
  quant::QuantizationArgs per_row = args;
  per_row.strategy = quant::Strategy::Channel;
  per_row.group_size = std::nullopt;
  quant::QuantizationArgs per_tensor = args;
  per_tensor.strategy = quant::Strategy::Tensor;
  per_tensor.group_size = std::nullopt;
  return [args, strategy, grouped, per_row, per_tensor, static_scale, static_zero_point](const at::Tensor& x) {
    const at::Tensor flat = x.reshape({-1, x.size(-1)}).to(at::kFloat).contiguous();  // [tokens, in]
    at::Tensor result;
    if (!args.dynamic) {
      quant::QParams qparams{static_scale.to(at::kFloat).reshape({1}),
                             static_zero_point.defined() ? static_zero_point.to(at::kInt).reshape({1})
                                                         : at::zeros({1}, at::kInt)};
      result = quant::fake_quantize(flat, qparams, per_tensor);
    } else if (grouped) {
      // One scale per token and group of group_size channels (FP8_BLOCK's inputs): each
      // group of a token is quantized like one channel of a weight.
      const int64_t group_size = *args.group_size;
      if (flat.size(1) % group_size != 0) {
        throw quant::QuantConfigError("input activations: group_size " + std::to_string(group_size) +
                                      " does not divide the input's " + std::to_string(flat.size(1)) + " channels");
      }
      const at::Tensor groups = flat.reshape({-1, group_size});  // [tokens * in / group_size, group_size]
      at::Tensor lo = std::get<0>(groups.min(1, /*keepdim=*/true));
      at::Tensor hi = std::get<0>(groups.max(1, /*keepdim=*/true));
      result = quant::fake_quantize(groups, quant::compute_qparams(lo, hi, per_row), per_row).reshape(flat.sizes());
    } else if (strategy == quant::Strategy::Token) {
      // [tokens, 1] ranges, one scale per token
      at::Tensor lo = std::get<0>(flat.min(1, /*keepdim=*/true));
      at::Tensor hi = std::get<0>(flat.max(1, /*keepdim=*/true));
      result = quant::fake_quantize(flat, quant::compute_qparams(lo, hi, per_row), per_row);
    } else {
      at::Tensor lo = flat.min().reshape({1});
      at::Tensor hi = flat.max().reshape({1});
      result = quant::fake_quantize(flat, quant::compute_qparams(lo, hi, per_tensor), per_tensor);
    }
    return result.reshape(x.sizes());
  };
}

}  // namespace dcomp::ct
