#include "pipeline/input_format.hpp"

#include <memory>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "kernels/ct/compressed_checkpoint.hpp"
#include "kernels/ct/compression_format.hpp"

namespace dcomp::pipeline {
namespace {

// A compressed-tensors input (a Kimi-K2-Thinking INT4 release, an earlier dcomp or
// llm-compressor output): each Linear decompressed when its layer is read. The source's
// activation quantization is not simulated: the recipe decides the output's.
void read_compressed_tensors(InputFormat& input, const std::filesystem::path& model_dir) {
  auto checkpoint = std::make_shared<const ct::CompressedCheckpoint>(model_dir);
  std::set<std::string> formats;
  for (const auto& [name, group] : checkpoint->quantization_config().groups) {
    formats.insert(group.format ? *group.format : checkpoint->quantization_config().format);
  }
  std::string listed;
  for (const std::string& format : formats) listed += (listed.empty() ? "" : ", ") + format;
  input.name = "compressed-tensors" + (listed.empty() ? std::string() : " (" + listed + ")");
  input.linear_loader = [checkpoint](const std::string& module) {
    model::LinearWeights weights = checkpoint->load_linear(module);
    weights.input_quantizer = nullptr;
    return weights;
  };
  input.compressed_linear = [checkpoint](const std::string& module) {
    return checkpoint->format_of(module) != ct::format::kDense;
  };
}

}  // namespace

// A plain checkpoint, or an FP8 block release (DeepSeek-V3, Kimi-K2, the Qwen3 -FP8 models),
// read one Linear at a time and dequantized. Other quantized inputs are refused by name.
InputFormat input_format_of(const model::ModelConfig& config, const std::filesystem::path& model_dir) {
  InputFormat input;
  if (!config.has_quantization_config()) return input;
  const std::string where = (model_dir / "config.json").string();
  const nlohmann::json& quantization = config.raw.at("quantization_config");
  const auto fp8 = ct::fp8_block_format(quantization, where);
  const bool compressed_tensors = quantization.is_object() && quantization.contains("quant_method") &&
                                  quantization.at("quant_method") == "compressed-tensors";
  if (compressed_tensors) {
    read_compressed_tensors(input, model_dir);
    return input;
  }
  if (!fp8) {
    const std::string method =
        quantization.is_object() && quantization.contains("quant_method") ? quantization.at("quant_method").dump()
                                                                           : std::string("(none)");
    throw std::invalid_argument(where + ": the model is already quantized (quantization_config.quant_method " +
                                method + "); oneshot reads dense checkpoints, compressed-tensors "
                                "checkpoints and FP8 block releases "
                                "(quant_method \"fp8\" with weight_block_size)");
  }
  input.name = "fp8 blocks [" + std::to_string(fp8->block_rows) + ", " + std::to_string(fp8->block_columns) + "]";
  input.linear_loader = ct::fp8_block_linear_loader(model_dir, *fp8);
  input.fp8_blocks = *fp8;
  return input;
}

}  // namespace dcomp::pipeline
