// The floating dtypes a model's tensors are stored in (FP32, BF16, FP16), and an fp32 value
// rounded to one of them the way torch rounds the result of each operation on tensors of that
// dtype: the operation is evaluated in fp32, its result rounded to nearest, ties to even.
// Quantization follows it so that scales, zero points and codes come out as compressed-tensors
// computes them on a model of that dtype (see quant_grid.hpp).
//
// reference: c10/util/BFloat16.h (round_to_nearest_even), c10/util/Half.h (fp16 from fp32),
// torch.finfo (eps, tiny).
#pragma once

#include <cfloat>

#include <c10/core/ScalarType.h>
#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>

namespace dcomp::quant {

enum class FloatDType { F32, BF16, F16 };

/// `value` rounded to `dtype` (and back to fp32): the identity for F32; beyond the dtype's range
/// it becomes ±inf, as torch's conversion does.
inline float round_to(FloatDType dtype, float value) {
  switch (dtype) {
    case FloatDType::BF16: return static_cast<float>(c10::BFloat16(value));
    case FloatDType::F16: return static_cast<float>(c10::Half(value));
    case FloatDType::F32: break;
  }
  return value;
}

/// torch.finfo(dtype).eps: the gap between 1 and the next value (2^-23, 2^-7, 2^-10).
inline float epsilon_of(FloatDType dtype) {
  switch (dtype) {
    case FloatDType::BF16: return 0.0078125f;
    case FloatDType::F16: return 0.0009765625f;
    case FloatDType::F32: break;
  }
  return FLT_EPSILON;
}

/// torch.finfo(dtype).tiny: the smallest positive normal value (2^-126, 2^-126, 2^-14).
inline float smallest_normal_of(FloatDType dtype) { return dtype == FloatDType::F16 ? 6.103515625e-05f : FLT_MIN; }

/// The dtype of a model's floating tensors: kBFloat16 → BF16, kHalf → F16, anything else F32.
inline FloatDType float_dtype_of(c10::ScalarType type) {
  if (type == c10::ScalarType::BFloat16) return FloatDType::BF16;
  if (type == c10::ScalarType::Half) return FloatDType::F16;
  return FloatDType::F32;
}

}  // namespace dcomp::quant
