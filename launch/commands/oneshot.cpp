// `dcomp oneshot`: compress a model with a recipe (or a preset scheme) and
// calibration data; run directly, under mpirun, or under srun.
#include <CLI/CLI.hpp>

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>

#include "actors/oneshot_actors.hpp"
#include "dcomp/build_info.hpp"
#include "launch/backend_selection.hpp"
#include "kernels/ct/output_file_policy.hpp"
#include "kernels/io/durable_files.hpp"
#include "kernels/model/allocation_policy.hpp"
#include "kernels/quant/quant_args.hpp"
#include "launch/commands.hpp"
#include "launch/option_checks.hpp"
#include "kernels/model/compute_device.hpp"
#include "kernels/platform/out_of_memory.hpp"
#include "lifecycle/logging.hpp"
#include "kernels/platform/launcher_environment.hpp"
#include "pipeline/fault_injection.hpp"

namespace dcomp::launch {
namespace {

struct OneshotFlags {
  pipeline::OneshotOptions options;
  std::string model, recipe, scheme, dataset, output, backend = "auto", report, device = "auto";
  int threads = 0;
  double collective_timeout_seconds = comm::CollectiveWatchdog::kDefaultTimeout.count();
  bool allow_tf32 = false;
  CLI::Option* max_seq_length_option = nullptr;
};

// An allocation failure said in words: where the run was (layer and phase), the model, how much
// was asked for and what this rank held at its peak, and what makes a run need less.
std::optional<std::string> describe_out_of_memory(const std::exception& error, const pipeline::OneshotOptions& options,
                                                  const comm::Communicator& comm) {
  const std::optional<platform::AllocationFailure> failure = platform::as_allocation_failure(error);
  if (!failure) return std::nullopt;
  const std::string where = comm.position().empty() ? "starting the run" : comm.position();
  std::string message = "out of memory while compressing " + options.model.string() + " (" + where + ")";
  if (failure->bytes) message += ", needing " + platform::describe_bytes(*failure->bytes) + " more";
  if (const uint64_t peak = platform::peak_resident_bytes()) {
    message += "; this rank held up to " + platform::describe_bytes(peak);
  }
  return message + ". A run needs less memory per rank with more ranks, a smaller --chunk-size, fewer or " +
         "shorter calibration samples, or --no-overlap (the next layer is then not read ahead)";
}

void run(OneshotFlags& flags) {
  auto host = make_communicator(flags.backend);
  logging::configure(host->rank(), host->world_size());
  if (comm::CollectiveWatchdog* watchdog = host->watchdog()) {
    watchdog->set_timeout(std::chrono::milliseconds(std::llround(flags.collective_timeout_seconds * 1000)));
  }
  const c10::Device device =
      model::choose_compute_device(flags.device, model::probe_cuda(), platform::local_rank_from_environment());
  auto comm = make_device_communicator(std::move(host), flags.backend, device);
  const int threads = flags.threads > 0 ? flags.threads : rank_compute_threads();
  check_thread_count(threads, "--threads");
  at::set_num_threads(threads);
  // TF32 tensor cores for fp32 GEMMs on a GPU (forward passes and Hessians); no effect on the CPU.
  at::globalContext().setAllowTF32CuBLAS(flags.allow_tf32);
  spdlog::info("dcomp oneshot: rank {}/{} ({} backend) on {}, {} compute thread(s){}", comm->rank(),
               comm->world_size(), comm->backend_name(), device.str(), threads,
               device.is_cuda() && flags.allow_tf32 ? ", TF32 GEMMs" : "");
  flags.options.pipeline.device = device;
  // The resume tests' hook (pipeline/fault_injection.hpp): its variable is read here only.
  if (const char* fault = platform::process_environment("DCOMP_FAULT_KILL")) {
    flags.options.pipeline.fault_kill = pipeline::parse_fault_kill(fault, "DCOMP_FAULT_KILL");
  }
  auto& o = flags.options;
  o.model = flags.model;
  if (!flags.recipe.empty()) o.recipe = flags.recipe;
  if (!flags.scheme.empty()) o.scheme = flags.scheme;
  if (!flags.dataset.empty()) o.dataset = flags.dataset;
  o.output = flags.output;
  o.max_seq_length_given = flags.max_seq_length_option != nullptr && flags.max_seq_length_option->count() > 0;
  try {
    auto result = actors::run_oneshot(o, *comm);
    if (comm->rank() == 0) {
      // The run report is inside the checkpoint; --report also copies it elsewhere.
      if (!flags.report.empty()) io::replace_file_durably(flags.report, result.report.dump(2) + "\n");
      spdlog::info("wrote {} in {:.2f} s{}", flags.output, result.total_seconds,
                   result.resumed_layers > 0
                       ? " (resumed after " + std::to_string(result.resumed_layers) + " complete layer(s))"
                       : std::string());
    }
  } catch (const std::exception& e) {
    const std::optional<std::string> out_of_memory = describe_out_of_memory(e, o, *comm);
    if (comm->world_size() > 1) {
      // The other ranks may be blocked in a collective: end the whole job now.
      std::cerr << "dcomp: error on rank " << comm->rank() << " of " << comm->world_size() << ": "
                << out_of_memory.value_or(e.what()) << std::endl;
      comm->abort_job(1);
    }
    if (out_of_memory) throw std::runtime_error(*out_of_memory);
    throw;
  }
}

// Refuses a --report path that would replace an input, a file inside the output folder, or a
// file that is not an earlier run report, or that cannot be written (ct::check_output_file),
// before any work.
void check_report_path(const OneshotFlags& flags) {
  if (flags.report.empty()) return;
  std::vector<ct::RunInput> inputs{{"the model folder", flags.model, /*is_folder=*/true}};
  if (!flags.dataset.empty()) inputs.push_back({"the dataset", flags.dataset, /*is_folder=*/false});
  std::error_code error;
  if (!flags.recipe.empty() && flags.recipe.size() < 4096 && std::filesystem::is_regular_file(flags.recipe, error)) {
    inputs.push_back({"the recipe", flags.recipe, /*is_folder=*/false});
  }
  ct::check_output_file("--report", flags.report, ct::OutputFileKind::RunReport, inputs, flags.output);
}

}  // namespace

void add_oneshot_command(CLI::App& app) {
  auto flags = std::make_shared<OneshotFlags>();
  auto* command = app.add_subcommand(
      "oneshot",
      "Compress a model with a recipe or a preset scheme and write a compressed-tensors checkpoint. Run it "
      "directly, or as `mpirun -np N dcomp oneshot ...` / `srun --mpi=pmix dcomp oneshot ...` to shard the "
      "calibration data and the solves over ranks.");
  command->add_option("--model", flags->model, "Hugging Face model folder")->required()->check(CLI::ExistingDirectory);
  auto* recipe = command->add_option("--recipe", flags->recipe, "llm-compressor recipe (YAML, JSON or Markdown)");
  std::string presets;
  for (const std::string& name : quant::preset_names()) {
    if (name != "UNQUANTIZED") presets += (presets.empty() ? "" : ", ") + name;
  }
  auto* scheme = command->add_option("--scheme", flags->scheme,
                                     "Preset instead of a recipe: " + presets + " (see `dcomp modifiers`)");
  recipe->excludes(scheme);
  command->add_option("--algorithm", flags->options.algorithm, "With --scheme: gptq or rtn")
      ->check(CLI::IsMember({"gptq", "rtn"}))
      ->capture_default_str();
  command->add_option("--ignore", flags->options.ignore, "With --scheme: modules left unquantized")
      ->capture_default_str();
  command->add_option("--dataset", flags->dataset, "Calibration data: text, or JSON Lines with text / input_ids")
      ->check(CLI::ExistingFile);
  // Ranges are checked on the text, before conversion: "-1" must not wrap to a huge unsigned count.
  command->add_option("--num-calibration-samples", flags->options.num_calibration_samples, "Calibration samples")
      ->check(CLI::Range(int64_t{1}, int64_t{100000000}))
      ->capture_default_str();
  flags->max_seq_length_option = command->add_option("--max-seq-length", flags->options.max_seq_length,
                      "Tokens per sample at most (default 2048, lowered to the model's max_position_embeddings; "
                      "an explicit value must not exceed it)")
      ->check(CLI::Range(int64_t{2}, int64_t{1} << 24))
      ->capture_default_str();
  command->add_option("--seed", flags->options.seed, "Seed of the sample selection")
      ->check(seed_range())
      ->capture_default_str();
  command->add_flag("!--no-shuffle", flags->options.shuffle_calibration_samples,
                    "Take the calibration samples in file order, unshuffled (llm-compressor's "
                    "shuffle_calibration_samples: false)");
  command->add_option("--output", flags->output, "Output folder (written atomically)")->required();
  command->add_flag("--overwrite", flags->options.overwrite, "Replace an existing output folder");
  command->add_flag("--sparsity-config", flags->options.sparsity_config,
                    "Pruned models: also write compressed-tensors' sparsity_config (format dense) into the "
                    "config, for loaders that read it; by default a pruned model is a plain checkpoint, since "
                    "vLLM 0.32 refuses any checkpoint with a sparsity_config");
  auto* resume = command->add_flag(
      "--resume", flags->options.resume,
      "Continue an interrupted run of the same command (same model, recipe, data and sampling; any number of "
      "ranks) from its last complete layer, saved in <output>.tmp-*; starts afresh when there is none");
  auto* no_progress = command->add_flag(
      "!--no-save-progress", flags->options.save_progress,
      "Do not save progress after each layer (saves the disk traffic of the calibration hidden states; the run "
      "then cannot be resumed)");
  resume->excludes(no_progress);
  command->add_option("--backend", flags->backend,
                      "auto, single, mpi or nccl (auto: NCCL when the ranks compute on GPUs of their own, MPI "
                      "under mpirun or srun otherwise)")
      ->check(CLI::IsMember({"auto", "single", "mpi", "nccl"}))
      ->capture_default_str();
  command->add_option("--device", flags->device,
                      "cpu, cuda or auto (auto: the GPU when one is visible and LibTorch has CUDA). A rank uses "
                      "GPU LOCAL_RANK / OMPI_COMM_WORLD_LOCAL_RANK / SLURM_LOCALID modulo the GPUs it sees")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();
  command->add_flag("--allow-tf32", flags->allow_tf32,
                    "On a GPU, run fp32 GEMMs (forward passes, Hessian sums) on TF32 tensor cores with fp32 "
                    "accumulation: faster, with inputs rounded to 10 mantissa bits");
  command->add_option("--collective-timeout", flags->collective_timeout_seconds,
                      "Seconds a rank waits in a collective (or for the NCCL stream) before it ends the job, naming "
                      "the ranks that did not arrive and the layer and phase (exit code 75; the saved progress stays "
                      "for --resume)")
      ->check(CLI::Range(1.0, 7 * 24 * 3600.0))
      ->capture_default_str();
  command->add_option("--threads", flags->threads,
                      "Intra-op threads per rank (default: the rank's CPUs; at most 4 per hardware thread)")
      ->check(CLI::Range(1, 4096));
  command->add_option("--chunk-size", flags->options.pipeline.chunk_size,
                      "Samples per Hessian GEMM; chunks are never split over ranks")
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}))
      ->capture_default_str();
  command->add_flag("--compare-rtn", flags->options.pipeline.compare_round_to_nearest,
                    "Report each module's output error against round-to-nearest");
  command->add_flag("!--no-overlap", flags->options.pipeline.overlap,
                    "Do not prefetch layers or overlap Hessian GEMMs with forward passes (the latter only on a GPU or with cores to spare)");
  command->add_flag("!--no-parallel-solves", flags->options.pipeline.parallel_solves,
                    "With --threads above 1: solve a layer's modules one after another instead of "
                    "concurrently (each with one thread either way: the same checkpoint)");
  command
      ->add_option("--solver", flags->options.pipeline.solve_loop,
                   "GPTQ's and SparseGPT's column loops: auto (the host loops with --device cpu, ATen tensor "
                   "operations on the rank's GPU with --device cuda), host, or tensor (ATen tensor operations on "
                   "the layer's device; on the CPU the same checkpoint as host, more slowly)")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, pipeline::PipelineOptions::SolveLoop>{
              {"auto", pipeline::PipelineOptions::SolveLoop::Auto},
              {"host", pipeline::PipelineOptions::SolveLoop::Host},
              {"tensor", pipeline::PipelineOptions::SolveLoop::TensorOps}},
          CLI::ignore_case))
      ->option_text("auto|host|tensor (auto)");
  command->add_option("--moe-calibrate-all-experts", flags->options.pipeline.moe_calibrate_all_experts,
                      "Mixture-of-experts layers: every calibration token goes through every expert for the "
                      "statistics while the layer's output keeps the router's choice (llm-compressor's "
                      "moe_calibrate_all_experts); false: each expert sees only the tokens routed to it")
      ->capture_default_str();
  command->add_option("--moe-min-expert-tokens", flags->options.pipeline.moe_min_expert_tokens,
                      "Warn about experts the router sent fewer calibration tokens than this")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40))
      ->capture_default_str();
  command->add_flag("!--moe-all-reduce-experts", flags->options.pipeline.moe_reduce_to_owner,
                    "All-reduce every expert's Hessian sums instead of reducing each to the rank that solves it");
  command->add_option("--report", flags->report,
                      "Also write the JSON run report to this file (written atomically; an existing file is "
                      "replaced only when it is an earlier run report)");
  command->callback([flags] {
    if (flags->recipe.empty() && flags->scheme.empty()) throw CLI::ValidationError("give --recipe or --scheme");
    check_report_path(*flags);
    // Activation blocks are reused within a layer; the pipeline trims the heaps after each layer.
    model::keep_freed_blocks_for_reuse();
    run(*flags);
  });
}

}  // namespace dcomp::launch
