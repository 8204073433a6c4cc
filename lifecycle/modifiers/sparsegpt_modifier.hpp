// SparseGPTModifier: one-shot pruning (unstructured or N:M) with OBS weight
// updates from each module input's Hessian; combinable with a quantization
// modifier later in the same recipe, which then keeps the pruned zeros.
// reference: llm-compressor src/llmcompressor/modifiers/pruning/sparsegpt/base.py;
//            Frantar & Alistarh, "SparseGPT", arXiv:2301.00774
#pragma once

#include <set>

#include "lifecycle/modifier.hpp"

namespace dcomp::lifecycle {

class SparseGPTModifier : public Modifier {
 public:
  explicit SparseGPTModifier(ModifierArgs& args);

 protected:
  bool on_initialize_plan(State& state, const Kwargs& kwargs, const std::shared_ptr<CompressionPlan>& plan) override;
  void on_layer(State& state, const Event& event, LayerWork& layer) override;
  bool on_finalize(State& state, const Kwargs& kwargs) override;
  nlohmann::json own_args() const override;

 private:
  double sparsity_ = 0.5;
  std::string mask_structure_ = "0:0";
  int prune_n_ = 0;
  int prune_m_ = 0;
  int64_t block_size_ = 128;
  double dampening_frac_ = 0.01;
  std::vector<std::string> targets_ = {"Linear"};
  std::vector<std::string> ignore_;
  std::vector<std::string> sequential_targets_;  // must name the decoder layers
  std::string architecture_ = "LlamaForCausalLM";  // the model's, once known
  std::set<std::string> pending_;
  bool model_known_ = false;
};

}  // namespace dcomp::lifecycle
