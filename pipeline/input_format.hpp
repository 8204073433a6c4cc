// How the input checkpoint of a one-shot run stores its Linears (dense, an FP8 block release, a
// compressed-tensors checkpoint), and the loader that reads each of them as fp32.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "kernels/ct/fp8_block_checkpoint.hpp"
#include "kernels/model/checkpoint_validation.hpp"
#include "kernels/model/model_config.hpp"
#include "kernels/model/weight_loading.hpp"

namespace dcomp::pipeline {

// How the input checkpoint stores its Linears, and the loader that reads them as fp32.
struct InputFormat {
  std::string name = "dense";     // for the report
  model::LinearLoader linear_loader;  // empty: plain safetensors
  std::optional<model::Fp8BlockFormat> fp8_blocks;
  model::CompressedLinearTest compressed_linear;  // compressed-tensors input: which Linears are compressed
};

/// A plain checkpoint, an FP8 block release (DeepSeek-V3, Kimi-K2, the Qwen3 -FP8 models) or a
/// compressed-tensors checkpoint, read one Linear at a time and dequantized or decompressed.
/// Other quantized inputs are refused by name.
InputFormat input_format_of(const model::ModelConfig& config, const std::filesystem::path& model_dir);

}  // namespace dcomp::pipeline
