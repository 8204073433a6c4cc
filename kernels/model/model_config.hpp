// ModelConfig: the decoder-only transformer described by a Hugging Face
// config.json, for the Llama family of architectures this engine runs.
//
// reference: transformers/models/{llama,mistral,qwen2,qwen3,mixtral,qwen3_moe,deepseek_v3}/configuration_*.py
// (field names and defaults) and transformers/modeling_rope_utils.py (rope_scaling).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dcomp::model {

/// Bad, incomplete or unsupported config.json, or weights that contradict it;
/// the message names the file (and the field or tensor) and the problem.
/// Counts read from config.json size lists of layers, experts and tensor names before any
/// tensor is read, so they are bounded first (far above real models: 126 layers, 512 experts,
/// about 25k experts in all).
inline constexpr int64_t kMaxHiddenLayers = 1024;
inline constexpr int64_t kMaxExperts = 4096;
inline constexpr int64_t kMaxExpertsInModel = int64_t{1} << 18;  // experts per layer times layers

class ModelConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The architectures (config.json "architectures"[0]) this engine runs.
enum class Architecture { Llama, Mistral, Qwen2, Qwen3, Mixtral, Qwen3Moe, DeepseekV3, Glm4Moe };

/// "LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM",
/// "MixtralForCausalLM", "Qwen3MoeForCausalLM", "DeepseekV3ForCausalLM", "Glm4MoeForCausalLM".
std::string architecture_name(Architecture architecture);
/// The supported names joined with ", " (for error messages and --help).
std::string supported_architecture_names();

/// How rotary frequencies are derived from rope_theta.
enum class RopeScalingType {
  Default,  // inv_freq = theta^(-2i/d), no scaling ("default" or rope_scaling null)
  Llama3,   // Llama 3.1 band-wise frequency scaling
  Yarn,     // YaRN: frequencies blended between interpolated and extrapolated by a ramp
};

struct RopeScaling {
  RopeScalingType type = RopeScalingType::Default;
  // Llama3 only:
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 8192;
  // Yarn only (factor and original_max_position_embeddings above too):
  double beta_fast = 32.0;
  double beta_slow = 1.0;
  double mscale = 0.0;          // 0 when absent
  double mscale_all_dim = 0.0;  // 0 when absent
  std::optional<double> attention_factor;  // the cos/sin multiplier when given explicitly
  bool truncate = true;
};

/// How the router turns its logits into expert scores.
enum class RouterScoring { Softmax, Sigmoid };

/// A sparse mixture-of-experts MLP: a router Linear [num_experts, hidden] picks the top_k
/// experts per token by softmax probability; the layer's MLP output is the sum of those
/// experts' SwiGLU outputs weighted by their probabilities (renormalised over the top_k
/// when norm_topk_prob).
/// DeepSeek-V3: sigmoid scores; the choice adds the router's e_score_correction_bias and keeps
/// only the topk_group best of n_group expert groups (a group's score: the sum of its two best);
/// the weights are the unbiased scores (renormalised when norm_topk_prob) times
/// routed_scaling_factor; a shared SwiGLU MLP of shared_intermediate_size runs on every token.
struct MoeConfig {
  int64_t num_experts = 0;
  int64_t top_k = 0;                     // num_experts_per_tok
  int64_t expert_intermediate_size = 0;  // Mixtral: intermediate_size; Qwen3-MoE: moe_intermediate_size
  bool norm_topk_prob = true;            // Mixtral: always; Qwen3-MoE: the config's field (default false)
  /// Qwen3-MoE: layer i is sparse when i is not in mlp_only_layers and (i + 1) % decoder_sparse_step
  /// == 0; the other layers have a dense MLP of intermediate_size. Mixtral: every layer is sparse.
  int64_t decoder_sparse_step = 1;
  std::vector<int64_t> mlp_only_layers;
  // DeepSeek-V3 (after the fields above, which aggregate initialisers list first):
  RouterScoring scoring = RouterScoring::Softmax;
  bool score_correction_bias = false;  // mlp.gate.e_score_correction_bias [num_experts]
  int64_t n_group = 1;
  int64_t topk_group = 1;
  double routed_scaling_factor = 1.0;
  int64_t shared_intermediate_size = 0;  // 0: no shared experts
};

/// Multi-head latent attention (DeepSeek-V2/V3, Kimi-K2): queries through a low-rank q_a_proj /
/// q_a_layernorm / q_b_proj (or one q_proj), keys and values decompressed by kv_b_proj from a
/// normed kv_lora_rank latent, plus one rotary key of qk_rope_head_dim shared by every head.
struct LatentAttentionConfig {
  std::optional<int64_t> q_lora_rank;  // unset: a plain q_proj
  int64_t kv_lora_rank = 0;
  int64_t qk_nope_head_dim = 0;
  int64_t qk_rope_head_dim = 0;
  int64_t v_head_dim = 0;
  /// The rotary dimensions are stored interleaved (pairs 2i, 2i+1) and de-interleaved before
  /// rotate_half (transformers' apply_rotary_pos_emb_interleave).
  bool rope_interleave = true;
  int64_t qk_head_dim() const { return qk_nope_head_dim + qk_rope_head_dim; }
};

/// The fields of config.json that determine the forward pass, validated.
struct ModelConfig {
  Architecture architecture = Architecture::Llama;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;  // defaults to num_attention_heads
  int64_t head_dim = 0;             // defaults to hidden_size / num_attention_heads
  int64_t vocab_size = 0;
  int64_t max_position_embeddings = 0;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  double rms_norm_eps = 1e-6;
  bool tie_word_embeddings = false;
  std::string torch_dtype = "float32";  // as written ("float32", "bfloat16", "float16")
  /// Bias on q_proj/k_proj/v_proj (Qwen2: always; Llama/Qwen3: attention_bias).
  bool qkv_bias = false;
  /// Bias on o_proj (Llama/Qwen3: attention_bias; Qwen2, Mistral: never).
  bool o_proj_bias = false;
  /// Bias on gate/up/down_proj (Llama: mlp_bias).
  bool mlp_bias = false;
  /// Qwen3 (GLM-4.5: use_qk_norm): RMSNorm over head_dim on every query and key head before RoPE.
  bool qk_norm = false;
  /// GLM-4.5: RoPE rotates the first int(head_dim · partial_rotary_factor) dimensions of each
  /// head (rotate_half within them) and leaves the rest; 1 elsewhere.
  double partial_rotary_factor = 1.0;
  /// Mistral: a query attends only to the last `sliding_window` positions (itself included).
  std::optional<int64_t> sliding_window;
  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;  // config.json allows one id or a list
  /// Mixture-of-experts architectures (Mixtral, Qwen3-MoE, DeepSeek-V3); unset for dense models.
  std::optional<MoeConfig> moe;
  /// DeepSeek-V3: num_nextn_predict_layers, the multi-token-prediction layers stored after the
  /// decoder layers (model.layers.<num_hidden_layers + i>.*), which transformers does not load.
  int64_t next_token_prediction_layers = 0;
  /// DeepSeek-V3: multi-head latent attention (head_dim is then qk_rope_head_dim, the rotary width).
  std::optional<LatentAttentionConfig> latent_attention;

  /// The whole config.json as read (to write it back with additions later).
  nlohmann::json raw;
  /// Where it was read from ("<memory>" for from_json without a path).
  std::filesystem::path source;

  /// Reads and validates <model_dir>/config.json.
  static ModelConfig from_dir(const std::filesystem::path& model_dir);
  /// Validates a parsed config.json; `source` names it in error messages.
  static ModelConfig from_json(const nlohmann::json& json, const std::filesystem::path& source = "config.json");

  /// The dimensions of a head that RoPE rotates: int(head_dim · partial_rotary_factor).
  int64_t rotary_dim() const { return static_cast<int64_t>(static_cast<double>(head_dim) * partial_rotary_factor); }
  /// num_attention_heads / num_key_value_heads (query heads per key/value head).
  int64_t query_heads_per_kv_head() const { return num_attention_heads / num_key_value_heads; }
  /// Whether decoder layer `layer_index` has a sparse mixture-of-experts MLP.
  bool is_sparse_layer(int64_t layer_index) const;
  /// True when config.json carries a quantization_config (a compressed checkpoint).
  bool has_quantization_config() const;
};

}  // namespace dcomp::model
