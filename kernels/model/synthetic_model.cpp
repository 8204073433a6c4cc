#include "kernels/model/synthetic_model.hpp"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <stdexcept>

#include "kernels/model/synthetic_checkpoint_writer.hpp"
#include "kernels/model/synthetic_deepseek_v3.hpp"
#include "kernels/model/synthetic_weights.hpp"
#include "kernels/io/layer_names.hpp"

namespace dcomp::model {
namespace {

/// GPT-2's reversible byte → printable code point table (bytes_to_unicode).
// reference: openai/gpt-2 src/encoder.py bytes_to_unicode
std::string byte_symbol(int byte) {
  int code_point = byte;
  const bool printable = (byte >= '!' && byte <= '~') || (byte >= 0xA1 && byte <= 0xAC) || (byte >= 0xAE);
  if (!printable) {
    int shifted = 0;
    for (int b = 0; b < byte; ++b) {
      const bool p = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      if (!p) ++shifted;
    }
    code_point = 256 + shifted;
  }
  std::string out;
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
  return out;
}

nlohmann::json tokenizer_json() {
  nlohmann::json vocab = nlohmann::json::object();
  for (int b = 0; b < 256; ++b) vocab[byte_symbol(b)] = b;
  auto special = [](int id, const char* content) {
    return nlohmann::json{{"id", id},          {"content", content}, {"single_word", false}, {"lstrip", false},
                          {"rstrip", false},   {"normalized", false}, {"special", true}};
  };
  nlohmann::json byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true},
                               {"use_regex", true}};
  return {{"version", "1.0"},
          {"truncation", nullptr},
          {"padding", nullptr},
          {"added_tokens", {special(256, "<s>"), special(257, "</s>")}},
          {"normalizer", nullptr},
          {"pre_tokenizer", byte_level},
          {"post_processor", nullptr},
          {"decoder", byte_level},
          {"model",
           {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", nullptr},
            {"end_of_word_suffix", nullptr}, {"fuse_unk", false}, {"byte_fallback", false},
            {"ignore_merges", false}, {"vocab", vocab}, {"merges", nlohmann::json::array()}}}};
}

void write_json(const std::filesystem::path& path, const nlohmann::json& value) {
  std::ofstream out(path);
  if (!out) throw std::runtime_error(path.string() + ": cannot write");
  out << value.dump(2) << "\n";
}

int64_t llama_head_dim(const SyntheticModelOptions& o) {
  return o.head_dim > 0 ? o.head_dim : o.hidden_size / o.num_attention_heads;
}

void check_llama_options(const SyntheticModelOptions& o) {
  if ((o.head_dim == 0 && o.hidden_size % o.num_attention_heads != 0) || o.num_attention_heads % o.num_key_value_heads != 0) {
    throw std::invalid_argument("synthetic model: hidden size, heads and KV heads are not compatible");
  }
  if (o.num_experts > 0 &&
      (o.experts_per_token <= 0 || o.experts_per_token > o.num_experts || o.expert_intermediate_size <= 0)) {
    throw std::invalid_argument("synthetic model: experts_per_token must be in [1, num_experts] and the expert size positive");
  }
}

// Decoder Linear weight elements and other elements of a Llama / Qwen3-MoE layer.
SyntheticLayerSize llama_layer_size(const SyntheticModelOptions& o) {
  const int64_t head_dim = llama_head_dim(o);
  const int64_t attention = o.num_attention_heads * head_dim, kv = o.num_key_value_heads * head_dim;
  const bool sparse = o.num_experts > 0;
  SyntheticLayerSize size;
  size.linear_elements = 2 * o.hidden_size * attention + 2 * o.hidden_size * kv +
                         (sparse ? o.num_experts * 3 * o.hidden_size * o.expert_intermediate_size
                                 : 3 * o.hidden_size * o.intermediate_size);
  size.other_elements = 2 * o.hidden_size + (sparse ? o.num_experts * o.hidden_size + 2 * head_dim : 0);
  return size;
}

void add_llama_layer(SyntheticCheckpointWriter& writer, SyntheticWeights& weights, const SyntheticModelOptions& o,
                     int64_t layer) {
  const int64_t head_dim = llama_head_dim(o);
  const int64_t attention = o.num_attention_heads * head_dim, kv = o.num_key_value_heads * head_dim;
  const std::string p = io::layer_prefix(layer);
  writer.add(p + "input_layernorm.weight", weights.norm(o.hidden_size));
  writer.add_linear(p + "self_attn.q_proj.weight", weights.linear(attention, o.hidden_size));
  writer.add_linear(p + "self_attn.k_proj.weight", weights.linear(kv, o.hidden_size));
  writer.add_linear(p + "self_attn.v_proj.weight", weights.linear(kv, o.hidden_size));
  writer.add_linear(p + "self_attn.o_proj.weight", weights.linear(o.hidden_size, attention));
  writer.add(p + "post_attention_layernorm.weight", weights.norm(o.hidden_size));
  if (o.num_experts == 0) {
    writer.add_linear(p + "mlp.gate_proj.weight", weights.linear(o.intermediate_size, o.hidden_size));
    writer.add_linear(p + "mlp.up_proj.weight", weights.linear(o.intermediate_size, o.hidden_size));
    writer.add_linear(p + "mlp.down_proj.weight", weights.linear(o.hidden_size, o.intermediate_size));
    return;
  }
  writer.add(p + "self_attn.q_norm.weight", at::ones({head_dim}, at::kFloat));
  writer.add(p + "self_attn.k_norm.weight", at::ones({head_dim}, at::kFloat));
  writer.add(p + "mlp.gate.weight", weights.linear(o.num_experts, o.hidden_size));
  for (int64_t e = 0; e < o.num_experts; ++e) {
    const std::string expert = p + "mlp.experts." + std::to_string(e) + ".";
    writer.add_linear(expert + "gate_proj.weight", weights.linear(o.expert_intermediate_size, o.hidden_size));
    writer.add_linear(expert + "up_proj.weight", weights.linear(o.expert_intermediate_size, o.hidden_size));
    writer.add_linear(expert + "down_proj.weight", weights.linear(o.hidden_size, o.expert_intermediate_size));
  }
}

nlohmann::json llama_config(const SyntheticModelOptions& o) {
  nlohmann::json config = {{"architectures", {"LlamaForCausalLM"}},
              {"model_type", "llama"},
              {"hidden_size", o.hidden_size},
              {"intermediate_size", o.intermediate_size},
              {"num_hidden_layers", o.num_layers},
              {"num_attention_heads", o.num_attention_heads},
              {"num_key_value_heads", o.num_key_value_heads},
              {"head_dim", llama_head_dim(o)},
              {"hidden_act", "silu"},
              {"max_position_embeddings", o.max_position_embeddings},
              {"rms_norm_eps", 1e-5},
              {"rope_theta", 10000.0},
              {"rope_scaling", nullptr},
              {"attention_bias", false},
              {"mlp_bias", false},
              {"tie_word_embeddings", false},
              {"torch_dtype", o.dtype},
              {"vocab_size", o.vocab_size},
              {"bos_token_id", 256},
              {"eos_token_id", 257},
              {"initializer_range", 0.02},
              {"use_cache", true}};
  if (o.num_experts > 0) {
    config["architectures"] = {"Qwen3MoeForCausalLM"};
    config["model_type"] = "qwen3_moe";
    config.erase("mlp_bias");
    config.erase("rope_scaling");
    config["num_experts"] = o.num_experts;
    config["num_experts_per_tok"] = o.experts_per_token;
    config["moe_intermediate_size"] = o.expert_intermediate_size;
    config["norm_topk_prob"] = true;
    config["decoder_sparse_step"] = 1;
    config["mlp_only_layers"] = nlohmann::json::array();
  }
  return config;
}

void write_tokenizer_files(const std::filesystem::path& directory, const SyntheticModelOptions& o) {
  write_json(directory / "generation_config.json", {{"bos_token_id", 256}, {"eos_token_id", 257}});
  write_json(directory / "tokenizer.json", tokenizer_json());
  write_json(directory / "tokenizer_config.json",
             {{"bos_token", "<s>"}, {"eos_token", "</s>"}, {"model_max_length", o.max_position_embeddings},
              {"tokenizer_class", "PreTrainedTokenizerFast"}, {"add_bos_token", true}, {"add_eos_token", false}});
  write_json(directory / "special_tokens_map.json", {{"bos_token", "<s>"}, {"eos_token", "</s>"}});
}

}  // namespace

SyntheticModelOptions deepseek_v3_release_options() {
  SyntheticModelOptions o;
  o.architecture = "deepseek_v3";
  o.num_layers = 61;
  o.hidden_size = 7168;
  o.intermediate_size = 18432;
  o.num_attention_heads = 128;
  o.num_key_value_heads = 128;
  o.max_position_embeddings = 163840;
  o.num_experts = 256;
  o.experts_per_token = 8;
  o.expert_intermediate_size = 2048;
  o.dtype = "bfloat16";
  o.deepseek = SyntheticDeepseekOptions{};
  return o;
}

void create_synthetic_model(const std::filesystem::path& directory, const SyntheticModelOptions& o,
                            const SyntheticLinearStorage* linear_storage) {
  if (std::filesystem::exists(directory) && !std::filesystem::is_empty(directory)) {
    throw std::runtime_error(directory.string() + ": the folder exists and is not empty");
  }
  if (o.dtype != "float32" && o.dtype != "bfloat16") {
    throw std::invalid_argument("synthetic model: dtype must be float32 or bfloat16, not " + o.dtype);
  }
  if (o.vocab_size < 258) throw std::invalid_argument("synthetic model: vocab_size must be at least 258");
  const bool deepseek = o.architecture == "deepseek_v3";
  if (!deepseek && o.architecture != "llama") {
    throw std::invalid_argument("synthetic model: architecture must be llama or deepseek_v3, not " + o.architecture);
  }
  if (!deepseek) check_llama_options(o);
  // The config is made (and, for DeepSeek-V3, checked by the config reader) before any file.
  nlohmann::json config = deepseek ? deepseek_v3_config(o) : llama_config(o);
  if (linear_storage != nullptr && !linear_storage->quantization_config.is_null()) {
    config["quantization_config"] = linear_storage->quantization_config;
  }
  const at::ScalarType stored = o.dtype == "bfloat16" ? at::kBFloat16 : at::kFloat;
  const double element_bytes = static_cast<double>(at::elementSize(stored));
  const double linear_bytes = linear_storage != nullptr ? linear_storage->bytes_per_element : element_bytes;
  double total_bytes = element_bytes * static_cast<double>(2 * o.vocab_size * o.hidden_size + o.hidden_size);
  for (int64_t i = 0; i < o.num_layers; ++i) {
    const SyntheticLayerSize size = deepseek ? deepseek_v3_layer_size(o, i) : llama_layer_size(o);
    total_bytes += linear_bytes * static_cast<double>(size.linear_elements) +
                   element_bytes * static_cast<double>(size.other_elements);
  }
  const bool sharded = total_bytes > static_cast<double>(int64_t{2} << 30);
  std::filesystem::create_directories(directory);
  SyntheticWeights weights(o.seed, o.outlier_channels);
  // Shards: the embedding, each layer, the norm and head.
  SyntheticCheckpointWriter writer(directory, stored, linear_storage, sharded ? o.num_layers + 2 : 0);
  writer.add("model.embed_tokens.weight", weights.normal({o.vocab_size, o.hidden_size}));
  writer.end_shard();
  for (int64_t i = 0; i < o.num_layers; ++i) {
    if (deepseek) {
      add_deepseek_v3_layer(writer, weights, o, i);
    } else {
      add_llama_layer(writer, weights, o, i);
    }
    writer.end_shard();
  }
  writer.add("model.norm.weight", at::ones({o.hidden_size}, at::kFloat));
  writer.add("lm_head.weight", weights.linear(o.vocab_size, o.hidden_size));
  writer.finish();
  write_json(directory / "config.json", config);
  write_tokenizer_files(directory, o);
}

}  // namespace dcomp::model
