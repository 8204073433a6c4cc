// The compressed-tensors storage formats and how one is chosen for a quantized Linear.
//
// reference: compressed-tensors src/compressed_tensors/compressors/format.py
// (COMPRESSION_FORMAT_PRIORITY, flatten/infer model format) and the can_compress rules
// of compressors/{naive_quantized,pack_quantized}/base.py (v0.18.0 – v0.20.1).
#pragma once

#include <optional>
#include <set>
#include <string>

#include "kernels/quant/quant_args.hpp"

namespace dcomp::ct {

namespace format {
inline constexpr const char* kDense = "dense";
inline constexpr const char* kPackQuantized = "pack-quantized";
inline constexpr const char* kIntQuantized = "int-quantized";
inline constexpr const char* kFloatQuantized = "float-quantized";
inline constexpr const char* kNaiveQuantized = "naive-quantized";
inline constexpr const char* kNvfp4PackQuantized = "nvfp4-pack-quantized";
inline constexpr const char* kMxfp4PackQuantized = "mxfp4-pack-quantized";
inline constexpr const char* kMixedPrecision = "mixed-precision";
inline constexpr const char* kSparse24Bitmask = "sparse-24-bitmask";  // legacy sparsity format
}  // namespace format

/// The format compressed-tensors infers for a Linear with these arguments (the names come from the
/// element format table, kernels/quant/element_formats.hpp); the first rule that holds wins:
///   no weight quantization                                   → "dense"
///   FP4 weights in groups of 32 (MXFP4)                       → "mxfp4-pack-quantized"
///   FP4 weights in groups of 16 (NVFP4)                       → "nvfp4-pack-quantized"
///   INT weights and input activations quantized (W8A8, W4A8)  → "int-quantized"
///   INT weights of 1..8 bits, weight-only (W4A16, W8A16)      → "pack-quantized"
///   FP8 weights and input activations quantized (FP8, ...)    → "float-quantized"
///   any other quantized weights (e.g. FP8 weight-only)        → "naive-quantized"
std::string infer_module_format(const std::optional<quant::QuantizationArgs>& weights,
                                const std::optional<quant::QuantizationArgs>& input_activations);

/// The scheme's explicit `format` when set, else the inferred one.
std::string module_format(const quant::QuantizationScheme& scheme);

/// The model-level format over the formats of all quantized modules: "dense" when
/// there are none (dense entries are not counted), the format itself when there is
/// one, "mixed-precision" otherwise.
std::string model_format(const std::set<std::string>& module_formats);

/// True for the formats this engine writes and reads (dense, pack-, int-, float-, naive-quantized,
/// nvfp4-pack-quantized, mxfp4-pack-quantized).
bool is_supported_format(const std::string& name);

}  // namespace dcomp::ct
