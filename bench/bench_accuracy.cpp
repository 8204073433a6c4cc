// Accuracy table on TinyStories-656K: perplexity of the original model and of
// RTN / GPTQ W4A16 (group 32), W8A8, SparseGPT 2:4 and magnitude 2:4, all
// calibrated on the first 14 stories of text/tinystories_valid_sample.txt and
// evaluated on text/tinystories_sample.txt and on the 4 held-out stories.
// Usage: bench_accuracy [shared data folder] [work folder]
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "actors/oneshot.hpp"
#include "kernels/ct/compressed_checkpoint.hpp"
#include "kernels/ct/kv_cache_quantization.hpp"
#include "kernels/data/dataset.hpp"
#include "kernels/io/safetensors.hpp"
#include "kernels/model/causal_lm.hpp"
#include "kernels/model/perplexity.hpp"
#include "kernels/model/weight_loading.hpp"
#include "kernels/quant/magnitude_prune.hpp"
#include "kernels/tokenizer/tokenizer.hpp"
#include "lifecycle/logging.hpp"

namespace fs = std::filesystem;
using namespace dcomp;

namespace {

struct Evaluation {
  double sample_ppl = 0;
  double heldout_ppl = 0;
};

Evaluation evaluate(const model::CausalLM& model, const std::vector<int32_t>& sample_tokens,
                    const std::vector<int32_t>& heldout_tokens, int32_t bos) {
  return {model::evaluate_perplexity(model, sample_tokens, bos, 256).perplexity,
          model::evaluate_perplexity(model, heldout_tokens, bos, 256).perplexity};
}

std::string group_recipe(const std::string& modifier, int bits, const std::string& strategy_fields) {
  return "quant_stage:\n  quant_modifiers:\n    " + modifier +
         ":\n      ignore: [lm_head]\n      config_groups:\n        group_0:\n          targets: [Linear]\n"
         "          weights: {num_bits: " + std::to_string(bits) + ", type: int, symmetric: true, " + strategy_fields +
         "}\n";
}

}  // namespace

int main(int argc, char** argv) {
  const fs::path data = argc > 1 ? fs::path(argv[1]) : fs::path("../shared/data");
  const fs::path work = argc > 2 ? fs::path(argv[2]) : fs::temp_directory_path() / "dcomp-bench-accuracy";
  const fs::path model_dir = data / "tinystories-656k";
  if (!fs::exists(model_dir)) {
    std::cerr << "shared data not found at " << data << "\n";
    return 1;
  }
  logging::set_level("warn");
  at::set_num_threads(2);
  fs::remove_all(work);
  fs::create_directories(work);
  // Split the validation sample: one story per line.
  {
    std::ifstream in(data / "text" / "tinystories_valid_sample.txt");
    std::ofstream calib(work / "calibration.txt"), heldout(work / "heldout.txt");
    std::string line;
    for (int index = 0; std::getline(in, line); ++index) (index < 14 ? calib : heldout) << line << "\n";
  }
  auto tokenizer = tok::Tokenizer::from_dir(model_dir);
  const int32_t bos = *tokenizer.bos_id();
  const auto sample_tokens = data::load_token_stream(data / "text" / "tinystories_sample.txt", tokenizer);
  const auto heldout_tokens = data::load_token_stream(work / "heldout.txt", tokenizer);

  struct Row {
    std::string name;
    Evaluation result;
  };
  std::vector<Row> rows;
  auto original = model::CausalLM::load(model_dir);
  rows.push_back({"original (fp32)", evaluate(original, sample_tokens, heldout_tokens, bos)});

  auto comm = comm::make_single_communicator();
  auto compress = [&](const std::string& name, const std::string& recipe) {
    const fs::path recipe_file = work / (name + ".yaml");
    std::ofstream(recipe_file) << recipe;
    actors::OneshotOptions options;
    options.model = model_dir;
    options.recipe = recipe_file.string();
    options.dataset = work / "calibration.txt";
    options.num_calibration_samples = 64;
    options.max_seq_length = 256;
    options.output = work / name;
    actors::run_oneshot(options, *comm);
    auto compressed = ct::load_deployed_model(options.output);
    rows.push_back({name, evaluate(compressed, sample_tokens, heldout_tokens, bos)});
  };
  compress("RTN W4A16 g32", group_recipe("QuantizationModifier", 4, "strategy: group, group_size: 32"));
  compress("GPTQ W4A16 g32", group_recipe("GPTQModifier", 4, "strategy: group, group_size: 32"));
  compress("GPTQ W8A8", "quant_stage:\n  quant_modifiers:\n    GPTQModifier:\n      scheme: W8A8\n"
                        "      ignore: [lm_head]\n");
  compress("SparseGPT 2:4", "sparsity_stage:\n  sparsity_modifiers:\n    SparseGPTModifier:\n      sparsity: 0.5\n"
                            "      mask_structure: '2:4'\n      ignore: [lm_head]\n");

  // The magnitude baseline: keep the 2 largest |w| of every 4 inputs, no update.
  {
    auto config = model::ModelConfig::from_dir(model_dir);
    io::CheckpointReader reader(model_dir);
    std::vector<model::DecoderLayerWeights> layers;
    for (int i = 0; i < config.num_hidden_layers; ++i) {
      auto layer = model::load_decoder_layer(reader, config, i);
      for (const auto& name : model::DecoderLayerWeights::linear_names()) {
        auto& linear = layer.linear(name);
        linear.weight = linear.weight * quant::magnitude_prune_mask(linear.weight, 2, 4).to(at::kFloat);
      }
      layers.push_back(std::move(layer));
    }
    model::CausalLM pruned(config, model::load_embedding_and_head(reader, config), std::move(layers));
    rows.push_back({"magnitude 2:4", evaluate(pruned, sample_tokens, heldout_tokens, bos)});
  }

  std::cout << "TinyStories-656K, calibration: 64 x 256-token windows of the first 14 validation stories\n";
  std::cout << std::left << std::setw(20) << "variant" << std::right << std::setw(22) << "ppl tinystories_sample"
            << std::setw(20) << "ppl held-out valid" << std::setw(14) << "vs original" << "\n";
  for (const auto& row : rows) {
    std::cout << std::left << std::setw(20) << row.name << std::right << std::fixed << std::setprecision(4)
              << std::setw(22) << row.result.sample_ppl << std::setw(20) << row.result.heldout_ppl << std::setw(13)
              << std::showpos << std::setprecision(2)
              << 100.0 * (row.result.sample_ppl / rows.front().result.sample_ppl - 1.0) << "%" << std::noshowpos
              << "\n";
  }
  fs::remove_all(work);
  return 0;
}
