// reference: arXiv 2209.05433 table 1 (E4M3 encoding); PyTorch c10/util/Float8_e4m3fn.h
// (fp8e4m3fn_from_fp32_value: round to nearest even via integer bias addition,
// subnormals via a float addition that aligns the binary point).
#include "kernels/ct/fp8_e4m3.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace dcomp::ct {
namespace {

std::array<float, 256> make_decode_table() {
  std::array<float, 256> table{};
  for (int byte = 0; byte < 256; ++byte) {
    const int exponent = (byte >> 3) & 0xF;
    const int mantissa = byte & 0x7;
    float magnitude;
    if (exponent == 0xF && mantissa == 0x7) {
      magnitude = std::numeric_limits<float>::quiet_NaN();
    } else if (exponent == 0) {
      magnitude = std::ldexp(static_cast<float>(mantissa) / 8.0f, -6);  // subnormal
    } else {
      magnitude = std::ldexp(1.0f + static_cast<float>(mantissa) / 8.0f, exponent - 7);
    }
    table[static_cast<size_t>(byte)] = (byte & 0x80) ? -magnitude : magnitude;
  }
  return table;
}

uint32_t bits_of(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

float float_of(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

uint8_t encode(float value) {
  uint32_t magnitude = bits_of(value);
  const uint32_t sign = magnitude & 0x80000000u;
  magnitude ^= sign;
  uint8_t result;
  constexpr uint32_t kNanThreshold = 1087u << 20;   // 480.0f: rounds past 448 to the NaN pattern
  constexpr uint32_t kNormalMinimum = 121u << 23;   // 2^-6, the smallest normal E4M3 value
  constexpr uint32_t kSubnormalAlign = 141u << 23;  // 2^14: adding it leaves 2^-9 units in the low bits
  if (magnitude >= kNanThreshold) {
    result = 0x7F;
  } else if (magnitude < kNormalMinimum) {
    const float aligned = float_of(magnitude) + float_of(kSubnormalAlign);
    result = static_cast<uint8_t>(bits_of(aligned) - kSubnormalAlign);
  } else {
    const uint32_t mantissa_odd = (magnitude >> 20) & 1u;
    // Rebias the exponent from 127 to 7, then round the 20 dropped bits to nearest even.
    magnitude += (uint32_t(7 - 127) << 23) + 0x7FFFFu + mantissa_odd;
    result = static_cast<uint8_t>(magnitude >> 20);
  }
  return static_cast<uint8_t>(result | (sign >> 24));
}

}  // namespace

at::Tensor e4m3_to_float(const at::Tensor& bits) {
  if (bits.scalar_type() != at::kByte) {
    throw std::invalid_argument(std::string("e4m3_to_float: expected uint8 bit patterns, got ") +
                                c10::toString(bits.scalar_type()));
  }
  static const std::array<float, 256> table = make_decode_table();
  const at::Tensor source = bits.to(at::kCPU).contiguous();
  at::Tensor values = at::empty(source.sizes(), at::kFloat);
  const uint8_t* in = source.data_ptr<uint8_t>();
  float* out = values.data_ptr<float>();
  at::parallel_for(0, source.numel(), 1 << 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) out[i] = table[in[i]];
  });
  return values;
}

at::Tensor float_to_e4m3(const at::Tensor& values) {
  if (values.scalar_type() != at::kFloat) {
    throw std::invalid_argument(std::string("float_to_e4m3: expected fp32 values, got ") +
                                c10::toString(values.scalar_type()));
  }
  const at::Tensor source = values.to(at::kCPU).contiguous();
  at::Tensor bits = at::empty(source.sizes(), at::kByte);
  const float* in = source.data_ptr<float>();
  uint8_t* out = bits.data_ptr<uint8_t>();
  at::parallel_for(0, source.numel(), 1 << 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) out[i] = encode(in[i]);
  });
  return bits;
}

}  // namespace dcomp::ct
