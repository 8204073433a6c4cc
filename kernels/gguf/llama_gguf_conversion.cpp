// reference: llama.cpp convert_hf_to_gguf.py (LlamaModel.permute, the tensor name map);
// transformers/integrations/ggml.py and modeling_gguf_pytorch_utils.py (reverse_permute_weights)
#include "kernels/gguf/llama_gguf_conversion.hpp"

#include <cmath>
#include <optional>
#include <string_view>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "kernels/gguf/ggml_dequantize.hpp"
#include "kernels/gguf/gguf_tokenizer.hpp"
#include "kernels/io/durable_files.hpp"
#include "kernels/io/safetensors.hpp"
#include "kernels/io/shape_text.hpp"
#include "kernels/io/name_affixes.hpp"
#include "kernels/io/layer_names.hpp"

namespace dcomp::gguf {
namespace {

using Json = nlohmann::ordered_json;

struct LlamaShape {
  int64_t hidden = 0, intermediate = 0, layers = 0, heads = 0, kv_heads = 0, head_dim = 0, vocab = 0;
};

enum class RowOrder { kAsStored, kQueryHeads, kKeyHeads };

// One tensor to write: where it comes from, its name and shape in the folder.
struct PlannedTensor {
  const GgufTensorInfo* source;
  std::string name;
  std::vector<int64_t> shape;
  RowOrder order = RowOrder::kAsStored;
};

int64_t positive(const GgufFile& file, const std::string& key) {
  const uint64_t value = file.unsigned_integer(key);
  if (value == 0 || value > (uint64_t{1} << 31)) throw file.error("metadata '" + key + "' is " + std::to_string(value));
  return static_cast<int64_t>(value);
}

// A real metadata value that must be finite and above zero (norm epsilon, rotary base):
// JSON has no NaN or infinity, and dcomp refuses zero or negative values in config.json.
double positive_real(const GgufFile& file, const std::string& key) {
  const double value = file.real(key);
  if (!std::isfinite(value) || !(value > 0)) {
    throw file.error("metadata '" + key + "' is " + std::to_string(value) + "; it must be a finite number above 0");
  }
  return value;
}

LlamaShape read_shape(const GgufFile& file) {
  const std::string architecture = file.string("general.architecture");
  if (architecture != "llama")
    throw file.error("general.architecture is '" + architecture +
                     "'; convert-gguf converts the llama architecture only (Llama, Mistral, SmolLM2 and others stored as llama)");
  if (file.has("llama.expert_count") && file.unsigned_integer("llama.expert_count") > 0)
    throw file.error("llama.expert_count is " + std::to_string(file.unsigned_integer("llama.expert_count")) +
                     ": mixture-of-experts GGUF files are not converted");
  LlamaShape shape;
  shape.hidden = positive(file, "llama.embedding_length");
  shape.intermediate = positive(file, "llama.feed_forward_length");
  shape.layers = positive(file, "llama.block_count");
  // Each block holds 9 tensors: a count the file's tensors cannot fill is refused before
  // anything is sized from it.
  constexpr uint64_t kTensorsPerBlock = 9;
  if (static_cast<uint64_t>(shape.layers) > file.tensors().size() / kTensorsPerBlock)
    throw file.error("llama.block_count " + std::to_string(shape.layers) + " needs " + std::to_string(kTensorsPerBlock) +
                     " tensors per block, but the file holds " + std::to_string(file.tensors().size()) + " tensors");
  shape.heads = positive(file, "llama.attention.head_count");
  shape.kv_heads = file.has("llama.attention.head_count_kv") ? positive(file, "llama.attention.head_count_kv") : shape.heads;
  if (shape.heads % shape.kv_heads != 0)
    throw file.error("llama.attention.head_count " + std::to_string(shape.heads) +
                     " is not a multiple of llama.attention.head_count_kv " + std::to_string(shape.kv_heads));
  if (file.has("llama.attention.key_length")) {
    shape.head_dim = positive(file, "llama.attention.key_length");
  } else {
    if (shape.hidden % shape.heads != 0)
      throw file.error("llama.embedding_length " + std::to_string(shape.hidden) + " is not a multiple of " +
                       std::to_string(shape.heads) + " heads and no llama.attention.key_length is given");
    shape.head_dim = shape.hidden / shape.heads;
  }
  if (file.has("llama.attention.value_length") && positive(file, "llama.attention.value_length") != shape.head_dim)
    throw file.error("llama.attention.value_length differs from the key length: not a Llama attention");
  if (shape.head_dim % 2 != 0) throw file.error("the head size " + std::to_string(shape.head_dim) + " is odd");
  if (file.has("llama.rope.dimension_count") && positive(file, "llama.rope.dimension_count") != shape.head_dim)
    throw file.error("llama.rope.dimension_count " + std::to_string(file.unsigned_integer("llama.rope.dimension_count")) +
                     " differs from the head size " + std::to_string(shape.head_dim) +
                     " (partial rotary embeddings are not Llama's)");
  positive_real(file, "llama.attention.layer_norm_rms_epsilon");  // checked before any tensor is converted
  if (file.has("llama.rope.freq_base")) positive_real(file, "llama.rope.freq_base");
  if (file.has("llama.rope.scaling.type") && file.string("llama.rope.scaling.type") != "none")
    throw file.error("llama.rope.scaling.type is '" + file.string("llama.rope.scaling.type") +
                     "'; only unscaled rotary embeddings are converted");
  return shape;
}

// A block tensor's name "blk.<layer>.<part>.weight" (layer: decimal digits, part:
// [a-z_]+) split into its layer and part; nullopt for any other name. Scanned by hand:
// std::regex recurses once per character and overflows the stack on long names.
std::optional<std::pair<std::string, std::string>> split_block_name(const std::string& name) {
  constexpr std::string_view kPrefix = "blk.", kSuffix = ".weight";
  if (name.size() < kPrefix.size() + kSuffix.size() || !io::starts_with(name, kPrefix) || !io::ends_with(name, kSuffix))
    return std::nullopt;
  const std::string middle = name.substr(kPrefix.size(), name.size() - kPrefix.size() - kSuffix.size());
  const size_t dot = middle.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == middle.size()) return std::nullopt;
  const std::string layer = middle.substr(0, dot), part = middle.substr(dot + 1);
  for (const char c : layer)
    if (c < '0' || c > '9') return std::nullopt;
  for (const char c : part)
    if ((c < 'a' || c > 'z') && c != '_') return std::nullopt;
  return std::make_pair(layer, part);
}

// The Hugging Face name of a GGUF tensor, its expected shape and row order; nullopt
// for a name that is not part of a Llama model.
std::optional<PlannedTensor> plan_tensor(const GgufTensorInfo& info, const LlamaShape& s) {
  const int64_t q_rows = s.heads * s.head_dim, kv_rows = s.kv_heads * s.head_dim;
  if (info.name == "token_embd.weight") return PlannedTensor{&info, "model.embed_tokens.weight", {s.vocab, s.hidden}};
  if (info.name == "output.weight") return PlannedTensor{&info, "lm_head.weight", {s.vocab, s.hidden}};
  if (info.name == "output_norm.weight") return PlannedTensor{&info, "model.norm.weight", {s.hidden}};
  const auto block = split_block_name(info.name);
  if (!block) return std::nullopt;
  const auto& [layer, part] = *block;
  if (layer.size() > 6 || std::stoll(layer) >= s.layers || (layer.size() > 1 && layer[0] == '0')) return std::nullopt;
  const std::string prefix = io::layer_prefix(layer);
  if (part == "attn_norm") return PlannedTensor{&info, prefix + "input_layernorm.weight", {s.hidden}};
  if (part == "ffn_norm") return PlannedTensor{&info, prefix + "post_attention_layernorm.weight", {s.hidden}};
  if (part == "attn_q") return PlannedTensor{&info, prefix + "self_attn.q_proj.weight", {q_rows, s.hidden}, RowOrder::kQueryHeads};
  if (part == "attn_k") return PlannedTensor{&info, prefix + "self_attn.k_proj.weight", {kv_rows, s.hidden}, RowOrder::kKeyHeads};
  if (part == "attn_v") return PlannedTensor{&info, prefix + "self_attn.v_proj.weight", {kv_rows, s.hidden}};
  if (part == "attn_output") return PlannedTensor{&info, prefix + "self_attn.o_proj.weight", {s.hidden, q_rows}};
  if (part == "ffn_gate") return PlannedTensor{&info, prefix + "mlp.gate_proj.weight", {s.intermediate, s.hidden}};
  if (part == "ffn_up") return PlannedTensor{&info, prefix + "mlp.up_proj.weight", {s.intermediate, s.hidden}};
  if (part == "ffn_down") return PlannedTensor{&info, prefix + "mlp.down_proj.weight", {s.hidden, s.intermediate}};
  return std::nullopt;
}

std::vector<PlannedTensor> plan_tensors(const GgufFile& file, LlamaShape& shape) {
  const auto* embedding = file.find_tensor("token_embd.weight");
  if (!embedding) throw file.error("tensor 'token_embd.weight' is missing");
  if (embedding->shape.size() != 2 || embedding->shape[1] != shape.hidden)
    throw file.error("tensor 'token_embd.weight' has shape " + io::shape_text(embedding->shape) + ", expected [vocab, " +
                     std::to_string(shape.hidden) + "]");
  shape.vocab = embedding->shape[0];
  std::vector<PlannedTensor> planned;
  std::map<std::string, bool> seen;
  for (const auto& info : file.tensors()) {
    if (info.name == "rope_freqs.weight")
      throw file.error("tensor 'rope_freqs.weight' holds Llama-3.1 rope scaling factors, and GGUF does not keep the "
                       "rope_scaling parameters they came from; convert the Hugging Face checkpoint instead");
    auto tensor = plan_tensor(info, shape);
    if (!tensor) throw file.error("tensor '" + info.name + "' is not part of a Llama model");
    if (info.shape != tensor->shape)
      throw file.error("tensor '" + info.name + "' has shape " + io::shape_text(info.shape) + ", expected " +
                       io::shape_text(tensor->shape));
    if (!ggml_type_is_convertible(info.type))
      throw file.error("tensor '" + info.name + "' is " + ggml_type_name(info.type) +
                       ", which dcomp cannot dequantize (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1)");
    seen[tensor->name] = true;
    planned.push_back(std::move(*tensor));
  }
  std::vector<std::string> required{"model.embed_tokens.weight", "model.norm.weight"};
  for (int64_t layer = 0; layer < shape.layers; ++layer)
    for (const char* part : {"input_layernorm", "post_attention_layernorm", "self_attn.q_proj", "self_attn.k_proj",
                             "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"})
      required.push_back(io::layer_module_name(layer, std::string(part) + ".weight"));
  for (const auto& name : required)
    if (!seen.count(name)) throw file.error("the tensor for '" + name + "' is missing");
  return planned;
}

// llama.cpp's interleaved rotary rows back to rotate_half order: [heads, D/2, 2, in] -> [heads, 2, D/2, in].
at::Tensor rotate_half_rows(const at::Tensor& weight, int64_t heads) {
  const int64_t rows = weight.size(0), columns = weight.size(1);
  return weight.reshape({heads, rows / heads / 2, 2, columns}).transpose(1, 2).reshape({rows, columns}).contiguous();
}

const char* dtype_name(at::ScalarType dtype) {
  return dtype == at::kBFloat16 ? "bfloat16" : dtype == at::kHalf ? "float16" : "float32";
}

Json model_config(const GgufFile& file, const LlamaShape& s, bool tied, at::ScalarType dtype) {
  Json config;
  config["architectures"] = Json::array({"LlamaForCausalLM"});
  config["model_type"] = "llama";
  config["hidden_size"] = s.hidden;
  config["intermediate_size"] = s.intermediate;
  config["num_hidden_layers"] = s.layers;
  config["num_attention_heads"] = s.heads;
  config["num_key_value_heads"] = s.kv_heads;
  config["head_dim"] = s.head_dim;
  config["hidden_act"] = "silu";
  config["max_position_embeddings"] = file.has("llama.context_length") ? positive(file, "llama.context_length") : 2048;
  // The file's float32 values widened to double, as transformers' GGUF loader reads them.
  config["rms_norm_eps"] = positive_real(file, "llama.attention.layer_norm_rms_epsilon");
  config["rope_theta"] = file.has("llama.rope.freq_base") ? positive_real(file, "llama.rope.freq_base") : 10000.0;
  config["rope_scaling"] = nullptr;
  config["attention_bias"] = false;
  config["attention_dropout"] = 0.0;
  config["mlp_bias"] = false;
  config["tie_word_embeddings"] = tied;
  config["vocab_size"] = s.vocab;
  for (const auto& [key, name] : {std::pair<const char*, const char*>{"tokenizer.ggml.bos_token_id", "bos_token_id"},
                                  {"tokenizer.ggml.eos_token_id", "eos_token_id"},
                                  {"tokenizer.ggml.padding_token_id", "pad_token_id"}}) {
    const int64_t id = gguf_token_id(file, key);
    if (id >= 0) config[name] = id;
  }
  config["torch_dtype"] = dtype_name(dtype);
  config["use_cache"] = true;
  return config;
}

void write_json(const std::filesystem::path& path, const Json& value) {
  io::replace_file_durably(path, value.dump(2) + "\n");
}

}  // namespace

GgufConversionSummary convert_llama_gguf(const GgufFile& file, const std::filesystem::path& folder,
                                         const GgufConversionOptions& options) {
  LlamaShape shape = read_shape(file);
  std::vector<PlannedTensor> planned = plan_tensors(file, shape);
  const bool tied = file.find_tensor("output.weight") == nullptr;
  HuggingFaceTokenizer tokenizer = tokenizer_from_gguf(file);
  if (file.strings("tokenizer.ggml.tokens").size() > static_cast<size_t>(shape.vocab))
    throw file.error("the tokenizer has " + std::to_string(file.strings("tokenizer.ggml.tokens").size()) +
                     " tokens but token_embd.weight only " + std::to_string(shape.vocab) + " rows");

  // Shards by output size, in file order; one shard is written as model.safetensors.
  const int64_t element_bytes = at::elementSize(options.dtype);
  std::vector<std::vector<const PlannedTensor*>> shards(1);
  uint64_t shard_bytes = 0, total_bytes = 0;
  for (const auto& tensor : planned) {
    uint64_t bytes = element_bytes;
    for (const int64_t extent : tensor.shape) bytes *= static_cast<uint64_t>(extent);
    if (shard_bytes > 0 && shard_bytes + bytes > options.max_shard_bytes) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().push_back(&tensor);
    shard_bytes += bytes;
    total_bytes += bytes;
  }

  GgufConversionSummary summary;
  summary.layers = shape.layers;
  summary.tied_embeddings = tied;
  summary.shards = static_cast<int>(shards.size());
  std::map<std::string, std::string> weight_map;
  for (size_t index = 0; index < shards.size(); ++index) {
    char shard_name[64];
    std::snprintf(shard_name, sizeof shard_name, "model-%05zu-of-%05zu.safetensors", index + 1, shards.size());
    const std::string file_name = shards.size() == 1 ? "model.safetensors" : shard_name;
    std::vector<io::NamedTensor> tensors;
    for (const PlannedTensor* tensor : shards[index]) {
      try {
        at::Tensor values = dequantize_ggml(file, *tensor->source);  // float32 [shape]
        if (tensor->order == RowOrder::kQueryHeads) values = rotate_half_rows(values, shape.heads);
        if (tensor->order == RowOrder::kKeyHeads) values = rotate_half_rows(values, shape.kv_heads);
        tensors.push_back({tensor->name, values.to(options.dtype).contiguous(), std::nullopt});
      } catch (const std::bad_alloc&) {
        uint64_t elements = 1;
        for (const int64_t extent : tensor->shape) elements *= static_cast<uint64_t>(extent);
        throw file.error("out of memory while dequantizing tensor '" + tensor->source->name + "', needing " +
                         std::to_string(elements * 4) + " bytes for its float32 values");
      }
      weight_map[tensor->name] = file_name;
      ++summary.source_types[ggml_type_name(tensor->source->type)];
      ++summary.tensors;
    }
    io::write_safetensors(folder / file_name, tensors, {{"format", "pt"}});
    io::sync_path(folder / file_name, false);
  }
  summary.bytes = total_bytes;
  if (shards.size() > 1) io::write_safetensors_index(folder / "model.safetensors.index.json", weight_map, total_bytes);

  write_json(folder / "config.json", model_config(file, shape, tied, options.dtype));
  Json generation{{"_from_model_config", true}};
  for (const auto& [key, name] : {std::pair<const char*, const char*>{"tokenizer.ggml.bos_token_id", "bos_token_id"},
                                  {"tokenizer.ggml.eos_token_id", "eos_token_id"}}) {
    const int64_t id = gguf_token_id(file, key);
    if (id >= 0) generation[name] = id;
  }
  write_json(folder / "generation_config.json", generation);
  write_json(folder / "tokenizer.json", tokenizer.tokenizer);
  write_json(folder / "tokenizer_config.json", tokenizer.tokenizer_config);
  io::sync_path(folder, true);
  return summary;
}

}  // namespace dcomp::gguf
