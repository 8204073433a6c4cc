// Accuracy table: perplexity of the original model and of RTN / GPTQ / AWQ W4A16 (group 32),
// NVFP4A16, NVFP4, MXFP4A16, MXFP4, FP8_BLOCK, W8A8, SparseGPT 2:4 and magnitude 2:4, each
// evaluated as deployed (activation and KV-cache quantization applied).
//   TinyStories-656K (default): calibrated on the first 14 stories of
//   text/tinystories_valid_sample.txt, evaluated on text/tinystories_sample.txt and on the 4
//   held-out stories.
//   Another model (third argument, e.g. SmolLM2-135M converted by `dcomp convert-gguf`):
//   calibrated on 32 windows of 512 tokens of the second half of WikiText-2's test split,
//   evaluated on its first 64 kB (windows of 512).
// Usage: bench_accuracy [shared data folder] [work folder] [model folder]
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "actors/oneshot_actors.hpp"
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
#include "kernels/platform/blas_core_restart.hpp"

namespace fs = std::filesystem;
using namespace dcomp;

namespace {

struct Evaluation {
  double sample_ppl = 0;
  double heldout_ppl = 0;
};

Evaluation evaluate(const model::CausalLM& model, const std::vector<int32_t>& sample_tokens,
                    const std::vector<int32_t>& heldout_tokens, int32_t bos, int64_t window) {
  const double sample = model::evaluate_perplexity(model, sample_tokens, bos, window).perplexity;
  const double heldout =
      &sample_tokens == &heldout_tokens ? sample : model::evaluate_perplexity(model, heldout_tokens, bos, window).perplexity;
  return {sample, heldout};
}

std::string preset_recipe(const std::string& modifier, const std::string& scheme) {
  return "quant_stage:\n  quant_modifiers:\n    " + modifier + ":\n      scheme: " + scheme +
         "\n      ignore: [lm_head]\n";
}

std::string group_recipe(const std::string& modifier, int bits, const std::string& strategy_fields) {
  return "quant_stage:\n  quant_modifiers:\n    " + modifier +
         ":\n      ignore: [lm_head]\n      config_groups:\n        group_0:\n          targets: [Linear]\n"
         "          weights: {num_bits: " + std::to_string(bits) + ", type: int, symmetric: true, " + strategy_fields +
         "}\n";
}

}  // namespace

int main(int argc, char** argv) {
  dcomp::platform::ensure_best_blas_core(argc, argv);
  const fs::path data = argc > 1 ? fs::path(argv[1]) : fs::path("../shared/data");
  const fs::path work = argc > 2 ? fs::path(argv[2]) : fs::temp_directory_path() / "dcomp-bench-accuracy";
  const bool tinystories = argc <= 3;
  const fs::path model_dir = tinystories ? data / "tinystories-656k" : fs::path(argv[3]);
  if (!fs::exists(model_dir)) {
    std::cerr << "shared data not found at " << data << "\n";
    return 1;
  }
  logging::set_level("warn");
  at::set_num_threads(2);
  fs::remove_all(work);
  fs::create_directories(work);
  const int64_t window = tinystories ? 256 : 512;
  if (tinystories) {  // Split the validation sample: one story per line.
    std::ifstream in(data / "text" / "tinystories_valid_sample.txt");
    std::ofstream calib(work / "calibration.txt"), heldout(work / "heldout.txt");
    std::string line;
    for (int index = 0; std::getline(in, line); ++index) (index < 14 ? calib : heldout) << line << "\n";
  } else {  // WikiText-2 test: its first 64 kB to evaluate, its second half to calibrate on.
    std::ifstream in(data / "wikitext-2" / "wiki.test.raw");
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t half = text.find('\n', text.size() / 2);
    std::ofstream(work / "heldout.txt") << text.substr(0, text.find('\n', 65536));
    std::ofstream(work / "calibration.txt") << text.substr(half);
  }
  auto tokenizer = tok::Tokenizer::from_dir(model_dir);
  const int32_t bos = *tokenizer.bos_id();
  const auto sample_tokens = tinystories
                                 ? data::load_token_stream(data / "text" / "tinystories_sample.txt", tokenizer)
                                 : data::load_token_stream(work / "heldout.txt", tokenizer);
  const auto heldout_tokens = data::load_token_stream(work / "heldout.txt", tokenizer);

  struct Row {
    std::string name;
    Evaluation result;
  };
  std::vector<Row> rows;
  const auto& eval_heldout = tinystories ? heldout_tokens : sample_tokens;  // one evaluation set for WikiText-2
  auto original = model::CausalLM::load(model_dir);
  rows.push_back({"original", evaluate(original, sample_tokens, eval_heldout, bos, window)});

  auto comm = comm::make_single_communicator();
  std::vector<std::pair<std::string, std::string>> not_applicable;
  auto compress_and_evaluate = [&](const std::string& name, const std::string& recipe) {
    const fs::path recipe_file = work / (name + ".yaml");
    std::ofstream(recipe_file) << recipe;
    pipeline::OneshotOptions options;
    options.model = model_dir;
    options.recipe = recipe_file.string();
    options.dataset = work / "calibration.txt";
    options.num_calibration_samples = tinystories ? 64 : 32;
    options.max_seq_length = window;
    options.output = work / name;
    actors::run_oneshot(options, *comm);
    auto compressed = ct::load_deployed_model(options.output);
    rows.push_back({name, evaluate(compressed, sample_tokens, eval_heldout, bos, window)});
    fs::remove_all(options.output);
  };
  auto compress = [&](const std::string& name, const std::string& recipe) {
    try {
      compress_and_evaluate(name, recipe);
    } catch (const std::exception& error) {  // a scheme the model's shapes do not admit
      not_applicable.emplace_back(name, error.what());
    }
  };
  compress("RTN W4A16 g32", group_recipe("QuantizationModifier", 4, "strategy: group, group_size: 32"));
  compress("GPTQ W4A16 g32", group_recipe("GPTQModifier", 4, "strategy: group, group_size: 32"));
  compress("AWQ W4A16 g32", "quant_stage:\n  quant_modifiers:\n    AWQModifier: {duo_scaling: true}\n" +
                               group_recipe("QuantizationModifier", 4, "strategy: group, group_size: 32")
                                   .substr(std::string("quant_stage:\n  quant_modifiers:\n").size()));
  compress("RTN NVFP4A16", preset_recipe("QuantizationModifier", "NVFP4A16"));
  compress("GPTQ NVFP4A16", preset_recipe("GPTQModifier", "NVFP4A16"));
  compress("RTN NVFP4 (W4A4)", preset_recipe("QuantizationModifier", "NVFP4"));
  compress("RTN MXFP4A16", preset_recipe("QuantizationModifier", "MXFP4A16"));
  compress("RTN MXFP4 (W4A4)", preset_recipe("QuantizationModifier", "MXFP4"));
  compress("RTN FP8_BLOCK", preset_recipe("QuantizationModifier", "FP8_BLOCK"));
  compress("GPTQ W8A8", preset_recipe("GPTQModifier", "W8A8"));
  compress("SparseGPT 2:4", "sparsity_stage:\n  sparsity_modifiers:\n    SparseGPTModifier:\n      sparsity: 0.5\n"
                            "      mask_structure: '2:4'\n      ignore: [lm_head]\n");

  // The magnitude baseline: keep the 2 largest |w| of every 4 inputs, no update.
  if (tinystories) {
    auto config = model::ModelConfig::from_dir(model_dir);
    io::CheckpointReader reader(model_dir);
    std::vector<model::DecoderLayerWeights> layers;
    for (int i = 0; i < config.num_hidden_layers; ++i) {
      auto layer = model::load_decoder_layer(reader, config, i);
      for (const auto& name : layer.linear_names()) {
        auto& linear = layer.linear(name);
        linear.weight = linear.weight * quant::magnitude_prune_mask(linear.weight, 2, 4).to(at::kFloat);
      }
      layers.push_back(std::move(layer));
    }
    model::CausalLM pruned(config, model::load_embedding_and_head(reader, config), std::move(layers));
    rows.push_back({"magnitude 2:4", evaluate(pruned, sample_tokens, heldout_tokens, bos, window)});
  }

  if (tinystories) {
    std::cout << "TinyStories-656K, calibration: 64 x 256-token windows of the first 14 validation stories\n";
  } else {
    std::cout << model_dir.string() << ", calibration: 32 x 512-token windows of WikiText-2 test's second half; "
              << "perplexity on its first 64 kB (both columns)\n";
  }
  std::cout << std::left << std::setw(20) << "variant" << std::right << std::setw(22)
            << (tinystories ? "ppl tinystories_sample" : "ppl wikitext-2 64kB") << std::setw(20)
            << (tinystories ? "ppl held-out valid" : "ppl wikitext-2 64kB") << std::setw(14) << "vs original" << "\n";
  for (const auto& row : rows) {
    std::cout << std::left << std::setw(20) << row.name << std::right << std::fixed << std::setprecision(4)
              << std::setw(22) << row.result.sample_ppl << std::setw(20) << row.result.heldout_ppl << std::setw(13)
              << std::showpos << std::setprecision(2)
              << 100.0 * (row.result.sample_ppl / rows.front().result.sample_ppl - 1.0) << "%" << std::noshowpos
              << "\n";
  }
  for (const auto& [name, reason] : not_applicable) std::cout << name << ": not applicable: " << reason << "\n";
  fs::remove_all(work);
  return 0;
}
