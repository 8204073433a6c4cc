// reference: llm-compressor src/llmcompressor/entrypoints/oneshot.py
#include "actors/oneshot.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

#include "actors/actor_runtime.hpp"
#include "actors/calibration_data.hpp"
#include "actors/compressed_checkpoint_sink.hpp"
#include "actors/lifecycle_client.hpp"
#include "actors/llama_model_handle.hpp"
#include "kernels/data/dataset.hpp"
#include "kernels/io/safetensors.hpp"
#include "kernels/model/model_config.hpp"
#include "kernels/tokenizer/tokenizer.hpp"
#include "lifecycle/errors.hpp"

namespace dcomp::actors {

std::string recipe_for_scheme(const OneshotOptions& options) {
  const std::string modifier = options.algorithm == "rtn" ? "QuantizationModifier" : "GPTQModifier";
  if (options.algorithm != "rtn" && options.algorithm != "gptq") {
    throw std::invalid_argument("--algorithm must be 'gptq' or 'rtn', not '" + options.algorithm + "'");
  }
  auto list = [](const std::vector<std::string>& items) {
    std::string out = "[";
    for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + ("'" + items[i] + "'");
    return out + "]";
  };
  return "oneshot_stage:\n  quant_modifiers:\n    " + modifier + ":\n      scheme: " + *options.scheme +
         "\n      targets: " + list(options.targets) + "\n      ignore: " + list(options.ignore) + "\n";
}

OneshotResult run_oneshot(const OneshotOptions& options, comm::Communicator& comm) {
  const auto started = std::chrono::steady_clock::now();
  if (options.recipe.has_value() == options.scheme.has_value()) {
    throw std::invalid_argument("give exactly one of --recipe and --scheme");
  }
  if (options.output.empty()) throw std::invalid_argument("--output is required");
  if (std::filesystem::exists(options.output) && !options.overwrite) {
    throw std::runtime_error(options.output.string() + ": the output folder already exists (use --overwrite to "
                             "replace it)");
  }
  auto config = model::ModelConfig::from_dir(options.model);
  io::CheckpointReader reader(options.model);
  auto handle = std::make_shared<LlamaModelHandle>(config);

  ActorRuntime runtime(options.actor_threads);
  LifecycleClient lifecycle(runtime.system(), lifecycle::ModifierRegistry::builtin());
  auto plan = std::make_shared<lifecycle::CompressionPlan>();
  lifecycle::Hardware hardware;
  hardware.device = "cpu";
  hardware.rank = comm.rank();
  hardware.world_size = comm.world_size();
  hardware.distributed = comm.world_size() > 1;
  hardware.distributed_strategy = comm.backend_name();

  InitializeRequest init;
  const std::string recipe_text = options.scheme ? recipe_for_scheme(options) : *options.recipe;
  init.recipe = recipe_text;
  init.kwargs = {{"model", std::shared_ptr<lifecycle::ModelHandle>(handle)}, {"hardware", hardware}, {"plan", plan}};
  lifecycle.initialize(init);

  // Calibration data, when any modifier needs statistics.
  std::unique_ptr<CalibrationShard> shard;
  if (plan->needs_hessians || plan->needs_channel_ranges) {
    if (!options.dataset) {
      throw std::invalid_argument("the recipe needs calibration data (GPTQ, SparseGPT, SmoothQuant or static "
                                  "activation scales): give --dataset");
    }
    auto tokenizer = tok::Tokenizer::from_dir(options.model);
    data::SampleOptions sample_options;
    sample_options.num_samples = options.num_calibration_samples;
    sample_options.max_seq_length = options.max_seq_length;
    sample_options.seed = options.seed;
    auto samples = data::load_samples(*options.dataset, tokenizer, sample_options);
    if (samples.empty()) throw data::DatasetError(options.dataset->string() + ": no calibration samples");
    shard = std::make_unique<CalibrationShard>(samples, options.pipeline.chunk_size, comm.rank(), comm.world_size());
  }

  auto sink = std::make_unique<CompressedCheckpointSink>(options.model, options.output, config, options.overwrite,
                                                         recipe_text, comm);

  PipelineInputs inputs;
  inputs.config = &config;
  inputs.reader = &reader;
  inputs.lifecycle = &lifecycle;
  inputs.comm = &comm;
  inputs.data = shard.get();
  inputs.plan = plan.get();
  inputs.sink = sink.get();
  inputs.system = &runtime.system();
  inputs.options = options.pipeline;

  OneshotResult result;
  result.layers = run_sequential_pipeline(inputs);
  lifecycle.finalize();
  // Every rank has finished its part; only then does rank 0 publish the checkpoint.
  sink->finish(*plan);
  comm.barrier();
  result.total_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  nlohmann::json groups = nlohmann::json::object();
  for (const auto& [name, scheme] : plan->quantization_groups) groups[name] = quant::to_json(scheme);
  result.recipe = recipe_text;
  result.plan = {{"config_groups", groups}, {"ignore", plan->quantization_ignore},
                 {"sparsity_config", plan->sparsity_config}};
  return result;
}

}  // namespace dcomp::actors
