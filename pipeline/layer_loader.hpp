// Where the sequential pipeline gets its next decoder layer from when it loads ahead: a
// loader that reads layer i+1 while layer i is calibrated and compressed (an actor, in actors/).
#pragma once

#include "kernels/model/decoder_layer_weights.hpp"

namespace dcomp::pipeline {

class LayerLoader {
 public:
  virtual ~LayerLoader() = default;
  /// Starts loading `layer` in the background.
  virtual void request(int layer) = 0;
  /// The layer asked for by the oldest request (waits for it); rethrows its error.
  virtual model::DecoderLayerWeights take() = 0;
};

}  // namespace dcomp::pipeline
