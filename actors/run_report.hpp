// The JSON run report written into every output folder as dcomp_report.json:
// dcomp version, recipe, ranks and backend, threads, time per phase and per
// layer, each module's output error, peak memory.
#pragma once

#include <nlohmann/json.hpp>

#include "actors/sequential_pipeline.hpp"

namespace dcomp::actors {

/// One layer's entry: {"layer", "modifiers", "seconds": {phase: s}, "reduced_bytes", "modules": [...]}.
nlohmann::json layer_report_json(const LayerReport& layer);

/// Sums "seconds" over `layers` (entries as layer_report_json writes them) per phase.
nlohmann::json seconds_per_phase(const nlohmann::json& layers);

}  // namespace dcomp::actors
