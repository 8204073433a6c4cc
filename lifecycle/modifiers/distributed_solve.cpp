#include "lifecycle/modifiers/distributed_solve.hpp"

#include <spdlog/spdlog.h>

#include <utility>

#include "lifecycle/errors.hpp"
#include "lifecycle/modifiers/module_distribution.hpp"

namespace dcomp::lifecycle {

nlohmann::json solve_distributed(LayerWork& layer, const std::vector<LinearModule*>& modules,
                                 const DistributedSolve& solve) {
  comm::Communicator* comm = layer.comm;
  const int rank = comm ? comm->rank() : 0;
  const std::vector<int> owners = solve_owners(layer, modules, comm ? comm->world_size() : 1);
  // Every rank solves its modules first, and only then are the results broadcast in module
  // order: no rank waits for another's solve to start its own.
  std::vector<size_t> mine;
  for (size_t i = 0; i < modules.size(); ++i) {
    if (owners[i] != rank) continue;
    const InputStatistics& input = layer.input_of(*modules[i]);
    if (!input.hessian_sum.defined() || input.num_samples == 0) {
      throw LifecycleError(modules[i]->name + ": " + solve.algorithm +
                           " needs calibration data, but no Hessian was accumulated");
    }
    mine.push_back(i);
  }
  std::vector<quant::CompressedWeight> results(modules.size());
  std::vector<double> module_losses(modules.size(), 0.0);
  solve.solve_mine(mine, results, module_losses);

  // In module order on every rank: the owner's result is broadcast (the collectives stay in
  // program order on this thread) and replaces the module's weight.
  for (size_t i = 0; i < modules.size(); ++i) {
    quant::CompressedWeight result = std::move(results[i]);
    if (comm) broadcast_compressed(*comm, result, owners[i]);
    solve.adopt(*modules[i], result);
  }
  std::vector<std::pair<std::string, double>> losses;
  for (const size_t i : mine) losses.emplace_back(modules[i]->name, module_losses[i]);
  nlohmann::json loss_report = nlohmann::json::object();
  for (const auto& [name, loss] : comm ? all_gather_values(*comm, losses) : losses) {
    loss_report[name] = loss;
    spdlog::info("layer {} {}: {} loss {:.6g}", layer.layer_index, name, solve.algorithm, loss);
  }
  return loss_report;
}

}  // namespace dcomp::lifecycle
