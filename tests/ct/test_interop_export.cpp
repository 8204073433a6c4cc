// Exports compressed-tensors checkpoints of TinyStories-656K in every format, with the
// logits dcomp computes from each, for tests/interop/check_transformers.sh to load with
// transformers + compressed-tensors and compare. Runs only when DCOMP_INTEROP_EXPORT_DIR
// names the folder to write into (Python is not a dependency of the unit tests).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "kernels/ct/checkpoint_writer.hpp"
#include "kernels/ct/compressed_checkpoint.hpp"
#include "kernels/ct/quantization_config.hpp"
#include "kernels/io/safetensors.hpp"
#include "kernels/model/causal_lm.hpp"
#include "tests/ct/ct_test_support.hpp"
#include "tests/support/shared_data.hpp"

namespace dcomp::ct {
namespace {

struct Variant {
  std::string name;
  std::optional<quant::QuantizationScheme> scheme;  // nullopt: 2:4 pruning only
  CheckpointWriterOptions options;
};

quant::QuantizationScheme with_group_size(quant::QuantizationScheme scheme, int group_size) {
  scheme.weights->group_size = group_size;
  return scheme;
}

std::vector<Variant> variants() {
  const auto preset = [](const std::string& name) { return quant::preset_scheme(name, {"Linear"}); };
  auto w4a16 = with_group_size(preset("W4A16"), 32);
  w4a16.weights->actorder = quant::ActOrder::Static;  // as GPTQ writes it
  auto w3a16 = with_group_size(preset("W4A16"), 32);
  w3a16.weights->num_bits = 3;
  auto fp8_static = preset("FP8");
  CheckpointWriterOptions bf16;
  bf16.model_dtype = at::kBFloat16;
  CheckpointWriterOptions small_shards;
  small_shards.max_shard_bytes = 300'000;
  return {
      {"w4a16_g32", w4a16, {}},
      {"w4a16_asym_g32", with_group_size(preset("W4A16_ASYM"), 32), {}},
      {"w3a16_g32", w3a16, {}},
      {"w8a16", preset("W8A16"), {}},
      {"w8a8", preset("W8A8"), {}},
      {"fp8", fp8_static, {}},
      {"fp8_dynamic", preset("FP8_DYNAMIC"), {}},
      {"w4a16_g32_bf16", w4a16, bf16},
      {"w4a16_g32_sharded", w4a16, small_shards},
      {"sparse_2of4_dense", std::nullopt, {}},
  };
}

// Keeps the 2 largest |w| of every 4 consecutive inputs.
at::Tensor prune_2_of_4(const at::Tensor& weight) {
  const at::Tensor groups = weight.reshape({-1, 4});
  const at::Tensor keep = at::zeros_like(groups, at::kBool).scatter_(1, std::get<1>(groups.abs().topk(2, 1)), true);
  return (groups * keep.to(at::kFloat)).reshape(weight.sizes());
}

void export_variant(const Variant& variant, const std::filesystem::path& source, const std::filesystem::path& root,
                    const at::Tensor& input_ids) {
  const std::filesystem::path output = root / variant.name;
  CheckpointWriterOptions options = variant.options;
  options.overwrite = true;
  {
    CheckpointWriter writer(output, source, options);
    const io::CheckpointReader reader(source);
    for (const std::string& name : reader.names()) {
      if (name.find("_proj.") == std::string::npos) writer.add_tensor(name, reader.load(name));
    }
    const model::CausalLM original = model::CausalLM::load(source);
    for (int64_t index = 0; index < original.num_layers(); ++index) {
      for (const std::string& linear : original.layer(index).linear_names()) {
        const std::string module = "model.layers." + std::to_string(index) + "." + linear;
        const at::Tensor& weight = original.layer(index).linear(linear).weight;
        quant::CompressedWeight compressed;
        if (variant.scheme) {
          compressed = testing::quantize_rtn(weight, *variant.scheme->weights).compressed;
          compressed.input_args = variant.scheme->input_activations;
          if (compressed.input_args && !compressed.input_args->dynamic) compressed.input_scale = at::full({1}, 0.05f);
        } else {
          compressed.effective_weight = prune_2_of_4(weight);
          compressed.sparsity_structure = "2:4";
        }
        writer.add_compressed_linear(module, compressed);
      }
    }
    if (variant.scheme) {
      writer.finish(build_quantization_config({{"group_0", *variant.scheme}}, {"lm_head"}));
    } else {
      writer.finish(nullptr, build_sparsity_config("2:4", 0.5, {"Linear"}, {"lm_head"}));
    }
  }
  const model::CausalLM loaded = model::CausalLM::load(output, make_linear_loader(output));
  const at::Tensor logits = loaded.forward(input_ids);
  io::write_safetensors(root / (variant.name + ".logits.safetensors"),
                        {{"input_ids", input_ids, std::nullopt}, {"logits", logits.contiguous(), std::nullopt}});
}

TEST(InteropExport, WritesCheckpointsAndLogits) {
  const char* export_dir = std::getenv("DCOMP_INTEROP_EXPORT_DIR");
  if (!export_dir || !*export_dir) {
    GTEST_SKIP() << "set DCOMP_INTEROP_EXPORT_DIR to export checkpoints for tests/interop/check_transformers.sh";
  }
  DCOMP_SHARED_DATA_OR_SKIP(data);
  const std::filesystem::path source = data / "tinystories-656k";
  const std::filesystem::path root(export_dir);
  std::filesystem::create_directories(root);
  at::manual_seed(2024);
  at::Tensor input_ids = at::randint(3, 2048, {2, 24}, at::kLong);
  input_ids.select(1, 0).fill_(1);  // BOS
  for (const Variant& variant : variants()) {
    SCOPED_TRACE(variant.name);
    export_variant(variant, source, root, input_ids);
  }
}

}  // namespace
}  // namespace dcomp::ct
