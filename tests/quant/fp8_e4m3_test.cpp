// FP8 E4M3FN conversion against a slow reference written from the format's definition
// (arXiv 2209.05433 table 1): every code, every midpoint, random values, specials.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

#include "kernels/quant/fp8_e4m3.hpp"
#include "tests/quant/fp8_reference.hpp"

namespace dcomp::quant {
namespace {

using testing::fp8_definition_value;
using testing::fp8_slow_encode;

TEST(Fp8E4m3, DecodeMatchesTheFormatDefinitionForAll256Codes) {
  for (int code = 0; code < 256; ++code) {
    const double expected = fp8_definition_value(code);
    const float got = fp8_e4m3_to_float(static_cast<uint8_t>(code));
    if (std::isnan(expected)) {
      EXPECT_TRUE(std::isnan(got)) << "code " << code;
    } else {
      EXPECT_EQ(static_cast<double>(got), expected) << "code " << code;
      EXPECT_EQ(std::signbit(got), (code & 0x80) != 0) << "code " << code;
    }
  }
  EXPECT_EQ(fp8_e4m3_to_float(0x7E), 448.0f);
  EXPECT_EQ(fp8_e4m3_to_float(0x01), std::ldexp(1.0f, -9));
  EXPECT_EQ(fp8_e4m3_to_float(0x08), std::ldexp(1.0f, -6));
}

TEST(Fp8E4m3, EncodeOfDecodeIsIdentityExceptNaN) {
  for (int code = 0; code < 256; ++code) {
    if ((code & 0x7F) == 0x7F) continue;  // the two NaN codes
    EXPECT_EQ(fp8_e4m3_from_float(fp8_e4m3_to_float(static_cast<uint8_t>(code))), code) << "code " << code;
  }
}

TEST(Fp8E4m3, MidpointsRoundToTheEvenCode) {
  for (int code = 0; code < 0x7E; ++code) {
    for (const int sign : {0, 0x80}) {
      const double low = fp8_definition_value(sign | code);
      const double high = fp8_definition_value(sign | (code + 1));
      const auto midpoint = static_cast<float>((low + high) / 2.0);  // 4 significant bits: exact in fp32
      ASSERT_EQ(static_cast<double>(midpoint), (low + high) / 2.0);
      const int even = (code % 2 == 0) ? code : code + 1;
      EXPECT_EQ(fp8_e4m3_from_float(midpoint), sign | even) << "between codes " << code << " and " << code + 1;
      // Just off the midpoint, the nearer code wins.
      const float toward_low = std::nextafter(midpoint, static_cast<float>(low));
      const float toward_high = std::nextafter(midpoint, static_cast<float>(high));
      EXPECT_EQ(fp8_e4m3_from_float(toward_low), sign | code);
      EXPECT_EQ(fp8_e4m3_from_float(toward_high), sign | (code + 1));
    }
  }
}

TEST(Fp8E4m3, RandomValuesMatchTheExhaustiveReference) {
  std::mt19937 rng(1234);
  std::uniform_real_distribution<double> exponent(-14.0, 10.0);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (int i = 0; i < 20000; ++i) {
    const double magnitude = std::pow(2.0, exponent(rng)) * (1.0 + unit(rng));
    const auto value = static_cast<float>(unit(rng) < 0.5 ? -magnitude : magnitude);
    ASSERT_EQ(fp8_e4m3_from_float(value), fp8_slow_encode(value)) << "value " << value;
  }
}

TEST(Fp8E4m3, SpecialValues) {
  EXPECT_EQ(fp8_e4m3_from_float(std::numeric_limits<float>::quiet_NaN()), 0x7F);
  EXPECT_EQ(fp8_e4m3_from_float(-std::numeric_limits<float>::quiet_NaN()), 0x7F);
  EXPECT_EQ(fp8_e4m3_from_float(std::numeric_limits<float>::infinity()), 0x7E);
  EXPECT_EQ(fp8_e4m3_from_float(-std::numeric_limits<float>::infinity()), 0xFE);
  EXPECT_EQ(fp8_e4m3_from_float(470.0f), 0x7E);  // would round to 480, which E4M3FN lacks
  EXPECT_EQ(fp8_e4m3_from_float(1e30f), 0x7E);
  EXPECT_EQ(fp8_e4m3_from_float(0.0f), 0x00);
  EXPECT_EQ(fp8_e4m3_from_float(-0.0f), 0x80);
  EXPECT_EQ(fp8_e4m3_from_float(std::ldexp(1.0f, -11)), 0x00);  // a quarter of the smallest subnormal
  EXPECT_EQ(fp8_e4m3_from_float(std::ldexp(1.0f, -10)), 0x00);  // half of it: ties to even (0)
  EXPECT_EQ(fp8_e4m3_from_float(std::ldexp(3.0f, -10)), 0x02);  // 1.5 subnormal steps: ties to even (2)
  EXPECT_EQ(fp8_e4m3_from_float(1.0f), 0x38);
  EXPECT_EQ(fp8_e4m3_from_float(-2.0f), 0xC0);
}

TEST(Fp8E4m3, TensorConversionsMatchTheScalarOnes) {
  const at::Tensor codes = at::arange(256, at::kInt).to(at::kByte).reshape({16, 16});
  const at::Tensor values = decode_fp8_e4m3(codes);
  ASSERT_EQ(values.scalar_type(), at::kFloat);
  ASSERT_EQ(values.sizes(), codes.sizes());
  for (int code = 0; code < 256; ++code) {
    const float got = values.reshape({-1})[code].item<float>();
    const float expected = fp8_e4m3_to_float(static_cast<uint8_t>(code));
    if (std::isnan(expected)) {
      EXPECT_TRUE(std::isnan(got));
    } else {
      EXPECT_EQ(got, expected);
    }
  }
  const at::Tensor x = at::randn({33, 7}) * 100;
  const at::Tensor encoded = encode_fp8_e4m3(x);
  ASSERT_EQ(encoded.scalar_type(), at::kByte);
  const at::Tensor flat_x = x.reshape({-1}).contiguous();
  const at::Tensor flat_codes = encoded.reshape({-1}).contiguous();
  for (int64_t i = 0; i < flat_x.numel(); ++i) {
    EXPECT_EQ(flat_codes.data_ptr<uint8_t>()[i], fp8_slow_encode(flat_x.data_ptr<float>()[i]));
  }
  EXPECT_THROW(encode_fp8_e4m3(x.to(at::kDouble)), std::invalid_argument);
  EXPECT_THROW(decode_fp8_e4m3(x), std::invalid_argument);
}

}  // namespace
}  // namespace dcomp::quant
