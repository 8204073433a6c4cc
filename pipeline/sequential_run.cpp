// reference: llm-compressor src/llmcompressor/pipelines/sequential/pipeline.py
#include "pipeline/sequential_run.hpp"

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <optional>
#include <thread>

#include "kernels/io/layer_names.hpp"
#include "kernels/model/allocation_policy.hpp"
#include "kernels/model/decoder_layer.hpp"
#include "kernels/model/rotary_embedding.hpp"
#include "kernels/platform/launcher_environment.hpp"
#include "pipeline/fault_injection.hpp"
#include "pipeline/finite_checks.hpp"
#include "pipeline/hidden_state_placement.hpp"
#include "pipeline/hidden_states.hpp"
#include "pipeline/key_value_ranges.hpp"
#include "pipeline/layer_compression.hpp"
#include "pipeline/layer_statistics.hpp"
#include "pipeline/layer_work_conversion.hpp"
#include "pipeline/lm_head_subgraph.hpp"
#include "pipeline/phase_clock.hpp"
#include "pipeline/progress_display.hpp"
#include "pipeline/run_report.hpp"
#include "pipeline/sparse_layer_experts.hpp"

namespace dcomp::pipeline {
namespace {

// Where GPTQ solves: see PipelineOptions::SolveLoop.
lifecycle::SolvePlacement solve_placement(PipelineOptions::SolveLoop loop, c10::Device device) {
  lifecycle::SolvePlacement placement;
  using Loop = PipelineOptions::SolveLoop;
  placement.tensor_ops = loop == Loop::TensorOps || (loop == Loop::Auto && device.is_cuda());
  if (placement.tensor_ops) placement.device = device;
  return placement;
}

// Whether the Hessian GEMMs may run beside the forward passes: on a GPU, or where the
// node's cores can hold a second team of this rank's threads for every rank on it. Two
// OpenMP teams time-slicing the same cores made calibration 35 % slower (SmolLM2-135M,
// 2 threads on 2 cores: 45.9 s against 33.8 s inline); with 1 thread on 2 cores the
// overlap gained 13 %.
bool hessians_can_overlap(c10::Device device) {
  if (device.is_cuda()) return true;
  const int local_ranks = platform::ranks_on_this_node();
  const unsigned cores = std::thread::hardware_concurrency();
  const bool overlap = cores >= 2u * static_cast<unsigned>(at::get_num_threads()) * static_cast<unsigned>(local_ranks);
  spdlog::info("Hessians {}: {} rank(s) on this node, {} thread(s) each, {} core(s)",
               overlap ? "beside the forward passes" : "inline with the forward passes", local_ranks, at::get_num_threads(), cores);
  return overlap;
}

/// One layer on its way through the phases: its weights, the work the modifiers see, the
/// statistics the calibration pass gathers and the report of what each phase took.
struct LayerInProgress {
  int layer = 0;
  model::DecoderLayerWeights weights;
  std::shared_ptr<lifecycle::LayerWork> work;
  std::optional<LayerStatistics> statistics;
  KeyValueRangeCollector key_values;
  const model::KeyValueHook* kv_hook = nullptr;
  LayerReport report;
};

/// The per-layer loop, phase by phase: load → calibrate → reduce → compress → propagate →
/// write. The run-wide state (hidden states, rotary tables, the helpers that overlap work)
/// lives here; each phase is one method, timed into the layer's report.
class SequentialRun {
 public:
  explicit SequentialRun(const PipelineInputs& in)
      : in_(in), config_(*in.config), plan_(*in.plan), device_(in.options.device),
        forward_(in.data != nullptr && plan_.needs_calibration_pass()), rope_(config_), host_rope_(config_),
        layers_(static_cast<int>(config_.num_hidden_layers)), first_layer_(in.progress ? in.progress->first_layer() : 0),
        head_(plan_.compresses_lm_head), display_(in.comm->rank(), layers_, first_layer_) {
    rope_.to(device_);
  }

  std::vector<LayerReport> run() {
    load_ends_and_hidden_states();
    in_.lifecycle->event(lifecycle::EventType::CALIBRATION_START, 0, {});
    start_helpers();
    std::vector<LayerReport> reports;
    for (int layer = first_layer_; layer < layers_; ++layer) {
      reports.push_back(run_layer(layer));
      // This layer's weights and activations are freed: the next layer starts from the heap it needs.
      model::return_free_heap_to_system();
    }
    finish_head(reports);
    in_.lifecycle->event(lifecycle::EventType::CALIBRATION_END, 0, {});
    return reports;
  }

 private:
  LayerReport run_layer(int layer) {
    LayerInProgress current;
    current.layer = layer;
    load(current);
    calibrate(current);
    reduce(current);
    compress(current);
    propagate(current);
    write(current);
    return std::move(current.report);
  }

  // The embedding and head stay as stored (zero-copy views): the run gathers embedding rows
  // and writes both back; lm_head gets an fp32 copy only when a modifier compresses it. The
  // calibration samples enter as embeddings (or the hidden states a resumed run saved).
  void load_ends_and_hidden_states() {
    ends_ = model::load_embedding_and_head(*in_.reader, config_, in_.linear_loader, /*keep_stored_dtype=*/true);
    require_finite_weights(ends_, config_.tie_word_embeddings);
    if (forward_ && (first_layer_ < layers_ || head_)) {  // lm_head is calibrated on the last layer's output
      hidden_ = first_layer_ > 0 ? in_.progress->load_hidden_states(*in_.data, config_.hidden_size)
                                 : embed_samples(*in_.data, ends_);
      const int64_t bytes = hidden_state_bytes(hidden_);
      const HiddenStatePlan placement = plan_hidden_states(
          device_, bytes, free_device_bytes(device_), in_.options.hidden_state_budget_fraction);
      place_hidden_states(hidden_, placement, device_);
      spdlog::info("{}", placement.reason);
    }
    spdlog::info("calibration: {} of {} sample(s) on this rank, {} layer(s){}", in_.data ? in_.data->local_samples() : 0,
                 in_.data ? in_.data->total_samples() : 0, config_.num_hidden_layers,
                 forward_ ? "" : " (data-free: no forward passes needed)");
  }

  // The helpers (actors, in a dcomp process) that overlap work with the loop: the next layer's
  // load, the Hessian GEMMs, and the rank's compute threads solving a layer's modules
  // concurrently, one thread each (without parallel solves, one worker solves them one after
  // another, also with one thread each: the same arithmetic, so the same checkpoint).
  void start_helpers() {
    if (in_.options.overlap && in_.services != nullptr) {
      prefetcher_ = in_.services->start_layer_loader(*in_.reader, config_, in_.linear_loader);
      if (first_layer_ < layers_) prefetcher_->request(first_layer_);
      if (forward_ && plan_.needs_hessians && hessians_can_overlap(device_)) {
        hessian_worker_ = in_.services->start_hessian_worker(in_.options.max_hessian_jobs_in_flight, device_);
      }
    }
    if (in_.services != nullptr && at::get_num_threads() > 1 && !device_.is_cuda()) {
      solve_team_ = in_.services->start_solve_team(in_.options.parallel_solves ? at::get_num_threads() : 1);
    }
  }

  // Rank 0's status line, and on every rank where a timed-out collective says the job was.
  void enter_phase(int layer, const char* phase, bool displayed = true) {
    if (displayed) display_.phase(layer, phase);
    in_.comm->set_position("layer " + std::to_string(layer + 1) + "/" + std::to_string(layers_), phase);
  }

  bool more_hidden_states_needed(int layer) const { return forward_ && (layer + 1 < layers_ || head_); }

  // The layer's weights as owned copies (its file pages dropped), and the work the modifiers
  // see (host tensors); the passes run on the device.
  void load(LayerInProgress& current) {
    enter_phase(current.layer, "load");
    const auto started = PhaseClock::now();
    current.weights = prefetcher_ ? prefetcher_->take()
                                  : model::load_decoder_layer(*in_.reader, config_, current.layer, in_.linear_loader);
    in_.reader->release_prefix(io::layer_prefix(current.layer));
    auto work = make_layer_work(current.layer, current.weights, in_.comm, experts_read_router_input());
    require_finite_weights(*work);
    work->config = &config_;
    work->rope = &host_rope_;
    work->model_dtype = in_.sink->model_dtype();
    if (solve_team_) {
      work->parallel_for = solve_team_->runner();
      work->solve_workers = solve_team_->workers();
    }
    work->solve = solve_placement(in_.options.solve_loop, device_);
    current.work = std::move(work);
    current.weights.to(device_);
    current.report.layer = current.layer;
    current.report.load_seconds = seconds_since(started);
  }

  // Every calibration batch through the layer, its Linears' inputs observed (Hessian sums,
  // channel ranges, cached inputs, key/value ranges) as the modifiers' plan asks.
  void calibrate(LayerInProgress& current) {
    const auto started = PhaseClock::now();
    enter_phase(current.layer, forward_ ? "calibrate" : "prepare");
    model::DecoderLayerWeights& weights = current.weights;
    auto& statistics = current.statistics.emplace(current.layer, *weights.layout, plan_.needs_hessians,
                                                  plan_.needs_channel_ranges, device_, experts_read_router_input());
    statistics.collect_activation_sums_and_inputs(plan_.needs_channel_abs_sums, plan_.needs_cached_inputs);
    const model::ExpertCalibration& experts = statistics.expert_calibration();
    if (weights.sparse() && plan_.needs_hessians && in_.options.moe_reduce_to_owner && in_.comm->world_size() > 1) {
      statistics.reduce_to_owners(expert_input_owners(current.layer, *weights.layout, in_.comm->world_size(),
                                                      experts_read_router_input()));
    }
    current.kv_hook = plan_.needs_key_value_ranges ? &current.key_values.hook() : nullptr;
    if (forward_) {
      for (size_t c = 0; c < hidden_.chunks.size(); ++c) {
        for (const auto& batch : hidden_.chunks[c]) {
          model::decoder_layer_observe_inputs(config_, weights, batch_on(batch, device_), rope_,
                                              statistics.hook(), current.kv_hook, &experts);
          if (plan_.needs_cached_inputs) current.work->batch_shapes.emplace_back(batch.size(0), batch.size(1));
        }
        statistics.end_chunk(hidden_.samples_per_chunk[c], hessian_worker_.get());
      }
      if (hessian_worker_) hessian_worker_->drain();
    }
    current.report.calibrate_seconds = seconds_since(started);
  }

  // The ranks' partial statistics summed (or reduced to each expert's owner), then handed to
  // the layer work, checked finite.
  void reduce(LayerInProgress& current) {
    const auto started = PhaseClock::now();
    enter_phase(current.layer, "reduce", /*displayed=*/false);
    LayerStatistics& statistics = *current.statistics;
    LayerReport& report = current.report;
    lifecycle::LayerWork& work = *current.work;
    if (forward_) statistics.all_reduce(*in_.comm);
    report.reduced_bytes = statistics.reduced_bytes();
    report.owner_reduced_bytes = statistics.owner_reduced_bytes();
    if (forward_ && current.kv_hook != nullptr) report.reduced_bytes += current.key_values.all_gather(*in_.comm);
    statistics.fill(work);
    if (forward_ && current.weights.sparse()) {
      report.expert_tokens = work.expert_tokens;
      warn_about_rare_experts(current.layer, *current.weights.layout, work.expert_tokens, in_.options, in_.comm->rank());
    }
    current.key_values.fill(work);
    if (forward_) require_finite_statistics(work);
    report.reduce_seconds = seconds_since(started);
  }

  // The modifiers compress the layer work; its compressed weights replace the layer's. The
  // layer work holds the Linears' weights now: each original is freed as soon as its
  // compressed weight replaces it, rather than all of them staying until the layer is done
  // (a Qwen3-30B-A3B layer: 2.4 GB of fp32 weights).
  void compress(LayerInProgress& current) {
    enter_phase(current.layer, "compress");
    const auto started = PhaseClock::now();
    release_linear_weights(current.weights);
    compress_work(in_, current.work, current.report);
    apply_layer_work(*current.work, current.weights);
    current.weights.to(device_);
    current.report.compress_seconds = seconds_since(started);
    kill_if_requested(in_.options.fault_kill, in_.comm->rank(), current.layer);
  }

  // The calibration batches through the compressed layer: the next layer's inputs. The next
  // layer loads meanwhile: after the solves, so that its weights never sit beside this layer's
  // Hessians and solve buffers (the run's memory peak).
  void propagate(LayerInProgress& current) {
    if (prefetcher_ && current.layer + 1 < layers_) prefetcher_->request(current.layer + 1);
    enter_phase(current.layer, "propagate");
    const auto started = PhaseClock::now();
    if (more_hidden_states_needed(current.layer)) {
      for (auto& chunk : hidden_.chunks) {
        for (auto& batch : chunk) {
          store_batch(batch, model::decoder_layer_forward(config_, current.weights,
                                                                    batch_on(batch, device_), rope_));
        }
      }
      wait_for_stored_batches(device_);  // the host slots are read (saved) below
    }
    current.report.propagate_seconds = seconds_since(started);
  }

  // The layer into the checkpoint; with --resume, the progress saved after it.
  void write(LayerInProgress& current) {
    enter_phase(current.layer, "write");
    const auto started = PhaseClock::now();
    LayerReport& report = current.report;
    in_.sink->write_layer(*current.work, current.weights);
    report.write_seconds = seconds_since(started);
    if (in_.progress) {
      enter_phase(current.layer, "save", /*displayed=*/false);
      in_.progress->commit_layer(current.layer, in_.data, more_hidden_states_needed(current.layer) ? &hidden_ : nullptr,
                                 layer_report_json(report));
      in_.sink->keep_on_failure();
      report.write_seconds = seconds_since(started);
    }
    spdlog::info("layer {}/{} done: load {:.2f}s, calibrate {:.2f}s, reduce {:.2f}s, compress {:.2f}s, "
                 "propagate {:.2f}s, write {:.2f}s | elapsed {}, ETA {}",
                 current.layer + 1, config_.num_hidden_layers, report.load_seconds, report.calibrate_seconds,
                 report.reduce_seconds, report.compress_seconds, report.propagate_seconds, report.write_seconds,
                 format_duration(display_.elapsed_seconds()),
                 format_duration(display_.eta_seconds(current.layer + 1)));
  }

  // lm_head, calibrated on the last layer's output when a modifier compresses it; otherwise
  // the embedding and head are written as they were.
  void finish_head(std::vector<LayerReport>& reports) {
    if (head_) {
      in_.comm->set_position("lm_head", "calibrate");
      reports.push_back(compress_lm_head(in_, ends_, forward_ ? &hidden_ : nullptr, hessian_worker_.get()));
    } else {
      in_.comm->set_position("embedding and head", "write");
      in_.sink->write_embedding_and_head(ends_, nullptr);
    }
  }

  bool experts_read_router_input() const { return in_.options.moe_calibrate_all_experts; }  // sparse layers only

  const PipelineInputs& in_;
  const model::ModelConfig& config_;
  const lifecycle::CompressionPlan& plan_;
  const c10::Device device_;
  const bool forward_;
  model::RotaryEmbedding rope_;             // on the device, for the passes
  const model::RotaryEmbedding host_rope_;  // for modifiers that run parts of a layer (on host tensors)
  const int layers_;
  const int first_layer_;
  const bool head_;  // lm_head is compressed: calibrated on the hidden states leaving the last layer
  ProgressDisplay display_;
  model::EmbeddingAndHeadWeights ends_;
  HiddenStates hidden_;
  std::unique_ptr<LayerLoader> prefetcher_;
  std::unique_ptr<HessianQueue> hessian_worker_;
  std::unique_ptr<SolveRunner> solve_team_;
};

}  // namespace

std::vector<LayerReport> run_sequential_pipeline(const PipelineInputs& in) { return SequentialRun(in).run(); }

}  // namespace dcomp::pipeline
