#include "pipeline/llama_model_handle.hpp"

#include <algorithm>

#include "kernels/model/layer_layout.hpp"
#include "lifecycle/enclosing_modules.hpp"

namespace dcomp::pipeline {

std::string LlamaModelHandle::architecture() const { return model::architecture_name(config_.architecture); }

std::vector<lifecycle::ModuleInfo> LlamaModelHandle::modules() const {
  const auto& c = config_;
  std::vector<lifecycle::ModuleInfo> out;
  out.push_back({"model.embed_tokens", {"Embedding"}, c.vocab_size, c.hidden_size});
  for (int i = 0; i < static_cast<int>(c.num_hidden_layers); ++i) {
    const model::LayerLayout layout = model::decoder_layer_layout(c, i);
    const std::vector<std::string> norms = layout.smoothable_norms();
    for (const auto& input : layout.inputs) {  // each norm just before the Linears reading its output
      if (std::find(norms.begin(), norms.end(), input.key) != norms.end()) {
        out.push_back({layer_module_name(i, input.key), {"RMSNorm"}, c.hidden_size, c.hidden_size});
      }
      for (const auto& name : input.linears) {
        const model::LayerLinear& linear = *layout.find(name);
        out.push_back(lifecycle::linear_module_info(layer_module_name(i, linear.name), linear.in_features,
                                                    linear.out_features, architecture()));
      }
    }
  }
  out.push_back({"model.norm", {"RMSNorm"}, c.hidden_size, c.hidden_size});
  out.push_back({"lm_head", {"Linear"}, c.hidden_size, c.vocab_size});
  return out;
}

std::vector<std::vector<std::string>> LlamaModelHandle::fused_groups() const {
  std::vector<std::vector<std::string>> out;
  for (int i = 0; i < static_cast<int>(config_.num_hidden_layers); ++i) {
    for (auto group : model::decoder_layer_layout(config_, i).fused_groups) {
      for (auto& name : group) name = layer_module_name(i, name);
      out.push_back(std::move(group));
    }
  }
  return out;
}

}  // namespace dcomp::pipeline
