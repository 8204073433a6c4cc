// FP8 block-quantized checkpoints as DeepSeek-V3 / R1, Kimi-K2 and the Qwen3 "-FP8" models are
// released: config.json's quantization_config is {"quant_method": "fp8", "fmt": "e4m3",
// "weight_block_size": [B0, B1], ...}; each quantized Linear stores `weight` (F8_E4M3
// [rows, cols]) and `weight_scale_inv` ([ceil(rows / B0), ceil(cols / B1)], F32 or BF16, or
// F8_E8M0 powers of two); its element (r, c) is e4m3(weight[r][c]) · weight_scale_inv[r / B0][c / B1]
// (integer division, so the blocks at the right and bottom edges may be partial: DeepSeek-V3's
// kv_a_proj_with_mqa has 576 rows). Linears the release leaves unquantized (lm_head, routers)
// are stored as BF16 and read as they are. Read one Linear at a time, so a model is never
// widened whole.
//
// reference: DeepSeek-V3 inference/kernel.py (weight_dequant) and inference/fp8_cast_bf16.py;
// vLLM model_executor/layers/quantization/fp8.py (block-quantized weights, weight_scale_inv);
// transformers FineGrainedFP8Config (quant_method "fp8", weight_block_size).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include "kernels/model/fp8_block_format.hpp"
#include "kernels/model/weight_loading.hpp"

namespace dcomp::ct {

using model::Fp8BlockFormat;

/// The format that config.json's `quantization_config` (the JSON object given) declares when
/// its quant_method is "fp8"; nullopt for any other quant_method. Throws DecodingError naming
/// `where` (the config file) for a malformed one: a weight_block_size that is not two positive
/// integers, a fmt other than "e4m3", or none at all (per-tensor FP8 is another format).
std::optional<Fp8BlockFormat> fp8_block_format(const nlohmann::json& quantization_config, const std::string& where);

/// codes: uint8 [rows, cols] E4M3 bit patterns; scale_inv: fp32 [ceil(rows / B0), ceil(cols / B1)]
/// → fp32 [rows, cols], element (r, c) = e4m3(codes[r][c]) · scale_inv[r / B0][c / B1], one fp32
/// product each. Throws DecodingError starting with `what` for a scale grid of another shape.
at::Tensor dequantize_fp8_blocks(const at::Tensor& codes, const at::Tensor& scale_inv, const Fp8BlockFormat& format,
                                 const std::string& what);

/// A Linear loader for the FP8 block checkpoint in `model_dir`: F8_E4M3 weights dequantized
/// with their weight_scale_inv, others read as stored; biases as stored. Throws DecodingError
/// naming the file and tensor for an F8 weight without its scales, scales of an unexpected
/// dtype or shape, or an E8M0 scale of 255 (NaN).
model::LinearLoader fp8_block_linear_loader(const std::filesystem::path& model_dir, const Fp8BlockFormat& format);

}  // namespace dcomp::ct
