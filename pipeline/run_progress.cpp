// reference: the write-sync-rename commit of a manifest after its data files
// (as in SQLite's rollback journal and git's lock files); resume semantics of
// Slurm requeued jobs (the same command runs again and continues).
#include "pipeline/run_progress.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "kernels/ct/temporary_folder_lock.hpp"
#include "kernels/json/bounded_json.hpp"
#include "kernels/io/durable_files.hpp"
#include "kernels/io/safetensors.hpp"

namespace dcomp::pipeline {
namespace fs = std::filesystem;
namespace {

constexpr const char* kFormat = "dcomp-progress-1";

fs::path state_file(const fs::path& temporary_dir) { return temporary_dir / "progress" / "state.json"; }

nlohmann::json read_state_json(const fs::path& path) {
  std::ifstream stream(path);
  if (!stream) throw std::runtime_error(path.string() + ": cannot read the saved progress");
  nlohmann::json state;
  try {
    state = json_input::parse_bounded_json(json_input::read_bounded_text(stream, path.string(), json_input::kMaxConfigJsonBytes), path.string());
  } catch (const json_input::JsonLimitError& error) {
    throw std::runtime_error(error.what());
  } catch (const nlohmann::json::exception& error) {
    throw std::runtime_error(path.string() + ": the saved progress is not valid JSON: " + error.what());
  }
  if (!state.is_object() || state.value("format", "") != kFormat || !state.contains("completed_layers") ||
      !state.at("completed_layers").is_number_integer() || !state.contains("fingerprint") ||
      !state.contains("layers") || !state.at("layers").is_array()) {
    throw std::runtime_error(path.string() + ": not a dcomp progress file (format " + kFormat + ")");
  }
  return state;
}

/// "a, b and c" of the settings whose values differ.
std::string differing_settings(const nlohmann::json& saved, const nlohmann::json& current) {
  std::string names;
  for (const auto& [key, value] : current.items()) {
    if (saved.contains(key) && saved.at(key) == value) continue;
    names += (names.empty() ? "" : ", ") + key;
    if (saved.contains(key) && saved.at(key).is_object() && value.is_object()) {
      // Name the entries that differ, e.g. "model_files: model.safetensors".
      const std::string inner = differing_settings(saved.at(key), value);
      if (!inner.empty()) names += ": " + inner;
    }
  }
  for (const auto& [key, value] : saved.items()) {
    if (!current.contains(key)) names += (names.empty() ? "" : ", ") + key;
  }
  return names;
}

/// The layer index of "layer-<L>.safetensors", or -1 for any other name.
int layer_of_shard(const std::string& file) {
  int layer = -1;
  char tail[32] = {0};
  if (std::sscanf(file.c_str(), "layer-%d.%31s", &layer, tail) == 2 && std::string(tail) == "safetensors" &&
      file == layer_shard_file(layer)) {
    return layer;
  }
  return -1;
}

}  // namespace

std::string layer_shard_file(int layer) {
  char name[48];
  std::snprintf(name, sizeof(name), "layer-%05d.safetensors", layer);
  return name;
}

std::optional<fs::path> find_interrupted_run(const fs::path& output) {
  const fs::path absolute = fs::absolute(output).lexically_normal();
  const fs::path parent = absolute.parent_path();
  const std::string prefix = absolute.filename().string() + ".tmp-";
  std::optional<fs::path> newest;
  fs::file_time_type newest_time{};
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(parent, error)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0 || !entry.is_directory()) continue;
    const fs::path state = state_file(entry.path());
    if (!fs::is_regular_file(state)) continue;
    if (ct::TemporaryFolderLock::is_held(entry.path())) continue;  // a run still writing it
    const auto time = fs::last_write_time(state, error);
    if (error) continue;
    if (!newest || time > newest_time) {
      newest = entry.path();
      newest_time = time;
    }
  }
  return newest;
}

RunProgress::RunProgress(fs::path temporary_dir, nlohmann::json fingerprint, bool resuming, comm::Communicator& comm)
    : temporary_dir_(std::move(temporary_dir)), fingerprint_(std::move(fingerprint)), comm_(comm) {
  std::string start = "0";
  if (comm_.rank() == 0 && resuming) {
    read_saved_state();
    remove_unfinished_work();
    start = std::to_string(completed_layers_);
  }
  comm_.broadcast_bytes(start, 0);
  completed_layers_ = std::stoi(start);
  resumed_layers_ = completed_layers_;
  comm_.barrier();  // the unfinished work is gone before any rank writes again
  if (completed_layers_ > 0) mark_resumable();
}

void RunProgress::mark_resumable() const {
  if (comm::CollectiveWatchdog* watchdog = comm_.watchdog()) watchdog->set_kept_folder(temporary_dir_.string());
}

fs::path RunProgress::progress_dir() const { return temporary_dir_ / "progress"; }

fs::path RunProgress::hidden_dir(int layer) const {
  return progress_dir() / ("hidden-after-" + std::to_string(layer));
}

void RunProgress::read_saved_state() {
  const fs::path path = state_file(temporary_dir_);
  const nlohmann::json state = read_state_json(path);
  const std::string differing = differing_settings(state.at("fingerprint"), fingerprint_);
  if (!differing.empty()) {
    throw std::runtime_error(path.string() + ": the interrupted run used other settings (" + differing +
                             "); rerun without --resume, or with the settings it used");
  }
  completed_layers_ = state.at("completed_layers").get<int>();
  layer_reports_ = state.at("layers");
  if (completed_layers_ < 0 || static_cast<size_t>(completed_layers_) != layer_reports_.size()) {
    throw std::runtime_error(path.string() + ": inconsistent saved progress (completed_layers " +
                             std::to_string(completed_layers_) + ", " + std::to_string(layer_reports_.size()) +
                             " layer report(s))");
  }
  for (int layer = 0; layer < completed_layers_; ++layer) {
    if (!fs::is_regular_file(temporary_dir_ / layer_shard_file(layer))) {
      throw std::runtime_error((temporary_dir_ / layer_shard_file(layer)).string() +
                               ": missing, although the saved progress lists layer " + std::to_string(layer) +
                               " as complete");
    }
  }
  spdlog::info("resuming {}: {} layer(s) already complete", temporary_dir_.string(), completed_layers_);
}

void RunProgress::remove_unfinished_work() const {
  // Shards of layers after the last complete one, other ranks' partial shards, the
  // hidden states of any other layer, a state file half replaced.
  const std::string keep_hidden = completed_layers_ > 0 ? hidden_dir(completed_layers_ - 1).filename().string() : "";
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(temporary_dir_)) {
    const std::string name = entry.path().filename().string();
    const int layer = layer_of_shard(name);
    const bool stale_shard = entry.path().extension() == ".safetensors" && (layer < 0 || layer >= completed_layers_);
    if (stale_shard) fs::remove(entry.path(), error);
  }
  if (fs::is_directory(progress_dir())) {
    for (const auto& entry : fs::directory_iterator(progress_dir())) {
      const std::string name = entry.path().filename().string();
      if (name == "state.json" || name == keep_hidden) continue;
      fs::remove_all(entry.path(), error);
    }
  }
}

HiddenStates RunProgress::load_hidden_states(const CalibrationShard& data, int64_t hidden_size) const {
  if (completed_layers_ == 0) throw std::logic_error("RunProgress: no saved hidden states before layer 0");
  return pipeline::load_hidden_states(hidden_dir(completed_layers_ - 1), data, hidden_size);
}

void RunProgress::commit_layer(int layer, const CalibrationShard* data, const HiddenStates* hidden,
                               const nlohmann::json& report) {
  if (hidden != nullptr && data != nullptr) save_hidden_states(hidden_dir(layer), *data, *hidden);
  comm_.barrier();  // every rank's files for this layer are on disk
  if (comm_.rank() == 0) {
    std::error_code error;
    fs::create_directories(progress_dir(), error);
    if (error) throw std::runtime_error(progress_dir().string() + ": cannot create the folder: " + error.message());
    layer_reports_.push_back(report);
    const nlohmann::json state = {{"format", kFormat},
                                  {"fingerprint", fingerprint_},
                                  {"completed_layers", layer + 1},
                                  {"layers", layer_reports_}};
    io::replace_file_durably(state_file(temporary_dir_), state.dump(1) + "\n");
    std::error_code ignored;
    if (layer > 0) fs::remove_all(hidden_dir(layer - 1), ignored);
  }
  completed_layers_ = layer + 1;
  mark_resumable();
}

std::vector<ct::ShardRecord> RunProgress::resumed_layer_shards() const {
  std::vector<ct::ShardRecord> shards;
  for (const auto& entry : fs::directory_iterator(temporary_dir_)) {
    const std::string name = entry.path().filename().string();
    const int layer = layer_of_shard(name);
    // Only layers complete before this process started: later ones come from the ranks.
    if (layer < 0 || layer >= resumed_layers_) continue;
    const auto file = io::SafetensorsFile::open(entry.path());
    ct::ShardRecord record;
    record.file = name;
    record.tensors = file->names();
    for (const auto& tensor : record.tensors) record.bytes += file->info(tensor).end - file->info(tensor).begin;
    shards.push_back(std::move(record));
  }
  return shards;
}

void RunProgress::discard() {
  if (comm_.rank() != 0) return;
  std::error_code error;
  fs::remove_all(progress_dir(), error);
  if (error) throw std::runtime_error(progress_dir().string() + ": cannot remove: " + error.message());
}

}  // namespace dcomp::pipeline
