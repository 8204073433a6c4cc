// reference: llm-compressor src/llmcompressor/pipelines/sequential/pipeline.py
#include "pipeline/layer_work_conversion.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "lifecycle/enclosing_modules.hpp"
#include "pipeline/layer_statistics.hpp"
#include "pipeline/llama_model_handle.hpp"

namespace dcomp::pipeline {

std::shared_ptr<lifecycle::LayerWork> make_layer_work(int layer_index, const model::DecoderLayerWeights& weights,
                                                      comm::Communicator* comm, bool experts_read_router_input) {
  auto work = std::make_shared<lifecycle::LayerWork>();
  work->layer_index = layer_index;
  work->comm = comm;
  const model::LayerLayout& layout = *weights.layout;
  work->layout = weights.layout;
  for (const auto& relative : layout.linear_names()) {
    lifecycle::LinearModule module;
    module.name = layer_module_name(layer_index, relative);
    module.weight = weights.linear(relative).weight;
    module.bias = weights.linear(relative).bias;
    module.input = calibration_input_key(layer_index, layout, relative, experts_read_router_input);
    module.class_names = lifecycle::linear_module_info(module.name, 0, 0, layout.architecture).class_names;
    work->linears.push_back(std::move(module));
  }
  const std::vector<std::string> norms = layout.smoothable_norms();
  for (const auto& parameter : layout.parameters) {
    const at::Tensor& tensor = weights.parameter(parameter.name);
    if (std::find(norms.begin(), norms.end(), parameter.module()) != norms.end()) {
      work->norm_weights[layer_module_name(layer_index, parameter.module())] = tensor;
    } else {
      work->parameters[layer_module_name(layer_index, parameter.name)] = tensor;
    }
  }
  return work;
}

/// Drops the layer's references to its Linears' weights (LayerWork keeps its own).
void release_linear_weights(model::DecoderLayerWeights& weights) {
  for (const auto& relative : weights.linear_names()) weights.linear(relative).weight = at::Tensor();
}

/// Writes the modifiers' results back into the layer weights used for propagation.
void apply_layer_work(const lifecycle::LayerWork& work, model::DecoderLayerWeights& weights) {
  for (const auto& relative : weights.linear_names()) {
    const auto* module = work.find(layer_module_name(work.layer_index, relative));
    weights.linear(relative).weight = module->weight;
  }
  for (const auto& norm : weights.layout->smoothable_norms()) {  // smoothing modifiers may have rescaled them
    weights.parameters.at(norm + ".weight") = work.norm_weights.at(layer_module_name(work.layer_index, norm));
  }
}

}  // namespace dcomp::pipeline
