// `dcomp create-model`: writes the deterministic synthetic Llama model (and,
// optionally, its built-in calibration text).
#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>

#include "kernels/model/synthetic_model.hpp"
#include "launch/commands.hpp"

namespace dcomp::launch {

void add_create_model_command(CLI::App& app) {
  struct Flags {
    std::string output, text_output;
    model::SyntheticModelOptions options;
  };
  auto flags = std::make_shared<Flags>();
  auto* command = app.add_subcommand(
      "create-model", "Write a small deterministic Llama-architecture model (random weights with activation "
                      "outliers, byte-level tokenizer) in Hugging Face layout");
  command->add_option("--output", flags->output, "Folder to create")->required();
  command->add_option("--layers", flags->options.num_layers, "Decoder layers")->capture_default_str();
  command->add_option("--hidden-size", flags->options.hidden_size, "Hidden size")->capture_default_str();
  command->add_option("--intermediate-size", flags->options.intermediate_size, "MLP size")->capture_default_str();
  command->add_option("--heads", flags->options.num_attention_heads, "Attention heads")->capture_default_str();
  command->add_option("--kv-heads", flags->options.num_key_value_heads, "Key/value heads")->capture_default_str();
  command->add_option("--head-dim", flags->options.head_dim, "Attention head size (0: hidden size / heads)")
      ->capture_default_str();
  command->add_option("--experts", flags->options.num_experts,
                      "Above 0: a Qwen3-MoE model whose MLPs are this many experts")
      ->capture_default_str();
  command->add_option("--experts-per-token", flags->options.experts_per_token, "With --experts: top-k routing")
      ->capture_default_str();
  command->add_option("--expert-intermediate-size", flags->options.expert_intermediate_size,
                      "With --experts: each expert's MLP size")
      ->capture_default_str();
  command->add_option("--vocab-size", flags->options.vocab_size,
                      "Rows of the embedding and LM head (at least 258; the tokenizer has 258 tokens)")
      ->capture_default_str();
  command->add_option("--seed", flags->options.seed, "Weight seed")->capture_default_str();
  command->add_option("--dtype", flags->options.dtype, "float32 or bfloat16")
      ->check(CLI::IsMember({"float32", "bfloat16"}))
      ->capture_default_str();
  command->add_option("--write-text", flags->text_output, "Also write the built-in calibration text to this file");
  command->callback([flags] {
    model::create_synthetic_model(flags->output, flags->options);
    if (!flags->text_output.empty()) {
      std::ofstream out(flags->text_output);
      if (!out) throw std::runtime_error(flags->text_output + ": cannot write");
      out << model::builtin_calibration_text();
    }
    std::cout << "created " << flags->output << " (" << flags->options.num_layers << " layers, hidden "
              << flags->options.hidden_size << ")\n";
  });
}

}  // namespace dcomp::launch
