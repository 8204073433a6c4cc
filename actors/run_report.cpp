#include "actors/run_report.hpp"

namespace dcomp::actors {

nlohmann::json layer_report_json(const LayerReport& layer) {
  nlohmann::json errors = nlohmann::json::array();
  for (const auto& error : layer.errors) {
    errors.push_back({{"module", error.name}, {"output_error", error.compressed},
                      {"output_error_round_to_nearest", error.round_to_nearest}});
  }
  nlohmann::json out = {{"layer", layer.layer},
          {"modifiers", layer.modifier_results},
          {"seconds", {{"load", layer.load_seconds}, {"calibrate", layer.calibrate_seconds},
                       {"reduce", layer.reduce_seconds}, {"compress", layer.compress_seconds},
                       {"propagate", layer.propagate_seconds}, {"write", layer.write_seconds}}},
          {"reduced_bytes", layer.reduced_bytes},
          {"modules", errors}};
  if (layer.owner_reduced_bytes > 0) out["owner_reduced_bytes"] = layer.owner_reduced_bytes;
  if (!layer.expert_tokens.empty()) out["expert_tokens"] = layer.expert_tokens;
  return out;
}

nlohmann::json seconds_per_phase(const nlohmann::json& layers) {
  nlohmann::json phases = {{"load", 0.0},      {"calibrate", 0.0}, {"reduce", 0.0},
                           {"compress", 0.0},  {"propagate", 0.0}, {"write", 0.0}};
  for (const auto& layer : layers) {
    for (const auto& [phase, seconds] : layer.at("seconds").items()) {
      phases[phase] = phases.value(phase, 0.0) + seconds.get<double>();
    }
  }
  return phases;
}

}  // namespace dcomp::actors
