// Spreading a layer's per-module solves over ranks: a deterministic,
// cost-balanced owner for each module, and the broadcast of each owner's
// result so that every rank continues with identical weights.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "kernels/comm/communicator.hpp"
#include "kernels/quant/compressed_weight.hpp"
#include "lifecycle/layer_work.hpp"

namespace dcomp::lifecycle {

/// Estimated solve cost of a [rows, cols] module: rows·cols² + cols³.
double solve_cost(int64_t rows, int64_t cols);

/// Greedy bin packing: modules by descending cost (ties by index) each go to
/// the least-loaded rank (ties to the lower rank). Returns owner per module.
std::vector<int> assign_owners(const std::vector<std::pair<int64_t, int64_t>>& shapes, int world_size);

/// Owners of `modules` (a rank per module) for a layer spread over `world_size` ranks: a module
/// whose input only one rank holds (LayerWork::input_owner, an expert's Hessian reduced to its
/// owner) is solved there; the others are balanced over ranks with assign_owners.
std::vector<int> solve_owners(const LayerWork& layer, const std::vector<LinearModule*>& modules, int world_size);

/// Owners for the Hessian sums of a sparse layer's expert inputs (input key → rank), balanced
/// by the solve cost of the Linears reading each: `inputs` lists (key, [(rows, cols)] of its readers).
std::map<std::string, int> assign_input_owners(
    const std::vector<std::pair<std::string, std::vector<std::pair<int64_t, int64_t>>>>& inputs, int world_size);

/// Every rank calls this for the same module in the same order; afterwards
/// every rank holds the owner's result (undefined tensors stay undefined).
void broadcast_compressed(comm::Communicator& comm, quant::CompressedWeight& weight, int owner);

/// Gathers (module name, value) pairs from all ranks to all ranks, in rank order.
std::vector<std::pair<std::string, double>> all_gather_values(comm::Communicator& comm,
                                                               const std::vector<std::pair<std::string, double>>& mine);

}  // namespace dcomp::lifecycle
