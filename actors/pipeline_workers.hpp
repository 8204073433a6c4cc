// Two helper actors that let the sequential pipeline overlap its phases:
//  - the layer loader reads layer i+1 from the checkpoint while layer i is
//    calibrated and compressed;
//  - the Hessian worker (on a GPU, or with cores to spare) runs the Gram-matrix GEMM of chunk k while
//    the pipeline thread runs the forward pass of chunk k+1 (a bounded number of
//    chunks in flight, so memory stays bounded). On a GPU its GEMMs run on a stream of
//    their own (pipeline/side_stream.hpp), so that they overlap the forward passes on the
//    device too; a job's reply comes once its GEMM has finished there.
// Each actor handles one message at a time, in arrival order, so the work
// (and its floating-point rounding) is the same as without overlap.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/scoped_actor.hpp>

#include <ATen/core/Tensor.h>

#include "kernels/io/safetensors.hpp"
#include "kernels/model/decoder_layer_weights.hpp"
#include "kernels/model/model_config.hpp"
#include "kernels/model/weight_loading.hpp"
#include "pipeline/hessian_queue.hpp"
#include "pipeline/layer_loader.hpp"
#include "pipeline/side_stream.hpp"

namespace dcomp::actors {

using load_layer_atom = caf::atom_constant<caf::atom("loadlayer")>;
using accumulate_atom = caf::atom_constant<caf::atom("accum")>;

/// A loaded layer, or the message of the exception that stopped the load.
struct LoadedLayer {
  std::shared_ptr<model::DecoderLayerWeights> weights;
  std::string error;
};

/// sum64 [in, in] fp64 += 2·tokensᵀ·tokens; `sum64` is shared with the caller,
/// who must not touch it until the job's reply arrived.
struct HessianJob {
  at::Tensor sum64;
  at::Tensor tokens;                 // [tokens, in] fp32
  pipeline::StreamHandoff handoff;   // on a GPU: when `tokens` is ready on the producer's stream
};

/// Prefetches decoder layers through a loader actor.
class LayerPrefetcher : public pipeline::LayerLoader {
 public:
  LayerPrefetcher(caf::actor_system& system, const io::CheckpointReader& reader, const model::ModelConfig& config,
                  model::LinearLoader linear_loader);
  ~LayerPrefetcher() override;
  /// Starts loading `layer` in the background.
  void request(int layer) override;
  /// The layer asked for by the oldest request (waits for it); rethrows its error.
  model::DecoderLayerWeights take() override;

 private:
  caf::scoped_actor self_;
  caf::actor loader_;
  std::deque<std::function<LoadedLayer()>> pending_;  // each waits for one reply
};

/// Runs Hessian GEMMs on a worker actor with at most `max_in_flight` jobs queued. With a
/// CUDA `device`, the jobs' tensors live there and the GEMMs run on the worker's own stream.
class HessianWorker : public pipeline::HessianQueue {
 public:
  HessianWorker(caf::actor_system& system, size_t max_in_flight, c10::Device device = c10::kCPU);
  ~HessianWorker() override;
  /// Called on the thread that queued the work producing `tokens` (its current stream).
  void submit(at::Tensor sum64, at::Tensor tokens) override;
  /// Waits until every submitted job is done, on the device too: the sums may then be
  /// read on any stream or on the host.
  void drain() override;
  /// The stream the GEMMs run on (nullopt on the CPU).
  const std::optional<c10::Stream>& stream() const { return side_stream_->stream(); }

 private:
  void wait_oldest();
  std::shared_ptr<const pipeline::SideStream> side_stream_;  // shared with the worker actor
  caf::scoped_actor self_;
  caf::actor worker_;
  size_t max_in_flight_;
  std::deque<std::function<std::string()>> pending_;  // each waits for one reply; returns an error text
};

}  // namespace dcomp::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(dcomp::actors::LoadedLayer)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(dcomp::actors::HessianJob)
