// `dcomp create-model`: writes the deterministic synthetic Llama model (and,
// optionally, its built-in calibration text).
#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>

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
};

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
void create_model(const CreateModelFlags& flags) {
  check_outputs(flags);
  const fs::path output = fs::absolute(flags.output).lexically_normal();
  fs::path temporary = output;
  temporary += ".tmp-" + io::random_name_suffix();
  try {
    model::create_synthetic_model(temporary, flags.options);
    io::move_folder_into_place(temporary, output);
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(temporary, ignored);
    throw;
  }
  if (!flags.text_output.empty()) io::replace_file_durably(flags.text_output, model::builtin_calibration_text());
  std::cout << "created " << flags.output << " (" << flags.options.num_layers << " layers, hidden "
            << flags.options.hidden_size << ")\n";
}

}  // namespace

void add_create_model_command(CLI::App& app) {
  auto flags = std::make_shared<CreateModelFlags>();
  auto* command = app.add_subcommand(
      "create-model", "Write a small deterministic Llama-architecture model (random weights with activation "
                      "outliers, byte-level tokenizer) in Hugging Face layout");
  // Every count is range-checked on the text, before conversion ("-1" is refused, never wrapped).
  const auto size = CLI::Range(int64_t{1}, int64_t{1} << 20);
  command->add_option("--output", flags->output, "Folder to create (new or empty)")->required();
  command->add_option("--layers", flags->options.num_layers, "Decoder layers")
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
  command->add_option("--experts", flags->options.num_experts,
                      "Above 0: a Qwen3-MoE model whose MLPs are this many experts")
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
  command->callback([flags] { create_model(*flags); });
}

}  // namespace dcomp::launch
