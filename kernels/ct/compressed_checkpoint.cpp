// reference: compressed-tensors compressors/model_compressors/model_compressor.py
// (from_compression_config / decompress_model) and quantization/lifecycle/apply.py
// (which scheme applies to a module).
#include "kernels/ct/compressed_checkpoint.hpp"

#include "kernels/ct/activation_quantizer.hpp"

#include <ATen/ATen.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "kernels/ct/compression_format.hpp"
#include "kernels/ct/fp8_block_checkpoint.hpp"
#include "kernels/quant/element_formats.hpp"
#include "kernels/json/bounded_json.hpp"
#include "kernels/ct/linear_decoding.hpp"

namespace dcomp::ct {
namespace {

nlohmann::json read_config(const std::filesystem::path& model_dir) {
  const std::filesystem::path path = model_dir / "config.json";
  std::ifstream stream(path);
  if (!stream) throw DecodingError(path.string() + ": cannot open: " + std::strerror(errno));
  try {
    return json_input::parse_bounded_json(json_input::read_bounded_text(stream, path.string(), json_input::kMaxConfigJsonBytes), path.string());
  } catch (const json_input::JsonLimitError& error) {
    throw DecodingError(error.what());
  } catch (const nlohmann::json::exception& error) {
    throw DecodingError(path.string() + ": invalid JSON: " + error.what());
  }
}

bool config_has_quantization(const nlohmann::json& config) {
  return config.is_object() && config.contains("quantization_config") && !config.at("quantization_config").is_null();
}

}  // namespace

CompressedCheckpoint::CompressedCheckpoint(const std::filesystem::path& model_dir)
    : directory_(model_dir), reader_(model_dir) {
  const nlohmann::json config = read_config(model_dir);
  has_quantization_config_ = config_has_quantization(config);
  if (has_quantization_config_) {
    config_ = QuantizationConfig::from_json(config.at("quantization_config"),
                                            (model_dir / "config.json").string() + ": quantization_config");
  }
}

std::string CompressedCheckpoint::format_of(const std::string& module_name) const {
  return config_.format_for(module_name);
}

model::LinearWeights CompressedCheckpoint::load_linear(const std::string& module_name) const {
  const std::string format = format_of(module_name);
  if (!is_supported_format(format) && format != format::kSparse24Bitmask) {
    throw DecodingError((directory_ / "config.json").string() + ": Linear \"" + module_name + "\" is stored as \"" +
                        format + "\", which is not supported (supported: dense, pack-quantized, int-quantized, "
                        "float-quantized, naive-quantized, nvfp4-pack-quantized, mxfp4-pack-quantized, and the "
                        "legacy sparse-24-bitmask)");
  }
  const auto* group = config_.group_for(module_name);
  const quant::QuantizationArgs* weight_args = group && group->second.weights ? &*group->second.weights : nullptr;
  quant::ElementFormat stored_element = quant::ElementFormat::Int;
  const quant::GroupScaleLayout* stored_layout = quant::group_scale_layout_of_format(format, &stored_element);
  if (stored_layout != nullptr && (!weight_args || weight_args->element_format() != stored_element)) {
    throw DecodingError((directory_ / "config.json").string() + ": Linear \"" + module_name + "\" is stored as \"" +
                        format + "\", but its config group " +
                        (weight_args ? "quantizes it to " + std::to_string(weight_args->num_bits) + "-bit " +
                                           quant::to_string(weight_args->type)
                                     : std::string("does not quantize its weights")) +
                        "; the format holds " + quant::element_format_traits(stored_element).name + " weights");
  }

  model::LinearWeights weights;
  weights.weight = decode_linear_weight(reader_, module_name, weight_args);
  if (group && group->second.input_activations) {
    const auto& input_args = *group->second.input_activations;
    at::Tensor input_scale, input_zero_point, input_global_scale;
    if (input_args.local_dynamic) {
      const std::string global_name = module_name + ".input_global_scale";
      if (!reader_.contains(global_name)) {
        throw DecodingError(reader_.directory().string() + ": Linear \"" + module_name +
                            "\" declares NVFP4 input activations but has no " + global_name);
      }
      input_global_scale = reader_.load(global_name).to(at::kFloat);
    } else if (!input_args.dynamic) {
      const std::string scale_name = module_name + ".input_scale";
      if (!reader_.contains(scale_name)) {
        throw DecodingError(reader_.directory().string() + ": Linear \"" + module_name +
                            "\" declares static input activations but has no " + scale_name);
      }
      input_scale = reader_.load(scale_name).to(at::kFloat);
      if (reader_.contains(module_name + ".input_zero_point")) {
        input_zero_point = reader_.load(module_name + ".input_zero_point");
      }
    }
    weights.input_quantizer = make_input_quantizer(input_args, input_scale, input_zero_point, input_global_scale);
  }
  const std::string bias_name = module_name + ".bias";
  if (reader_.contains(bias_name)) {
    weights.bias = model::to_owned_fp32(reader_.load(bias_name), bias_name, reader_.file_of(bias_name).string());
  }
  // The Linear is decoded into owned tensors: its file pages leave this process, as the
  // pipeline's own reader drops each layer's (a streamed run stays at one layer).
  reader_.release_prefix(module_name + ".");
  return weights;
}

model::LinearLoader linear_loader_for(const std::filesystem::path& model_dir) {
  auto checkpoint = std::make_shared<const CompressedCheckpoint>(model_dir);
  return [checkpoint](const std::string& module_name) { return checkpoint->load_linear(module_name); };
}

model::LinearLoader make_linear_loader(const std::filesystem::path& model_dir) {
  const nlohmann::json config = read_config(model_dir);
  if (!config_has_quantization(config)) return {};
  const std::string where = (model_dir / "config.json").string();
  if (const auto fp8 = fp8_block_format(config.at("quantization_config"), where)) {
    return fp8_block_linear_loader(model_dir, *fp8);
  }
  return linear_loader_for(model_dir);
}

}  // namespace dcomp::ct
