// The element format table against the formats' definitions: one row per ElementFormat in its
// order, the ranges calculate_range gives, the codecs of the float rows, the group layouts and the
// compressed-tensors format names.
// reference: compressed-tensors quantization/utils/helpers.py (calculate_range), compressors/format.py
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/quant/element_formats.hpp"

namespace dcomp::quant {
namespace {

TEST(ElementFormats, OneRowPerFormatInItsOrder) {
  for (int i = 0; i < kElementFormatCount; ++i) {
    EXPECT_EQ(static_cast<int>(kElementFormatTable[i].format), i) << kElementFormatTable[i].name;
  }
  EXPECT_EQ(element_format_of(QuantType::Int, 4), ElementFormat::Int);
  EXPECT_EQ(element_format_of(QuantType::Float, 8), ElementFormat::Fp8E4m3);
  EXPECT_EQ(element_format_of(QuantType::Float, 4), ElementFormat::Fp4E2m1);
}

TEST(ElementFormats, RangesAreThoseOfCalculateRange) {
  const ElementFormatTraits& integer = element_format_traits(ElementFormat::Int);
  for (int bits = 1; bits <= 8; ++bits) {
    EXPECT_EQ(integer.q_max(bits), std::ldexp(1.0, bits - 1) - 1.0) << bits;
    EXPECT_EQ(integer.q_min(bits), -std::ldexp(1.0, bits - 1)) << bits;
  }
  EXPECT_FALSE(integer.takes_bits(9));
  EXPECT_EQ(element_format_traits(ElementFormat::Fp8E4m3).q_max(8), 448.0);
  EXPECT_EQ(element_format_traits(ElementFormat::Fp8E4m3).q_min(8), -448.0);
  EXPECT_EQ(element_format_traits(ElementFormat::Fp4E2m1).q_max(4), 6.0);
  EXPECT_EQ(element_format_traits(ElementFormat::Fp4E2m1).q_min(4), -6.0);
}

TEST(ElementFormats, FloatCodecsRoundTripTheirLargestValue) {
  for (const ElementFormatTraits& row : kElementFormatTable) {
    if (!row.is_float) continue;
    EXPECT_EQ(row.decode(row.encode(row.max_value)), row.max_value) << row.name;
    EXPECT_EQ(row.decode(row.encode(-row.max_value)), -row.max_value) << row.name;
    EXPECT_LE(std::ldexp(1.0f, row.max_exponent), row.max_value) << row.name;
    EXPECT_GT(std::ldexp(1.0f, row.max_exponent + 1), row.max_value) << row.name;
  }
}

TEST(ElementFormats, GroupLayoutsAndFormatNames) {
  ElementFormat element = ElementFormat::Int;
  const GroupScaleLayout* nvfp4 = group_scale_layout_of_format("nvfp4-pack-quantized", &element);
  ASSERT_NE(nvfp4, nullptr);
  EXPECT_EQ(element, ElementFormat::Fp4E2m1);
  EXPECT_EQ(nvfp4->group_size, 16);
  EXPECT_EQ(nvfp4->scale_dtype, ScaleDType::Fp8E4m3);
  EXPECT_TRUE(nvfp4->global_scale);
  const GroupScaleLayout* mxfp4 = group_scale_layout_of_format("mxfp4-pack-quantized");
  ASSERT_NE(mxfp4, nullptr);
  EXPECT_EQ(mxfp4->group_size, 32);
  EXPECT_EQ(mxfp4->scale_dtype, ScaleDType::E8M0);
  EXPECT_FALSE(mxfp4->global_scale);
  EXPECT_EQ(group_scale_layout_of_format("pack-quantized"), nullptr);

  QuantizationArgs args;
  args.type = QuantType::Float;
  args.num_bits = 4;
  args.strategy = Strategy::Group;
  args.group_size = 32;
  EXPECT_EQ(group_scale_layout(args), nullptr);  // scale_dtype null
  EXPECT_EQ(default_scale_dtype(args), ScaleDType::E8M0);
  args.scale_dtype = ScaleDType::E8M0;
  EXPECT_EQ(group_scale_layout(args), mxfp4);
}

TEST(ElementFormats, WidthMessagesNameEveryFormatOfAType) {
  EXPECT_EQ(element_widths(QuantType::Int), "integer quantization needs 1..8 bits");
  EXPECT_EQ(element_widths(QuantType::Float), "float quantization supports 8 bits (FP8 E4M3) and 4 bits (FP4 E2M1)");
}

}  // namespace
}  // namespace dcomp::quant
