// The JSON run report written into every output folder as dcomp_report.json:
// dcomp version, recipe, ranks and backend, threads, time per phase and per
// layer, each module's output error, peak memory.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/comm/communicator.hpp"
#include "pipeline/layer_report.hpp"
#include "pipeline/oneshot_options.hpp"

namespace dcomp::pipeline {

/// One layer's entry: {"layer", "modifiers", "seconds": {phase: s}, "reduced_bytes", "modules": [...]}.
nlohmann::json layer_report_json(const LayerReport& layer);

/// Sums "seconds" over `layers` (entries as layer_report_json writes them) per phase.
nlohmann::json seconds_per_phase(const nlohmann::json& layers);

/// The run report of rank 0: the run's settings, what the checkpoint's bytes depend on
/// ("determinism"), its time and memory, the plan and the `layers` (layer_report_json entries).
nlohmann::json build_run_report(const OneshotOptions& options, const OneshotResult& result,
                                 const nlohmann::json& layers, const comm::Communicator& comm);

/// Every rank's peak resident memory so far (a collective: every rank calls it).
std::vector<int64_t> gather_peak_rss(comm::Communicator& comm);

}  // namespace dcomp::pipeline
