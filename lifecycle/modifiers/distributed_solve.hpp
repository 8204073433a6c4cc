// The one skeleton every solving modifier (GPTQ, SparseGPT) runs a layer through: each module
// gets an owner rank (module_distribution), every rank solves the modules it owns (concurrently on
// its solve workers, as the modifier arranges), then the owners' results are broadcast in module
// order, so that every rank continues with the same weights, and the losses are gathered.
//
// reference: Frantar et al., "GPTQ" and "SparseGPT" (the per-module solves are independent given
// the layer's Hessians); the spreading over ranks is dcomp's own (see module_distribution.hpp).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernels/quant/compressed_weight.hpp"
#include "lifecycle/layer_work.hpp"

namespace dcomp::lifecycle {

/// What a solving modifier supplies.
struct DistributedSolve {
  /// The algorithm's name, for messages ("GPTQ needs calibration data") and the loss log.
  std::string algorithm;
  /// This rank's solves: `mine` lists indices into the modules (in module order); for each,
  /// results[i] and losses[i] are filled (results and losses hold one entry per module).
  std::function<void(const std::vector<size_t>& mine, std::vector<quant::CompressedWeight>& results,
                     std::vector<double>& losses)>
      solve_mine;
  /// Every rank, module by module in module order, once the owner's result has arrived: makes
  /// it the module's (its weight, its scheme's arguments).
  std::function<void(LinearModule& module, quant::CompressedWeight& result)> adopt;
};

/// Runs `solve` over `modules` on every rank of layer.comm (one rank without it). Every owned
/// module must have a Hessian (LifecycleError naming it otherwise). Returns the losses of every
/// module, gathered from their owners ({name: loss}), each also logged.
nlohmann::json solve_distributed(LayerWork& layer, const std::vector<LinearModule*>& modules,
                                 const DistributedSolve& solve);

}  // namespace dcomp::lifecycle
