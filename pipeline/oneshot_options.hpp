// The settings of a one-shot run (`dcomp oneshot`) and what it returns, with the checks and
// derivations of the settings themselves: the recipe a --scheme stands for, the fingerprint a
// resumed run must match, the flags that cannot go together, the sequence length the model allows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernels/model/model_config.hpp"
#include "pipeline/layer_report.hpp"
#include "pipeline/pipeline_options.hpp"

namespace dcomp::pipeline {

struct OneshotOptions {
  std::filesystem::path model;
  std::optional<std::string> recipe;          // a recipe file (YAML/JSON/Markdown) or recipe text
  std::optional<std::string> scheme;          // a preset (W4A16, W8A8, FP8, ...) instead of a recipe
  std::string algorithm = "gptq";             // with --scheme: "gptq" (GPTQModifier) or "rtn" (QuantizationModifier)
  std::vector<std::string> targets = {"Linear"};
  std::vector<std::string> ignore = {"lm_head"};
  std::optional<std::filesystem::path> dataset;
  size_t num_calibration_samples = 512;       // llm-compressor's default
  size_t max_seq_length = 2048;
  /// False when max_seq_length is the default: a model with fewer positions then lowers it
  /// to its max_position_embeddings (as `eval` does); an explicit value above it is an error.
  bool max_seq_length_given = false;
  uint64_t seed = 42;
  bool shuffle_calibration_samples = true;  // false: samples in file order
  std::filesystem::path output;
  bool overwrite = false;
  /// Pruned models: also write compressed-tensors' sparsity_config block (format "dense",
  /// its structure, targets and sparsity) into quantization_config. Off by default: the pruned
  /// weights are a plain dense or quantized checkpoint, which vLLM 0.32 and transformers load,
  /// while vLLM since compressed-tensors dropped its sparse formats refuses any checkpoint that
  /// carries the block ("Sparsity support has been removed from compressed-tensors").
  bool sparsity_config = false;
  /// Continue the interrupted run of the same command whose progress was saved in a
  /// temporary "<output>.tmp-*" folder (starts afresh when there is none).
  bool resume = false;
  /// Save progress after every layer (the calibration hidden states and the written
  /// layers), so that an interrupted run can be resumed.
  bool save_progress = true;
  PipelineOptions pipeline;
  size_t actor_threads = 2;  // threads of the actor system that runs the lifecycle and the helpers
};

struct OneshotResult {
  std::vector<LayerReport> layers;
  double total_seconds = 0;
  nlohmann::json plan;  // what the modifiers declared (config groups, ignore, sparsity)
  std::string recipe;   // the recipe text that ran
  int resumed_layers = 0;  // layers an interrupted run had completed
  std::string input_format = "dense";  // how the input stored its Linears ("fp8 blocks [128, 128]")
  nlohmann::json report;   // rank 0: the run report, also saved as <output>/dcomp_report.json
};

/// The recipe text `--scheme` stands for.
std::string recipe_for_scheme(const OneshotOptions& options);

/// The settings and inputs that decide a run's result, saved with its progress: a run is
/// resumed only with the same ones. With `hash_content` (rank 0, which checks and saves
/// it) the content of every model file the run reads and of the dataset is hashed.
nlohmann::json run_fingerprint(const OneshotOptions& options, const std::string& recipe_text, bool hash_content);

/// The flags that cannot go together, before anything is read.
void refuse_contradicting_options(const OneshotOptions& options);

/// --max-seq-length within the model's max_position_embeddings: lowered to it when not given,
/// refused when given above it.
void fit_sequence_length(OneshotOptions& options, const model::ModelConfig& config, int rank);

}  // namespace dcomp::pipeline
