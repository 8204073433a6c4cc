// Dense bit packing of signed integer codes into int32 words, as compressed-tensors
// stores pack-quantized weights (along dim 1) and their zero points (along dim 0).
//
// Layout: each code q of a b-bit row is stored unsigned, u = q + 2^(b-1), and element
// i of a row occupies the row's bit positions [i*b, i*b + b), least significant bit
// first: word i*b/32, bit offset i*b%32; a value may straddle two words (b = 3, 5, 6, 7).
// A row of n codes takes ceil(n*b/32) words; the last word's unused high bits are 0.
// For b = 1, 2, 4, 8 this equals the older "32/b values per word" layout.
//
// reference: compressed-tensors src/compressed_tensors/compressors/pack_quantized/helpers.py
// (pack_to_int32 / unpack_from_int32, dense packing since v0.17.0).
#pragma once

#include <cstdint>

#include <ATen/core/Tensor.h>

namespace dcomp::quant {

/// Words needed for `count` codes of `bits` bits: ceil(count * bits / 32).
int64_t packed_word_count(int64_t count, int bits);

/// codes [rows, cols] (int8, or any integer dtype) with values in
/// [-2^(bits-1), 2^(bits-1) - 1] → int32 [rows, ceil(cols*bits/32)], packed along dim 1.
/// Throws std::invalid_argument for bits outside 1..8, a non-2-D or non-integer
/// tensor, or a code out of range (naming its row and column).
at::Tensor pack_to_int32(const at::Tensor& codes, int bits);

/// packed int32 [rows, ceil(cols*bits/32)] → int8 [rows, cols] codes. Throws
/// std::invalid_argument when the word count does not match `cols`.
at::Tensor unpack_from_int32(const at::Tensor& packed, int bits, int64_t cols);

/// Packing along dim 0 (zero points): codes [rows, cols] → int32 [ceil(rows*bits/32), cols],
/// i.e. transpose, pack_to_int32, transpose.
at::Tensor pack_rows_to_int32(const at::Tensor& codes, int bits);

/// Inverse of pack_rows_to_int32: int32 [ceil(rows*bits/32), cols] → int8 [rows, cols].
at::Tensor unpack_rows_from_int32(const at::Tensor& packed, int bits, int64_t rows);

}  // namespace dcomp::quant
