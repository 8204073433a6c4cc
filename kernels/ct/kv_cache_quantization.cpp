// reference: compressed-tensors quantization/lifecycle/forward.py (forward_quantize),
// modeling/kvcache.py (QuantizedKVCache.update: the states are quantized, then attended over).
#include "kernels/ct/kv_cache_quantization.hpp"

#include <ATen/ATen.h>

#include <cmath>
#include <string>

#include "kernels/ct/compressed_checkpoint.hpp"
#include "kernels/ct/fp8_block_checkpoint.hpp"
#include "kernels/ct/linear_decoding.hpp"
#include "kernels/io/safetensors.hpp"
#include "kernels/io/layer_names.hpp"
#include "kernels/quant/element_formats.hpp"

namespace dcomp::ct {

void attach_kv_cache_quantization(model::CausalLM& model, const std::filesystem::path& model_dir,
                                  KvCacheRounding rounding) {
  const nlohmann::json& raw = model.config().raw;
  if (raw.contains("quantization_config") &&
      fp8_block_format(raw.at("quantization_config"), (model_dir / "config.json").string())) {
    return;  // an FP8 block release: its KV cache is not quantized by the checkpoint
  }
  const CompressedCheckpoint checkpoint(model_dir);
  if (!checkpoint.has_quantization_config()) return;
  const nlohmann::json& scheme = checkpoint.quantization_config().kv_cache_scheme;
  if (scheme.is_null()) return;
  const std::string config_file = (model_dir / "config.json").string();
  if (model.config().latent_attention) {
    // vLLM caches MLA's compressed latent: per-head k_scale/v_scale describe no cache it keeps.
    throw DecodingError(config_file + ": quantization_config.kv_cache_scheme is not supported for " +
                        model::architecture_name(model.config().architecture) +
                        ": its multi-head latent attention caches the compressed latent, not per-head keys and values");
  }
  quant::QuantizationArgs args;
  try {
    args = quant::args_from_json(scheme, "quantization_config.kv_cache_scheme");
  } catch (const quant::QuantConfigError& error) {
    throw DecodingError(config_file + ": " + error.what());
  }
  if (args.dynamic || args.resolved_strategy() != quant::Strategy::Tensor ||
      args.element_format() != quant::ElementFormat::Fp8E4m3 || !args.traits().takes_bits(args.num_bits)) {
    throw DecodingError(config_file + ": kv_cache_scheme: only static per-tensor FP8 KV caches (k_scale / v_scale) "
                        "can be applied");
  }
  const io::CheckpointReader reader(model_dir);
  const auto scale_of = [&](const std::string& name) {
    if (!reader.contains(name)) {
      throw DecodingError(model_dir.string() + ": the config declares a kv_cache_scheme, but tensor \"" + name +
                          "\" is missing");
    }
    const at::Tensor scale = reader.load(name).to(at::kFloat).reshape({-1});
    if (scale.numel() != 1 || !std::isfinite(scale.item<float>()) || !(scale.item<float>() > 0.0f)) {
      throw DecodingError(reader.file_of(name).string() + ": tensor \"" + name +
                          "\": expected one finite positive scale");
    }
    return scale.clone();
  };
  for (int64_t layer = 0; layer < model.num_layers(); ++layer) {
    model::DecoderLayerWeights weights = model.layer(layer);
    const std::string prefix = io::layer_module_name(layer, weights.layout->attention_module + ".");
    weights.key_quantizer = make_kv_cache_quantizer(scale_of(prefix + "k_scale"), rounding);
    weights.value_quantizer = make_kv_cache_quantizer(scale_of(prefix + "v_scale"), rounding);
    model.set_layer(layer, std::move(weights));
  }
}

model::CausalLM load_deployed_model(const std::filesystem::path& model_dir, KvCacheRounding kv_cache_rounding) {
  model::CausalLM model = model::CausalLM::load(model_dir, make_linear_loader(model_dir));
  attach_kv_cache_quantization(model, model_dir, kv_cache_rounding);
  return model;
}

}  // namespace dcomp::ct
