// reference: compressed-tensors quantization/lifecycle/forward.py
#include "kernels/ct/activation_quantizer.hpp"

#include <ATen/ATen.h>

#include "kernels/quant/qparams.hpp"

namespace dcomp::ct {

std::function<at::Tensor(const at::Tensor&)> make_input_quantizer(const quant::QuantizationArgs& args,
                                                                  at::Tensor static_scale,
                                                                  at::Tensor static_zero_point) {
  const quant::Strategy strategy = args.resolved_strategy();
  if (strategy != quant::Strategy::Token && strategy != quant::Strategy::Tensor) {
    throw quant::QuantConfigError("input activations: strategy " + quant::to_string(strategy) +
                                  " is not supported when evaluating (token or tensor only)");
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
  return [args, strategy, per_row, per_tensor, static_scale, static_zero_point](const at::Tensor& x) {
    const at::Tensor flat = x.reshape({-1, x.size(-1)}).to(at::kFloat).contiguous();  // [tokens, in]
    at::Tensor result;
    if (!args.dynamic) {
      quant::QParams qparams{static_scale.to(at::kFloat).reshape({1}),
                             static_zero_point.defined() ? static_zero_point.to(at::kInt).reshape({1})
                                                         : at::zeros({1}, at::kInt)};
      result = quant::fake_quantize(flat, qparams, per_tensor);
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
