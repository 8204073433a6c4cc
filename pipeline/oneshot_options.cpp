// reference: llm-compressor src/llmcompressor/entrypoints/oneshot.py
#include "pipeline/oneshot_options.hpp"

#include <spdlog/spdlog.h>

#include <stdexcept>

#include "kernels/io/content_hash.hpp"

namespace dcomp::pipeline {

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

/// The path, absolute and normalized, as text.
std::string absolute_text(const std::filesystem::path& path) {
  return std::filesystem::absolute(path).lexically_normal().string();
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

void refuse_contradicting_options(const OneshotOptions& options) {
  if (options.recipe.has_value() == options.scheme.has_value()) {
    throw std::invalid_argument("give exactly one of --recipe and --scheme");
  }
  if (options.output.empty()) throw std::invalid_argument("--output is required");
  if (options.resume && !options.save_progress) {
    throw std::invalid_argument("--resume needs saved progress: it cannot be combined with --no-save-progress");
  }
}

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

}  // namespace dcomp::pipeline
