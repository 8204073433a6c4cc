#include "kernels/model/synthetic_model.hpp"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <map>
#include <stdexcept>

#include "kernels/io/safetensors.hpp"

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

}  // namespace

void create_synthetic_model(const std::filesystem::path& directory, const SyntheticModelOptions& o) {
  if (std::filesystem::exists(directory) && !std::filesystem::is_empty(directory)) {
    throw std::runtime_error(directory.string() + ": the folder exists and is not empty");
  }
  if ((o.head_dim == 0 && o.hidden_size % o.num_attention_heads != 0) || o.num_attention_heads % o.num_key_value_heads != 0) {
    throw std::invalid_argument("synthetic model: hidden size, heads and KV heads are not compatible");
  }
  if (o.dtype != "float32" && o.dtype != "bfloat16") {
    throw std::invalid_argument("synthetic model: dtype must be float32 or bfloat16, not " + o.dtype);
  }
  std::filesystem::create_directories(directory);
  if (o.vocab_size < 258) throw std::invalid_argument("synthetic model: vocab_size must be at least 258");
  const int64_t vocab = o.vocab_size;
  const int64_t head_dim = o.head_dim > 0 ? o.head_dim : o.hidden_size / o.num_attention_heads;
  const bool sparse = o.num_experts > 0;
  if (sparse && (o.experts_per_token <= 0 || o.experts_per_token > o.num_experts || o.expert_intermediate_size <= 0)) {
    throw std::invalid_argument("synthetic model: experts_per_token must be in [1, num_experts] and the expert size positive");
  }
  auto generator = at::make_generator<at::CPUGeneratorImpl>(o.seed);
  const at::ScalarType stored = o.dtype == "bfloat16" ? at::kBFloat16 : at::kFloat;
  const int64_t element_bytes = static_cast<int64_t>(at::elementSize(stored));
  const int64_t attention = o.num_attention_heads * head_dim, kv = o.num_key_value_heads * head_dim;
  const int64_t mlp_elements = sparse ? o.num_experts * (3 * o.hidden_size * o.expert_intermediate_size + o.hidden_size)
                                      : 3 * o.hidden_size * o.intermediate_size;
  const int64_t layer_elements = 2 * o.hidden_size + 2 * o.hidden_size * attention + 2 * o.hidden_size * kv +
                                 mlp_elements + (sparse ? 2 * head_dim : 0);
  const int64_t total_bytes = element_bytes * (o.num_layers * layer_elements + 2 * vocab * o.hidden_size + o.hidden_size);
  const bool sharded = total_bytes > (int64_t{2} << 30);
  const int64_t shard_count = o.num_layers + 2;  // embedding, each layer, norm + head
  std::vector<io::NamedTensor> tensors;
  std::map<std::string, std::string> weight_map;
  int64_t shard = 0;
  auto add = [&](const std::string& name, at::Tensor value) {
    tensors.push_back({name, value.to(stored).contiguous(), std::nullopt});
  };
  // Writes the tensors made so far as the next shard (sharded models) and frees them.
  auto flush = [&]() {
    if (!sharded) return;
    char file[64];
    std::snprintf(file, sizeof file, "model-%05lld-of-%05lld.safetensors", static_cast<long long>(++shard),
                  static_cast<long long>(shard_count));
    for (const auto& tensor : tensors) weight_map[tensor.name] = file;
    io::write_safetensors(directory / file, tensors, {{"format", "pt"}});
    tensors.clear();
  };
  // Weights ~ N(0, 1/fan_in) keep activations of order one through the layers.
  auto linear = [&](int64_t out, int64_t in) {
    return at::randn({out, in}, generator, at::kFloat) / std::sqrt(static_cast<double>(in));
  };
  auto norm = [&]() {
    at::Tensor weight = at::ones({o.hidden_size}, at::kFloat) + 0.1 * at::randn({o.hidden_size}, generator, at::kFloat);
    if (o.outlier_channels) weight.slice(0, 0, std::max<int64_t>(1, o.hidden_size / 64)).mul_(8.0);
    return weight;
  };
  add("model.embed_tokens.weight", at::randn({vocab, o.hidden_size}, generator, at::kFloat));
  flush();
  for (int64_t i = 0; i < o.num_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    add(p + "input_layernorm.weight", norm());
    add(p + "self_attn.q_proj.weight", linear(attention, o.hidden_size));
    add(p + "self_attn.k_proj.weight", linear(kv, o.hidden_size));
    add(p + "self_attn.v_proj.weight", linear(kv, o.hidden_size));
    add(p + "self_attn.o_proj.weight", linear(o.hidden_size, attention));
    add(p + "post_attention_layernorm.weight", norm());
    if (!sparse) {
      add(p + "mlp.gate_proj.weight", linear(o.intermediate_size, o.hidden_size));
      add(p + "mlp.up_proj.weight", linear(o.intermediate_size, o.hidden_size));
      add(p + "mlp.down_proj.weight", linear(o.hidden_size, o.intermediate_size));
    } else {
      add(p + "self_attn.q_norm.weight", at::ones({head_dim}, at::kFloat));
      add(p + "self_attn.k_norm.weight", at::ones({head_dim}, at::kFloat));
      add(p + "mlp.gate.weight", linear(o.num_experts, o.hidden_size));
      for (int64_t e = 0; e < o.num_experts; ++e) {
        const std::string expert = p + "mlp.experts." + std::to_string(e) + ".";
        add(expert + "gate_proj.weight", linear(o.expert_intermediate_size, o.hidden_size));
        add(expert + "up_proj.weight", linear(o.expert_intermediate_size, o.hidden_size));
        add(expert + "down_proj.weight", linear(o.hidden_size, o.expert_intermediate_size));
      }
    }
    flush();
  }
  add("model.norm.weight", at::ones({o.hidden_size}, at::kFloat));
  add("lm_head.weight", linear(vocab, o.hidden_size));
  if (sharded) {
    flush();
    io::write_safetensors_index(directory / "model.safetensors.index.json", weight_map,
                                static_cast<uint64_t>(total_bytes));
  } else {
    io::write_safetensors(directory / "model.safetensors", tensors, {{"format", "pt"}});
  }

  nlohmann::json config = {{"architectures", {"LlamaForCausalLM"}},
              {"model_type", "llama"},
              {"hidden_size", o.hidden_size},
              {"intermediate_size", o.intermediate_size},
              {"num_hidden_layers", o.num_layers},
              {"num_attention_heads", o.num_attention_heads},
              {"num_key_value_heads", o.num_key_value_heads},
              {"head_dim", head_dim},
              {"hidden_act", "silu"},
              {"max_position_embeddings", o.max_position_embeddings},
              {"rms_norm_eps", 1e-5},
              {"rope_theta", 10000.0},
              {"rope_scaling", nullptr},
              {"attention_bias", false},
              {"mlp_bias", false},
              {"tie_word_embeddings", false},
              {"torch_dtype", o.dtype},
              {"vocab_size", vocab},
              {"bos_token_id", 256},
              {"eos_token_id", 257},
              {"initializer_range", 0.02},
              {"use_cache", true}};
  if (sparse) {
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
  write_json(directory / "config.json", config);
  write_json(directory / "generation_config.json", {{"bos_token_id", 256}, {"eos_token_id", 257}});
  write_json(directory / "tokenizer.json", tokenizer_json());
  write_json(directory / "tokenizer_config.json",
             {{"bos_token", "<s>"}, {"eos_token", "</s>"}, {"model_max_length", o.max_position_embeddings},
              {"tokenizer_class", "PreTrainedTokenizerFast"}, {"add_bos_token", true}, {"add_eos_token", false}});
  write_json(directory / "special_tokens_map.json", {{"bos_token", "<s>"}, {"eos_token", "</s>"}});
}

}  // namespace dcomp::model
