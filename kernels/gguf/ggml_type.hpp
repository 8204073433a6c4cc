// ggml's tensor element types as GGUF numbers them, with the block layout of the
// ones whose size is known here.
// reference: enum ggml_type and the type_traits table in ggml/src/ggml.c
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace dcomp::gguf {

enum class GgmlType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22, IQ4_XS = 23,
  I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30, TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39,
};

/// The block of a type: `elements` values stored in `bytes` bytes.
struct GgmlBlock {
  int64_t elements = 1;
  int64_t bytes = 0;
};

/// The type for a GGUF type number; nullopt for a number ggml does not define.
std::optional<GgmlType> ggml_type_from_number(uint32_t number);
/// "Q4_1", "BF16", ...
std::string ggml_type_name(GgmlType type);
/// The block layout; nullopt for the types whose layout dcomp does not carry (the IQ and
/// ternary families, MXFP4), which it cannot convert either.
std::optional<GgmlBlock> ggml_block(GgmlType type);
/// True for the types dequantize_ggml accepts: F32, F16, BF16, Q8_0, Q4_0, Q4_1.
bool ggml_type_is_convertible(GgmlType type);

}  // namespace dcomp::gguf
