// write_safetensors followed by SafetensorsFile: every dtype, layout and header rule.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "kernels/io/safetensors.hpp"
#include "tests/io/io_test_support.hpp"

namespace dcomp::io {
namespace {

using ::testing::HasSubstr;
using testing::error_message_of;
using testing::read_bytes;
using testing::TempDir;

// A tensor of `dtype` and `shape` with varied values (random bits for integers and bytes).
at::Tensor sample(DType dtype, at::IntArrayRef shape) {
  at::manual_seed(static_cast<uint64_t>(dtype) + 1);
  switch (dtype) {
    case DType::F32:
    case DType::F16:
    case DType::BF16:
      return at::randn(shape).to(dtype_to_scalar_type(dtype));
    case DType::BOOL:
      return at::randint(0, 2, shape).to(at::kBool);
    case DType::I64:
      return at::randint(-(int64_t(1) << 62), int64_t(1) << 62, shape, at::kLong);
    default: {
      const auto scalar = dtype_to_scalar_type(dtype);
      const int64_t bits = 8 * static_cast<int64_t>(dtype_size(dtype));
      const int64_t low = (scalar == at::kByte) ? 0 : -(int64_t(1) << (bits - 1));
      return at::randint(low, low + (int64_t(1) << bits), shape, at::kLong).to(scalar);
    }
  }
}

// The header JSON of a written file, read with nlohmann directly.
nlohmann::json header_of(const std::filesystem::path& path) {
  const std::string bytes = read_bytes(path);
  uint64_t length = 0;
  for (int i = 7; i >= 0; --i) length = (length << 8) | static_cast<uint8_t>(bytes[i]);
  return nlohmann::json::parse(bytes.substr(8, length));
}

class SafetensorsRoundTrip : public ::testing::TestWithParam<DType> {};

TEST_P(SafetensorsRoundTrip, EveryDTypeReadsBackBitForBit) {
  TempDir dir;
  const DType dtype = GetParam();
  const at::Tensor original = sample(dtype, {3, 5, 7});
  write_safetensors(dir / "t.safetensors", {{"weight", original, {}}});

  const auto file = SafetensorsFile::open(dir / "t.safetensors");
  EXPECT_EQ(file->info("weight").dtype, dtype);
  EXPECT_EQ(file->info("weight").shape, (std::vector<int64_t>{3, 5, 7}));
  EXPECT_EQ(header_of(dir / "t.safetensors")["weight"]["dtype"], dtype_name(dtype));
  const at::Tensor loaded = file->tensor("weight");
  EXPECT_EQ(loaded.scalar_type(), original.scalar_type());
  EXPECT_TRUE(at::equal(loaded, original));
}

INSTANTIATE_TEST_SUITE_P(AllNaturalDTypes, SafetensorsRoundTrip,
                         ::testing::Values(DType::F32, DType::F16, DType::BF16, DType::I8, DType::I16, DType::I32,
                                           DType::I64, DType::U8, DType::BOOL),
                         [](const ::testing::TestParamInfo<DType>& info) { return dtype_name(info.param); });

TEST(SafetensorsWriter, F8E4M3IsStoredFromBytesAndReadBackAsBytes) {
  TempDir dir;
  const at::Tensor bits = sample(DType::U8, {4, 8});
  write_safetensors(dir / "f8.safetensors", {{"w", bits, DType::F8_E4M3}});
  EXPECT_EQ(header_of(dir / "f8.safetensors")["w"]["dtype"], "F8_E4M3");

  const auto file = SafetensorsFile::open(dir / "f8.safetensors");
  EXPECT_EQ(file->info("w").dtype, DType::F8_E4M3);
  const at::Tensor loaded = file->tensor("w");
  EXPECT_EQ(loaded.scalar_type(), at::kByte);
  EXPECT_TRUE(at::equal(loaded, bits));
}

TEST(SafetensorsWriter, StoredDTypeMustHaveTheTensorsElementSize) {
  TempDir dir;
  const std::string message = error_message_of(
      [&] { write_safetensors(dir / "bad.safetensors", {{"w", at::zeros({2}, at::kFloat), DType::F8_E4M3}}); });
  EXPECT_THAT(message, HasSubstr("cannot write tensor 'w': stored_dtype F8_E4M3 has 1-byte elements but the tensor "
                                 "holds 4-byte F32"));
  EXPECT_FALSE(std::filesystem::exists(dir / "bad.safetensors"));
}

TEST(SafetensorsWriter, KeepsTheGivenOrderWithContiguousRangesAndMetadata) {
  TempDir dir;
  const at::Tensor z = sample(DType::F32, {4, 3});
  const at::Tensor a = sample(DType::BF16, {5});
  const at::Tensor m = sample(DType::I64, {2, 2});
  write_safetensors(dir / "o.safetensors", {{"z", z, {}}, {"a", a, {}}, {"m", m, {}}},
                    {{"format", "pt"}, {"note", "ordered"}});

  const auto file = SafetensorsFile::open(dir / "o.safetensors");
  EXPECT_EQ(file->names(), (std::vector<std::string>{"z", "a", "m"}));
  EXPECT_EQ(file->info("z").begin, 0u);
  EXPECT_EQ(file->info("z").end, 48u);
  EXPECT_EQ(file->info("a").begin, 48u);
  EXPECT_EQ(file->info("a").end, 58u);
  EXPECT_EQ(file->info("m").begin, 58u);
  EXPECT_EQ(file->info("m").end, 90u);
  EXPECT_EQ(file->metadata(), (std::map<std::string, std::string>{{"format", "pt"}, {"note", "ordered"}}));
  EXPECT_TRUE(at::equal(file->tensor("z"), z));
  EXPECT_TRUE(at::equal(file->tensor("a"), a));
  EXPECT_TRUE(at::equal(file->tensor("m"), m));  // at offset 58: not 8-byte aligned, read through a copy
}

TEST(SafetensorsWriter, HeaderIsPaddedWithSpacesToAMultipleOfEight) {
  TempDir dir;
  for (const char* name : {"a", "ab", "abc", "abcd", "abcde", "abcdef", "abcdefg", "abcdefgh"}) {
    write_safetensors(dir / "p.safetensors", {{name, at::ones({1}), {}}});
    const std::string bytes = read_bytes(dir / "p.safetensors");
    uint64_t length = 0;
    for (int i = 7; i >= 0; --i) length = (length << 8) | static_cast<uint8_t>(bytes[i]);
    EXPECT_EQ(length % 8, 0u) << name;
    const std::string header = bytes.substr(8, length);
    const size_t last_brace = header.rfind('}');
    EXPECT_EQ(header.find_first_not_of(' ', last_brace + 1), std::string::npos) << name;
    EXPECT_LT(header.size() - last_brace - 1, 8u) << name;
    EXPECT_EQ(bytes.size(), 8 + length + 4) << name;
  }
}

TEST(SafetensorsWriter, EmptyMetadataIsOmitted) {
  TempDir dir;
  write_safetensors(dir / "m.safetensors", {{"w", at::ones({2}), {}}});
  EXPECT_FALSE(header_of(dir / "m.safetensors").contains("__metadata__"));
  write_safetensors(dir / "m.safetensors", {{"w", at::ones({2}), {}}}, {{"k", "v"}});
  EXPECT_EQ(header_of(dir / "m.safetensors")["__metadata__"]["k"], "v");
}

TEST(SafetensorsWriter, NonContiguousTensorsAreWrittenInLogicalOrder) {
  TempDir dir;
  const at::Tensor base = sample(DType::F32, {6, 8});
  const at::Tensor transposed = base.t();                                   // [8, 6], strides (1, 8)
  const at::Tensor strided = base.slice(1, 1, 8, 3);                        // [6, 3], every third column
  const at::Tensor broadcast = base[2].unsqueeze(0).expand({4, 8});         // [4, 8], stride 0 rows
  const at::Tensor offset_view = base.narrow(0, 3, 2);                      // contiguous rows 3..4
  ASSERT_FALSE(transposed.is_contiguous());
  ASSERT_FALSE(strided.is_contiguous());
  ASSERT_FALSE(broadcast.is_contiguous());
  write_safetensors(dir / "v.safetensors", {{"transposed", transposed, {}},
                                            {"strided", strided, {}},
                                            {"broadcast", broadcast, {}},
                                            {"offset_view", offset_view, {}}});

  const auto file = SafetensorsFile::open(dir / "v.safetensors");
  EXPECT_TRUE(at::equal(file->tensor("transposed"), transposed));
  EXPECT_TRUE(at::equal(file->tensor("strided"), strided));
  EXPECT_TRUE(at::equal(file->tensor("broadcast"), broadcast));
  EXPECT_TRUE(at::equal(file->tensor("offset_view"), offset_view));
  EXPECT_EQ(file->info("broadcast").end - file->info("broadcast").begin, 4u * 8u * 4u);
}

TEST(SafetensorsWriter, ScalarsAndEmptyTensors) {
  TempDir dir;
  const at::Tensor scalar = at::scalar_tensor(2.5, at::kFloat);  // shape []
  const at::Tensor empty = at::zeros({0, 4}, at::kHalf);
  write_safetensors(dir / "s.safetensors", {{"scalar", scalar, {}}, {"empty", empty, {}}, {"after", at::ones({2}), {}}});

  const auto file = SafetensorsFile::open(dir / "s.safetensors");
  EXPECT_TRUE(file->info("scalar").shape.empty());
  EXPECT_EQ(file->tensor("scalar").dim(), 0);
  EXPECT_EQ(file->tensor("scalar").item<float>(), 2.5f);
  EXPECT_EQ(file->tensor("empty").sizes(), at::IntArrayRef({0, 4}));
  EXPECT_EQ(file->tensor("empty").scalar_type(), at::kHalf);
  EXPECT_TRUE(at::equal(file->tensor("after"), at::ones({2})));
}

TEST(SafetensorsWriter, RejectsDuplicateReservedAndUnsupportedTensors) {
  TempDir dir;
  const auto path = dir / "bad.safetensors";
  EXPECT_THAT(error_message_of([&] { write_safetensors(path, {{"w", at::ones({1}), {}}, {"w", at::ones({1}), {}}}); }),
              HasSubstr(path.string() + ": cannot write tensor 'w': the name appears more than once"));
  EXPECT_THAT(error_message_of([&] { write_safetensors(path, {{"__metadata__", at::ones({1}), {}}}); }),
              HasSubstr("the name is reserved"));
  EXPECT_THAT(error_message_of([&] { write_safetensors(path, {{"d", at::ones({1}, at::kDouble), {}}}); }),
              HasSubstr("cannot write tensor 'd': tensors of type Double have no safetensors dtype"));
  EXPECT_THAT(error_message_of([&] { write_safetensors(path, {{"u", at::Tensor(), {}}}); }),
              HasSubstr("the tensor is undefined"));
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(SafetensorsWriter, UnwritableFolderIsReported) {
  TempDir dir;
  const auto path = dir / "no_such_folder" / "w.safetensors";
  EXPECT_THAT(error_message_of([&] { write_safetensors(path, {{"w", at::ones({1}), {}}}); }),
              HasSubstr(path.string() + ": cannot create"));
}

}  // namespace
}  // namespace dcomp::io
