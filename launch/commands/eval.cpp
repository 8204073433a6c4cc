// `dcomp eval`: perplexity of a model folder on a text dataset, a thin wrapper
// over model::evaluate_perplexity.
#include <CLI/CLI.hpp>

#include <filesystem>
#include <optional>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>

#include "kernels/ct/compressed_checkpoint.hpp"
#include "kernels/ct/kv_cache_quantization.hpp"
#include "kernels/ct/output_file_policy.hpp"
#include "kernels/data/dataset.hpp"
#include "kernels/model/allocation_policy.hpp"
#include "kernels/model/causal_lm.hpp"
#include "kernels/model/compute_threads.hpp"
#include "kernels/model/perplexity.hpp"
#include "kernels/tokenizer/tokenizer.hpp"
#include "kernels/io/durable_files.hpp"
#include "kernels/io/safetensors.hpp"
#include "launch/commands.hpp"
#include "launch/option_checks.hpp"

namespace dcomp::launch {
namespace {

constexpr int64_t kDefaultMaxSeqLength = 2048;

struct EvalOptions {
  std::string model_dir;
  std::string dataset;
  int64_t max_seq_length = 0;  // 0: min(2048, max_position_embeddings)
  bool json = false;
  std::string dump_logits;
  std::string kv_cache_rounding = "nearest";
};

/// Writes the first window (BOS + up to window-1 tokens) and its logits, both as
/// evaluated (with the checkpoint's input activation quantization) and with
/// fp32 inputs, to a safetensors file for interoperability checks:
/// input_ids int64 [1, seq], logits fp32 [1, seq, vocab] (weights only),
/// logits_activation_quantized fp32 [1, seq, vocab].
void dump_first_window_logits(const model::CausalLM& model, const std::vector<int32_t>& tokens, int64_t bos,
                              int64_t window, const std::string& path) {
  const int64_t length = std::min<int64_t>(window, static_cast<int64_t>(tokens.size()) + 1);
  at::Tensor ids = at::empty({1, length}, at::kLong);
  ids[0][0] = bos;
  for (int64_t i = 1; i < length; ++i) ids[0][i] = tokens[static_cast<size_t>(i - 1)];
  at::Tensor quantized = model.forward(ids).contiguous();
  model::CausalLM weights_only = model;
  for (int64_t layer = 0; layer < weights_only.num_layers(); ++layer) {
    model::DecoderLayerWeights weights = weights_only.layer(layer);
    for (const auto& name : weights.linear_names()) weights.linear(name).input_quantizer = nullptr;
    weights.key_quantizer = nullptr;
    weights.value_quantizer = nullptr;
    weights_only.set_layer(layer, std::move(weights));
  }
  at::Tensor plain = weights_only.forward(ids).contiguous();
  io::replace_file_with(path, [&](const std::filesystem::path& temporary) {
    io::write_safetensors(temporary, {{"input_ids", ids, std::nullopt},
                                      {"logits", plain, std::nullopt},
                                      {"logits_activation_quantized", quantized, std::nullopt}});
  });
}

void run_eval(const EvalOptions& options) {
  model::set_default_compute_threads();
  model::keep_freed_blocks_for_reuse();  // the whole model is resident: reuse activation blocks
  const model::CausalLM model =
      ct::load_deployed_model(options.model_dir, ct::kv_cache_rounding_from_string(options.kv_cache_rounding));
  // A model folder without tokenizer.json (a test model) is evaluated on token ids.
  const bool has_tokenizer = std::filesystem::exists(std::filesystem::path(options.model_dir) / "tokenizer.json");
  const std::optional<tok::Tokenizer> tokenizer =
      has_tokenizer ? std::optional<tok::Tokenizer>(tok::Tokenizer::from_dir(options.model_dir)) : std::nullopt;
  const auto& config = model.config();

  int64_t window = std::min(kDefaultMaxSeqLength, config.max_position_embeddings);
  if (options.max_seq_length != 0) {
    if (options.max_seq_length < 2) {
      throw std::runtime_error("--max-seq-length must be at least 2 (BOS and one token), got " +
                               std::to_string(options.max_seq_length));
    }
    if (options.max_seq_length > config.max_position_embeddings) {
      throw std::runtime_error("--max-seq-length " + std::to_string(options.max_seq_length) + " exceeds " +
                               config.source.string() + "'s max_position_embeddings " +
                               std::to_string(config.max_position_embeddings));
    }
    window = options.max_seq_length;
  }
  const auto bos = tokenizer && tokenizer->bos_id() ? std::optional<int64_t>(*tokenizer->bos_id()) : config.bos_token_id;
  if (!bos) {
    throw std::runtime_error(options.model_dir + ": the model has no BOS token (neither the tokenizer files nor " +
                             "config.json name one)");
  }
  const std::vector<int32_t> tokens = tokenizer ? data::load_token_stream(options.dataset, *tokenizer)
                                                : data::load_id_stream(options.dataset, config.vocab_size);
  if (tokens.empty()) throw std::runtime_error(options.dataset + ": no tokens to evaluate");

  if (!options.dump_logits.empty()) dump_first_window_logits(model, tokens, *bos, window, options.dump_logits);
  const model::PerplexityResult result = model::evaluate_perplexity(model, tokens, static_cast<int32_t>(*bos), window);
  if (!std::isfinite(result.nll_mean) || !std::isfinite(result.perplexity)) {
    // A NaN or infinite scale, weight or norm in the checkpoint: no number to report.
    throw std::runtime_error(options.model_dir + ": the model's outputs are not finite on " + options.dataset +
                             " (mean NLL " + std::to_string(result.nll_mean) +
                             "): the checkpoint holds NaN or infinite values (dcomp inspect --verify finds them)");
  }
  if (options.json) {
    const nlohmann::json report{{"perplexity", result.perplexity}, {"nll", result.nll_mean},
                                {"tokens", result.tokens},         {"windows", result.windows},
                                {"max_seq_length", window},        {"model", options.model_dir},
                                {"dataset", options.dataset}};
    std::cout << report.dump() << std::endl;
    return;
  }
  std::cout << "model:          " << options.model_dir << "\n"
            << "dataset:        " << options.dataset << "\n"
            << "max_seq_length: " << window << " (BOS + " << window - 1 << " text tokens per window)\n"
            << "windows:        " << result.windows << "\n"
            << "tokens:         " << result.tokens << "\n"
            << std::setprecision(6) << std::fixed << "nll:            " << result.nll_mean << " nats/token\n"
            << "perplexity:     " << result.perplexity << std::endl;
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto options = std::make_shared<EvalOptions>();
  auto* command = app.add_subcommand(
      "eval",
      "Perplexity of a model on a dataset. The dataset's tokens t0..t(N-1) (plain text: the whole file; JSON "
      "Lines: the \"text\" rows joined by blank lines, or the \"input_ids\" rows concatenated) are cut into "
      "consecutive windows of L-1 tokens, the last one possibly shorter; each window is run as BOS followed by "
      "its tokens, and every position after BOS is scored (BOS->t0, t0->t1, ...), so each token is predicted "
      "once. nll = mean of -ln p(t_i | window before t_i) in nats; perplexity = exp(nll); tokens = N scored "
      "predictions. L is --max-seq-length (default 2048, lowered to max_position_embeddings when that is "
      "smaller; a larger explicit value is an error). Threads: OMP_NUM_THREADS, else all hardware threads.");
  command->add_option("--model", options->model_dir, "Model folder (config.json, *.safetensors, tokenizer.json)")
      ->required()
      ->check(CLI::ExistingDirectory);
  command->add_option("--dataset", options->dataset, "Text (.txt, any other extension) or JSON Lines (.jsonl/.json) file")
      ->required()
      ->check(CLI::ExistingFile);
  command->add_option("--max-seq-length", options->max_seq_length,
                      "Window length L in tokens, BOS included (default: min(2048, max_position_embeddings))");
  command->add_flag("--json", options->json,
                    "Print one JSON object: perplexity, nll, tokens, windows, max_seq_length, model, dataset");
  command->add_option("--dump-logits", options->dump_logits,
                      "Also write the first window's input_ids and logits to this safetensors file (written "
                      "atomically; an existing file is replaced only when it is an earlier logits dump)");
  add_kv_cache_rounding_option(*command, options->kv_cache_rounding);
  command->callback([options] {
    if (!options->dump_logits.empty()) {
      ct::check_output_file("--dump-logits", options->dump_logits, ct::OutputFileKind::LogitsDump,
                            {{"the model folder", options->model_dir, /*is_folder=*/true},
                             {"the dataset", options->dataset, /*is_folder=*/false}});
    }
    run_eval(*options);
  });
}

}  // namespace dcomp::launch
