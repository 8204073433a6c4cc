// Dense int32 packing against the published compressed-tensors test vectors
// (reference-llm-compressor.md §6.2) and a bit-by-bit reference packer.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <vector>

#include "kernels/quant/packing.hpp"

namespace dcomp::quant {
namespace {

at::Tensor row_of(const std::vector<int8_t>& values) {
  return at::tensor(std::vector<int8_t>(values), at::kChar).reshape({1, static_cast<int64_t>(values.size())});
}

uint32_t word(const at::Tensor& packed, int64_t row, int64_t index) {
  return static_cast<uint32_t>(packed[row][index].item<int32_t>());
}

// Reference: sets each code's bits one at a time at global bit position col*bits + k.
std::vector<uint32_t> reference_pack_row(const std::vector<int>& codes, int bits) {
  std::vector<uint32_t> words((codes.size() * bits + 31) / 32, 0u);
  for (size_t col = 0; col < codes.size(); ++col) {
    const uint32_t unsigned_code = static_cast<uint32_t>(codes[col] + (1 << (bits - 1)));
    for (int k = 0; k < bits; ++k) {
      const size_t position = col * bits + k;
      if ((unsigned_code >> k) & 1u) words[position / 32] |= 1u << (position % 32);
    }
  }
  return words;
}

TEST(Packing, Int4PublishedVectors) {
  const at::Tensor positive = pack_to_int32(row_of({1, 2, 3, 4, 5, 6, 7, 0}), 4);
  ASSERT_EQ(positive.sizes(), at::IntArrayRef({1, 1}));
  EXPECT_EQ(word(positive, 0, 0), 0x8FEDCBA9u);
  EXPECT_EQ(positive[0][0].item<int32_t>(), -1880241239);

  const at::Tensor negative = pack_to_int32(row_of({-1, -2, -3, -4, -5, -6, -7, -8}), 4);
  EXPECT_EQ(word(negative, 0, 0), 0x01234567u);
}

TEST(Packing, Int8PublishedVector) {
  const at::Tensor packed = pack_to_int32(row_of({30, 40, 50, 60}), 8);
  ASSERT_EQ(packed.sizes(), at::IntArrayRef({1, 1}));
  EXPECT_EQ(word(packed, 0, 0), 0xBCB2A89Eu);
}

TEST(Packing, Int3PublishedVectorStraddlesWords) {
  const at::Tensor packed = pack_to_int32(row_of({0, 1, 2, 3, -4, -3, -2, -1, 0, 1, 2}), 3);
  ASSERT_EQ(packed.sizes(), at::IntArrayRef({1, 2}));  // ceil(11*3/32) = 2
  EXPECT_EQ(word(packed, 0, 0), 0xAC688FACu);
  EXPECT_EQ(word(packed, 0, 1), 0x00000001u);
  const at::Tensor unpacked = unpack_from_int32(packed, 3, 11);
  EXPECT_TRUE(unpacked.equal(row_of({0, 1, 2, 3, -4, -3, -2, -1, 0, 1, 2})));
}

TEST(Packing, RoundTripsAndMatchesReferenceForOddColumnCounts) {
  at::manual_seed(7);
  for (const int bits : {1, 2, 3, 4, 5, 6, 7, 8}) {
    for (const int64_t cols : {1, 3, 11, 31, 33, 127}) {
      const int64_t rows = 5;
      const int low = -(1 << (bits - 1)), high = (1 << (bits - 1)) - 1;
      const at::Tensor codes = at::randint(low, high + 1, {rows, cols}, at::kChar);
      const at::Tensor packed = pack_to_int32(codes, bits);
      ASSERT_EQ(packed.size(1), (cols * bits + 31) / 32) << bits << " bits, " << cols << " columns";
      for (int64_t row = 0; row < rows; ++row) {
        std::vector<int> row_codes;
        for (int64_t col = 0; col < cols; ++col) row_codes.push_back(codes[row][col].item<int>());
        const std::vector<uint32_t> expected = reference_pack_row(row_codes, bits);
        for (size_t index = 0; index < expected.size(); ++index) {
          ASSERT_EQ(word(packed, row, static_cast<int64_t>(index)), expected[index])
              << bits << " bits, " << cols << " columns, row " << row << ", word " << index;
        }
      }
      EXPECT_TRUE(unpack_from_int32(packed, bits, cols).equal(codes)) << bits << " bits, " << cols << " columns";
    }
  }
}

TEST(Packing, AlongRowsIsTransposedPacking) {
  at::manual_seed(3);
  const at::Tensor zero_points = at::randint(-8, 8, {13, 4}, at::kInt);  // [out, groups]
  const at::Tensor packed = pack_rows_to_int32(zero_points, 4);
  ASSERT_EQ(packed.sizes(), at::IntArrayRef({2, 4}));  // ceil(13*4/32) = 2 rows
  EXPECT_TRUE(packed.equal(pack_to_int32(zero_points.t().contiguous(), 4).t()));
  EXPECT_TRUE(unpack_rows_from_int32(packed, 4, 13).equal(zero_points.to(at::kChar)));
}

TEST(Packing, RejectsCodesOutOfRange) {
  try {
    pack_to_int32(row_of({0, 1, 8}), 4);
    FAIL() << "8 does not fit in 4 bits";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("[0, 2]"), std::string::npos) << error.what();
  }
  EXPECT_THROW(pack_to_int32(row_of({-5}), 3), std::invalid_argument);
  EXPECT_THROW(pack_to_int32(row_of({0}), 0), std::invalid_argument);
  EXPECT_THROW(pack_to_int32(row_of({0}), 9), std::invalid_argument);
  EXPECT_THROW(pack_to_int32(at::zeros({4}, at::kChar), 4), std::invalid_argument);
  EXPECT_THROW(pack_to_int32(at::zeros({1, 4}, at::kFloat), 4), std::invalid_argument);
}

TEST(Packing, RejectsWordCountThatDoesNotMatchColumns) {
  const at::Tensor packed = pack_to_int32(row_of({1, 2, 3}), 4);
  EXPECT_THROW(unpack_from_int32(packed, 4, 9), std::invalid_argument);  // 9 columns need 2 words
  // The pre-0.17 3-bit layout (10 values per word) needs 4 words for 31 values; dense needs 3.
  EXPECT_THROW(unpack_from_int32(at::zeros({1, 4}, at::kInt), 3, 31), std::invalid_argument);
}

TEST(Packing, LargeInt4MatrixRoundTrips) {  // the time is printed, not asserted (a benchmark's job)
  const at::Tensor codes = at::randint(-8, 8, {4096, 11008}, at::kChar);
  const auto start = std::chrono::steady_clock::now();
  const at::Tensor packed = pack_to_int32(codes, 4);
  const double pack_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto middle = std::chrono::steady_clock::now();
  const at::Tensor unpacked = unpack_from_int32(packed, 4, 11008);
  const double unpack_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - middle).count();
  std::printf("int4 4096x11008: pack %.3f s, unpack %.3f s\n", pack_seconds, unpack_seconds);
  EXPECT_TRUE(unpacked.equal(codes));
}

}  // namespace
}  // namespace dcomp::quant
