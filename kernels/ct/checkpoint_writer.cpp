// reference: transformers src/transformers/modeling_utils.py (save_pretrained: shard
// file names "model-%05d-of-%05d.safetensors", index {"metadata": {"total_size"},
// "weight_map"}, safetensors metadata {"format": "pt"}); compressed-tensors
// compressors/model_compressors/model_compressor.py (update_config).
#include "kernels/ct/checkpoint_writer.hpp"

#include <ATen/ATen.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <system_error>


#include "kernels/ct/compression_format.hpp"
#include "kernels/io/durable_files.hpp"
#include "kernels/quant/fp8_e4m3.hpp"
#include "kernels/quant/non_finite.hpp"
#include "kernels/ct/linear_encoding.hpp"
#include "kernels/ct/quantization_config.hpp"
#include "kernels/json/bounded_json.hpp"

namespace dcomp::ct {
namespace fs = std::filesystem;
namespace {

nlohmann::json read_json_file(const fs::path& path) {
  std::ifstream stream(path);
  if (!stream) throw CheckpointWriteError(path.string() + ": cannot open: " + std::strerror(errno));
  try {
    return json_input::parse_bounded_json(json_input::read_bounded_text(stream, path.string(), json_input::kMaxConfigJsonBytes), path.string());
  } catch (const json_input::JsonLimitError& error) {
    throw CheckpointWriteError(error.what());
  } catch (const nlohmann::json::exception& error) {
    throw CheckpointWriteError(path.string() + ": invalid JSON: " + error.what());
  }
}

std::optional<at::ScalarType> dtype_from_config_name(const std::string& name) {
  if (name == "float32" || name == "float") return at::kFloat;
  if (name == "float16" || name == "half") return at::kHalf;
  if (name == "bfloat16") return at::kBFloat16;
  return std::nullopt;
}

// The model dtype: config.json torch_dtype / dtype, else the embedding's stored dtype, else F32.
at::ScalarType source_model_dtype(const nlohmann::json& config, const fs::path& source_dir) {
  for (const char* key : {"torch_dtype", "dtype"}) {
    if (config.contains(key) && config.at(key).is_string()) {
      if (auto dtype = dtype_from_config_name(config.at(key).get<std::string>())) return *dtype;
    }
  }
  try {
    const io::CheckpointReader reader(source_dir);
    for (const char* name : {"model.embed_tokens.weight", "lm_head.weight"}) {
      if (reader.contains(name)) {
        const io::DType stored = reader.info(name).dtype;
        if (stored == io::DType::BF16) return at::kBFloat16;
        if (stored == io::DType::F16) return at::kHalf;
        return at::kFloat;
      }
    }
  } catch (const io::SafetensorsError&) {
    // No readable weights in the source folder: fall back to F32.
  }
  return at::kFloat;
}

std::string config_dtype_name(at::ScalarType dtype) {
  if (dtype == at::kBFloat16) return "bfloat16";
  if (dtype == at::kHalf) return "float16";
  return "float32";
}

void write_text_file(const fs::path& path, const std::string& text) {
  std::ofstream stream(path, std::ios::binary | std::ios::trunc);
  if (!stream) throw CheckpointWriteError(path.string() + ": cannot create: " + std::strerror(errno));
  stream << text;
  stream.close();
  if (!stream) throw CheckpointWriteError(path.string() + ": cannot write");
}

void sync_path(const fs::path& path, bool directory) {
  try {
    io::sync_path(path, directory);
  } catch (const std::runtime_error& error) {
    throw CheckpointWriteError(error.what());
  }
}

void rename_path(const fs::path& from, const fs::path& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) {
    throw CheckpointWriteError("cannot rename " + from.string() + " to " + to.string() + ": " + std::strerror(errno));
  }
}

uint64_t byte_count(const at::Tensor& tensor) { return uint64_t(tensor.numel()) * tensor.element_size(); }

fs::path absolute_normal(const fs::path& path) { return fs::absolute(path).lexically_normal(); }

}  // namespace

const std::vector<std::string>& copied_model_files() {
  static const std::vector<std::string> files{
      "tokenizer.json",      "tokenizer_config.json", "special_tokens_map.json", "generation_config.json",
      "tokenizer.model",     "added_tokens.json",     "vocab.json",              "merges.txt",
      "chat_template.jinja", "chat_template.json"};
  return files;
}

CheckpointWriter::CheckpointWriter(fs::path output_dir, fs::path source_model_dir, CheckpointWriterOptions options)
    : output_dir_(absolute_normal(output_dir)), source_dir_(absolute_normal(source_model_dir)),
      options_(std::move(options)) {
  if (output_dir_.filename().empty()) output_dir_ = output_dir_.parent_path();
  if (output_dir_ == source_dir_) {
    throw CheckpointWriteError(output_dir_.string() + ": the output folder is the source model folder");
  }
  if (fs::exists(output_dir_) && !options_.overwrite) {
    throw CheckpointWriteError(output_dir_.string() + ": the output folder already exists (overwrite not requested)");
  }
  if (options_.max_shard_bytes == 0) throw CheckpointWriteError("max_shard_bytes must be positive");
  source_config_ = read_json_file(source_dir_ / "config.json");
  if (!source_config_.is_object()) {
    throw CheckpointWriteError((source_dir_ / "config.json").string() + ": expected a JSON object");
  }
  model_dtype_ = options_.model_dtype ? *options_.model_dtype : source_model_dtype(source_config_, source_dir_);
  if (model_dtype_ != at::kFloat && model_dtype_ != at::kHalf && model_dtype_ != at::kBFloat16) {
    throw CheckpointWriteError(std::string("the model dtype must be F32, F16 or BF16, not ") +
                               c10::toString(model_dtype_));
  }
  std::error_code error;
  fs::create_directories(output_dir_.parent_path(), error);
  if (error) {
    throw CheckpointWriteError(output_dir_.parent_path().string() + ": cannot create the folder: " + error.message());
  }
  if (options_.adopt_temporary_dir) {
    temporary_dir_ = absolute_normal(*options_.adopt_temporary_dir);
    if (!fs::is_directory(temporary_dir_)) {
      throw CheckpointWriteError(temporary_dir_.string() + ": the temporary folder to resume in does not exist");
    }
    lock_ = std::make_unique<TemporaryFolderLock>(temporary_dir_);
    return;
  }
  if (options_.shared_temporary_dir) {
    temporary_dir_ = absolute_normal(*options_.shared_temporary_dir);
    owns_temporary_dir_ = false;
    if (!fs::is_directory(temporary_dir_)) {
      throw CheckpointWriteError(temporary_dir_.string() + ": the shared temporary folder does not exist (is the "
                                 "output on a file system every rank sees?)");
    }
    return;
  }
  temporary_dir_ = output_dir_;
  temporary_dir_ += ".tmp-" + io::random_name_suffix();
  if (!fs::create_directory(temporary_dir_, error) || error) {
    throw CheckpointWriteError(temporary_dir_.string() + ": cannot create the temporary folder" +
                               (error ? ": " + error.message() : std::string(" (it exists)")));
  }
  lock_ = std::make_unique<TemporaryFolderLock>(temporary_dir_);
}

CheckpointWriter::~CheckpointWriter() { abort(); }

void CheckpointWriter::abort() noexcept {
  pending_.clear();
  if (finished_ || temporary_dir_.empty()) return;
  std::error_code ignored;
  if (keep_on_abort_) {
    for (const auto& shard : shard_files_) fs::remove(shard, ignored);
  } else if (owns_temporary_dir_) {
    fs::remove_all(temporary_dir_, ignored);
  } else {
    for (const auto& shard : shard_files_) fs::remove(shard, ignored);
  }
}

std::vector<std::string> CheckpointWriter::tensor_names() const { return {names_.begin(), names_.end()}; }

namespace {

void require_finite_as_stored(const io::NamedTensor& tensor) {
  const std::string consequence = "refusing to write a checkpoint holding it";
  if (tensor.stored_dtype == io::DType::F8_E4M3) {
    if (quant::holds_fp8_nan(tensor.tensor)) {
      throw quant::NonFiniteError(tensor.name + " holds FP8 E4M3 NaN values; " + consequence);
    }
    return;
  }
  quant::require_finite(tensor.tensor, tensor.name, consequence);
}

}  // namespace

void CheckpointWriter::append(io::NamedTensor tensor) {
  if (finished_) throw CheckpointWriteError(output_dir_.string() + ": the checkpoint is already finished");
  if (!fs::is_directory(temporary_dir_)) {
    throw CheckpointWriteError(temporary_dir_.string() + ": the temporary folder is gone (aborted?)");
  }
  if (!names_.insert(tensor.name).second) {
    throw CheckpointWriteError(output_dir_.string() + ": tensor \"" + tensor.name + "\" is added twice");
  }
  if (options_.refuse_non_finite) require_finite_as_stored(tensor);
  // Buffered tensors must not change with the caller's: copy any still shared with it.
  tensor.tensor = tensor.tensor.contiguous();
  if (tensor.tensor.use_count() > 1 || tensor.tensor.storage().use_count() > 1) tensor.tensor = tensor.tensor.clone();
  const uint64_t bytes = byte_count(tensor.tensor);
  if (!pending_.empty() && pending_bytes_ + bytes > options_.max_shard_bytes) flush_shard();
  pending_bytes_ += bytes;
  total_bytes_ += bytes;
  pending_.push_back(std::move(tensor));
}

void CheckpointWriter::flush_shard() {
  if (pending_.empty()) return;
  const size_t index = shard_files_.size();
  const fs::path path = temporary_dir_ / (options_.shard_prefix + std::to_string(index + 1) + ".safetensors");
  try {
    io::write_safetensors(path, pending_, {{"format", "pt"}});
  } catch (const io::SafetensorsError& error) {
    throw CheckpointWriteError(error.what());
  }
  for (const auto& tensor : pending_) shard_of_tensor_[tensor.name] = index;
  shard_files_.push_back(path);
  shard_bytes_.push_back(pending_bytes_);
  pending_.clear();
  pending_bytes_ = 0;
}

ShardRecord CheckpointWriter::write_named_shard(const std::string& file_name) {
  if (finished_) throw CheckpointWriteError(output_dir_.string() + ": the checkpoint is already finished");
  const fs::path name(file_name);
  if (file_name.empty() || name.filename() != name || name.extension() != ".safetensors" ||
      file_name.rfind("model", 0) == 0) {
    throw CheckpointWriteError(output_dir_.string() + ": invalid shard name \"" + file_name +
                               "\" (a plain *.safetensors name not starting with \"model\")");
  }
  ShardRecord record;
  record.file = file_name;
  record.bytes = pending_bytes_;
  for (const auto& tensor : pending_) record.tensors.push_back(tensor.name);
  const fs::path path = temporary_dir_ / name;
  try {
    io::write_safetensors(path, pending_, {{"format", "pt"}});
  } catch (const io::SafetensorsError& error) {
    throw CheckpointWriteError(error.what());
  }
  sync_path(path, /*directory=*/false);
  named_shards_.insert(file_name);
  total_bytes_ -= pending_bytes_;  // counted again when the record comes back to finish()
  pending_.clear();
  pending_bytes_ = 0;
  return record;
}

void CheckpointWriter::add_tensor(const std::string& name, const at::Tensor& tensor, std::optional<io::DType> dtype) {
  if (name.empty()) throw CheckpointWriteError(output_dir_.string() + ": a tensor name is empty");
  if (!tensor.defined()) throw CheckpointWriteError(output_dir_.string() + ": tensor \"" + name + "\" is undefined");
  at::Tensor stored = tensor.to(at::kCPU);
  std::optional<io::DType> stored_dtype;
  if (!dtype) {
    if (at::isFloatingType(stored.scalar_type())) stored = stored.to(model_dtype_);
  } else if (*dtype == io::DType::F8_E4M3) {
    if (stored.scalar_type() != at::kByte) stored = quant::encode_fp8_e4m3(stored.to(at::kFloat));
    stored_dtype = io::DType::F8_E4M3;
  } else {
    stored = stored.to(io::dtype_to_scalar_type(*dtype));
  }
  append({name, std::move(stored), stored_dtype});
}

void CheckpointWriter::add_compressed_linear(const std::string& module_name, const quant::CompressedWeight& weight,
                                             const at::Tensor& bias, const std::optional<std::string>& format) {
  const std::string chosen = format ? *format : infer_module_format(weight.weight_args, weight.input_args);
  std::vector<io::NamedTensor> tensors =
      encode_compressed_linear(module_name, weight, chosen, model_dtype_, options_.legacy_sparse_24_bitmask);
  for (const auto& tensor : tensors) {
    if (names_.count(tensor.name)) {
      throw CheckpointWriteError(output_dir_.string() + ": tensor \"" + tensor.name + "\" is added twice");
    }
  }
  for (auto& tensor : tensors) append(std::move(tensor));
  if (bias.defined()) add_tensor(module_name + ".bias", bias);
}

void CheckpointWriter::add_file(const std::string& name, const std::string& contents) {
  if (finished_) throw CheckpointWriteError(output_dir_.string() + ": the checkpoint is already finished");
  const fs::path path(name);
  const bool plain = !name.empty() && path.filename() == path && name != "." && name != "..";
  const bool reserved = name == "config.json" || name == "model.safetensors.index.json" ||
                        path.extension() == ".safetensors";
  if (!plain || reserved) {
    throw CheckpointWriteError(output_dir_.string() + ": cannot add file \"" + name +
                               "\" (a plain file name other than config.json, *.safetensors and the index)");
  }
  if (!fs::is_directory(temporary_dir_)) {
    throw CheckpointWriteError(temporary_dir_.string() + ": the temporary folder is gone (aborted?)");
  }
  write_text_file(temporary_dir_ / path, contents);
  extra_files_.push_back(temporary_dir_ / path);
}

void CheckpointWriter::set_config_entry(const std::string& key, nlohmann::json value) {
  if (finished_) throw CheckpointWriteError(output_dir_.string() + ": the checkpoint is already finished");
  if (key == "quantization_config") throw CheckpointWriteError("quantization_config is written by finish()");
  config_entries_[key] = std::move(value);
}

void CheckpointWriter::write_config(const nlohmann::json& quantization_config,
                                    const nlohmann::json& sparsity_config) const {
  nlohmann::json config = source_config_;
  for (const auto& [key, value] : config_entries_.items()) config[key] = value;
  nlohmann::json compression = quantization_config;
  if (compression.is_null() && !sparsity_config.is_null()) {
    QuantizationConfigOptions options;
    options.sparsity_config = sparsity_config;
    compression = build_quantization_config({}, {}, options);
  }
  if (!compression.is_null()) {
    if (!compression.is_object()) throw CheckpointWriteError("the quantization_config must be a JSON object");
    if (!sparsity_config.is_null()) compression["sparsity_config"] = sparsity_config;
    config["quantization_config"] = compression;
  } else {
    config.erase("quantization_config");
  }
  // The dtype the floating tensors were written in, under whichever key(s) the source used.
  bool dtype_named = false;
  for (const char* key : {"torch_dtype", "dtype"}) {
    if (config.contains(key)) {
      config[key] = config_dtype_name(model_dtype_);
      dtype_named = true;
    }
  }
  if (!dtype_named) config["torch_dtype"] = config_dtype_name(model_dtype_);
  // nlohmann::json objects keep their keys sorted, as compressed-tensors' sort_keys=True.
  write_text_file(temporary_dir_ / "config.json", config.dump(2) + "\n");
}

void CheckpointWriter::move_into_place() {
  if (fs::exists(output_dir_) && !options_.overwrite) {
    throw CheckpointWriteError(output_dir_.string() + ": the output folder already exists (overwrite not requested)");
  }
  if (lock_) lock_->remove_holder_record();  // the lock's record is no part of the checkpoint
  try {
    io::move_folder_into_place(temporary_dir_, output_dir_);
  } catch (const std::runtime_error& error) {
    throw CheckpointWriteError(error.what());
  }
  finished_ = true;
}

std::vector<ShardRecord> CheckpointWriter::finish_shards() {
  if (finished_) throw CheckpointWriteError(output_dir_.string() + ": the shards were already finished");
  flush_shard();
  std::vector<ShardRecord> records(shard_files_.size());
  for (size_t index = 0; index < shard_files_.size(); ++index) {
    records[index].file = shard_files_[index].filename().string();
    records[index].bytes = shard_bytes_[index];
    sync_path(shard_files_[index], /*directory=*/false);
  }
  for (const auto& [name, shard] : shard_of_tensor_) records[shard].tensors.push_back(name);
  finished_ = true;  // the finishing rank owns the files from now on
  return records;
}

void CheckpointWriter::finish(const nlohmann::json& quantization_config, const nlohmann::json& sparsity_config,
                              const std::vector<ShardRecord>& other_shards) {
  if (finished_) throw CheckpointWriteError(output_dir_.string() + ": finish() was already called");
  if (!fs::is_directory(temporary_dir_)) {
    throw CheckpointWriteError(temporary_dir_.string() + ": the temporary folder is gone (aborted?)");
  }
  if (names_.empty() && other_shards.empty()) {
    throw CheckpointWriteError(output_dir_.string() + ": no tensors were added");
  }
  flush_shard();

  // Every shard: this writer's, then the other ranks' in the order given.
  std::vector<ShardRecord> shards;
  for (size_t index = 0; index < shard_files_.size(); ++index) {
    shards.push_back({shard_files_[index].filename().string(), {}, shard_bytes_[index]});
  }
  for (const auto& [name, shard] : shard_of_tensor_) shards[shard].tensors.push_back(name);
  for (const auto& shard : other_shards) {
    if (!fs::is_regular_file(temporary_dir_ / shard.file)) {
      throw CheckpointWriteError((temporary_dir_ / shard.file).string() + ": a rank's shard file is missing");
    }
    const bool own_named_shard = named_shards_.count(shard.file) > 0;
    for (const auto& name : shard.tensors) {
      if (!names_.insert(name).second && !own_named_shard) {
        throw CheckpointWriteError(output_dir_.string() + ": tensor \"" + name + "\" was written by two ranks");
      }
    }
    total_bytes_ += shard.bytes;
    shards.push_back(shard);
  }

  std::vector<fs::path> written;
  const size_t shard_count = shards.size();
  if (shard_count == 1) {
    rename_path(temporary_dir_ / shards[0].file, temporary_dir_ / "model.safetensors");
    written.push_back(temporary_dir_ / "model.safetensors");
  } else {
    std::map<std::string, std::string> weight_map;
    for (size_t index = 0; index < shard_count; ++index) {
      char name[64];
      std::snprintf(name, sizeof(name), "model-%05zu-of-%05zu.safetensors", index + 1, shard_count);
      rename_path(temporary_dir_ / shards[index].file, temporary_dir_ / name);
      written.push_back(temporary_dir_ / name);
      for (const auto& tensor : shards[index].tensors) weight_map[tensor] = name;
    }
    try {
      io::write_safetensors_index(temporary_dir_ / "model.safetensors.index.json", weight_map, total_bytes_);
    } catch (const io::SafetensorsError& error) {
      throw CheckpointWriteError(error.what());
    }
    written.push_back(temporary_dir_ / "model.safetensors.index.json");
  }

  write_config(quantization_config, sparsity_config);
  written.push_back(temporary_dir_ / "config.json");
  for (const std::string& file : copied_model_files()) {
    const fs::path source = source_dir_ / file;
    if (!fs::is_regular_file(source)) continue;
    std::error_code error;
    fs::copy_file(source, temporary_dir_ / file, fs::copy_options::overwrite_existing, error);
    if (error) throw CheckpointWriteError(source.string() + ": cannot copy: " + error.message());
    written.push_back(temporary_dir_ / file);
  }
  written.insert(written.end(), extra_files_.begin(), extra_files_.end());
  for (const fs::path& path : written) sync_path(path, /*directory=*/false);
  sync_path(temporary_dir_, /*directory=*/true);
  move_into_place();
}

}  // namespace dcomp::ct
