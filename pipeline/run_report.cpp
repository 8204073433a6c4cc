#include "pipeline/run_report.hpp"

#include <ATen/Parallel.h>
#include <torch/csrc/api/include/torch/version.h>
#include <sys/resource.h>

#include <string>

#include "dcomp/build_info.hpp"
#include "kernels/platform/blas_core_restart.hpp"
#include "kernels/platform/blas_library.hpp"

namespace dcomp::pipeline {

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


nlohmann::json build_run_report(const OneshotOptions& options, const OneshotResult& result,
                                 const nlohmann::json& layers, const comm::Communicator& comm) {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  const platform::BlasCoreStatus blas = platform::blas_core_status();
  return {{"dcomp_version", build_info::version},
          {"model", options.model.string()},
          {"input_format", result.input_format},
          {"output", options.output.string()},
          {"recipe", result.recipe},
          {"ranks", comm.world_size()},
          {"backend", comm.backend_name()},
          {"device", options.pipeline.device.str()},
          {"threads_per_rank", at::get_num_threads()},
          // What, besides the inputs, the bytes of the checkpoint depend on.
          {"determinism", {{"threads_per_rank", at::get_num_threads()},
                           {"chunk_size", options.pipeline.chunk_size},
                           {"overlap", options.pipeline.overlap},
                           {"seed", options.seed},
                           {"shuffle", options.shuffle_calibration_samples},
                           {"moe_calibrate_all_experts", options.pipeline.moe_calibrate_all_experts},
                           {"blas", platform::loaded_blas_libraries()},
                           {"blas_library", blas.library},
                           {"blas_core", blas.core},
                           {"blas_core_chosen", blas.how_chosen},
                           {"cpu", blas.cpu},
                           {"libtorch", TORCH_VERSION}}},
          {"total_seconds", result.total_seconds},
          {"resumed_layers", result.resumed_layers},
          {"peak_rss_bytes_rank0", static_cast<int64_t>(usage.ru_maxrss) * 1024},
          {"plan", result.plan},
          {"layers", layers},
          {"seconds_per_phase", seconds_per_phase(layers)}};
}

std::vector<int64_t> gather_peak_rss(comm::Communicator& comm) {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  std::vector<int64_t> peak_rss;
  for (const std::string& text : comm.all_gather_bytes(std::to_string(static_cast<int64_t>(usage.ru_maxrss) * 1024))) {
    peak_rss.push_back(std::stoll(text));
  }
  return peak_rss;
}

}  // namespace dcomp::pipeline
