// A real model (TinyStories-656K) quantized round-to-nearest here, written as a
// compressed-tensors checkpoint, and loaded back through the model loader hook:
// the loaded weights equal the dequantized ones and the logits equal those of the
// same model assembled in memory, whose dynamic input activations (W8A8, FP8_DYNAMIC) are
// quantized per token by plain brute-force references.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/ct/checkpoint_writer.hpp"
#include "kernels/ct/compressed_checkpoint.hpp"
#include "kernels/ct/quantization_config.hpp"
#include "kernels/io/safetensors.hpp"
#include "kernels/model/causal_lm.hpp"
#include "tests/ct/ct_test_support.hpp"
#include "tests/ct/e4m3_reference.hpp"
#include "tests/support/shared_data.hpp"

namespace dcomp::ct {
namespace {

class CompressedModel : public ::testing::TestWithParam<std::string> {};

/// Dynamic per-token symmetric int8, written plainly: each token's scale is
/// absmax / 127.5; values round half to even and clamp to [-128, 127].
at::Tensor plain_per_token_int8(const at::Tensor& x) {
  at::Tensor flat = x.reshape({-1, x.size(-1)}).contiguous();
  at::Tensor out = at::empty_like(flat);
  for (int64_t t = 0; t < flat.size(0); ++t) {
    float absmax = 0.0f;
    for (int64_t i = 0; i < flat.size(1); ++i) absmax = std::max(absmax, std::abs(flat[t][i].item<float>()));
    float scale = absmax / 127.5f;
    if (scale == 0.0f) scale = std::numeric_limits<float>::epsilon();
    for (int64_t i = 0; i < flat.size(1); ++i) {
      float q = std::nearbyint(flat[t][i].item<float>() / scale);
      q = std::min(127.0f, std::max(-128.0f, q));
      out[t][i] = q * scale;
    }
  }
  return out.reshape(x.sizes());
}

/// Dynamic per-token FP8 E4M3, written plainly: each token's scale is absmax / 448; x / scale
/// is clamped to ±448 and rounded to the nearest E4M3 value (ties to even), then times the scale.
at::Tensor plain_per_token_fp8(const at::Tensor& x) {
  static const std::vector<double> grid = e4m3_magnitudes();
  at::Tensor flat = x.reshape({-1, x.size(-1)}).contiguous();  // [tokens, in]
  at::Tensor out = at::empty_like(flat);
  const auto in = flat.accessor<float, 2>();
  auto result = out.accessor<float, 2>();
  for (int64_t t = 0; t < flat.size(0); ++t) {
    float absmax = 0.0f;
    for (int64_t i = 0; i < flat.size(1); ++i) absmax = std::max(absmax, std::abs(in[t][i]));
    float scale = absmax / 448.0f;
    if (scale == 0.0f) scale = std::numeric_limits<float>::epsilon();
    for (int64_t i = 0; i < flat.size(1); ++i) {
      const float scaled = std::min(448.0f, std::max(-448.0f, in[t][i] / scale));
      result[t][i] = static_cast<float>(e4m3_reference(scaled, /*toward_zero=*/false, grid)) * scale;
    }
  }
  return out.reshape(x.sizes());
}

TEST_P(CompressedModel, LoadsThroughTheLinearLoaderHook) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  const std::filesystem::path source = data / "tinystories-656k";
  testing::ScratchDir scratch;
  const std::filesystem::path output = scratch.path() / "compressed";

  const quant::QuantizationScheme scheme = [&] {
    if (GetParam() == "W4A16_G32") {
      auto preset = quant::preset_scheme("W4A16", {"Linear"});
      preset.weights->group_size = 32;
      return preset;
    }
    return quant::preset_scheme(GetParam(), {"Linear"});
  }();

  const model::CausalLM original = model::CausalLM::load(source);
  std::vector<model::DecoderLayerWeights> dequantized_layers;
  {
    CheckpointWriter writer(output, source);
    const io::CheckpointReader reader(source);
    for (const std::string& name : reader.names()) {
      if (name.find("_proj.") == std::string::npos) writer.add_tensor(name, reader.load(name));
    }
    for (int64_t index = 0; index < original.num_layers(); ++index) {
      model::DecoderLayerWeights layer = original.layer(index);
      for (const std::string& linear : layer.linear_names()) {
        testing::RtnWeight quantized = testing::quantize_rtn(layer.linear(linear).weight, *scheme.weights);
        quantized.compressed.input_args = scheme.input_activations;
        writer.add_compressed_linear("model.layers." + std::to_string(index) + "." + linear, quantized.compressed);
        layer.linear(linear).weight = quantized.dequantized;
        if (scheme.input_activations) {
          layer.linear(linear).input_quantizer =
              scheme.input_activations->type == quant::QuantType::Float ? plain_per_token_fp8 : plain_per_token_int8;
        }
      }
      dequantized_layers.push_back(layer);
    }
    writer.finish(build_quantization_config({{"group_0", scheme}}, {"lm_head"}));
  }

  EXPECT_FALSE(make_linear_loader(source));  // plain checkpoint: the model's own loader
  EXPECT_THROW(model::CausalLM::load(output), model::ModelConfigError);
  const model::CausalLM loaded = model::CausalLM::load(output, make_linear_loader(output));
  for (int64_t index = 0; index < loaded.num_layers(); ++index) {
    for (const std::string& linear : loaded.layer(index).linear_names()) {
      EXPECT_TRUE(loaded.layer(index).linear(linear).weight.equal(dequantized_layers[index].linear(linear).weight))
          << "layer " << index << " " << linear;
    }
  }
  model::CausalLM reference = model::CausalLM::load(source);
  for (int64_t index = 0; index < reference.num_layers(); ++index) {
    reference.set_layer(index, dequantized_layers[static_cast<size_t>(index)]);
  }
  const at::Tensor tokens = at::tensor(std::vector<int64_t>{1, 403, 407, 261, 378, 11, 280, 1133}, at::kLong).unsqueeze(0);
  const at::Tensor logits = loaded.forward(tokens);
  EXPECT_TRUE(logits.equal(reference.forward(tokens)));
  // Quantization changed the model, but not beyond recognition.
  const double drift = (logits - original.forward(tokens)).abs().max().item<double>();
  EXPECT_GT(drift, 0.0);
  EXPECT_LT(drift, 5.0);
}

INSTANTIATE_TEST_SUITE_P(Schemes, CompressedModel, ::testing::Values("W4A16_G32", "W8A8", "W8A16", "FP8_DYNAMIC"));

}  // namespace
}  // namespace dcomp::ct
