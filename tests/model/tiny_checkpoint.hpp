// Writes a small random Hugging Face model folder (config.json + model.safetensors)
// to a temporary directory, so that loading can be tested on known weights.
#pragma once

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <unistd.h>

#include "kernels/io/safetensors.hpp"
#include "kernels/model/model_config.hpp"
#include "tests/model/random_layer.hpp"

namespace dcomp::model::testing {

/// A temporary folder removed on destruction.
class TemporaryDirectory {
 public:
  explicit TemporaryDirectory(const std::string& tag) {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("dcomp_model_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TemporaryDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// The state dict of a random model for `config` (fp32), in transformers' names.
inline std::vector<io::NamedTensor> random_state_dict(const ModelConfig& config, bool with_lm_head) {
  std::vector<io::NamedTensor> tensors;
  tensors.push_back({"model.embed_tokens.weight", at::randn({config.vocab_size, config.hidden_size}), std::nullopt});
  tensors.push_back({"model.norm.weight", 1 + 0.1 * at::randn({config.hidden_size}), std::nullopt});
  if (with_lm_head) {
    tensors.push_back({"lm_head.weight", at::randn({config.vocab_size, config.hidden_size}), std::nullopt});
  }
  for (int64_t i = 0; i < config.num_hidden_layers; ++i) {
    const std::string prefix = "model.layers." + std::to_string(i) + ".";
    const DecoderLayerWeights layer = random_layer(config);
    for (const auto& [name, tensor] : layer.parameters) tensors.push_back({prefix + name, tensor, std::nullopt});
    for (const auto& name : layer.linear_names()) {
      tensors.push_back({prefix + name + ".weight", layer.linear(name).weight, std::nullopt});
      if (layer.linear(name).bias.defined()) {
        tensors.push_back({prefix + name + ".bias", layer.linear(name).bias, std::nullopt});
      }
    }
  }
  return tensors;
}

/// Writes config.raw as config.json and `tensors` as model.safetensors into `dir`.
inline void write_model_folder(const std::filesystem::path& dir, const nlohmann::json& config_json,
                               const std::vector<io::NamedTensor>& tensors) {
  std::ofstream(dir / "config.json") << config_json.dump(2);
  io::write_safetensors(dir / "model.safetensors", tensors);
}

}  // namespace dcomp::model::testing
