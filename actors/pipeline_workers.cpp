#include "actors/pipeline_workers.hpp"

#include <ATen/ATen.h>
#include <caf/all.hpp>

#include "actors/actor_errors.hpp"
#include "pipeline/layer_statistics.hpp"

namespace dcomp::actors {
namespace {

caf::behavior layer_loader(caf::event_based_actor*, const io::CheckpointReader* reader,
                           const model::ModelConfig* config, model::LinearLoader linear_loader) {
  return {
      [=](load_layer_atom, int layer) {
        LoadedLayer loaded;
        try {
          loaded.weights = std::make_shared<model::DecoderLayerWeights>(
              model::load_decoder_layer(*reader, *config, layer, linear_loader));
        } catch (const std::exception& e) {
          loaded.error = e.what();
        }
        return loaded;
      },
  };
}

// Spawned with an argument: CAF 0.17 dereferences the (null) argument tuple of an
// actor function spawned without one, which UndefinedBehaviorSanitizer reports.
caf::behavior hessian_worker(const std::string& error_prefix, std::shared_ptr<const pipeline::SideStream> side_stream) {
  return {
      [error_prefix, side_stream](accumulate_atom, HessianJob& job) -> std::string {
        try {
          side_stream->run(job.handoff, [&] { pipeline::accumulate_hessian(job.sum64, job.tokens); });
        } catch (const std::exception& e) {
          return error_prefix + e.what();
        }
        return {};
      },
  };
}

}  // namespace

LayerPrefetcher::LayerPrefetcher(caf::actor_system& system, const io::CheckpointReader& reader,
                                 const model::ModelConfig& config, model::LinearLoader linear_loader)
    : self_(system), loader_(system.spawn(layer_loader, &reader, &config, std::move(linear_loader))) {}

LayerPrefetcher::~LayerPrefetcher() {
  while (!pending_.empty()) {  // the loader reads the caller's reader: wait before it goes away
    pending_.front()();
    pending_.pop_front();
  }
  self_->send_exit(loader_, caf::exit_reason::user_shutdown);
}

void LayerPrefetcher::request(int layer) {
  auto handle = self_->request(loader_, caf::infinite, load_layer_atom::value, layer);
  pending_.push_back([handle]() mutable {
    LoadedLayer result;
    handle.receive([&](LoadedLayer& loaded) { result = std::move(loaded); },
                   [&](caf::error& error) { result.error = error_message(error); });
    return result;
  });
}

model::DecoderLayerWeights LayerPrefetcher::take() {
  if (pending_.empty()) throw std::logic_error("LayerPrefetcher::take without a request");
  LoadedLayer loaded = pending_.front()();
  pending_.pop_front();
  if (!loaded.error.empty()) throw std::runtime_error(loaded.error);
  return std::move(*loaded.weights);
}

HessianWorker::HessianWorker(caf::actor_system& system, size_t max_in_flight, c10::Device device)
    : side_stream_(std::make_shared<const pipeline::SideStream>(device)),
      self_(system),
      worker_(system.spawn(hessian_worker, std::string("Hessian accumulation: "), side_stream_)),
      max_in_flight_(std::max<size_t>(max_in_flight, 1)) {}

HessianWorker::~HessianWorker() {
  try {
    drain();
  } catch (...) {
  }
  self_->send_exit(worker_, caf::exit_reason::user_shutdown);
}

void HessianWorker::wait_oldest() {
  std::string error = pending_.front()();
  pending_.pop_front();
  if (!error.empty()) throw std::runtime_error("Hessian accumulation failed: " + error);
}

void HessianWorker::submit(at::Tensor sum64, at::Tensor tokens) {
  // The sums too are written on the worker's stream: marked with it, their memory stays
  // theirs until its jobs are done even if the caller drops them early (an error).
  pipeline::StreamHandoff handoff = side_stream_->hand_off({sum64, tokens});
  HessianJob job{std::move(sum64), std::move(tokens), std::move(handoff)};
  while (pending_.size() >= max_in_flight_) wait_oldest();
  auto handle = self_->request(worker_, caf::infinite, accumulate_atom::value, std::move(job));
  pending_.push_back([handle]() mutable {
    std::string error;
    handle.receive([&](std::string& message) { error = std::move(message); },
                   [&](caf::error& failure) { error = error_message(failure); });
    return error;
  });
}

void HessianWorker::drain() {
  while (!pending_.empty()) wait_oldest();
  side_stream_->synchronize();  // each job synchronized already; also after a failed one
}

}  // namespace dcomp::actors
