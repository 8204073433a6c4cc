// Reading safetensors files whose bytes are assembled by hand from the spec, and
// writing files that must equal, byte for byte, outputs published by the reference
// library's own tests (huggingface/safetensors, safetensors/src/tensor.rs:
// test_serialization, test_serialization_forced_alignement, test_empty).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "kernels/io/safetensors.hpp"
#include "tests/io/io_test_support.hpp"

namespace dcomp::io {
namespace {

using testing::safetensors_bytes;
using testing::TempDir;
using testing::u64_le;
using testing::write_bytes;

// Little-endian encodings written out by hand (IEEE 754 binary32 / bfloat16 / two's complement).
const std::string kF32_1_0("\x00\x00\x80\x3f", 4);
const std::string kF32_2_0("\x00\x00\x00\x40", 4);
const std::string kF32_minus_0_5("\x00\x00\x00\xbf", 4);
const std::string kF32_3_0("\x00\x00\x40\x40", 4);
const std::string kBF16_1_0("\x80\x3f", 2);
const std::string kBF16_minus_2_0("\x00\xc0", 2);
const std::string kBF16_0_5("\x00\x3f", 2);
const std::string kI16_minus_2("\xfe\xff", 2);

TEST(SafetensorsHandmade, ReadsTensorsMetadataAndFileOrder) {
  TempDir dir;
  // Keys deliberately out of offset order, with __metadata__ in the middle.
  std::string header =
      R"({"b":{"dtype":"BF16","shape":[3],"data_offsets":[16,22]},"__metadata__":{"format":"pt"},)"
      R"("a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"c":{"dtype":"I16","shape":[1],"data_offsets":[22,24]}})";
  header.append((8 - header.size() % 8) % 8, ' ');
  const std::string data = kF32_1_0 + kF32_2_0 + kF32_minus_0_5 + kF32_3_0 + kBF16_1_0 + kBF16_minus_2_0 +
                           kBF16_0_5 + kI16_minus_2;
  write_bytes(dir / "hand.safetensors", safetensors_bytes(header, data));

  const auto file = SafetensorsFile::open(dir / "hand.safetensors");
  EXPECT_EQ(file->names(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(file->metadata(), (std::map<std::string, std::string>{{"format", "pt"}}));
  EXPECT_TRUE(file->contains("a"));
  EXPECT_FALSE(file->contains("__metadata__"));

  const TensorInfo& b_info = file->info("b");
  EXPECT_EQ(b_info.dtype, DType::BF16);
  EXPECT_EQ(b_info.shape, (std::vector<int64_t>{3}));
  EXPECT_EQ(b_info.begin, 16u);
  EXPECT_EQ(b_info.end, 22u);

  const at::Tensor a = file->tensor("a");
  ASSERT_EQ(a.scalar_type(), at::kFloat);
  ASSERT_EQ(a.sizes(), at::IntArrayRef({2, 2}));
  EXPECT_EQ(a[0][0].item<float>(), 1.0f);
  EXPECT_EQ(a[0][1].item<float>(), 2.0f);
  EXPECT_EQ(a[1][0].item<float>(), -0.5f);
  EXPECT_EQ(a[1][1].item<float>(), 3.0f);

  const at::Tensor b = file->tensor("b");
  ASSERT_EQ(b.scalar_type(), at::kBFloat16);
  const at::Tensor b_float = b.to(at::kFloat);
  EXPECT_EQ(b_float[0].item<float>(), 1.0f);
  EXPECT_EQ(b_float[1].item<float>(), -2.0f);
  EXPECT_EQ(b_float[2].item<float>(), 0.5f);

  const at::Tensor c = file->tensor("c");
  ASSERT_EQ(c.scalar_type(), at::kShort);
  EXPECT_EQ(c[0].item<int16_t>(), -2);
}

TEST(SafetensorsHandmade, TensorsAreZeroCopyViewsThatOutliveTheFileObject) {
  TempDir dir;
  std::string header = R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})";
  header.append((8 - header.size() % 8) % 8, ' ');
  write_bytes(dir / "view.safetensors", safetensors_bytes(header, kF32_1_0 + kF32_2_0 + kF32_minus_0_5 + kF32_3_0));

  auto file = SafetensorsFile::open(dir / "view.safetensors");
  const at::Tensor first = file->tensor("a");
  const at::Tensor second = file->tensor("a");
  EXPECT_EQ(first.data_ptr(), second.data_ptr());  // both point into the one mapping
  EXPECT_EQ(reinterpret_cast<uintptr_t>(first.data_ptr()) % 4, 0u);

  file.reset();  // the mapping must stay alive through the tensors
  EXPECT_EQ(first[3].item<float>(), 3.0f);
  EXPECT_EQ(second.sum().item<float>(), 5.5f);
}

TEST(SafetensorsHandmade, MisalignedDataFromAnUnpaddedHeaderIsReadCorrectly) {
  TempDir dir;
  std::string header = R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  if ((8 + header.size()) % 4 == 0) header += ' ';  // force data that is not 4-byte aligned
  ASSERT_NE((8 + header.size()) % 4, 0u);
  write_bytes(dir / "odd.safetensors", safetensors_bytes(header, kF32_3_0 + kF32_minus_0_5));

  const auto file = SafetensorsFile::open(dir / "odd.safetensors");
  const at::Tensor x = file->tensor("x");
  EXPECT_EQ(reinterpret_cast<uintptr_t>(x.data_ptr()) % 4, 0u);
  EXPECT_EQ(x[0].item<float>(), 3.0f);
  EXPECT_EQ(x[1].item<float>(), -0.5f);
}

// The example file of the reference library's SafeTensors::deserialize documentation.
TEST(SafetensorsHandmade, ReadsTheReferenceDocumentationExample) {
  TempDir dir;
  const std::string header = R"({"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}})";
  ASSERT_EQ(header.size(), 0x3cu);  // the '<' length byte of the published example
  write_bytes(dir / "doc.safetensors", safetensors_bytes(header, std::string(16, '\0')));

  const at::Tensor test = SafetensorsFile::open(dir / "doc.safetensors")->tensor("test");
  EXPECT_EQ(test.scalar_type(), at::kInt);
  EXPECT_EQ(test.sizes(), at::IntArrayRef({2, 2}));
  EXPECT_TRUE(at::equal(test, at::zeros({2, 2}, at::kInt)));
}

std::string f32_bytes_0_to_5() {
  return std::string("\x00\x00\x00\x00", 4) + kF32_1_0 + kF32_2_0 + kF32_3_0 + std::string("\x00\x00\x80\x40", 4) +
         std::string("\x00\x00\xa0\x40", 4);
}

TEST(SafetensorsHandmade, WriterMatchesReferenceOutputWithoutPadding) {
  TempDir dir;
  write_safetensors(dir / "out.safetensors", {{"attn.0", at::arange(6, at::kFloat).reshape({1, 2, 3}), {}}});
  const std::string header = R"({"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}})";
  EXPECT_EQ(testing::read_bytes(dir / "out.safetensors"), u64_le(64) + header + f32_bytes_0_to_5());
}

TEST(SafetensorsHandmade, WriterMatchesReferenceOutputWithPadding) {
  TempDir dir;
  write_safetensors(dir / "out.safetensors", {{"attn0", at::arange(6, at::kFloat).reshape({1, 1, 2, 3}), {}}});
  const std::string header = R"({"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}})" + std::string(7, ' ');
  EXPECT_EQ(testing::read_bytes(dir / "out.safetensors"), u64_le(72) + header + f32_bytes_0_to_5());
}

TEST(SafetensorsHandmade, WriterMatchesReferenceOutputForEmptyFiles) {
  TempDir dir;
  write_safetensors(dir / "empty.safetensors", {});
  EXPECT_EQ(testing::read_bytes(dir / "empty.safetensors"), u64_le(8) + "{}" + std::string(6, ' '));

  write_safetensors(dir / "meta.safetensors", {}, {{"framework", "pt"}});
  EXPECT_EQ(testing::read_bytes(dir / "meta.safetensors"),
            u64_le(40) + R"({"__metadata__":{"framework":"pt"}})" + std::string(5, ' '));
  EXPECT_TRUE(SafetensorsFile::open(dir / "meta.safetensors")->names().empty());
}

}  // namespace
}  // namespace dcomp::io
