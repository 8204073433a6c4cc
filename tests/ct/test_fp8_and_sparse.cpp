// FP8 E4M3 conversion against the values of the OCP / arXiv 2209.05433 E4M3 table,
// FP8_BLOCK's dynamic group input quantization against a per-group rounding by hand,
// and the legacy sparse-24-bitmask layout against numpy.packbits(bitorder="little").
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/ct/activation_quantizer.hpp"
#include "kernels/quant/fp8_e4m3.hpp"
#include "kernels/quant/quant_args.hpp"
#include "kernels/ct/sparse_24_bitmask.hpp"

namespace dcomp::ct {
namespace {

float decode_one(uint8_t byte) {
  return quant::decode_fp8_e4m3(at::tensor(std::vector<uint8_t>{byte}, at::kByte))[0].item<float>();
}

uint8_t encode_one(float value) {
  return quant::encode_fp8_e4m3(at::tensor(std::vector<float>{value}, at::kFloat))[0].item<uint8_t>();
}

TEST(Fp8E4M3, DecodesPublishedValues) {
  EXPECT_EQ(decode_one(0x00), 0.0f);
  EXPECT_EQ(decode_one(0x38), 1.0f);          // exponent 7 = bias
  EXPECT_EQ(decode_one(0xB8), -1.0f);
  EXPECT_EQ(decode_one(0x7E), 448.0f);        // largest finite: 1.75 * 2^8
  EXPECT_EQ(decode_one(0x08), std::ldexp(1.0f, -6));   // smallest normal
  EXPECT_EQ(decode_one(0x01), std::ldexp(1.0f, -9));   // smallest subnormal
  EXPECT_EQ(decode_one(0x07), 7.0f * std::ldexp(1.0f, -9));
  EXPECT_EQ(decode_one(0x40), 2.0f);
  EXPECT_EQ(decode_one(0x3C), 1.5f);
  EXPECT_TRUE(std::isnan(decode_one(0x7F)));
  EXPECT_TRUE(std::isnan(decode_one(0xFF)));
}

TEST(Fp8E4M3, EncodeRoundTripsEveryFiniteCode) {
  for (int byte = 0; byte < 256; ++byte) {
    if ((byte & 0x7F) == 0x7F) continue;
    const float value = decode_one(static_cast<uint8_t>(byte));
    if (value == 0.0f && byte == 0x80) continue;  // -0 encodes back to 0x80 too, checked below
    EXPECT_EQ(encode_one(value), byte) << "code " << byte << " value " << value;
  }
  EXPECT_EQ(encode_one(-0.0f), 0x80);
}

TEST(Fp8E4M3, EncodeRoundsToNearestEven) {
  EXPECT_EQ(encode_one(1.0625f), 0x38);  // halfway 1.0 / 1.125 → even mantissa 000
  EXPECT_EQ(encode_one(1.1875f), 0x3A);  // halfway 1.125 / 1.25 → even mantissa 010
  EXPECT_EQ(encode_one(1.07f), 0x39);
  EXPECT_EQ(encode_one(std::ldexp(1.0f, -10)), 0x00);  // halfway 0 / 2^-9 → 0
  EXPECT_EQ(encode_one(3.0f * std::ldexp(1.0f, -10)), 0x02);  // halfway 2^-9 / 2^-8 → even
  EXPECT_EQ(encode_one(464.0f), 0x7E);  // halfway 448 / (480): even → 448
  EXPECT_EQ(encode_one(470.0f), 0x7E);    // beyond the range: saturates to 448 (callers clamp first anyway)
  EXPECT_EQ(encode_one(-1000.0f), 0xFE);
  EXPECT_EQ(encode_one(NAN) & 0x7F, 0x7F);
}

// FP8_BLOCK's inputs: FP8 E4M3, dynamic, one scale per token and group of 128 channels,
// max|x| / 448 over the group, as compressed-tensors' group strategy computes it.
TEST(Fp8E4M3, DynamicGroupInputsScaleEachGroupOfEachTokenOnItsOwn) {
  const quant::QuantizationArgs args = *quant::preset_scheme("FP8_BLOCK", {"Linear"}).input_activations;
  ASSERT_EQ(args.resolved_strategy(), quant::Strategy::Group);
  at::manual_seed(3);
  at::Tensor x = at::randn({2, 3, 256});
  x[0][1][200] = 90.0f;  // an outlier in the second group of one token only
  const at::Tensor quantized = make_input_quantizer(args, {}, {})(x);
  for (int64_t b = 0; b < 2; ++b) {
    for (int64_t t = 0; t < 3; ++t) {
      for (int64_t g = 0; g < 2; ++g) {
        const at::Tensor group = x[b][t].narrow(0, 128 * g, 128);
        const float scale = group.abs().max().item<float>() / 448.0f;
        const at::Tensor expected =
            quant::decode_fp8_e4m3(quant::encode_fp8_e4m3(group / scale)).to(at::kFloat) * scale;
        EXPECT_TRUE(at::allclose(quantized[b][t].narrow(0, 128 * g, 128), expected, 1e-6, 1e-7))
            << "batch " << b << " token " << t << " group " << g;
      }
    }
  }
  // The outlier's group alone is coarse: the other group of that token keeps fine steps.
  EXPECT_LT((quantized[0][1].narrow(0, 0, 128) - x[0][1].narrow(0, 0, 128)).abs().max().item<float>(), 0.2f);
}

TEST(Sparse24Bitmask, BitOrderIsLittleEndianPerByte) {
  // Row 0 keeps columns 0, 2, 6, 7 → bits 0, 2, 6, 7 → 0xC5; row 1 keeps columns 1, 3, 4, 5 → 0x3A.
  const at::Tensor weight = at::tensor(std::vector<float>{1, 0, 2, 0, 0, 0, 3, -4,  //
                                                          0, 5, 0, 6, 7, 8, 0, 0},
                                       at::kFloat)
                                .reshape({2, 8});
  const Sparse24Bitmask sparse = compress_sparse_24(weight);
  ASSERT_EQ(sparse.bitmask.sizes(), at::IntArrayRef({2, 1}));
  EXPECT_EQ(sparse.bitmask[0][0].item<uint8_t>(), 0xC5);
  EXPECT_EQ(sparse.bitmask[1][0].item<uint8_t>(), 0x3A);
  EXPECT_TRUE(sparse.compressed.equal(
      at::tensor(std::vector<float>{1, 2, 3, -4, 5, 6, 7, 8}, at::kFloat).reshape({2, 4})));
  EXPECT_TRUE(sparse.shape.equal(at::tensor(std::vector<int64_t>{2, 8}, at::kLong).reshape({2, 1})));
  EXPECT_TRUE(decompress_sparse_24(sparse.compressed, sparse.bitmask, sparse.shape).equal(weight));
}

TEST(Sparse24Bitmask, RoundTripsGroupsWithFewerNonZeros) {
  at::manual_seed(11);
  at::Tensor weight = at::randn({6, 12});
  // Prune to 2:4 by magnitude, then zero one more value in some groups.
  const at::Tensor groups = weight.abs().reshape({-1, 4});
  const at::Tensor keep = at::zeros_like(groups, at::kBool).scatter_(1, std::get<1>(groups.topk(2, 1)), true);
  weight = weight * keep.reshape({6, 12}).to(at::kFloat);
  weight[0][0] = 0;
  weight[0][1] = 0;
  const Sparse24Bitmask sparse = compress_sparse_24(weight);
  EXPECT_EQ(sparse.compressed.sizes(), at::IntArrayRef({6, 6}));
  EXPECT_EQ(sparse.bitmask.sizes(), at::IntArrayRef({6, 2}));
  EXPECT_TRUE(decompress_sparse_24(sparse.compressed, sparse.bitmask, sparse.shape).equal(weight));
}

TEST(Sparse24Bitmask, RejectsWeightsThatAreNot24Sparse) {
  EXPECT_THROW(compress_sparse_24(at::ones({2, 8})), std::invalid_argument);
  EXPECT_THROW(compress_sparse_24(at::zeros({2, 6})), std::invalid_argument);
  const Sparse24Bitmask sparse = compress_sparse_24(at::zeros({2, 8}));
  EXPECT_THROW(decompress_sparse_24(sparse.compressed.narrow(1, 0, 3), sparse.bitmask, sparse.shape),
               std::invalid_argument);
}

}  // namespace
}  // namespace dcomp::ct
