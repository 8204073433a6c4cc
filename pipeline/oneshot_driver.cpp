// reference: llm-compressor src/llmcompressor/entrypoints/oneshot.py
#include "pipeline/oneshot_driver.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kernels/ct/output_folder_policy.hpp"
#include "kernels/data/dataset.hpp"
#include "kernels/io/layer_names.hpp"
#include "kernels/io/safetensors.hpp"
#include "kernels/model/allocation_policy.hpp"
#include "kernels/model/checkpoint_validation.hpp"
#include "kernels/model/model_config.hpp"
#include "kernels/quant/non_finite.hpp"
#include "kernels/tokenizer/tokenizer.hpp"
#include "lifecycle/errors.hpp"
#include "lifecycle/modifier_registry.hpp"
#include "lifecycle/recipe.hpp"
#include "pipeline/calibration_data.hpp"
#include "pipeline/compressed_checkpoint_sink.hpp"
#include "pipeline/input_format.hpp"
#include "pipeline/llama_model_handle.hpp"
#include "pipeline/output_folder_checks.hpp"
#include "pipeline/run_progress.hpp"
#include "pipeline/run_report.hpp"
#include "pipeline/sequential_run.hpp"

namespace dcomp::pipeline {
namespace {

// The recipe (given, or made from --scheme) applied to the lifecycle: the modifiers fill the
// plan. Returns the recipe's text as applied, which the checkpoint's recipe.yaml and the resume
// fingerprint hold (also when --recipe named a file).
std::string initialize_lifecycle(const OneshotOptions& options, comm::Communicator& comm, LifecycleCalls& lifecycle,
                                 const std::shared_ptr<LlamaModelHandle>& handle,
                                 const std::shared_ptr<lifecycle::CompressionPlan>& plan) {
  lifecycle::Hardware hardware;
  hardware.device = options.pipeline.device.str();
  hardware.rank = comm.rank();
  hardware.world_size = comm.world_size();
  hardware.distributed = comm.world_size() > 1;
  hardware.distributed_strategy = comm.backend_name();
  // Read once and parsed once: the coordinator initializes these modifiers.
  lifecycle::Recipe::Loaded loaded = lifecycle::Recipe::load(
      options.scheme ? recipe_for_scheme(options) : *options.recipe, lifecycle::ModifierRegistry::builtin());
  if (loaded.recipe.modifiers().empty()) {
    throw lifecycle::RecipeError((options.recipe ? *options.recipe : std::string("the recipe")) +
                                 ": defines no modifiers (recipe stages are keys ending in '_stage', holding "
                                 "groups ending in '_modifiers')");
  }
  lifecycle.initialize(std::move(loaded.recipe),
                       {{"model", std::shared_ptr<lifecycle::ModelHandle>(handle)}, {"hardware", hardware}, {"plan", plan}});
  return loaded.text;
}

// This rank's share of the calibration samples, when a modifier needs statistics (null otherwise).
std::unique_ptr<CalibrationShard> load_calibration_shard(const OneshotOptions& options,
                                                                   const model::ModelConfig& config,
                                                                   const lifecycle::CompressionPlan& plan,
                                                                   comm::Communicator& comm) {
  if (!plan.needs_calibration_pass()) return nullptr;
  if (!options.dataset) {
    throw std::invalid_argument("the recipe needs calibration data (GPTQ, SparseGPT, SmoothQuant or static "
                                "activation scales): give --dataset");
  }
  data::SampleOptions sample_options;
  sample_options.num_samples = options.num_calibration_samples;
  sample_options.max_seq_length = options.max_seq_length;
  sample_options.seed = options.seed;
  sample_options.shuffle = options.shuffle_calibration_samples;
  // A model folder without tokenizer.json (a test model, or one whose tokenizer lives
  // elsewhere) calibrates on token ids.
  const bool has_tokenizer = std::filesystem::exists(options.model / "tokenizer.json");
  auto samples = has_tokenizer
                     ? data::load_samples(*options.dataset, tok::Tokenizer::from_dir(options.model), sample_options)
                     : data::load_id_samples(*options.dataset, config.vocab_size, sample_options);
  if (samples.empty()) throw data::DatasetError(options.dataset->string() + ": no calibration samples");
  if (samples.size() < options.num_calibration_samples && comm.rank() == 0) {
    size_t tokens = 0;
    for (const auto& sample : samples) tokens += sample.size();
    spdlog::warn("{}: gives {} calibration sample(s) ({} tokens at up to {} per sample), fewer than the {} "
                 "requested; calibrating with those", options.dataset->string(), samples.size(), tokens,
                 options.max_seq_length, options.num_calibration_samples);
  }
  return std::make_unique<CalibrationShard>(samples, options.pipeline.chunk_size, comm.rank(),
                                                      comm.world_size());
}

// The layers, with the saved progress kept for --resume when the run stops, or removed when
// it stopped at a non-finite value (the same model and data fail the same way on every run:
// the saved progress could only lead back here).
std::vector<LayerReport> run_layers_keeping_progress(const PipelineInputs& inputs, comm::Communicator& comm,
                                                     const std::filesystem::path& saved_in) {
  try {
    std::vector<LayerReport> layers = run_sequential_pipeline(inputs);
    comm.set_position("", "finish");
    return layers;
  } catch (const quant::NonFiniteError&) {
    if (inputs.progress && inputs.progress->first_layer() > 0 && comm.rank() == 0) {
      spdlog::warn("removing the saved progress of {} complete layer(s) in {}: resuming would stop at the same "
                   "non-finite value", inputs.progress->first_layer(), saved_in.string());
    }
    inputs.sink->discard_after_failure();
    throw;
  } catch (const std::exception&) {
    if (inputs.progress && inputs.progress->first_layer() > 0 && comm.rank() == 0) {
      spdlog::error("the progress of {} complete layer(s) is saved in {}: run the same command with --resume to "
                    "continue", inputs.progress->first_layer(), saved_in.string());
    }
    throw;
  }
}

// Every rank has finished its part; only then does rank 0 publish the checkpoint, with the run
// report inside it, and remove the saved progress of this and earlier interrupted runs.
void publish_checkpoint(const OneshotOptions& options, const model::ModelConfig& config,
                        const lifecycle::CompressionPlan& plan, CompressedCheckpointSink& sink,
                        RunProgress* progress, comm::Communicator& comm,
                        std::chrono::steady_clock::time_point started, OneshotResult& result) {
  std::vector<ct::ShardRecord> earlier_shards;
  std::map<std::string, std::string> files;
  const std::vector<int64_t> peak_rss = gather_peak_rss(comm);
  // From here rank 0 discards the saved progress and publishes: the folder is no longer one to resume.
  if (comm::CollectiveWatchdog* watchdog = comm.watchdog()) watchdog->set_kept_folder({});
  if (comm.rank() == 0) {
    nlohmann::json layers = nlohmann::json::array();
    if (progress) {
      layers = progress->layer_reports();
      // The lm_head subgraph is not saved progress: it is compressed again on resume.
      for (const auto& layer : result.layers) {
        if (layer.layer >= config.num_hidden_layers) layers.push_back(layer_report_json(layer));
      }
      earlier_shards = progress->resumed_layer_shards();
      progress->discard();
    } else {
      for (const auto& layer : result.layers) layers.push_back(layer_report_json(layer));
    }
    result.total_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    result.report = build_run_report(options, result, layers, comm);
    result.report["peak_rss_bytes_per_rank"] = peak_rss;
    files["dcomp_report.json"] = result.report.dump(2) + "\n";
  }
  sink.finish(plan, earlier_shards, files);
  comm.barrier();
  if (comm.rank() == 0) {
    // The output now exists: the saved progress of earlier interrupted runs of it is superseded.
    for (const auto& removed : ct::remove_abandoned_temporary_folders(options.output, /*unsaved_only=*/false)) {
      spdlog::info("removed {}: the temporary folder of an earlier, interrupted run of this output", removed.string());
    }
  }
}

// The output of a run: its temporary folder (adopted from an interrupted run with --resume) and
// the progress saved in it (none with --no-save-progress).
struct OpenedOutput {
  std::unique_ptr<CompressedCheckpointSink> sink;
  std::unique_ptr<RunProgress> progress;
};

OpenedOutput open_output(const OneshotOptions& options, const model::ModelConfig& config,
                         const std::string& applied_recipe, comm::Communicator& comm) {
  OpenedOutput output;
  const std::optional<std::filesystem::path> resume_dir = comm.rank() == 0 ? find_run_to_resume(options) : std::nullopt;
  output.sink = std::make_unique<CompressedCheckpointSink>(options.model, options.output, config, options.overwrite,
                                                           applied_recipe, comm, resume_dir);
  output.sink->write_sparsity_config(options.sparsity_config);
  // A run of the same output that started while this one loaded: at most both stop, never both compute.
  if (comm.rank() == 0) refuse_output_of_live_run(options, output.sink->temporary_dir());
  std::string resuming = resume_dir ? "1" : "0";
  comm.broadcast_bytes(resuming, 0);
  if (options.save_progress) {
    output.progress = std::make_unique<RunProgress>(
        output.sink->temporary_dir(), run_fingerprint(options, applied_recipe, comm.rank() == 0), resuming == "1", comm);
  }
  return output;
}

// finalize: layers an interrupted run completed were compressed there, not missed. Then what
// the modifiers declared (config groups, ignore, sparsity) goes into the result.
void finalize_lifecycle(LifecycleCalls& lifecycle, const lifecycle::CompressionPlan& plan, OneshotResult& result) {
  std::vector<std::string> completed_prefixes;
  for (int layer = 0; layer < result.resumed_layers; ++layer) completed_prefixes.push_back(io::layer_prefix(layer));
  lifecycle.finalize({{"completed_module_prefixes", completed_prefixes}});
  nlohmann::json groups = nlohmann::json::object();
  for (const auto& [name, scheme] : plan.quantization_groups) groups[name] = quant::to_json(scheme);
  result.plan = {{"config_groups", groups}, {"ignore", plan.quantization_ignore},
                 {"sparsity_config", plan.sparsity_config}};
}

}  // namespace

// reference: llm-compressor src/llmcompressor/entrypoints/oneshot.py (Oneshot: initialize, calibrate, finalize, save)
OneshotResult run_oneshot_driver(const OneshotOptions& given_options, comm::Communicator& comm,
                                 DriverServices& services) {
  OneshotOptions options = given_options;
  const auto started = std::chrono::steady_clock::now();
  refuse_contradicting_options(options);
  check_output(options, comm);
  auto config = model::ModelConfig::from_dir(options.model);
  const InputFormat input = input_format_of(config, options.model);
  // A mixture-of-experts layer is hundreds of mid-sized tensors (an expert's Linear: a few MB):
  // kept in the heap for reuse they fragment it, and a Qwen3-30B-A3B-shaped layer then held
  // 10 GB resident instead of 3.7 GB. Blocks from 1 MB up go back to the system when freed.
  if (config.moe) model::release_large_blocks_when_freed();
  fit_sequence_length(options, config, comm.rank());
  io::CheckpointReader reader(options.model);
  // The whole folder, before any work.
  model::validate_dense_checkpoint(reader, config, input.fp8_blocks ? &*input.fp8_blocks : nullptr,
                                   input.compressed_linear);

  // initialize: the modifiers read the recipe and fill the plan.
  const std::unique_ptr<LifecycleCalls> lifecycle = services.start_lifecycle();
  auto plan = std::make_shared<lifecycle::CompressionPlan>();
  const auto handle = std::make_shared<LlamaModelHandle>(config);  // the modifiers' view, for the whole run
  const std::string applied_recipe = initialize_lifecycle(options, comm, *lifecycle, handle, plan);
  const std::unique_ptr<CalibrationShard> shard = load_calibration_shard(options, config, *plan, comm);
  const OpenedOutput output = open_output(options, config, applied_recipe, comm);

  // calibrate and compress, layer by layer.
  PipelineInputs inputs;
  inputs.config = &config;
  inputs.reader = &reader;
  inputs.lifecycle = lifecycle.get();
  inputs.comm = &comm;
  inputs.data = shard.get();
  inputs.plan = plan.get();
  inputs.sink = output.sink.get();
  inputs.progress = output.progress.get();
  inputs.services = &services;
  inputs.options = options.pipeline;
  inputs.linear_loader = input.linear_loader;
  OneshotResult result;
  result.input_format = input.name;
  result.resumed_layers = output.progress ? output.progress->first_layer() : 0;
  result.layers = run_layers_keeping_progress(inputs, comm, output.sink->temporary_dir());

  finalize_lifecycle(*lifecycle, *plan, result);
  result.recipe = applied_recipe;
  publish_checkpoint(options, config, *plan, *output.sink, output.progress.get(), comm, started, result);
  result.total_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace dcomp::pipeline
