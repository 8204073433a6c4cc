// A small Llama-architecture model (or, with experts, a Qwen3-MoE-architecture one) that
// dcomp creates deterministically (for the quick start, benchmarks and tests that need a
// model of a given size):
// config.json, model.safetensors, a byte-level BPE tokenizer.json and the
// generation files, all in Hugging Face layout.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace dcomp::model {

struct SyntheticModelOptions {
  int64_t num_layers = 4;
  int64_t hidden_size = 256;
  int64_t intermediate_size = 768;
  int64_t num_attention_heads = 4;
  int64_t num_key_value_heads = 2;
  int64_t max_position_embeddings = 2048;
  /// Attention head size; 0: hidden_size / num_attention_heads.
  int64_t head_dim = 0;
  /// Above 0: a Qwen3MoeForCausalLM whose every layer's MLP is this many SwiGLU experts of
  /// expert_intermediate_size, top experts_per_token per token (renormalised), with q/k norms.
  int64_t num_experts = 0;
  int64_t experts_per_token = 8;
  int64_t expert_intermediate_size = 768;
  /// Rows of the embedding and LM head: at least the tokenizer's 258 tokens; more only
  /// give a model the shape of a real one (e.g. Llama-3's 128256), never produced by it.
  int64_t vocab_size = 258;
  uint64_t seed = 0;
  std::string dtype = "float32";  // "float32" or "bfloat16"
  /// Scale a few hidden channels of every norm up, as trained LLMs have
  /// activation outliers (what SmoothQuant and GPTQ are for).
  bool outlier_channels = true;
};

/// Writes the model into `directory` (created; must not exist or be empty).
/// The vocabulary is the 256 bytes plus <s> (256) and </s> (257). A model over 2 GiB
/// is written in shards (embedding, one per layer, final norm and head) with an index,
/// each written and freed before the next is made: memory stays at about one layer.
void create_synthetic_model(const std::filesystem::path& directory, const SyntheticModelOptions& options);

/// English text for calibrating and evaluating the synthetic model (built in,
/// so the quick start needs no download).
const std::string& builtin_calibration_text();

}  // namespace dcomp::model
