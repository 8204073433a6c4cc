// GPTQModifier: GPTQ weight quantization from each module input's Hessian,
// with the modules of a layer solved on different ranks and broadcast back.
// reference: llm-compressor src/llmcompressor/modifiers/gptq/base.py; Frantar et al.,
//            "GPTQ", arXiv:2210.17323
#pragma once

#include "lifecycle/modifiers/quantizing_modifier.hpp"

namespace dcomp::lifecycle {

class GPTQModifier : public QuantizingModifier {
 public:
  explicit GPTQModifier(ModifierArgs& args);

 protected:
  std::optional<quant::ActOrder> default_actorder() const override { return quant::ActOrder::Static; }
  bool needs_hessians() const override { return true; }
  void compress_layer(LayerWork& layer, const std::vector<LinearModule*>& modules) override;
  nlohmann::json own_args() const override;

 private:
  int64_t block_size_ = 128;
  double dampening_frac_ = 0.01;
  bool offload_hessians_ = false;
};

}  // namespace dcomp::lifecycle
