// reference: arXiv 2209.05433 table 1 (E4M3); scalar conversions in fp8_e4m3.hpp.
#include "kernels/quant/fp8_e4m3.hpp"

#include <stdexcept>
#include <string>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

namespace dcomp::quant {

namespace {
constexpr int64_t kGrain = 1 << 14;
}  // namespace

at::Tensor encode_fp8_e4m3(const at::Tensor& values) {
  if (values.scalar_type() != at::kFloat) {
    throw std::invalid_argument(std::string("encode_fp8_e4m3: expected fp32 values, got ") +
                                c10::toString(values.scalar_type()));
  }
  const at::Tensor input = values.contiguous();
  at::Tensor codes = at::empty(input.sizes(), input.options().dtype(at::kByte));
  const float* in = input.data_ptr<float>();
  uint8_t* out = codes.data_ptr<uint8_t>();
  at::parallel_for(0, input.numel(), kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) out[i] = fp8_e4m3_from_float(in[i]);
  });
  return codes;
}

at::Tensor decode_fp8_e4m3(const at::Tensor& codes) {
  if (codes.scalar_type() != at::kByte) {
    throw std::invalid_argument(std::string("decode_fp8_e4m3: expected uint8 codes, got ") +
                                c10::toString(codes.scalar_type()));
  }
  const at::Tensor input = codes.contiguous();
  at::Tensor values = at::empty(input.sizes(), input.options().dtype(at::kFloat));
  const uint8_t* in = input.data_ptr<uint8_t>();
  float* out = values.data_ptr<float>();
  at::parallel_for(0, input.numel(), kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) out[i] = fp8_e4m3_to_float(in[i]);
  });
  return values;
}

at::Tensor decode_e8m0(const at::Tensor& exponents) {
  return at::pow(2.0, exponents.to(at::kInt).sub(127).to(at::kFloat)).to(at::kFloat);
}

}  // namespace dcomp::quant
