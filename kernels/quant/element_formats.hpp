// The element formats a quantized tensor's codes can have (INT b-bit, FP8 E4M3, FP4 E2M1) and
// one table of their traits: width, integer or float, value range, how a code is encoded and
// decoded, which scale layouts the format allows (scales in the model dtype, or groups with
// scales of their own dtype: NVFP4, MXFP4), how a checkpoint packs the codes, and the
// compressed-tensors format names that store them. Code that depends on the element format
// asks this table instead of testing type / num_bits itself; a new format is a new row.
//
// The scalar arithmetic of quantizing to these formats stays in QuantGrid (quant_grid.hpp),
// which tests ElementFormat per value and calls the codecs inline (no indirect call in its loops).
//
// Adding a format: a new layout of an existing element (e.g. E4M3 elements in groups of 32 with
// E8M0 scales) is one GroupScaleLayout in that element's row; a new element is one row, its
// ElementFormat value, a codec header and its case in QuantGrid::code / value.
//
// reference: ggml's type_traits table (ggml/src/ggml.c: one row per tensor type with its block
// size, type size, to_float and from_float); compressed-tensors quantization/quant_args.py
// (FP8_E4M3_DATA, FP4_E2M1_DATA), quantization/utils/helpers.py (calculate_range),
// compressors/format.py; OCP Microscaling Formats (MX) v1.0, section 5 (element and scale types).
#pragma once

#include <cstdint>

#include "kernels/quant/fp4_e2m1.hpp"
#include "kernels/quant/fp8_e4m3.hpp"
#include "kernels/quant/quant_args.hpp"

namespace dcomp::quant {

/// How a compressed-tensors checkpoint stores a weight's codes.
enum class CodePacking : uint8_t {
  Int32Words,      // pack-quantized: b-bit integers, 32/b to an int32 word along the input dimension
  Fp8Bytes,        // float-quantized: one E4M3 bit pattern per byte (F8_E4M3)
  Fp4NibblePairs,  // nvfp4-/mxfp4-pack-quantized: two E2M1 codes per byte, the even column in the low nibble
};

/// A layout whose groups of input columns carry scales of a dtype of their own (not the model's).
struct GroupScaleLayout {
  const char* name;                // "NVFP4", "MXFP4"
  Strategy strategy;               // TensorGroup (groups plus one global scale) or Group
  int group_size;                  // input columns per scale
  ScaleDType scale_dtype;          // how each group scale is rounded and stored
  bool global_scale;               // one FP32 scale per tensor divides the group scales (NVFP4)
  const char* compression_format;  // the compressed-tensors format that stores it
};

/// The traits of one element format: one row of kElementFormatTable.
struct ElementFormatTraits {
  ElementFormat format;
  const char* name;         // "INT", "FP8", "FP4" (in messages)
  const char* encoding;     // "" for INT, "E4M3", "E2M1"
  QuantType type;           // the `type` field of the quantization arguments
  int min_bits, max_bits;   // the `num_bits` it takes: INT 1..8, a float format its one width
  bool is_float;            // codes are bit patterns of floating-point values (symmetric only)
  at::ScalarType code_dtype;  // of a codes tensor: kChar (int8) for INT, kByte (bit patterns) for floats
  float max_value;          // largest magnitude of a float format (q_max = −q_min); 0 for INT
  /// The exponent of max_value (E4M3 8, E2M1 2): an E8M0 group scale is 2^(log2 absmax − this).
  int max_exponent;
  /// Value already clamped to ±max_value → code bits (float formats; INT codes are the
  /// rounded integers themselves: nullptr).
  uint8_t (*encode)(float value);
  /// Code bits → value (float formats; nullptr for INT).
  float (*decode)(uint8_t code);
  CodePacking packing;
  /// Whether scales in the model dtype (scale_dtype null) are allowed: INT and FP8 take any
  /// strategy but tensor_group; FP4 needs one of group_layouts.
  bool native_scales;
  const GroupScaleLayout* group_layouts;  // group_layout_count entries
  int group_layout_count;
  /// The compressed-tensors format of weights with native scales: without quantized input
  /// activations, and with them (nullptr where the format needs a group layout).
  const char* weight_only_format;
  const char* with_activations_format;

  bool takes_bits(int bits) const { return bits >= min_bits && bits <= max_bits; }
  /// Largest code value: 2^(bits−1) − 1 for INT, max_value for a float format.
  double q_max(int bits) const;
  /// Smallest code value: −2^(bits−1) for INT, −max_value for a float format.
  double q_min(int bits) const;
};

/// NVFP4: groups of 16 with FP8 E4M3 scales over one FP32 global scale; MXFP4: groups of 32
/// with E8M0 (power-of-two) scales.
inline constexpr GroupScaleLayout kFp4GroupLayouts[] = {
    {"NVFP4", Strategy::TensorGroup, 16, ScaleDType::Fp8E4m3, true, "nvfp4-pack-quantized"},
    {"MXFP4", Strategy::Group, 32, ScaleDType::E8M0, false, "mxfp4-pack-quantized"},
};

/// One row per ElementFormat, in its order. Columns: format, name, encoding, type, min_bits,
/// max_bits, is_float, code_dtype, max_value, max_exponent, encode, decode, packing,
/// native_scales, group_layouts, group_layout_count, weight_only_format, with_activations_format.
inline constexpr ElementFormatTraits kElementFormatTable[] = {
    {ElementFormat::Int, "INT", "", QuantType::Int, 1, 8, false, at::kChar, 0.0f, 0, nullptr, nullptr,
     CodePacking::Int32Words, true, nullptr, 0, "pack-quantized", "int-quantized"},
    {ElementFormat::Fp8E4m3, "FP8", "E4M3", QuantType::Float, 8, 8, true, at::kByte, kFp8E4m3Max, 8,
     fp8_e4m3_from_float, fp8_e4m3_to_float, CodePacking::Fp8Bytes, true, nullptr, 0, "naive-quantized",
     "float-quantized"},
    {ElementFormat::Fp4E2m1, "FP4", "E2M1", QuantType::Float, 4, 4, true, at::kByte, kFp4E2m1Max, 2,
     fp4_e2m1_from_float, fp4_e2m1_to_float, CodePacking::Fp4NibblePairs, false, kFp4GroupLayouts,
     static_cast<int>(sizeof kFp4GroupLayouts / sizeof kFp4GroupLayouts[0]), nullptr, nullptr},
};

inline constexpr int kElementFormatCount = static_cast<int>(sizeof kElementFormatTable / sizeof kElementFormatTable[0]);

/// The traits of `format` (a constant-time table lookup).
constexpr const ElementFormatTraits& element_format_traits(ElementFormat format) {
  return kElementFormatTable[static_cast<int>(format)];
}

/// The element format of `type` with `bits`: the first row of that type taking the width, else
/// the first row of that type (FP8 for a float width no format takes, which validation refuses).
ElementFormat element_format_of(QuantType type, int bits);

/// The group layout of `args` (strategy, group size and scale dtype all match one of its element
/// format's group layouts), or nullptr (scales in the model dtype, or an inconsistent layout).
const GroupScaleLayout* group_scale_layout(const QuantizationArgs& args);

/// The group layout stored by the compressed-tensors format `compression_format`, and the element
/// format of its codes; nullptr when no layout of any element format is stored by that name.
const GroupScaleLayout* group_scale_layout_of_format(const std::string& compression_format,
                                                     ElementFormat* element = nullptr);

/// The scale dtype a layout of `args`' element format stores when the config names none
/// (scale_dtype null): the dtype of the group layout with the same strategy and group size, else
/// Native.
ScaleDType default_scale_dtype(const QuantizationArgs& args);

/// "FP8 E4M3", "FP4 E2M1", "INT" (in messages).
std::string describe_element_format(ElementFormat format);

/// The widths the element formats of `type` take, as a message: "integer quantization needs
/// 1..8 bits", "float quantization supports 8 bits (FP8 E4M3) and 4 bits (FP4 E2M1)".
std::string element_widths(QuantType type);

}  // namespace dcomp::quant
