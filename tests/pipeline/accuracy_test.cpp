// Perplexity claims on TinyStories-656K (calibrated on the validation sample,
// evaluated on text/tinystories_sample.txt): GPTQ W4A16 g32 beats RTN W4A16 g32,
// W8A8 (with its dynamic int8 activations simulated) stays within 1% of the
// original, and SparseGPT 2:4 beats magnitude 2:4. bench/bench_accuracy prints the table.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>

#include "actors/oneshot_actors.hpp"
#include "kernels/ct/compressed_checkpoint.hpp"
#include "kernels/data/dataset.hpp"
#include "kernels/io/safetensors.hpp"
#include "kernels/model/causal_lm.hpp"
#include "kernels/model/perplexity.hpp"
#include "kernels/model/weight_loading.hpp"
#include "kernels/quant/magnitude_prune.hpp"
#include "kernels/tokenizer/tokenizer.hpp"
#include "support/shared_data.hpp"

namespace dcomp::pipeline {
namespace {

namespace fs = std::filesystem;

TEST(Accuracy, CompressionOrderingOnTinyStories) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  const fs::path model_dir = data / "tinystories-656k";
  const fs::path work = fs::temp_directory_path() / ("dcomp_accuracy_" + std::to_string(::getpid()));
  fs::remove_all(work);
  fs::create_directories(work);
  auto tokenizer = tok::Tokenizer::from_dir(model_dir);
  const auto tokens = data::load_token_stream(data / "text" / "tinystories_sample.txt", tokenizer);
  const int32_t bos = *tokenizer.bos_id();
  auto perplexity = [&](const model::CausalLM& m) { return model::evaluate_perplexity(m, tokens, bos, 256).perplexity; };
  auto comm = comm::make_single_communicator();
  auto compressed = [&](const std::string& name, const std::string& recipe) {
    std::ofstream(work / (name + ".yaml")) << recipe;
    OneshotOptions options;
    options.model = model_dir;
    options.recipe = (work / (name + ".yaml")).string();
    options.dataset = data / "text" / "tinystories_valid_sample.txt";
    options.num_calibration_samples = 64;
    options.max_seq_length = 256;
    options.output = work / name;
    actors::run_oneshot(options, *comm);
    return perplexity(model::CausalLM::load(options.output, ct::make_linear_loader(options.output)));
  };
  auto group32 = [](const std::string& modifier) {
    return "q_stage:\n  q_modifiers:\n    " + modifier + ":\n      ignore: [lm_head]\n      config_groups:\n"
           "        group_0:\n          targets: [Linear]\n          weights: {num_bits: 4, type: int, "
           "symmetric: true, strategy: group, group_size: 32}\n";
  };
  const double original = perplexity(model::CausalLM::load(model_dir));
  const double rtn = compressed("rtn", group32("QuantizationModifier"));
  const double gptq = compressed("gptq", group32("GPTQModifier"));
  const double w8a8 = compressed("w8a8", "q_stage:\n  q_modifiers:\n    GPTQModifier: {scheme: W8A8, ignore: [lm_head]}\n");
  const double sparsegpt = compressed(
      "sparse", "s_stage:\n  s_modifiers:\n    SparseGPTModifier: {sparsity: 0.5, mask_structure: '2:4', "
                "ignore: [lm_head]}\n");
  // Magnitude 2:4 baseline, pruned plainly here.
  auto config = model::ModelConfig::from_dir(model_dir);
  io::CheckpointReader reader(model_dir);
  std::vector<model::DecoderLayerWeights> layers;
  for (int i = 0; i < config.num_hidden_layers; ++i) {
    auto layer = model::load_decoder_layer(reader, config, i);
    for (const auto& name : layer.linear_names()) {
      auto& w = layer.linear(name).weight;
      // keep the 2 largest |w| of every 4 consecutive inputs
      at::Tensor groups = w.abs().reshape({w.size(0), -1, 4});
      at::Tensor order = std::get<1>(groups.sort(-1, /*descending=*/true));
      at::Tensor keep = at::zeros_like(groups, at::kBool).scatter_(-1, order.narrow(-1, 0, 2), true);
      w = w * keep.reshape(w.sizes()).to(at::kFloat);
    }
    layers.push_back(std::move(layer));
  }
  const double magnitude =
      perplexity(model::CausalLM(config, model::load_embedding_and_head(reader, config), std::move(layers)));
  std::cout << "perplexity: original " << original << ", RTN g32 " << rtn << ", GPTQ g32 " << gptq << ", W8A8 "
            << w8a8 << ", SparseGPT 2:4 " << sparsegpt << ", magnitude 2:4 " << magnitude << "\n";
  EXPECT_LT(gptq, rtn);
  EXPECT_LT(std::abs(w8a8 / original - 1.0), 0.01);
  EXPECT_LT(sparsegpt, magnitude);
  fs::remove_all(work);
}

}  // namespace
}  // namespace dcomp::pipeline
