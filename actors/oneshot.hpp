// One-shot compression of a Hugging Face model into a compressed-tensors
// checkpoint: the library call behind `dcomp oneshot`, run by every rank.
// reference: llm-compressor src/llmcompressor/entrypoints/oneshot.py
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/sequential_pipeline.hpp"
#include "kernels/comm/communicator.hpp"

namespace dcomp::actors {

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
  uint64_t seed = 42;
  std::filesystem::path output;
  bool overwrite = false;
  PipelineOptions pipeline;
  size_t actor_threads = 2;
};

struct OneshotResult {
  std::vector<LayerReport> layers;
  double total_seconds = 0;
  nlohmann::json plan;  // what the modifiers declared (config groups, ignore, sparsity)
  std::string recipe;   // the recipe text that ran
};

/// The recipe text `--scheme` stands for.
std::string recipe_for_scheme(const OneshotOptions& options);

/// Runs the whole compression on this rank. Every rank of `comm` must call it
/// with the same options. Throws on any problem; the output folder then does
/// not exist (the checkpoint appears only when complete).
OneshotResult run_oneshot(const OneshotOptions& options, comm::Communicator& comm);

}  // namespace dcomp::actors
