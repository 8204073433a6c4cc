// reference: see checkpoint_validation.hpp
#include "kernels/model/checkpoint_validation.hpp"

#include <set>
#include <string>
#include <vector>

#include "kernels/io/shape_text.hpp"
#include "kernels/model/layer_layout.hpp"
#include "kernels/model/weight_loading.hpp"
#include "kernels/io/layer_names.hpp"

namespace dcomp::model {
namespace {

// Buffers some older checkpoints carry that no forward pass reads.
bool is_ignored_buffer(const std::string& name) {
  const std::string suffix = "rotary_emb.inv_freq";
  return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

using ExpectedTensors = std::vector<std::pair<std::string, std::vector<int64_t>>>;

// Every tensor of the decoder layers and the final norm the config implies, with its
// shape, in the model's order (so the first problem reported is the first a loader meets).
ExpectedTensors expected_layer_tensors(const ModelConfig& config) {
  const int64_t hidden = config.hidden_size;
  ExpectedTensors expected;
  for (int layer = 0; layer < config.num_hidden_layers; ++layer) {
    const std::string prefix = io::layer_prefix(layer);
    const LayerLayout layout = decoder_layer_layout(config, layer);
    for (const auto& parameter : layout.parameters) expected.push_back({prefix + parameter.name, parameter.shape});
    for (const auto& linear : layout.linears) {
      expected.push_back({prefix + linear.name + ".weight", {linear.out_features, linear.in_features}});
      if (linear.has_bias) expected.push_back({prefix + linear.name + ".bias", {linear.out_features}});
    }
  }
  expected.push_back({"model.norm.weight", {hidden}});
  return expected;
}

// An F8_E4M3 weight's block scales: present, of a scale dtype, one per block.
void check_fp8_block_scale(const io::CheckpointReader& reader, const std::string& scale_name,
                           const std::vector<int64_t>& weight_shape, const Fp8BlockFormat& blocks,
                           std::vector<std::string>& problems) {
  if (!reader.contains(scale_name)) {
    problems.push_back("tensor \"" + scale_name + "\" is missing (its weight is F8_E4M3, stored in blocks)");
    return;
  }
  const io::TensorInfo info = reader.info(scale_name);
  const std::string file = reader.file_of(scale_name).filename().string();
  const std::vector<int64_t> grid = {(weight_shape[0] + blocks.block_rows - 1) / blocks.block_rows,
                                     (weight_shape[1] + blocks.block_columns - 1) / blocks.block_columns};
  if (info.shape != grid) {
    problems.push_back(file + ": tensor \"" + scale_name + "\" has shape " + io::shape_text(info.shape) + " but a " +
                       io::shape_text(weight_shape) + " weight in blocks of [" + std::to_string(blocks.block_rows) +
                       ", " + std::to_string(blocks.block_columns) + "] needs " + io::shape_text(grid));
  }
  if (info.dtype != io::DType::F32 && info.dtype != io::DType::BF16 && info.dtype != io::DType::F16 &&
      info.dtype != io::DType::F8_E8M0) {
    problems.push_back(file + ": tensor \"" + scale_name + "\" is stored as " + io::dtype_name(info.dtype) +
                       "; block scales are F32, BF16, F16 or F8_E8M0");
  }
}

}  // namespace

void validate_dense_checkpoint(const io::CheckpointReader& reader, const ModelConfig& config,
                               const Fp8BlockFormat* fp8_blocks, const CompressedLinearTest& compressed) {
  const std::string folder = reader.directory().string();
  const std::string config_file = config.source.string();
  std::vector<std::string> problems;
  ExpectedTensors expected;
  // The embedding, and the head unless tied; a tied checkpoint may store the shared
  // matrix under either name (weight_loading.cpp reads it the same way).
  const std::vector<int64_t> vocab_by_hidden = {config.vocab_size, config.hidden_size};
  const bool has_embedding = reader.contains("model.embed_tokens.weight");
  const bool has_head = reader.contains("lm_head.weight");
  const bool tied = config.tie_word_embeddings || !has_head;
  if (!tied || has_embedding || !has_head) expected.push_back({"model.embed_tokens.weight", vocab_by_hidden});
  for (auto& entry : expected_layer_tensors(config)) expected.push_back(std::move(entry));
  if (!tied || has_head) expected.push_back({"lm_head.weight", vocab_by_hidden});
  std::set<std::string> expected_names;
  for (const auto& entry : expected) expected_names.insert(entry.first);

  std::set<std::string> compressed_modules;  // "model.layers.0.self_attn.q_proj."
  for (const auto& [name, shape] : expected) {
    const std::string module = name.size() > 7 ? name.substr(0, name.size() - 7) : std::string();
    if (compressed && shape.size() == 2 && name.compare(module.size(), 7, ".weight") == 0 && compressed(module)) {
      compressed_modules.insert(module + ".");
      if (!reader.contains(name) && !reader.contains(module + ".weight_packed")) {
        problems.push_back("tensor \"" + name + "\" (or its weight_packed) is missing (" + config_file +
                           " implies it; the Linear is stored compressed)");
      }
      continue;
    }
    if (!reader.contains(name)) {
      problems.push_back("tensor \"" + name + "\" is missing (" + config_file + " implies it)");
      continue;
    }
    io::TensorInfo info;
    try {
      info = reader.info(name);  // maps the shard and checks that it holds the tensor
    } catch (const std::exception& error) {
      problems.push_back(error.what());
      continue;
    }
    const std::string file = reader.file_of(name).filename().string();
    if (info.shape != shape) {
      problems.push_back(file + ": tensor \"" + name + "\" has shape " + io::shape_text(info.shape) + " but " +
                         config_file + " implies " + io::shape_text(shape));
    }
    if (fp8_blocks != nullptr && info.dtype == io::DType::F8_E4M3 && shape.size() == 2) {
      const std::string scale_name = name.substr(0, name.size() - std::string("weight").size()) + "weight_scale_inv";
      expected_names.insert(scale_name);
      check_fp8_block_scale(reader, scale_name, shape, *fp8_blocks, problems);
    } else if (info.dtype != io::DType::F32 && info.dtype != io::DType::F16 && info.dtype != io::DType::BF16) {
      problems.push_back(file + ": tensor \"" + name + "\" is stored as " + io::dtype_name(info.dtype) +
                         "; expected F32, F16 or BF16");
    }
  }
  for (const std::string& name : reader.names()) {
    if (expected_names.count(name) || is_ignored_buffer(name)) continue;
    const size_t last_dot = name.rfind('.');
    if (last_dot != std::string::npos && compressed_modules.count(name.substr(0, last_dot + 1))) continue;
    const std::optional<int64_t> index = io::layer_index_of(name);
    const bool layer_tensor = index.has_value();
    const int64_t layer = index.value_or(-1);
    // DeepSeek-V3's multi-token-prediction layers follow the decoder layers; transformers skips
    // them when loading (_keys_to_ignore_on_load_unexpected), and so does every reader here.
    if (layer_tensor && layer >= config.num_hidden_layers &&
        layer < config.num_hidden_layers + config.next_token_prediction_layers) {
      continue;
    }
    if (layer_tensor && layer >= config.num_hidden_layers) {
      problems.push_back("tensor \"" + name + "\" belongs to layer " + std::to_string(layer) + ", but " +
                         config_file + " has num_hidden_layers " + std::to_string(config.num_hidden_layers) +
                         " (a checkpoint deeper than its config)");
    } else {
      problems.push_back("tensor \"" + name + "\" is not part of a " + architecture_name(config.architecture) +
                         " model as " + config_file + " describes it");
    }
  }
  if (problems.empty()) return;
  std::string message = folder + ": " + problems.front();
  if (problems.size() > 1) message += " (and " + std::to_string(problems.size() - 1) + " more problem(s))";
  throw ModelConfigError(message);
}

}  // namespace dcomp::model
