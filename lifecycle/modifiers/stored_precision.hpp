// Weights a modifier rewrites (smoothed balance Linears and norms) as a model of another dtype
// holds them: llm-compressor rewrites the parameters in place, so on a BF16 (F16) model every
// new value is rounded to BF16 (F16). The modifiers keep fp32 tensors holding those values, so
// the quantizer and the checkpoint see the weights the model stores.
//
// reference: llm-compressor modifiers/transform/awq/base.py (_apply_smoothing: update_offload_parameter,
// weight.div_), modifiers/transform/smoothquant/base.py (_apply_smoothing: weight.mul_ / div_).
#pragma once

#include <ATen/ATen.h>

namespace dcomp::lifecycle {

/// `values` (fp32) rounded to `model_dtype` (kBFloat16 or kHalf: round to nearest even) and
/// back to fp32; for an FP32 model `values` itself.
inline at::Tensor as_stored_in(at::ScalarType model_dtype, const at::Tensor& values) {
  if (model_dtype != at::kBFloat16 && model_dtype != at::kHalf) return values;
  return values.to(model_dtype).to(at::kFloat);
}

}  // namespace dcomp::lifecycle
