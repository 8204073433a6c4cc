// What the sequential pipeline reports for each layer it compressed: the seconds each phase
// took, the bytes its statistics reduced over the ranks, the modules' output errors and the
// modifiers' results (the "layers" of the run report, pipeline/run_report.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dcomp::pipeline {

/// Output error of one module on the calibration inputs, ‖(W − Ŵ)X‖²_F, for the
/// compressed weight and for round-to-nearest with the same arguments.
struct ModuleError {
  std::string name;
  double compressed = 0;
  double round_to_nearest = 0;
};

struct LayerReport {
  int layer = 0;
  double load_seconds = 0;
  double calibrate_seconds = 0;
  double reduce_seconds = 0;
  double compress_seconds = 0;
  double propagate_seconds = 0;
  double write_seconds = 0;
  int64_t reduced_bytes = 0;
  /// Of reduced_bytes, the expert Hessian sums reduced to their owner rank only.
  int64_t owner_reduced_bytes = 0;
  /// Sparse layers: calibration tokens the router sent to each expert (all ranks).
  std::vector<int64_t> expert_tokens;
  std::vector<ModuleError> errors;
  std::vector<nlohmann::json> modifier_results;  // what each modifier reported for this layer
};

}  // namespace dcomp::pipeline
