// `dcomp create-model`: writes the deterministic synthetic Llama, Qwen3-MoE or DeepSeek-V3
// model, optionally with its Linears in DeepSeek's FP8 blocks (and, optionally, the
// built-in calibration text).
#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>

#include "kernels/ct/fp8_block_encoding.hpp"
#include "kernels/ct/output_file_policy.hpp"
#include "kernels/ct/output_folder_policy.hpp"
#include "kernels/io/durable_files.hpp"
#include "kernels/model/synthetic_model.hpp"
#include "launch/commands.hpp"
#include "launch/option_checks.hpp"

namespace dcomp::launch {
namespace {

namespace fs = std::filesystem;

struct CreateModelFlags {
  std::string output, text_output;
  model::SyntheticModelOptions options;
  int64_t fp8_block = 0;
};

// The size flags that --architecture deepseek_v3 defaults to DeepSeek-V3's release values.
struct ReleaseDefault {
  const char* flag;
  int64_t model::SyntheticModelOptions::*member;
};
constexpr ReleaseDefault kDeepseekReleaseDefaults[] = {
    {"--layers", &model::SyntheticModelOptions::num_layers},
    {"--hidden-size", &model::SyntheticModelOptions::hidden_size},
    {"--intermediate-size", &model::SyntheticModelOptions::intermediate_size},
    {"--heads", &model::SyntheticModelOptions::num_attention_heads},
    {"--experts", &model::SyntheticModelOptions::num_experts},
    {"--experts-per-token", &model::SyntheticModelOptions::experts_per_token},
    {"--expert-intermediate-size", &model::SyntheticModelOptions::expert_intermediate_size},
};

// The options as given, with --architecture deepseek_v3's sizes not given taken from the
// release; flags of one architecture given with the other are refused.
model::SyntheticModelOptions chosen_options(const CLI::App& command, const CreateModelFlags& flags) {
  model::SyntheticModelOptions chosen = flags.options;
  const bool deepseek = chosen.architecture == "deepseek_v3";
  for (const char* flag : {"--kv-heads", "--head-dim"}) {
    if (deepseek && command.count(flag) > 0) {
      throw CLI::ValidationError(flag, "does not apply to --architecture deepseek_v3 (multi-head latent attention)");
    }
  }
  for (const char* flag : {"--first-k-dense-replace", "--expert-groups", "--topk-groups"}) {
    if (!deepseek && command.count(flag) > 0) throw CLI::ValidationError(flag, "needs --architecture deepseek_v3");
  }
  if (!deepseek) return chosen;
  const model::SyntheticModelOptions release = model::deepseek_v3_release_options();
  for (const ReleaseDefault& entry : kDeepseekReleaseDefaults) {
    if (command.count(entry.flag) == 0) chosen.*entry.member = release.*entry.member;
  }
  if (command.count("--dtype") == 0) chosen.dtype = release.dtype;
  chosen.max_position_embeddings = release.max_position_embeddings;
  return chosen;
}

// Both outputs are checked before any work: the model folder must be new or empty (never
// a checkpoint or other files), the text file new or an earlier copy of the text.
void check_outputs(const CreateModelFlags& flags) {
  const auto existing = ct::check_output_folder(flags.output, {}, /*overwrite=*/true);
  if (existing == ct::ExistingOutput::Checkpoint) {
    throw ct::OutputFolderError(flags.output + ": exists and holds a checkpoint; create-model writes a new or "
                                "empty folder only");
  }
  if (!flags.text_output.empty()) {
    ct::check_output_file("--write-text", flags.text_output, ct::OutputFileKind::CalibrationText, {}, flags.output);
  }
}

// The model is built in a temporary folder beside the output and renamed into place when
// complete, so that a failure leaves no partial model.
void create_model(const CreateModelFlags& flags, const model::SyntheticModelOptions& options) {
  check_outputs(flags);
  model::SyntheticLinearStorage fp8_storage;
  if (flags.fp8_block > 0) fp8_storage = ct::fp8_block_linear_storage({flags.fp8_block, flags.fp8_block});
  const fs::path output = fs::absolute(flags.output).lexically_normal();
  fs::path temporary = output;
  temporary += ".tmp-" + io::random_name_suffix();
  try {
    model::create_synthetic_model(temporary, options, flags.fp8_block > 0 ? &fp8_storage : nullptr);
    io::move_folder_into_place(temporary, output);
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(temporary, ignored);
    throw;
  }
  if (!flags.text_output.empty()) io::replace_file_durably(flags.text_output, model::builtin_calibration_text());
  std::cout << "created " << flags.output << " (" << options.architecture << ", " << options.num_layers
            << " layers, hidden " << options.hidden_size << (flags.fp8_block > 0 ? ", FP8 blocks" : "") << ")\n";
}

}  // namespace

void add_create_model_command(CLI::App& app) {
  auto flags = std::make_shared<CreateModelFlags>();
  auto* command = app.add_subcommand(
      "create-model", "Write a deterministic Llama-architecture model (random weights with activation "
                      "outliers, byte-level tokenizer) in Hugging Face layout; with --experts a Qwen3-MoE one, "
                      "with --architecture deepseek_v3 a DeepSeek-V3 one (its release's sizes unless given)");
  // Every count is range-checked on the text, before conversion ("-1" is refused, never wrapped).
  const auto size = CLI::Range(int64_t{1}, int64_t{1} << 20);
  command->add_option("--output", flags->output, "Folder to create (new or empty)")->required();
  command->add_option("--architecture", flags->options.architecture,
                      "llama (with --experts: qwen3_moe) or deepseek_v3 (MLA, grouped sigmoid routing, shared "
                      "experts; sizes not given are DeepSeek-V3's: hidden 7168, 128 heads, 61 layers, 256 "
                      "experts of 2048, top 8, bfloat16)")
      ->check(CLI::IsMember({"llama", "deepseek_v3"}))
      ->capture_default_str();
  command->add_option("--fp8-block", flags->fp8_block,
                      "Above 0: store every decoder Linear weight as DeepSeek's release does, F8_E4M3 with an "
                      "F32 weight_scale_inv per block of this size (quant_method fp8)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 16))
      ->capture_default_str();
  command->add_option("--first-k-dense-replace", flags->options.deepseek.first_k_dense_replace,
                      "deepseek_v3: the leading layers with a dense MLP of --intermediate-size")
      ->check(CLI::Range(int64_t{0}, int64_t{4096}))
      ->capture_default_str();
  command->add_option("--expert-groups", flags->options.deepseek.n_group,
                      "deepseek_v3: n_group, the groups the experts are routed in")
      ->check(CLI::Range(int64_t{1}, int64_t{4096}))
      ->capture_default_str();
  command->add_option("--topk-groups", flags->options.deepseek.topk_group,
                      "deepseek_v3: topk_group, the groups a token's experts come from")
      ->check(CLI::Range(int64_t{1}, int64_t{4096}))
      ->capture_default_str();
  command->add_option("--layers,--num-layers", flags->options.num_layers, "Decoder layers")
      ->check(CLI::Range(int64_t{1}, int64_t{4096}))
      ->capture_default_str();
  command->add_option("--hidden-size", flags->options.hidden_size, "Hidden size")->check(size)->capture_default_str();
  command->add_option("--intermediate-size", flags->options.intermediate_size, "MLP size")
      ->check(size)
      ->capture_default_str();
  command->add_option("--heads", flags->options.num_attention_heads, "Attention heads")
      ->check(CLI::Range(int64_t{1}, int64_t{4096}))
      ->capture_default_str();
  command->add_option("--kv-heads", flags->options.num_key_value_heads, "Key/value heads")
      ->check(CLI::Range(int64_t{1}, int64_t{4096}))
      ->capture_default_str();
  command->add_option("--head-dim", flags->options.head_dim, "Attention head size (0: hidden size / heads)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 16))
      ->capture_default_str();
  command->add_option("--experts,--num-experts", flags->options.num_experts,
                      "Above 0: a Qwen3-MoE model whose MLPs are this many experts (deepseek_v3: the routed "
                      "experts of each layer from --first-k-dense-replace on)")
      ->check(CLI::Range(int64_t{0}, int64_t{4096}))
      ->capture_default_str();
  command->add_option("--experts-per-token", flags->options.experts_per_token, "With --experts: top-k routing")
      ->check(CLI::Range(int64_t{1}, int64_t{4096}))
      ->capture_default_str();
  command->add_option("--expert-intermediate-size", flags->options.expert_intermediate_size,
                      "With --experts: each expert's MLP size")
      ->check(size)
      ->capture_default_str();
  command->add_option("--vocab-size", flags->options.vocab_size,
                      "Rows of the embedding and LM head (at least 258; the tokenizer has 258 tokens)")
      ->check(CLI::Range(int64_t{258}, int64_t{1} << 24))
      ->capture_default_str();
  command->add_option("--seed", flags->options.seed, "Weight seed")->check(seed_range())->capture_default_str();
  command->add_option("--dtype", flags->options.dtype, "float32 or bfloat16")
      ->check(CLI::IsMember({"float32", "bfloat16"}))
      ->capture_default_str();
  command->add_option("--write-text", flags->text_output,
                      "Also write the built-in calibration text to this file (new, or an earlier copy of it)");
  command->callback([flags, command] { create_model(*flags, chosen_options(*command, *flags)); });
}

}  // namespace dcomp::launch
