// `dcomp convert-gguf IN.gguf OUT_DIR`: a Llama-architecture GGUF file as a Hugging
// Face model folder (gguf::convert_llama_gguf), written into a temporary folder beside
// OUT_DIR, loaded back as every command loads a model, and renamed into place only when
// complete, so that a failure leaves no output.
#include <CLI/CLI.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "kernels/ct/output_folder_policy.hpp"
#include "kernels/ct/temporary_folder_lock.hpp"
#include "kernels/gguf/gguf_file.hpp"
#include "kernels/gguf/llama_gguf_conversion.hpp"
#include "kernels/io/content_hash.hpp"
#include "kernels/io/durable_files.hpp"
#include "kernels/model/compute_threads.hpp"
#include "kernels/model/model_config.hpp"
#include "kernels/tokenizer/tokenizer.hpp"
#include "launch/commands.hpp"

namespace dcomp::launch {
namespace {

namespace fs = std::filesystem;

struct ConvertGgufOptions {
  std::string input, output, dtype = "float32";
  uint64_t max_shard_mib = 2048;
  bool overwrite = false;
};

// Loads the written folder back the way every other command will (config.json through
// model::ModelConfig, the tokenizer files through tok::Tokenizer), so that convert-gguf never
// puts in place a model that dcomp then refuses.
void check_written_model(const fs::path& folder, const std::string& source) {
  try {
    model::ModelConfig::from_dir(folder);
    tok::Tokenizer::from_dir(folder);
  } catch (const std::exception& error) {
    throw std::runtime_error(source + ": the converted model would not load: " + error.what());
  }
}

at::ScalarType scalar_type(const std::string& name) {
  if (name == "bfloat16") return at::kBFloat16;
  if (name == "float16") return at::kHalf;
  return at::kFloat;
}

void run_convert_gguf(const ConvertGgufOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  model::set_default_compute_threads();
  const auto file = gguf::GgufFile::open(options.input);  // header and tensor table validated before any output
  const fs::path output = fs::absolute(options.output).lexically_normal();
  ct::check_output_folder(output, {{"the GGUF file", fs::path(options.input), /*is_folder=*/false}}, options.overwrite);

  // Temporary folders of conversions that were killed or interrupted (unlocked, no saved
  // progress) can never be finished: they go now.
  for (const auto& removed : ct::remove_abandoned_temporary_folders(output, /*unsaved_only=*/true)) {
    std::cerr << "dcomp: removed " << removed.string() << ", left by an interrupted run\n";
  }

  fs::path temporary = output;
  temporary += ".tmp-" + io::random_name_suffix();
  fs::create_directories(temporary);
  try {
    const ct::TemporaryFolderLock lock(temporary);  // marks the folder as this live run's
    gguf::GgufConversionOptions conversion;
    conversion.dtype = scalar_type(options.dtype);
    conversion.max_shard_bytes = options.max_shard_mib << 20;
    const auto summary = gguf::convert_llama_gguf(*file, temporary, conversion);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    nlohmann::json report{{"command", "convert-gguf"},
                          {"source", fs::absolute(options.input).string()},
                          {"source_content", io::file_content_hash(options.input)},
                          {"dtype", options.dtype},
                          {"tensors", summary.tensors},
                          {"source_types", summary.source_types},
                          {"layers", summary.layers},
                          {"tied_embeddings", summary.tied_embeddings},
                          {"bytes", summary.bytes},
                          {"shards", summary.shards},
                          {"seconds", seconds}};
    io::replace_file_durably(temporary / "dcomp_report.json", report.dump(2) + "\n");
    check_written_model(temporary, options.input);
    io::move_folder_into_place(temporary, output);  // an earlier conversion --overwrite accepted is replaced

    std::string types;
    for (const auto& [type, count] : summary.source_types) types += (types.empty() ? "" : ", ") + std::to_string(count) + " " + type;
    std::cout << "converted " << options.input << " -> " << output.string() << ": " << summary.layers << " layers, "
              << summary.tensors << " tensors (" << types << ") as " << options.dtype << ", "
              << summary.bytes / 1e6 << " MB in " << summary.shards << (summary.shards == 1 ? " file" : " shards")
              << (summary.tied_embeddings ? ", tied embeddings" : "") << ", " << seconds << " s\n";
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(temporary, ignored);
    throw;
  }
}

}  // namespace

void add_convert_gguf_command(CLI::App& app) {
  auto options = std::make_shared<ConvertGgufOptions>();
  auto* command = app.add_subcommand(
      "convert-gguf",
      "Convert a Llama-architecture GGUF file (llama.cpp's format; F32, F16, BF16, Q8_0, Q4_0 and Q4_1 tensors, "
      "dequantized) into a Hugging Face model folder: safetensors weights with q/k rows in rotate_half order, "
      "config.json, tokenizer.json and tokenizer_config.json");
  command->add_option("input", options->input, "The .gguf file")->required();
  command->add_option("output", options->output, "The model folder to create")->required();
  command->add_option("--dtype", options->dtype, "Dtype of the written tensors")
      ->check(CLI::IsMember({"float32", "bfloat16", "float16"}))
      ->capture_default_str();
  command->add_option("--max-shard-mib", options->max_shard_mib, "Largest safetensors file, in MiB")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 20))
      ->capture_default_str();
  command->add_flag("--overwrite", options->overwrite,
                    "Replace OUT_DIR when it is empty or holds an earlier conversion or checkpoint");
  command->callback([options] { run_convert_gguf(*options); });
}

}  // namespace dcomp::launch
