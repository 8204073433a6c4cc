// A small Llama-architecture model (or, with experts, a Qwen3-MoE-architecture one, or a
// DeepSeek-V3-architecture one) that dcomp creates deterministically (for the quick start,
// benchmarks and tests that need a model of a given size):
// config.json, model.safetensors, a byte-level BPE tokenizer.json and the
// generation files, all in Hugging Face layout.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include "kernels/io/safetensors.hpp"

namespace dcomp::model {

/// The DeepseekV3ForCausalLM sizes beyond SyntheticModelOptions' (defaults: DeepSeek-V3's
/// release): multi-head latent attention and grouped sigmoid routing with shared experts.
struct SyntheticDeepseekOptions {
  int64_t q_lora_rank = 1536;
  int64_t kv_lora_rank = 512;
  int64_t qk_nope_head_dim = 128;
  int64_t qk_rope_head_dim = 64;
  int64_t v_head_dim = 128;
  /// Routing: experts in n_group groups, a token's experts from its topk_group best groups.
  int64_t n_group = 8;
  int64_t topk_group = 4;
  int64_t n_shared_experts = 1;
  double routed_scaling_factor = 2.5;
  /// Layers [0, first_k_dense_replace) have a dense MLP of intermediate_size.
  int64_t first_k_dense_replace = 3;
};

/// How decoder Linear weights are stored: `encode` maps "<module>.weight" and its fp32
/// [out, in] values to the tensors written for it (e.g. F8_E4M3 codes and weight_scale_inv);
/// `quantization_config` (when not null) goes into config.json. Without one, weights are
/// stored dense in the model's dtype.
struct SyntheticLinearStorage {
  std::function<std::vector<io::NamedTensor>(const std::string& weight_name, const at::Tensor& weight)> encode;
  nlohmann::json quantization_config;
  /// Bytes per weight element as stored (to decide on sharding before writing).
  double bytes_per_element = 4.0;
};

struct SyntheticModelOptions {
  /// "llama" (with num_experts > 0: Qwen3MoeForCausalLM) or "deepseek_v3".
  std::string architecture = "llama";
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
  /// architecture "deepseek_v3" only.
  SyntheticDeepseekOptions deepseek;
};

/// DeepSeek-V3's released sizes (config.json of deepseek-ai/DeepSeek-V3: hidden 7168, 128 heads,
/// 61 layers of which 3 dense, 256 experts of 2048, top 8, bfloat16) with the byte-level
/// vocabulary of 258 (the tokenizer here; vocab_size 129280 only gives the release's head).
SyntheticModelOptions deepseek_v3_release_options();

/// Writes the model into `directory` (created; must not exist or be empty).
/// The vocabulary is the 256 bytes plus <s> (256) and </s> (257). A model over 2 GiB
/// is written in shards (embedding, one per layer, final norm and head) with an index,
/// each written and freed before the next is made: memory stays at about one layer.
/// `linear_storage` (optional) stores the decoder Linear weights in another format.
/// Throws std::invalid_argument for sizes the architecture's config reader would refuse.
void create_synthetic_model(const std::filesystem::path& directory, const SyntheticModelOptions& options,
                            const SyntheticLinearStorage* linear_storage = nullptr);

/// English text for calibrating and evaluating the synthetic model (built in,
/// so the quick start needs no download).
const std::string& builtin_calibration_text();

}  // namespace dcomp::model
