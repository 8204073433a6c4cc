// The model as modifiers see it: module names and classes of a Llama-family
// checkpoint, derived from config.json without loading any weight.
#pragma once

#include "kernels/model/model_config.hpp"
#include "lifecycle/model_handle.hpp"
#include "kernels/io/layer_names.hpp"

namespace dcomp::pipeline {

class LlamaModelHandle final : public lifecycle::ModelHandle {
 public:
  explicit LlamaModelHandle(model::ModelConfig config) : config_(std::move(config)) {}
  std::string architecture() const override;
  int num_layers() const override { return static_cast<int>(config_.num_hidden_layers); }
  /// model.embed_tokens (Embedding), per layer the seven Linears and two norms
  /// (RMSNorm), model.norm (RMSNorm), lm_head (Linear).
  std::vector<lifecycle::ModuleInfo> modules() const override;
  std::vector<std::vector<std::string>> fused_groups() const override;
  const model::ModelConfig& config() const { return config_; }

 private:
  model::ModelConfig config_;
};

using io::layer_module_name;  // "model.layers.<i>." + relative name

}  // namespace dcomp::pipeline
