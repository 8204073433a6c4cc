// The dtype table: names, element sizes and LibTorch types of the safetensors dtypes.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "kernels/io/safetensors.hpp"
#include "tests/io/io_test_support.hpp"

namespace dcomp::io {
namespace {

using ::testing::HasSubstr;
using testing::error_message_of;

struct ExpectedDType {
  DType dtype;
  const char* name;  // as spelled by the safetensors spec
  size_t size;       // bytes per element, from the spec
  at::ScalarType scalar_type;
};

// The spec's names and sizes (huggingface/safetensors, Dtype::size).
const ExpectedDType kExpected[] = {
    {DType::F32, "F32", 4, at::kFloat},      {DType::F16, "F16", 2, at::kHalf},
    {DType::BF16, "BF16", 2, at::kBFloat16}, {DType::F8_E4M3, "F8_E4M3", 1, at::kByte},
    {DType::I8, "I8", 1, at::kChar},         {DType::I16, "I16", 2, at::kShort},
    {DType::I32, "I32", 4, at::kInt},        {DType::I64, "I64", 8, at::kLong},
    {DType::U8, "U8", 1, at::kByte},         {DType::BOOL, "BOOL", 1, at::kBool},
};

TEST(SafetensorsDType, NamesSizesAndScalarTypesFollowTheSpec) {
  for (const ExpectedDType& expected : kExpected) {
    SCOPED_TRACE(expected.name);
    EXPECT_EQ(dtype_from_name(expected.name), expected.dtype);
    EXPECT_EQ(dtype_name(expected.dtype), expected.name);
    EXPECT_EQ(dtype_size(expected.dtype), expected.size);
    EXPECT_EQ(dtype_to_scalar_type(expected.dtype), expected.scalar_type);
    EXPECT_EQ(static_cast<size_t>(at::elementSize(expected.scalar_type)), expected.size);
  }
}

TEST(SafetensorsDType, NaturalDTypeOfEachTensorType) {
  EXPECT_EQ(dtype_of(at::zeros({1}, at::kFloat)), DType::F32);
  EXPECT_EQ(dtype_of(at::zeros({1}, at::kHalf)), DType::F16);
  EXPECT_EQ(dtype_of(at::zeros({1}, at::kBFloat16)), DType::BF16);
  EXPECT_EQ(dtype_of(at::zeros({1}, at::kChar)), DType::I8);
  EXPECT_EQ(dtype_of(at::zeros({1}, at::kShort)), DType::I16);
  EXPECT_EQ(dtype_of(at::zeros({1}, at::kInt)), DType::I32);
  EXPECT_EQ(dtype_of(at::zeros({1}, at::kLong)), DType::I64);
  EXPECT_EQ(dtype_of(at::zeros({1}, at::kByte)), DType::U8);
  EXPECT_EQ(dtype_of(at::zeros({1}, at::kBool)), DType::BOOL);
}

TEST(SafetensorsDType, UnknownNameIsRejected) {
  const std::string message = error_message_of([] { dtype_from_name("F64"); });
  EXPECT_THAT(message, HasSubstr("unknown dtype 'F64'"));
  EXPECT_THAT(message, HasSubstr("F8_E4M3"));  // lists the known names
  EXPECT_THAT(error_message_of([] { dtype_from_name("f32"); }), HasSubstr("unknown dtype 'f32'"));
}

TEST(SafetensorsDType, TensorTypeWithoutSafetensorsDTypeIsRejected) {
  EXPECT_THAT(error_message_of([] { dtype_of(at::zeros({1}, at::kDouble)); }), HasSubstr("Double"));
}

}  // namespace
}  // namespace dcomp::io
