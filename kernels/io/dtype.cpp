// The safetensors element types: names, sizes and their LibTorch counterparts.
// reference: https://github.com/huggingface/safetensors safetensors/src/tensor.rs (enum Dtype, Dtype::size)

#include <array>
#include <string>

#include <ATen/ATen.h>

#include "kernels/io/safetensors.hpp"

namespace dcomp::io {
namespace {

struct DTypeRow {
  DType dtype;
  const char* name;
  size_t size;
  at::ScalarType scalar_type;
};

// One row per DType, in enum order.
constexpr std::array<DTypeRow, 11> kDTypeTable{{
    {DType::F32, "F32", 4, at::kFloat},
    {DType::F16, "F16", 2, at::kHalf},
    {DType::BF16, "BF16", 2, at::kBFloat16},
    {DType::F8_E4M3, "F8_E4M3", 1, at::kByte},
    {DType::I8, "I8", 1, at::kChar},
    {DType::I16, "I16", 2, at::kShort},
    {DType::I32, "I32", 4, at::kInt},
    {DType::I64, "I64", 8, at::kLong},
    {DType::U8, "U8", 1, at::kByte},
    {DType::BOOL, "BOOL", 1, at::kBool},
    {DType::F8_E8M0, "F8_E8M0", 1, at::kByte},  // power-of-two scales (UE8M0), held as raw bytes
}};

const DTypeRow& row_of(DType dtype) {
  const auto index = static_cast<size_t>(dtype);
  if (index >= kDTypeTable.size()) {
    throw SafetensorsError("invalid DType value " + std::to_string(index));
  }
  return kDTypeTable[index];
}

std::string known_names() {
  std::string names;
  for (const DTypeRow& row : kDTypeTable) {
    if (!names.empty()) names += ", ";
    names += row.name;
  }
  return names;
}

}  // namespace

DType dtype_from_name(const std::string& name) {
  for (const DTypeRow& row : kDTypeTable) {
    if (name == row.name) return row.dtype;
  }
  throw SafetensorsError("unknown dtype '" + name + "' (known: " + known_names() + ")");
}

std::string dtype_name(DType dtype) { return row_of(dtype).name; }

size_t dtype_size(DType dtype) { return row_of(dtype).size; }

at::ScalarType dtype_to_scalar_type(DType dtype) { return row_of(dtype).scalar_type; }

DType dtype_of(const at::Tensor& tensor) {
  switch (tensor.scalar_type()) {
    case at::kFloat: return DType::F32;
    case at::kHalf: return DType::F16;
    case at::kBFloat16: return DType::BF16;
    case at::kChar: return DType::I8;
    case at::kShort: return DType::I16;
    case at::kInt: return DType::I32;
    case at::kLong: return DType::I64;
    case at::kByte: return DType::U8;
    case at::kBool: return DType::BOOL;
    default:
      throw SafetensorsError(std::string("tensors of type ") + c10::toString(tensor.scalar_type()) +
                             " have no safetensors dtype here (supported: " + known_names() + ")");
  }
}

}  // namespace dcomp::io
