// Between a decoder layer's weights and the LayerWork the modifiers compress: the work made
// from the weights (each Linear with the key of its calibration input), and the compressed
// weights (and rescaled norms) written back for the propagation pass.
#pragma once

#include <memory>

#include "kernels/comm/communicator.hpp"
#include "kernels/model/decoder_layer_weights.hpp"
#include "lifecycle/layer_work.hpp"

namespace dcomp::pipeline {

/// The layer work of decoder layer `layer_index`. `experts_read_router_input`: every
/// calibration token goes through every expert, so that the experts' gate/up are calibrated
/// on the router's input (see calibration_input_key).
std::shared_ptr<lifecycle::LayerWork> make_layer_work(int layer_index, const model::DecoderLayerWeights& weights,
                                                      comm::Communicator* comm, bool experts_read_router_input);

/// Drops the layer's references to its Linears' weights (LayerWork keeps its own).
void release_linear_weights(model::DecoderLayerWeights& weights);

/// Writes the modifiers' results back into the layer weights used for propagation.
void apply_layer_work(const lifecycle::LayerWork& work, model::DecoderLayerWeights& weights);

}  // namespace dcomp::pipeline
