// Reading a compressed-tensors checkpoint (config.json with a quantization_config,
// written by this engine, llm-compressor or any compressed-tensors version) as fp32
// Linear weights for the model code.
//
// Usage with the model loader:
//   model::CausalLM::load(dir, ct::make_linear_loader(dir));
// make_linear_loader returns an empty loader (plain safetensors) when config.json has no
// quantization_config, so the same call loads compressed and uncompressed models.
//
// reference: transformers quantizers/quantizer_compressed_tensors.py and
// compressed-tensors ModelCompressor.decompress_model (what loading a compressed
// checkpoint means: dequantized weights in place of the compressed tensors).
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "kernels/ct/quantization_config.hpp"
#include "kernels/io/safetensors.hpp"
#include "kernels/model/linear.hpp"
#include "kernels/model/weight_loading.hpp"

namespace dcomp::ct {

class CompressedCheckpoint {
 public:
  /// Opens `model_dir` (config.json and its safetensors). Throws DecodingError for an
  /// unreadable config.json and quant::QuantConfigError for an invalid quantization_config.
  explicit CompressedCheckpoint(const std::filesystem::path& model_dir);

  const std::filesystem::path& directory() const { return directory_; }
  /// True when config.json carries a (non-null) quantization_config.
  bool has_quantization_config() const { return has_quantization_config_; }
  /// The parsed quantization_config (no groups when there is none).
  const QuantizationConfig& quantization_config() const { return config_; }
  const io::CheckpointReader& reader() const { return reader_; }

  /// The storage format of Linear `module_name` per the config ("dense" when unquantized).
  std::string format_of(const std::string& module_name) const;

  /// The weight ([out, in] fp32, dequantized) and bias ([out] fp32, undefined when absent)
  /// of Linear `module_name`. Throws DecodingError naming the file and tensor when the
  /// module's format is not supported or its tensors are inconsistent.
  model::LinearWeights load_linear(const std::string& module_name) const;

 private:
  std::filesystem::path directory_;
  bool has_quantization_config_ = false;
  QuantizationConfig config_;
  io::CheckpointReader reader_;
};

/// A Linear loader that dequantizes from the compressed checkpoint in `model_dir` (it
/// keeps its own reader open for as long as the loader lives).
model::LinearLoader linear_loader_for(const std::filesystem::path& model_dir);

/// linear_loader_for(model_dir) when config.json has a compressed-tensors quantization_config,
/// fp8_block_linear_loader when it has an FP8 block one (quant_method "fp8",
/// fp8_block_checkpoint.hpp), otherwise an empty loader (the model code then reads plain
/// safetensors).
model::LinearLoader make_linear_loader(const std::filesystem::path& model_dir);

}  // namespace dcomp::ct
