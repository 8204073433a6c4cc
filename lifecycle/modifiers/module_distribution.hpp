// Spreading a layer's per-module solves over ranks: a deterministic,
// cost-balanced owner for each module, and the broadcast of each owner's
// result so that every rank continues with identical weights.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "kernels/comm/communicator.hpp"
#include "kernels/quant/compressed_weight.hpp"

namespace dcomp::lifecycle {

/// Estimated solve cost of a [rows, cols] module: rows·cols² + cols³.
double solve_cost(int64_t rows, int64_t cols);

/// Greedy bin packing: modules by descending cost (ties by index) each go to
/// the least-loaded rank (ties to the lower rank). Returns owner per module.
std::vector<int> assign_owners(const std::vector<std::pair<int64_t, int64_t>>& shapes, int world_size);

/// Every rank calls this for the same module in the same order; afterwards
/// every rank holds the owner's result (undefined tensors stay undefined).
void broadcast_compressed(comm::Communicator& comm, quant::CompressedWeight& weight, int owner);

/// Gathers (module name, value) pairs from all ranks to all ranks, in rank order.
std::vector<std::pair<std::string, double>> all_gather_values(comm::Communicator& comm,
                                                               const std::vector<std::pair<std::string, double>>& mine);

}  // namespace dcomp::lifecycle
