// reference: llm-compressor src/llmcompressor/entrypoints/oneshot.py
#include "actors/oneshot.hpp"

#include <spdlog/spdlog.h>

#include <ATen/Parallel.h>
#include <torch/csrc/api/include/torch/version.h>
#include <sys/resource.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>

#include "actors/actor_runtime.hpp"
#include "pipeline/calibration_data.hpp"
#include "kernels/ct/compressed_checkpoint.hpp"
#include "kernels/ct/compression_format.hpp"
#include "kernels/ct/fp8_block_checkpoint.hpp"
#include "kernels/model/checkpoint_validation.hpp"
#include "pipeline/compressed_checkpoint_sink.hpp"
#include "actors/lifecycle_client.hpp"
#include "pipeline/run_progress.hpp"
#include "actors/run_report.hpp"
#include "dcomp/build_info.hpp"
#include "kernels/ct/output_folder_policy.hpp"
#include "kernels/ct/temporary_folder_lock.hpp"
#include "pipeline/llama_model_handle.hpp"
#include "kernels/data/dataset.hpp"
#include "kernels/io/content_hash.hpp"
#include "kernels/io/safetensors.hpp"
#include "kernels/platform/blas_core_restart.hpp"
#include "kernels/platform/blas_library.hpp"
#include "kernels/model/checkpoint_validation.hpp"
#include "kernels/model/allocation_policy.hpp"
#include "kernels/model/model_config.hpp"
#include "kernels/quant/non_finite.hpp"
#include "kernels/tokenizer/tokenizer.hpp"
#include "lifecycle/errors.hpp"
#include "lifecycle/recipe.hpp"
#include "kernels/io/layer_names.hpp"

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

namespace {

/// FNV-1a 64 of a file's bytes, as hex ("" when unreadable).
std::string absolute_text(const std::filesystem::path& path) {
  return std::filesystem::absolute(path).lexically_normal().string();
}

// How the input checkpoint stores its Linears, and the loader that reads them as fp32.
struct InputFormat {
  std::string name = "dense";     // for the report
  model::LinearLoader linear_loader;  // empty: plain safetensors
  std::optional<model::Fp8BlockFormat> fp8_blocks;
  model::CompressedLinearTest compressed_linear;  // compressed-tensors input: which Linears are compressed
};

// A compressed-tensors input (a Kimi-K2-Thinking INT4 release, an earlier dcomp or
// llm-compressor output): each Linear decompressed when its layer is read. The source's
// activation quantization is not simulated: the recipe decides the output's.
void read_compressed_tensors(InputFormat& input, const std::filesystem::path& model_dir) {
  auto checkpoint = std::make_shared<const ct::CompressedCheckpoint>(model_dir);
  std::set<std::string> formats;
  for (const auto& [name, group] : checkpoint->quantization_config().groups) {
    formats.insert(group.format ? *group.format : checkpoint->quantization_config().format);
  }
  std::string listed;
  for (const std::string& format : formats) listed += (listed.empty() ? "" : ", ") + format;
  input.name = "compressed-tensors" + (listed.empty() ? std::string() : " (" + listed + ")");
  input.linear_loader = [checkpoint](const std::string& module) {
    model::LinearWeights weights = checkpoint->load_linear(module);
    weights.input_quantizer = nullptr;
    return weights;
  };
  input.compressed_linear = [checkpoint](const std::string& module) {
    return checkpoint->format_of(module) != ct::format::kDense;
  };
}

// A plain checkpoint, or an FP8 block release (DeepSeek-V3, Kimi-K2, the Qwen3 -FP8 models),
// read one Linear at a time and dequantized. Other quantized inputs are refused by name.
InputFormat input_format_of(const model::ModelConfig& config, const std::filesystem::path& model_dir) {
  InputFormat input;
  if (!config.has_quantization_config()) return input;
  const std::string where = (model_dir / "config.json").string();
  const nlohmann::json& quantization = config.raw.at("quantization_config");
  const auto fp8 = ct::fp8_block_format(quantization, where);
  const bool compressed_tensors = quantization.is_object() && quantization.contains("quant_method") &&
                                  quantization.at("quant_method") == "compressed-tensors";
  if (compressed_tensors) {
    read_compressed_tensors(input, model_dir);
    return input;
  }
  if (!fp8) {
    const std::string method =
        quantization.is_object() && quantization.contains("quant_method") ? quantization.at("quant_method").dump()
                                                                           : std::string("(none)");
    throw std::invalid_argument(where + ": the model is already quantized (quantization_config.quant_method " +
                                method + "); oneshot reads dense checkpoints, compressed-tensors "
                                "checkpoints and FP8 block releases "
                                "(quant_method \"fp8\" with weight_block_size)");
  }
  input.name = "fp8 blocks [" + std::to_string(fp8->block_rows) + ", " + std::to_string(fp8->block_columns) + "]";
  input.linear_loader = ct::fp8_block_linear_loader(model_dir, *fp8);
  input.fp8_blocks = *fp8;
  return input;
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

/// Rank 0: refuses an output that a live run is writing (its temporary folder is locked),
/// naming that run's process and host. `own_temporary` (once this run has one) is skipped.
void refuse_output_of_live_run(const OneshotOptions& options, const std::filesystem::path& own_temporary = {}) {
  const auto live = ct::find_live_run(options.output, own_temporary);
  if (!live) return;
  throw std::runtime_error(options.output.string() + ": another dcomp run (" + live->holder +
                           ") is writing this output in " + live->temporary_folder.string() +
                           "; wait for it to end, or stop it and continue its work with --resume");
}

// Refuses an output that would destroy an input or unrelated files (ct::check_output_folder)
// or that another run is writing, before any work, and says what --overwrite will replace.
void check_output(const OneshotOptions& options, const comm::Communicator& comm) {
  std::vector<ct::RunInput> inputs{{"the model folder", options.model, /*is_folder=*/true}};
  if (options.dataset) inputs.push_back({"the dataset", *options.dataset, /*is_folder=*/false});
  std::error_code error;
  if (options.recipe && options.recipe->size() < 4096 && std::filesystem::is_regular_file(*options.recipe, error)) {
    inputs.push_back({"the recipe", *options.recipe, /*is_folder=*/false});
  }
  const auto existing = ct::check_output_folder(options.output, inputs, options.overwrite);
  if (comm.rank() != 0) return;
  refuse_output_of_live_run(options);
  if (existing == ct::ExistingOutput::Checkpoint) {
    spdlog::warn("--overwrite: {} holds a checkpoint; it is replaced when this run finishes", options.output.string());
  } else if (existing == ct::ExistingOutput::EmptyFolder) {
    spdlog::info("--overwrite: {} is an empty folder; it is replaced when this run finishes", options.output.string());
  }
}

}  // namespace

nlohmann::json run_fingerprint(const OneshotOptions& options, const std::string& recipe_text, bool hash_content) {
  // Every file of the model folder the run reads: weights, index, config and tokenizer,
  // each by the hash of its bytes (io::file_content_hash), so that a tensor edited in
  // place is noticed as surely as a replaced file.
  nlohmann::json model_files = nlohmann::json::object();
  if (hash_content) {
    std::vector<std::filesystem::path> files;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(options.model, error)) {
      const std::string name = entry.path().filename().string();
      if (entry.path().extension() == ".safetensors" || name == "model.safetensors.index.json" ||
          name == "config.json" || name == "tokenizer.json" || name == "tokenizer_config.json") {
        files.push_back(entry.path());
      }
    }
    for (const auto& file : files) model_files[file.filename().string()] = io::file_content_hash(file);
  }
  nlohmann::json fingerprint = {{"model", absolute_text(options.model)},
                                {"model_files", model_files},
                                {"recipe", recipe_text},
                                {"num_calibration_samples", options.num_calibration_samples},
                                {"max_seq_length", options.max_seq_length},
                                {"seed", options.seed},
                                {"shuffle", options.shuffle_calibration_samples},
                                {"chunk_size", options.pipeline.chunk_size},
                                {"moe_calibrate_all_experts", options.pipeline.moe_calibrate_all_experts}};
  fingerprint["dataset"] = options.dataset ? nlohmann::json(absolute_text(*options.dataset)) : nlohmann::json(nullptr);
  fingerprint["dataset_content"] =
      options.dataset && hash_content ? io::file_content_hash(*options.dataset) : std::string();
  return fingerprint;
}

namespace {

// The flags that cannot go together, before anything is read.
void refuse_contradicting_options(const OneshotOptions& options) {
  if (options.recipe.has_value() == options.scheme.has_value()) {
    throw std::invalid_argument("give exactly one of --recipe and --scheme");
  }
  if (options.output.empty()) throw std::invalid_argument("--output is required");
  if (options.resume && !options.save_progress) {
    throw std::invalid_argument("--resume needs saved progress: it cannot be combined with --no-save-progress");
  }
}

// --max-seq-length within the model's max_position_embeddings: lowered to it when not given,
// refused when given above it.
void fit_sequence_length(OneshotOptions& options, const model::ModelConfig& config, int rank) {
  if (config.max_position_embeddings > 0 &&
      options.max_seq_length > static_cast<size_t>(config.max_position_embeddings) && !options.max_seq_length_given) {
    options.max_seq_length = static_cast<size_t>(config.max_position_embeddings);
    if (rank == 0) spdlog::info("max sequence length {} (the model's max_position_embeddings)", options.max_seq_length);
  }
  if (config.max_position_embeddings > 0 &&
      options.max_seq_length > static_cast<size_t>(config.max_position_embeddings)) {
    throw std::invalid_argument("--max-seq-length " + std::to_string(options.max_seq_length) + " exceeds " +
                                (options.model / "config.json").string() + "'s max_position_embeddings " +
                                std::to_string(config.max_position_embeddings));
  }
  if (options.num_calibration_samples == 0 || options.max_seq_length < 2 || options.pipeline.chunk_size == 0) {
    throw std::invalid_argument("--num-calibration-samples and --chunk-size must be at least 1, --max-seq-length "
                                "at least 2");
  }
}

// The recipe (given, or made from --scheme) applied to the lifecycle: the modifiers fill the
// plan. Returns the recipe's text as applied, which the checkpoint's recipe.yaml and the resume
// fingerprint hold (also when --recipe named a file).
std::string initialize_lifecycle(const OneshotOptions& options, comm::Communicator& comm, LifecycleClient& lifecycle,
                                 const std::shared_ptr<pipeline::LlamaModelHandle>& handle,
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
  InitializeRequest init;
  init.recipe = std::move(loaded.recipe);
  init.kwargs = {{"model", std::shared_ptr<lifecycle::ModelHandle>(handle)}, {"hardware", hardware}, {"plan", plan}};
  lifecycle.initialize(init);
  return loaded.text;
}

// This rank's share of the calibration samples, when a modifier needs statistics (null otherwise).
std::unique_ptr<pipeline::CalibrationShard> load_calibration_shard(const OneshotOptions& options,
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
  return std::make_unique<pipeline::CalibrationShard>(samples, options.pipeline.chunk_size, comm.rank(),
                                                      comm.world_size());
}

// Rank 0: an interrupted run of this output to continue (its temporary folder, adopted), after
// removing the temporary folders of earlier runs that saved nothing (they can never be resumed).
std::optional<std::filesystem::path> find_run_to_resume(const OneshotOptions& options) {
  for (const auto& removed : ct::remove_abandoned_temporary_folders(options.output, /*unsaved_only=*/true)) {
    spdlog::info("removed {}: the temporary folder of an earlier run of this output that saved no layer",
                 removed.string());
  }
  const auto interrupted = pipeline::find_interrupted_run(options.output);
  if (options.resume && interrupted) return interrupted;
  if (options.resume) {
    spdlog::info("--resume: no saved progress for {}; starting from the first layer", options.output.string());
  } else if (interrupted) {
    spdlog::warn("{} holds the saved progress of an interrupted run of this output; add --resume to continue it",
                 interrupted->string());
  }
  return std::nullopt;
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

// Every rank's peak resident memory so far, for the report.
std::vector<int64_t> gather_peak_rss(comm::Communicator& comm) {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  std::vector<int64_t> peak_rss;
  for (const std::string& text : comm.all_gather_bytes(std::to_string(static_cast<int64_t>(usage.ru_maxrss) * 1024))) {
    peak_rss.push_back(std::stoll(text));
  }
  return peak_rss;
}

// Every rank has finished its part; only then does rank 0 publish the checkpoint, with the run
// report inside it, and remove the saved progress of this and earlier interrupted runs.
void publish_checkpoint(const OneshotOptions& options, const model::ModelConfig& config,
                        const lifecycle::CompressionPlan& plan, pipeline::CompressedCheckpointSink& sink,
                        pipeline::RunProgress* progress, comm::Communicator& comm,
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

}  // namespace

// reference: llm-compressor src/llmcompressor/entrypoints/oneshot.py (Oneshot: initialize, calibrate, finalize, save)
OneshotResult run_oneshot(const OneshotOptions& given_options, comm::Communicator& comm) {
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

  // initialize: the modifiers (actors) read the recipe and fill the plan.
  ActorRuntime runtime(options.actor_threads);
  LifecycleClient lifecycle(runtime.system(), lifecycle::ModifierRegistry::builtin());
  auto plan = std::make_shared<lifecycle::CompressionPlan>();
  const auto handle = std::make_shared<pipeline::LlamaModelHandle>(config);  // the modifiers' view, for the whole run
  const std::string applied_recipe = initialize_lifecycle(options, comm, lifecycle, handle, plan);
  const std::unique_ptr<pipeline::CalibrationShard> shard = load_calibration_shard(options, config, *plan, comm);

  // The output: a temporary folder (adopted from an interrupted run with --resume) and the progress saved in it.
  const std::optional<std::filesystem::path> resume_dir = comm.rank() == 0 ? find_run_to_resume(options) : std::nullopt;
  auto sink = std::make_unique<pipeline::CompressedCheckpointSink>(options.model, options.output, config,
                                                                   options.overwrite, applied_recipe, comm, resume_dir);
  sink->write_sparsity_config(options.sparsity_config);
  // A run of the same output that started while this one loaded: at most both stop, never both compute.
  if (comm.rank() == 0) refuse_output_of_live_run(options, sink->temporary_dir());
  std::string resuming = resume_dir ? "1" : "0";
  comm.broadcast_bytes(resuming, 0);
  std::unique_ptr<pipeline::RunProgress> progress;
  if (options.save_progress) {
    progress = std::make_unique<pipeline::RunProgress>(
        sink->temporary_dir(), run_fingerprint(options, applied_recipe, comm.rank() == 0), resuming == "1", comm);
  }

  // calibrate and compress, layer by layer.
  PipelineInputs inputs;
  inputs.config = &config;
  inputs.reader = &reader;
  inputs.lifecycle = &lifecycle;
  inputs.comm = &comm;
  inputs.data = shard.get();
  inputs.plan = plan.get();
  inputs.sink = sink.get();
  inputs.progress = progress.get();
  inputs.system = &runtime.system();
  inputs.options = options.pipeline;
  inputs.linear_loader = input.linear_loader;
  OneshotResult result;
  result.input_format = input.name;
  result.resumed_layers = progress ? progress->first_layer() : 0;
  result.layers = run_layers_keeping_progress(inputs, comm, sink->temporary_dir());

  // finalize: layers an interrupted run completed were compressed there, not missed.
  std::vector<std::string> completed_prefixes;
  for (int layer = 0; layer < result.resumed_layers; ++layer) completed_prefixes.push_back(io::layer_prefix(layer));
  lifecycle.finalize({{"completed_module_prefixes", completed_prefixes}});
  nlohmann::json groups = nlohmann::json::object();
  for (const auto& [name, scheme] : plan->quantization_groups) groups[name] = quant::to_json(scheme);
  result.recipe = applied_recipe;
  result.plan = {{"config_groups", groups}, {"ignore", plan->quantization_ignore},
                 {"sparsity_config", plan->sparsity_config}};

  publish_checkpoint(options, config, *plan, *sink, progress.get(), comm, started, result);
  result.total_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace dcomp::actors
