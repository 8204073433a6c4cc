// The input-activation quantization a compressed checkpoint declares, as a
// function that fake-quantizes a Linear's input (what vLLM's W8A8 / FP8 kernels
// and transformers' compressed-tensors forward do), so that evaluating a
// checkpoint measures the deployed numerics, not weight-only error.
// reference: compressed-tensors quantization/lifecycle/forward.py (forward_quantize
// for input activations: dynamic token / tensor / group, locally dynamic tensor_group, static tensor)
#pragma once

#include <functional>

#include <ATen/core/Tensor.h>

#include "kernels/quant/quant_args.hpp"

namespace dcomp::ct {

/// x [..., in] fp32 → quantized-then-dequantized x. Dynamic args compute the
/// scale from x itself (per token for the token strategy, per call for tensor);
/// static args use `static_scale` ([1] fp32) and `static_zero_point` (int, may be
/// undefined when symmetric). Locally dynamic (NVFP4) args compute FP8 group scales per
/// token from x times `global_scale` ([1] fp32, the stored input_global_scale); MX args
/// (dynamic group of 32, E8M0) power-of-two scales per token and group. Throws
/// quant::QuantConfigError for a strategy that inputs cannot use.
std::function<at::Tensor(const at::Tensor&)> make_input_quantizer(const quant::QuantizationArgs& args,
                                                                  at::Tensor static_scale = {},
                                                                  at::Tensor static_zero_point = {},
                                                                  at::Tensor global_scale = {});

}  // namespace dcomp::ct
