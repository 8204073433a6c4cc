// reference: compressed-tensors quantization/lifecycle/forward.py (_quantize, _dequantize),
// quantization/utils/fp4_utils.py (cast_to_fp4); arXiv 2209.05433 table 1 (E4M3).
#include "kernels/quant/grid_tensor_ops.hpp"

#include <ATen/ATen.h>

namespace dcomp::quant {

FloatCodeRounding round_to_fp8_e4m3(const at::Tensor& clamped) {
  // Every step is exact or an integer operation, as in fp8_e4m3_from_float.
  const at::Tensor bits = clamped.contiguous().view(at::kInt);            // int32 fp32 bits
  const at::Tensor negative = bits.lt(0);                                   // the sign bit (−0 included)
  const at::Tensor magnitude = bits.bitwise_and(0x7FFFFFFF);
  // Normal results: keep 3 mantissa bits, ties to even (a carry moves the exponent up).
  const at::Tensor lowest_kept = magnitude.bitwise_right_shift(20).bitwise_and(1);
  const at::Tensor rounded = magnitude.add(0x7FFFF).add_(lowest_kept).bitwise_right_shift_(20);  // 1 + 8 + 3 bits
  const at::Tensor normal_bits = rounded.sub((127 - 7) << 3);
  const at::Tensor normal_values = rounded.bitwise_left_shift(20).view(at::kFloat);
  // Below 2^-6: the subnormal grid m·2^-9 (scaling by 512 is exact; round half to even).
  const at::Tensor absolute = magnitude.view(at::kFloat);
  const at::Tensor subnormal_mantissa = absolute.mul(512.0f).round_();
  const at::Tensor subnormal = magnitude.lt(0x3C800000);
  at::Tensor code = at::where(subnormal, subnormal_mantissa.to(at::kInt), normal_bits);
  at::Tensor value = at::where(subnormal, subnormal_mantissa.mul(1.0f / 512.0f), normal_values);
  code = at::where(negative, code.bitwise_or(0x80), code);
  value = at::where(negative, value.neg(), value);
  return {code, value};
}

FloatCodeRounding round_to_fp4_e2m1(const at::Tensor& clamped) {
  const at::Tensor negative = clamped.lt(0.0f);  // −0 is not: it becomes +0 (code 0), as upstream
  const at::Tensor m = clamped.abs();
  // The index of the nearest magnitude in {0, 0.5, 1, 1.5, 2, 3, 4, 6}, ties to the even mantissa.
  at::Tensor index = m.gt(0.25f).to(at::kInt);
  index.add_(m.ge(0.75f)).add_(m.gt(1.25f)).add_(m.ge(1.75f)).add_(m.gt(2.5f)).add_(m.ge(3.5f)).add_(m.gt(5.0f));
  // kFp4E2m1Magnitudes[index], computed where the tensors live (no table to copy there):
  // index / 2 up to 4 (0 … 2), then 3, 4, 6; every value exact.
  const at::Tensor magnitude =
      at::where(index.le(4), index.to(at::kFloat).mul(0.5f),
                at::where(index.eq(5), at::full_like(m, 3.0f), at::where(index.eq(6), at::full_like(m, 4.0f),
                                                                          at::full_like(m, 6.0f))));
  return {at::where(negative, index.add(8), index), at::where(negative, magnitude.neg(), magnitude)};
}

namespace {

// fp32 values rounded to `dtype` and back (QuantGrid's round_to on every element); F32: the tensor itself.
at::Tensor rounded_to(FloatDType dtype, const at::Tensor& values) {
  switch (dtype) {
    case FloatDType::BF16: return values.to(at::kBFloat16).to(at::kFloat);
    case FloatDType::F16: return values.to(at::kHalf).to(at::kFloat);
    case FloatDType::F32: break;
  }
  return values;
}

}  // namespace

GridRounding round_to_grid(const QuantGrid& grid, const at::Tensor& x, const at::Tensor& scale,
                           const at::Tensor& zero_point) {
  GridRounding out;
  const FloatDType quotient = grid.quotient_dtype();
  const FloatDType product = grid.scale_value_dtype();
  at::Tensor scaled = rounded_to(quotient, x.div(scale));  // [same as x] fp32
  if (grid.element == ElementFormat::Fp4E2m1) {  // no zero point (QuantGrid::code)
    const FloatCodeRounding e2m1 = round_to_fp4_e2m1(scaled.clamp_(grid.q_min, grid.q_max));
    out.codes = e2m1.bits.to(at::kFloat);
    out.values = rounded_to(product, e2m1.values.mul(scale));
    return out;
  }
  scaled = rounded_to(quotient, scaled.add_(zero_point)).clamp_(grid.q_min, grid.q_max);
  if (grid.element == ElementFormat::Fp8E4m3) {
    const FloatCodeRounding e4m3 = round_to_fp8_e4m3(scaled);
    out.codes = e4m3.bits.to(at::kFloat);
    out.values = rounded_to(product, rounded_to(product, e4m3.values.sub(zero_point)).mul_(scale));
    return out;
  }
  out.codes = scaled.round_();
  out.values = rounded_to(product, rounded_to(product, out.codes.sub(zero_point)).mul_(scale));
  return out;
}

}  // namespace dcomp::quant
