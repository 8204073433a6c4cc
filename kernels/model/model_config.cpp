// reference: transformers/models/llama/configuration_llama.py, .../mistral/configuration_mistral.py,
// .../qwen2/configuration_qwen2.py, .../qwen3/configuration_qwen3.py, .../mixtral/configuration_mixtral.py,
// .../qwen3_moe/configuration_qwen3_moe.py and modeling_qwen3_moe.py (which layers are sparse) (fields, defaults),
// .../deepseek_v3/configuration_deepseek_v3.py and modeling_deepseek_v3.py (MLA, routing, first_k_dense_replace),
// .../glm4_moe/configuration_glm4_moe.py (partial_rotary_factor, use_qk_norm, the same routing),
// transformers/modeling_rope_utils.py (_compute_llama3_parameters, _compute_yarn_parameters: their rope keys).
#include "kernels/model/model_config.hpp"

#include <algorithm>
#include <fstream>

#include "kernels/json/bounded_json.hpp"
#include "kernels/model/architecture_description.hpp"

namespace dcomp::model {
namespace {

// Reads typed fields of one JSON object and names `source` and the field in every error.
class FieldReader {
 public:
  FieldReader(const nlohmann::json& object, std::string source) : object_(object), source_(std::move(source)) {}

  [[noreturn]] void fail(const std::string& problem) const { throw ModelConfigError(source_ + ": " + problem); }

  bool has(const char* field) const { return object_.contains(field) && !object_.at(field).is_null(); }
  const nlohmann::json& at(const char* field) const { return object_.at(field); }

  int64_t required_int(const char* field) const {
    if (!has(field)) fail(std::string("missing required field \"") + field + "\"");
    return as_int(field);
  }
  int64_t int_or(const char* field, int64_t fallback) const { return has(field) ? as_int(field) : fallback; }
  std::optional<int64_t> optional_int(const char* field) const {
    if (!has(field)) return std::nullopt;
    return as_int(field);
  }

  double required_number(const char* field) const {
    if (!has(field)) fail(std::string("missing required field \"") + field + "\"");
    return as_number(field);
  }
  double number_or(const char* field, double fallback) const { return has(field) ? as_number(field) : fallback; }

  bool bool_or(const char* field, bool fallback) const {
    if (!has(field)) return fallback;
    if (!at(field).is_boolean()) fail(std::string("field \"") + field + "\" must be true or false, got " + at(field).dump());
    return at(field).get<bool>();
  }

  std::string string_or(const char* field, const std::string& fallback) const {
    if (!has(field)) return fallback;
    if (!at(field).is_string()) fail(std::string("field \"") + field + "\" must be a string, got " + at(field).dump());
    return at(field).get<std::string>();
  }

 private:
  int64_t as_int(const char* field) const {
    const auto& value = at(field);
    if (!value.is_number_integer()) fail(std::string("field \"") + field + "\" must be an integer, got " + value.dump());
    return value.get<int64_t>();
  }
  double as_number(const char* field) const {
    const auto& value = at(field);
    if (!value.is_number()) fail(std::string("field \"") + field + "\" must be a number, got " + value.dump());
    return value.get<double>();
  }

  const nlohmann::json& object_;
  std::string source_;
};

Architecture parse_architecture(const FieldReader& fields, const nlohmann::json& json) {
  std::string name;
  if (fields.has("architectures")) {
    const auto& list = json.at("architectures");
    if (!list.is_array() || list.empty() || !list.at(0).is_string()) {
      fields.fail("field \"architectures\" must be a non-empty list of class names, got " + list.dump());
    }
    name = list.at(0).get<std::string>();
    for (const auto& entry : architecture_descriptions()) {
      if (name == entry.class_name) return entry.architecture;
    }
  } else if (fields.has("model_type")) {
    name = fields.string_or("model_type", "");
    for (const auto& entry : architecture_descriptions()) {
      if (name == entry.model_type) return entry.architecture;
    }
  } else {
    fields.fail("missing required field \"architectures\"");
  }
  fields.fail("unsupported architecture \"" + name + "\"; supported architectures: " + supported_architecture_names());
}

void require_positive(const FieldReader& fields, const char* name, int64_t value) {
  if (value <= 0) fields.fail(std::string("field \"") + name + "\" must be positive, got " + std::to_string(value));
}

void require_at_most(const FieldReader& fields, const char* name, int64_t value, int64_t limit) {
  if (value > limit) {
    fields.fail(std::string("field \"") + name + "\" is " + std::to_string(value) + ", more than dcomp's limit of " +
                std::to_string(limit));
  }
}

void parse_llama3_scaling(const FieldReader& fields, RopeScaling& scaling) {
  scaling.type = RopeScalingType::Llama3;
  scaling.factor = fields.required_number("factor");
  scaling.low_freq_factor = fields.required_number("low_freq_factor");
  scaling.high_freq_factor = fields.required_number("high_freq_factor");
  scaling.original_max_position_embeddings = fields.required_int("original_max_position_embeddings");
  if (scaling.factor <= 0 || scaling.low_freq_factor <= 0 || scaling.original_max_position_embeddings <= 0) {
    fields.fail("llama3 rope scaling needs positive factor, low_freq_factor and original_max_position_embeddings");
  }
  if (scaling.high_freq_factor <= scaling.low_freq_factor) {
    fields.fail("llama3 rope scaling needs high_freq_factor > low_freq_factor, got " +
                std::to_string(scaling.high_freq_factor) + " <= " + std::to_string(scaling.low_freq_factor));
  }
}

// transformers' _compute_yarn_parameters (5.x): `factor` as written, original_max_position_embeddings
// defaulting to max_position_embeddings; beta_fast/beta_slow read with `or` (0 means the default).
void parse_yarn_scaling(const FieldReader& fields, int64_t max_position_embeddings, RopeScaling& scaling) {
  scaling.type = RopeScalingType::Yarn;
  scaling.factor = fields.required_number("factor");
  if (!(scaling.factor > 0)) fields.fail("yarn rope scaling needs a positive factor");
  scaling.original_max_position_embeddings = fields.int_or("original_max_position_embeddings", max_position_embeddings);
  require_positive(fields, "original_max_position_embeddings", scaling.original_max_position_embeddings);
  const double beta_fast = fields.number_or("beta_fast", 0.0), beta_slow = fields.number_or("beta_slow", 0.0);
  scaling.beta_fast = beta_fast != 0.0 ? beta_fast : 32.0;
  scaling.beta_slow = beta_slow != 0.0 ? beta_slow : 1.0;
  scaling.mscale = fields.number_or("mscale", 0.0);
  scaling.mscale_all_dim = fields.number_or("mscale_all_dim", 0.0);
  if (fields.has("attention_factor")) scaling.attention_factor = fields.required_number("attention_factor");
  scaling.truncate = fields.bool_or("truncate", true);
}

// rope_scaling (transformers <= 4.x) or rope_parameters (later releases): null, "default", "llama3" or "yarn".
RopeScaling parse_rope_scaling(const nlohmann::json& json, const std::string& source, int64_t max_position_embeddings) {
  const bool has_scaling = json.contains("rope_scaling") && !json.at("rope_scaling").is_null();
  const char* key = has_scaling ? "rope_scaling" : "rope_parameters";
  if (!json.contains(key) || json.at(key).is_null()) return {};
  const auto& object = json.at(key);
  if (!object.is_object()) throw ModelConfigError(source + ": field \"" + key + "\" must be an object or null, got " + object.dump());
  FieldReader fields(object, source + " (" + key + ")");
  const std::string type = fields.has("rope_type") ? fields.string_or("rope_type", "") : fields.string_or("type", "default");
  RopeScaling scaling;
  if (type == "default") return scaling;
  if (type == "llama3") {
    parse_llama3_scaling(fields, scaling);
  } else if (type == "yarn") {
    parse_yarn_scaling(fields, max_position_embeddings, scaling);
  } else {
    fields.fail("rope scaling type \"" + type + "\" is not supported; supported types: default (or null), llama3, yarn");
  }
  return scaling;
}

std::vector<int64_t> parse_eos_ids(const FieldReader& fields, const nlohmann::json& json) {
  if (!fields.has("eos_token_id")) return {};
  const auto& value = json.at("eos_token_id");
  if (value.is_number_integer()) return {value.get<int64_t>()};
  std::vector<int64_t> ids;
  if (value.is_array()) {
    for (const auto& id : value) {
      if (!id.is_number_integer()) fields.fail("field \"eos_token_id\" must be an integer or a list of integers, got " + value.dump());
      ids.push_back(id.get<int64_t>());
    }
    return ids;
  }
  fields.fail("field \"eos_token_id\" must be an integer or a list of integers, got " + value.dump());
}

void parse_sliding_window(const FieldReader& fields, ModelConfig& config) {
  if (fields.has("sliding_window")) {
    config.sliding_window = fields.required_int("sliding_window");
    require_positive(fields, "sliding_window", *config.sliding_window);
  }
}

// Fields of other mixture-of-experts designs (DeepSeek, Qwen2-MoE, GLM-4.5) whose routing or
// experts this engine does not run: refused, naming the field, rather than silently ignored.
void refuse_unsupported_moe_fields(const FieldReader& fields, const nlohmann::json& json) {
  const auto refuse = [&](const char* field, const std::string& why) {
    fields.fail("field \"" + std::string(field) + "\" " + json.at(field).dump() + " is not supported: " + why);
  };
  for (const char* field : {"shared_expert_intermediate_size", "n_shared_experts", "num_shared_experts"}) {
    if (fields.has(field) && !(json.at(field).is_number() && json.at(field).get<double>() == 0)) {
      refuse(field, "shared experts are not implemented for this architecture");
    }
  }
  if (fields.has("scoring_func") && fields.string_or("scoring_func", "") != "softmax") {
    refuse("scoring_func", "the router scores by softmax only");
  }
  if (fields.has("topk_method") && fields.string_or("topk_method", "") != "greedy") {
    refuse("topk_method", "the router picks the top-k experts greedily only (no grouped routing)");
  }
  for (const char* field : {"n_group", "topk_group"}) {
    if (fields.has(field) && !(json.at(field).is_number_integer() && json.at(field).get<int64_t>() <= 1)) {
      refuse(field, "grouped expert routing is not implemented");
    }
  }
  if (fields.has("routed_scaling_factor") && fields.number_or("routed_scaling_factor", 1.0) != 1.0) {
    refuse("routed_scaling_factor", "routed expert outputs are not rescaled");
  }
  if (fields.has("moe_layer_freq") && !(json.at("moe_layer_freq").is_number_integer() &&
                                        json.at("moe_layer_freq").get<int64_t>() == 1)) {
    refuse("moe_layer_freq", "use decoder_sparse_step / mlp_only_layers");
  }
}

MoeConfig parse_moe(const FieldReader& fields, const nlohmann::json& json, const ModelConfig& config) {
  refuse_unsupported_moe_fields(fields, json);
  MoeConfig moe;
  // transformers writes num_local_experts (Mixtral) or num_experts (Qwen3-MoE); it maps one to the other.
  if (fields.has("num_experts")) {
    moe.num_experts = fields.required_int("num_experts");
    require_positive(fields, "num_experts", moe.num_experts);
    require_at_most(fields, "num_experts", moe.num_experts, kMaxExperts);
  } else {
    moe.num_experts = fields.int_or("num_local_experts", 8);
    require_positive(fields, "num_local_experts", moe.num_experts);
    require_at_most(fields, "num_local_experts", moe.num_experts, kMaxExperts);
  }
  if (moe.num_experts * config.num_hidden_layers > kMaxExpertsInModel) {
    fields.fail(std::to_string(moe.num_experts) + " experts in each of " + std::to_string(config.num_hidden_layers) +
                " layers is more than dcomp's limit of " + std::to_string(kMaxExpertsInModel) + " experts in all");
  }
  moe.top_k = fields.int_or("num_experts_per_tok", config.architecture == Architecture::Mixtral ? 2 : 8);
  require_positive(fields, "num_experts_per_tok", moe.top_k);
  if (moe.top_k > moe.num_experts) {
    fields.fail("num_experts_per_tok " + std::to_string(moe.top_k) + " exceeds the number of experts " +
                std::to_string(moe.num_experts));
  }
  if (config.architecture == Architecture::Mixtral) {
    moe.expert_intermediate_size = config.intermediate_size;
    moe.norm_topk_prob = true;
    return moe;
  }
  moe.expert_intermediate_size = fields.required_int("moe_intermediate_size");
  require_positive(fields, "moe_intermediate_size", moe.expert_intermediate_size);
  moe.norm_topk_prob = fields.bool_or("norm_topk_prob", false);
  moe.decoder_sparse_step = fields.int_or("decoder_sparse_step", 1);
  require_positive(fields, "decoder_sparse_step", moe.decoder_sparse_step);
  if (fields.has("mlp_only_layers")) {
    const auto& list = json.at("mlp_only_layers");
    if (!list.is_array()) fields.fail("field \"mlp_only_layers\" must be a list of layer indices, got " + list.dump());
    for (const auto& index : list) {
      if (!index.is_number_integer() || index.get<int64_t>() < 0 || index.get<int64_t>() >= config.num_hidden_layers) {
        fields.fail("field \"mlp_only_layers\" must list layer indices in [0, " +
                    std::to_string(config.num_hidden_layers) + "), got " + list.dump());
      }
      moe.mlp_only_layers.push_back(index.get<int64_t>());
    }
  }
  return moe;
}

// DeepSeek-V3.2's sparse-attention indexer and routing modes transformers' DeepseekV3 does
// not compute: refused by name rather than run as something else.
void refuse_unsupported_deepseek_fields(const FieldReader& fields, const nlohmann::json& json) {
  for (const char* field : {"index_topk", "index_n_heads", "index_head_dim"}) {
    if (fields.has(field)) {
      fields.fail("field \"" + std::string(field) + "\" " + json.at(field).dump() +
                  " is not supported: DeepSeek-V3.2's sparse-attention indexer is not implemented");
    }
  }
  if (fields.has("scoring_func") && fields.string_or("scoring_func", "") != "sigmoid") {
    fields.fail("field \"scoring_func\" " + json.at("scoring_func").dump() +
                " is not supported: DeepseekV3ForCausalLM scores experts by sigmoid only");
  }
  if (fields.has("topk_method") && fields.string_or("topk_method", "") != "noaux_tc") {
    fields.fail("field \"topk_method\" " + json.at("topk_method").dump() +
                " is not supported: DeepseekV3ForCausalLM chooses experts by noaux_tc (biased, group-limited) only");
  }
  if (fields.has("moe_layer_freq") && !(json.at("moe_layer_freq").is_number_integer() &&
                                        json.at("moe_layer_freq").get<int64_t>() == 1)) {
    fields.fail("field \"moe_layer_freq\" " + json.at("moe_layer_freq").dump() +
                " is not supported: every layer from first_k_dense_replace on is sparse");
  }
}

// Defaults are configuration_deepseek_v3.py's (DeepSeek-V3's own sizes).
LatentAttentionConfig parse_latent_attention(const FieldReader& fields, const nlohmann::json& json) {
  LatentAttentionConfig mla;
  if (!json.contains("q_lora_rank")) {
    mla.q_lora_rank = 1536;
  } else if (!json.at("q_lora_rank").is_null()) {
    mla.q_lora_rank = fields.required_int("q_lora_rank");
    require_positive(fields, "q_lora_rank", *mla.q_lora_rank);
  }
  mla.kv_lora_rank = fields.int_or("kv_lora_rank", 512);
  mla.qk_nope_head_dim = fields.int_or("qk_nope_head_dim", 128);
  mla.qk_rope_head_dim = fields.int_or("qk_rope_head_dim", 64);
  mla.v_head_dim = fields.int_or("v_head_dim", 128);
  require_positive(fields, "kv_lora_rank", mla.kv_lora_rank);
  require_positive(fields, "qk_nope_head_dim", mla.qk_nope_head_dim);
  require_positive(fields, "qk_rope_head_dim", mla.qk_rope_head_dim);
  require_positive(fields, "v_head_dim", mla.v_head_dim);
  if (mla.qk_rope_head_dim % 2 != 0) {
    fields.fail("qk_rope_head_dim " + std::to_string(mla.qk_rope_head_dim) + " must be even for rotary embeddings");
  }
  mla.rope_interleave = fields.bool_or("rope_interleave", true);
  return mla;
}

// configuration_deepseek_v3.py's and configuration_glm4_moe.py's defaults of the same fields.
struct GroupedMoeDefaults {
  int64_t experts, top_k, intermediate;
  double routed_scaling_factor;
  int64_t n_group, topk_group, first_dense;
};
constexpr GroupedMoeDefaults kDeepseekV3Defaults{256, 8, 2048, 2.5, 8, 4, 3};
constexpr GroupedMoeDefaults kGlm4MoeDefaults{128, 8, 1408, 1.0, 1, 1, 1};

MoeConfig parse_deepseek_moe(const FieldReader& fields, const ModelConfig& config, const GroupedMoeDefaults& defaults) {
  MoeConfig moe;
  moe.scoring = RouterScoring::Sigmoid;
  moe.score_correction_bias = true;
  // configuration_deepseek_v3.py maps num_local_experts onto n_routed_experts.
  moe.num_experts = fields.has("n_routed_experts") ? fields.required_int("n_routed_experts")
                                                   : fields.int_or("num_local_experts", defaults.experts);
  require_positive(fields, "n_routed_experts", moe.num_experts);
  require_at_most(fields, "n_routed_experts", moe.num_experts, kMaxExperts);
  if (moe.num_experts * config.num_hidden_layers > kMaxExpertsInModel) {
    fields.fail(std::to_string(moe.num_experts) + " experts in each of " + std::to_string(config.num_hidden_layers) +
                " layers is more than dcomp's limit of " + std::to_string(kMaxExpertsInModel) + " experts in all");
  }
  moe.top_k = fields.int_or("num_experts_per_tok", defaults.top_k);
  require_positive(fields, "num_experts_per_tok", moe.top_k);
  moe.expert_intermediate_size = fields.int_or("moe_intermediate_size", defaults.intermediate);
  require_positive(fields, "moe_intermediate_size", moe.expert_intermediate_size);
  moe.norm_topk_prob = fields.bool_or("norm_topk_prob", true);
  moe.routed_scaling_factor = fields.number_or("routed_scaling_factor", defaults.routed_scaling_factor);
  if (!(moe.routed_scaling_factor > 0)) fields.fail("field \"routed_scaling_factor\" must be positive");
  moe.n_group = fields.int_or("n_group", defaults.n_group);
  moe.topk_group = fields.int_or("topk_group", defaults.topk_group);
  require_positive(fields, "n_group", moe.n_group);
  require_positive(fields, "topk_group", moe.topk_group);
  if (moe.num_experts % moe.n_group != 0 || moe.num_experts / moe.n_group < 2) {
    fields.fail("n_routed_experts " + std::to_string(moe.num_experts) + " must split into n_group " +
                std::to_string(moe.n_group) + " groups of at least 2 experts (a group scores its two best)");
  }
  if (moe.topk_group > moe.n_group) {
    fields.fail("topk_group " + std::to_string(moe.topk_group) + " exceeds n_group " + std::to_string(moe.n_group));
  }
  if (moe.top_k > moe.topk_group * (moe.num_experts / moe.n_group)) {
    fields.fail("num_experts_per_tok " + std::to_string(moe.top_k) + " exceeds the " +
                std::to_string(moe.topk_group * (moe.num_experts / moe.n_group)) +
                " experts of the topk_group groups a token may use");
  }
  const int64_t shared = fields.int_or("n_shared_experts", 1);
  if (shared < 0) fields.fail("field \"n_shared_experts\" must not be negative, got " + std::to_string(shared));
  moe.shared_intermediate_size = moe.expert_intermediate_size * shared;
  // transformers: layer i is sparse when i >= first_k_dense_replace.
  const int64_t first_sparse = fields.int_or("first_k_dense_replace", defaults.first_dense);
  if (first_sparse < 0) fields.fail("field \"first_k_dense_replace\" must not be negative");
  for (int64_t layer = 0; layer < std::min(first_sparse, config.num_hidden_layers); ++layer) {
    moe.mlp_only_layers.push_back(layer);
  }
  return moe;
}

void parse_next_token_prediction_layers(const FieldReader& fields, ModelConfig& config) {
  config.next_token_prediction_layers = fields.int_or("num_nextn_predict_layers", 0);
  if (config.next_token_prediction_layers < 0) fields.fail("field \"num_nextn_predict_layers\" must not be negative");
}

// Head sizes, MLA and routing of DeepseekV3ForCausalLM (DeepSeek-V3, R1, Kimi-K2).
void parse_deepseek_v3(const FieldReader& fields, const nlohmann::json& json, ModelConfig& config) {
  refuse_unsupported_deepseek_fields(fields, json);
  config.latent_attention = parse_latent_attention(fields, json);
  // transformers' DeepseekV3Config sets head_dim to the rotary width; the rotary embedding uses it.
  config.head_dim = config.latent_attention->qk_rope_head_dim;
  config.qkv_bias = config.o_proj_bias = fields.bool_or("attention_bias", false);
  config.moe = parse_deepseek_moe(fields, config, kDeepseekV3Defaults);
  parse_next_token_prediction_layers(fields, config);
}

// Glm4MoeForCausalLM (GLM-4.5): grouped-query attention with partial rotary embeddings, q/k/v
// bias (attention_bias), optional q/k norm, and DeepSeek-V3's routing and shared experts.
void parse_glm4_moe(const FieldReader& fields, const nlohmann::json& json, ModelConfig& config) {
  refuse_unsupported_deepseek_fields(fields, json);
  config.qkv_bias = fields.bool_or("attention_bias", false);
  config.qk_norm = fields.bool_or("use_qk_norm", false);
  // transformers 5.x keeps it in rope_parameters; earlier configs at the top level; 0.5 by default.
  const bool nested = json.contains("rope_parameters") && json.at("rope_parameters").is_object() &&
                      json.at("rope_parameters").contains("partial_rotary_factor");
  config.partial_rotary_factor =
      nested ? FieldReader(json.at("rope_parameters"), config.source.string() + " (rope_parameters)")
                   .required_number("partial_rotary_factor")
             : fields.number_or("partial_rotary_factor", 0.5);
  const int64_t rotary = config.rotary_dim();
  if (!(config.partial_rotary_factor > 0 && config.partial_rotary_factor <= 1) || rotary < 2 || rotary % 2 != 0) {
    fields.fail("partial_rotary_factor " + std::to_string(config.partial_rotary_factor) + " of head_dim " +
                std::to_string(config.head_dim) + " must rotate an even, positive number of dimensions");
  }
  config.moe = parse_deepseek_moe(fields, config, kGlm4MoeDefaults);
  parse_next_token_prediction_layers(fields, config);
}

// The model's sizes (hidden, intermediate, layers, heads, vocabulary, positions) and
// rms_norm_eps: all required, all positive.
void parse_dimensions(const FieldReader& fields, ModelConfig& config) {
  config.hidden_size = fields.required_int("hidden_size");
  config.intermediate_size = fields.required_int("intermediate_size");
  config.num_hidden_layers = fields.required_int("num_hidden_layers");
  config.num_attention_heads = fields.required_int("num_attention_heads");
  config.vocab_size = fields.required_int("vocab_size");
  config.max_position_embeddings = fields.required_int("max_position_embeddings");
  config.rms_norm_eps = fields.required_number("rms_norm_eps");
  config.num_key_value_heads = fields.int_or("num_key_value_heads", config.num_attention_heads);
  require_positive(fields, "hidden_size", config.hidden_size);
  require_positive(fields, "intermediate_size", config.intermediate_size);
  require_positive(fields, "num_hidden_layers", config.num_hidden_layers);
  require_at_most(fields, "num_hidden_layers", config.num_hidden_layers, kMaxHiddenLayers);
  require_positive(fields, "num_attention_heads", config.num_attention_heads);
  require_positive(fields, "num_key_value_heads", config.num_key_value_heads);
  require_positive(fields, "vocab_size", config.vocab_size);
  require_positive(fields, "max_position_embeddings", config.max_position_embeddings);
  if (!(config.rms_norm_eps > 0)) fields.fail("field \"rms_norm_eps\" must be positive");
}

// head_dim (given, or hidden_size / num_attention_heads), even for the rotary embedding, and
// the attention heads a whole multiple of the key/value heads.
void parse_head_dim(const FieldReader& fields, ModelConfig& config) {
  if (config.architecture == Architecture::DeepseekV3) {
    config.head_dim = 2;  // set to qk_rope_head_dim by parse_deepseek_v3
  } else if (fields.has("head_dim")) {
    config.head_dim = fields.required_int("head_dim");
    require_positive(fields, "head_dim", config.head_dim);
  } else {
    if (config.hidden_size % config.num_attention_heads != 0) {
      fields.fail("hidden_size " + std::to_string(config.hidden_size) + " is not divisible by num_attention_heads " +
                  std::to_string(config.num_attention_heads) + " and no head_dim is given");
    }
    config.head_dim = config.hidden_size / config.num_attention_heads;
  }
  if (config.head_dim % 2 != 0) fields.fail("head_dim " + std::to_string(config.head_dim) + " must be even for rotary embeddings");
  if (config.num_attention_heads % config.num_key_value_heads != 0) {
    fields.fail("num_attention_heads " + std::to_string(config.num_attention_heads) +
                " is not a multiple of num_key_value_heads " + std::to_string(config.num_key_value_heads));
  }
}

// hidden_act: only SiLU (the SwiGLU MLP) is run.
void require_silu_activation(const FieldReader& fields) {
  const std::string activation = fields.string_or("hidden_act", "silu");
  if (activation != "silu") fields.fail("hidden_act \"" + activation + "\" is not supported; only \"silu\" (SwiGLU MLP) is");
}

// rope_theta, rope_scaling, and a partial_rotary_factor of 1 (GLM-4.5's is read with its other fields).
void parse_rope(const FieldReader& fields, const nlohmann::json& json, const std::string& where, ModelConfig& config) {
  // rope_theta sits at the top level, or inside rope_parameters in later transformers releases.
  if (fields.has("rope_theta")) {
    config.rope_theta = fields.required_number("rope_theta");
  } else if (json.contains("rope_parameters") && json.at("rope_parameters").is_object()) {
    config.rope_theta = FieldReader(json.at("rope_parameters"), where + " (rope_parameters)").number_or("rope_theta", 10000.0);
  } else if (json.contains("rope_theta")) {
    // Written as null (e.g. a non-finite number serialised): not the same as absent.
    fields.fail("field \"rope_theta\" is null; it must be a positive number");
  }
  if (!(config.rope_theta > 0)) fields.fail("field \"rope_theta\" must be positive");
  config.rope_scaling = parse_rope_scaling(json, where, config.max_position_embeddings);
  if (config.architecture != Architecture::Glm4Moe && fields.has("partial_rotary_factor") &&
      fields.number_or("partial_rotary_factor", 1.0) != 1.0) {
    fields.fail("partial_rotary_factor other than 1.0 is not supported");
  }
}

// torch_dtype, else dtype; float32 when neither is given.
std::string parse_torch_dtype(const FieldReader& fields) {
  std::string torch_dtype = fields.string_or("torch_dtype", fields.string_or("dtype", "float32"));
  if (torch_dtype != "float32" && torch_dtype != "float16" && torch_dtype != "bfloat16" &&
      torch_dtype != "float" && torch_dtype != "half") {
    fields.fail("torch_dtype \"" + torch_dtype + "\" is not supported (float32, float16 or bfloat16)");
  }
  return torch_dtype;
}

// Biases, q/k norm, sliding window, MoE and attention variants, by architecture.
void parse_architecture_specific_fields(const FieldReader& fields, const nlohmann::json& json, ModelConfig& config) {
  switch (config.architecture) {
    case Architecture::Llama:
      config.qkv_bias = config.o_proj_bias = fields.bool_or("attention_bias", false);
      config.mlp_bias = fields.bool_or("mlp_bias", false);
      break;
    case Architecture::Mistral:
      parse_sliding_window(fields, config);
      break;
    case Architecture::Mixtral:
      parse_sliding_window(fields, config);
      config.moe = parse_moe(fields, json, config);
      break;
    case Architecture::Qwen2:
    case Architecture::Qwen3:
    case Architecture::Qwen3Moe:
      if (fields.bool_or("use_sliding_window", false)) fields.fail("use_sliding_window true is not supported");
      if (config.architecture == Architecture::Qwen2) {
        config.qkv_bias = true;
      } else {
        config.qkv_bias = config.o_proj_bias = fields.bool_or("attention_bias", false);
        config.qk_norm = true;
      }
      if (config.architecture == Architecture::Qwen3Moe) config.moe = parse_moe(fields, json, config);
      break;
    case Architecture::DeepseekV3:
      parse_deepseek_v3(fields, json, config);
      break;
    case Architecture::Glm4Moe:
      parse_glm4_moe(fields, json, config);
      break;
  }
}

}  // namespace

bool ModelConfig::is_sparse_layer(int64_t layer_index) const {
  if (!moe) return false;
  for (const int64_t dense : moe->mlp_only_layers) {
    if (dense == layer_index) return false;
  }
  return (layer_index + 1) % moe->decoder_sparse_step == 0;
}

std::string architecture_name(Architecture architecture) { return describe(architecture).class_name; }

std::string supported_architecture_names() {
  std::string names;
  for (const auto& entry : architecture_descriptions()) {
    if (!names.empty()) names += ", ";
    names += entry.class_name;
  }
  return names;
}

bool ModelConfig::has_quantization_config() const {
  return raw.contains("quantization_config") && !raw.at("quantization_config").is_null();
}

ModelConfig ModelConfig::from_dir(const std::filesystem::path& model_dir) {
  const auto path = model_dir / "config.json";
  std::ifstream file(path);
  if (!file) throw ModelConfigError(path.string() + ": cannot open (is " + model_dir.string() + " a model folder?)");
  nlohmann::json json;
  try {
    json = json_input::parse_bounded_json(json_input::read_bounded_text(file, path.string(), json_input::kMaxConfigJsonBytes), path.string());
  } catch (const json_input::JsonLimitError& error) {
    throw ModelConfigError(error.what());
  } catch (const nlohmann::json::exception& error) {  // parse_error, or out_of_range for a number too large
    throw ModelConfigError(path.string() + ": not valid JSON: " + error.what());
  }
  return from_json(json, path);
}

ModelConfig ModelConfig::from_json(const nlohmann::json& json, const std::filesystem::path& source) {
  const std::string where = source.string();
  if (!json.is_object()) throw ModelConfigError(where + ": expected a JSON object at the top level");
  const FieldReader fields(json, where);

  ModelConfig config;
  config.raw = json;
  config.source = source;
  config.architecture = parse_architecture(fields, json);
  parse_dimensions(fields, config);
  parse_head_dim(fields, config);
  require_silu_activation(fields);
  parse_rope(fields, json, where, config);

  config.tie_word_embeddings = fields.bool_or("tie_word_embeddings", false);
  config.torch_dtype = parse_torch_dtype(fields);
  config.bos_token_id = fields.optional_int("bos_token_id");
  config.eos_token_ids = parse_eos_ids(fields, json);
  parse_architecture_specific_fields(fields, json, config);
  return config;
}

}  // namespace dcomp::model
