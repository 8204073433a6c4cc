// reference: enum ggml_type and the type_traits table in ggml/src/ggml.c
#include "kernels/gguf/ggml_type.hpp"

#include <array>

namespace dcomp::gguf {
namespace {

struct GgmlTypeEntry {
  GgmlType type;
  const char* name;
  GgmlBlock block;  // bytes == 0: layout not carried
};

// Blocks: Q4_0 = f16 scale + 16 bytes of nibbles; Q4_1 = f16 scale + f16 minimum + 16
// bytes; Q5_0/Q5_1 add 4 bytes of high bits; Q8_0 = f16 scale + 32 int8; Q8_1 adds an
// f16 sum; the K-quants are super-blocks of 256.
constexpr std::array<GgmlTypeEntry, 32> kGgmlTypes{{
    {GgmlType::F32, "F32", {1, 4}},         {GgmlType::F16, "F16", {1, 2}},
    {GgmlType::Q4_0, "Q4_0", {32, 18}},     {GgmlType::Q4_1, "Q4_1", {32, 20}},
    {GgmlType::Q5_0, "Q5_0", {32, 22}},     {GgmlType::Q5_1, "Q5_1", {32, 24}},
    {GgmlType::Q8_0, "Q8_0", {32, 34}},     {GgmlType::Q8_1, "Q8_1", {32, 36}},
    {GgmlType::Q2_K, "Q2_K", {256, 84}},    {GgmlType::Q3_K, "Q3_K", {256, 110}},
    {GgmlType::Q4_K, "Q4_K", {256, 144}},   {GgmlType::Q5_K, "Q5_K", {256, 176}},
    {GgmlType::Q6_K, "Q6_K", {256, 210}},   {GgmlType::Q8_K, "Q8_K", {256, 292}},
    {GgmlType::IQ2_XXS, "IQ2_XXS", {1, 0}}, {GgmlType::IQ2_XS, "IQ2_XS", {1, 0}},
    {GgmlType::IQ3_XXS, "IQ3_XXS", {1, 0}}, {GgmlType::IQ1_S, "IQ1_S", {1, 0}},
    {GgmlType::IQ4_NL, "IQ4_NL", {1, 0}},   {GgmlType::IQ3_S, "IQ3_S", {1, 0}},
    {GgmlType::IQ2_S, "IQ2_S", {1, 0}},     {GgmlType::IQ4_XS, "IQ4_XS", {1, 0}},
    {GgmlType::I8, "I8", {1, 1}},           {GgmlType::I16, "I16", {1, 2}},
    {GgmlType::I32, "I32", {1, 4}},         {GgmlType::I64, "I64", {1, 8}},
    {GgmlType::F64, "F64", {1, 8}},         {GgmlType::IQ1_M, "IQ1_M", {1, 0}},
    {GgmlType::BF16, "BF16", {1, 2}},       {GgmlType::TQ1_0, "TQ1_0", {1, 0}},
    {GgmlType::TQ2_0, "TQ2_0", {1, 0}},     {GgmlType::MXFP4, "MXFP4", {1, 0}},
}};

const GgmlTypeEntry* entry_of(GgmlType type) {
  for (const auto& entry : kGgmlTypes)
    if (entry.type == type) return &entry;
  return nullptr;
}

}  // namespace

std::optional<GgmlType> ggml_type_from_number(uint32_t number) {
  for (const auto& entry : kGgmlTypes)
    if (static_cast<uint32_t>(entry.type) == number) return entry.type;
  return std::nullopt;
}

std::string ggml_type_name(GgmlType type) {
  const auto* entry = entry_of(type);
  return entry ? entry->name : "type " + std::to_string(static_cast<uint32_t>(type));
}

std::optional<GgmlBlock> ggml_block(GgmlType type) {
  const auto* entry = entry_of(type);
  if (!entry || entry->block.bytes == 0) return std::nullopt;
  return entry->block;
}

bool ggml_type_is_convertible(GgmlType type) {
  switch (type) {
    case GgmlType::F32: case GgmlType::F16: case GgmlType::BF16:
    case GgmlType::Q8_0: case GgmlType::Q4_0: case GgmlType::Q4_1:
      return true;
    default:
      return false;
  }
}

}  // namespace dcomp::gguf
