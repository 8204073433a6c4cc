// `dcomp generate`: greedy text generation with a model folder, a thin wrapper
// over model::generate_greedy.
#include <CLI/CLI.hpp>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>

#include "kernels/ct/compressed_checkpoint.hpp"
#include "kernels/ct/kv_cache_quantization.hpp"
#include "kernels/model/allocation_policy.hpp"
#include "kernels/model/causal_lm.hpp"
#include "kernels/model/compute_threads.hpp"
#include "kernels/model/generation.hpp"
#include "kernels/tokenizer/tokenizer.hpp"
#include "launch/commands.hpp"
#include "launch/option_checks.hpp"

namespace dcomp::launch {
namespace {

struct GenerateOptions {
  std::string model_dir;
  std::string prompt;
  int64_t max_new_tokens = 80;
  std::string kv_cache_rounding = "nearest";
  bool json = false;
};

void run_generate(const GenerateOptions& options) {
  model::set_default_compute_threads();
  model::keep_freed_blocks_for_reuse();  // the whole model is resident: reuse activation blocks
  const model::CausalLM model =
      ct::load_deployed_model(options.model_dir, ct::kv_cache_rounding_from_string(options.kv_cache_rounding));
  const tok::Tokenizer tokenizer = tok::Tokenizer::from_dir(options.model_dir);

  const auto bos = tokenizer.bos_id() ? std::optional<int64_t>(*tokenizer.bos_id()) : model.config().bos_token_id;
  if (!bos) {
    throw std::runtime_error(options.model_dir + ": the model has no BOS token (neither the tokenizer files nor " +
                             "config.json name one)");
  }
  std::vector<int32_t> prompt{static_cast<int32_t>(*bos)};
  const std::vector<int32_t> text_tokens = tokenizer.encode(options.prompt);
  prompt.insert(prompt.end(), text_tokens.begin(), text_tokens.end());

  std::vector<int64_t> stop_ids = model.config().eos_token_ids;
  if (const auto eos = tokenizer.eos_id(); eos && std::find(stop_ids.begin(), stop_ids.end(), *eos) == stop_ids.end()) {
    stop_ids.push_back(*eos);
  }
  const std::vector<int32_t> tokens = model::generate_greedy(model, prompt, options.max_new_tokens, stop_ids);
  const std::string text = tokenizer.decode(tokens, /*skip_special_tokens=*/true);
  if (!options.json) {
    std::cout << text << std::endl;
    return;
  }
  const auto prompt_end = tokens.begin() + static_cast<std::ptrdiff_t>(std::min(prompt.size(), tokens.size()));
  nlohmann::json result = {{"text", text},
                           {"prompt_ids", std::vector<int32_t>(tokens.begin(), prompt_end)},
                           {"generated_ids", std::vector<int32_t>(prompt_end, tokens.end())}};
  std::cout << result.dump() << std::endl;
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto options = std::make_shared<GenerateOptions>();
  auto* command = app.add_subcommand(
      "generate",
      "Greedy text generation: feeds BOS + the tokenized prompt (BOS alone for an empty prompt), appends the "
      "arg-max token up to --max-new-tokens times, stops after an EOS token, and prints the decoded prompt and "
      "continuation (special tokens omitted). Threads: OMP_NUM_THREADS, else all hardware threads.");
  command->add_option("--model", options->model_dir, "Model folder (config.json, *.safetensors, tokenizer.json)")
      ->required()
      ->check(CLI::ExistingDirectory);
  command->add_option("--prompt", options->prompt, "Text to continue (empty: start from BOS)")->default_val("");
  command->add_option("--max-new-tokens", options->max_new_tokens, "Tokens to generate at most")
      ->default_val(80)
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 20));
  command->add_flag("--json", options->json,
                    "Print one JSON object: text (as printed without --json), prompt_ids (BOS and the prompt's "
                    "tokens) and generated_ids");
  add_kv_cache_rounding_option(*command, options->kv_cache_rounding);
  command->callback([options] { run_generate(*options); });
}

}  // namespace dcomp::launch
