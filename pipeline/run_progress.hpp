// The saved progress of a one-shot run, kept in its temporary output folder so
// that `dcomp oneshot --resume` continues after a crash or a preemption, with
// the same or another number of ranks:
//   <tmp>/layer-<L>.safetensors                        decoder layer L, compressed (the sink's shard)
//   <tmp>/progress/state.json                          what is complete (below)
//   <tmp>/progress/hidden-after-<L>/chunk-<s>.safetensors   calibration hidden states after layer L
// state.json: {"format": "dcomp-progress-1", "fingerprint": {...}, "completed_layers": N,
//              "layers": [per-layer report, ...]}
// A layer counts as complete only once state.json says so, and state.json is
// replaced atomically after every rank has synced that layer's files; anything
// newer is discarded on resume. The fingerprint holds every setting that changes
// the result (model, recipe, data, sampling); resuming with another is refused.
#pragma once

#include <filesystem>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "pipeline/hidden_states.hpp"
#include "kernels/comm/communicator.hpp"
#include "kernels/ct/checkpoint_writer.hpp"

namespace dcomp::pipeline {

/// The name of decoder layer `layer`'s shard in the temporary folder.
std::string layer_shard_file(int layer);

/// The temporary folder "<output>.tmp-*" of an interrupted run of `output` that saved
/// progress (the most recently saved when there are several), if any.
std::optional<std::filesystem::path> find_interrupted_run(const std::filesystem::path& output);

class RunProgress {
 public:
  /// Every rank. `temporary_dir`: the run's temporary output folder (the same on
  /// every rank). `resuming`: continue from the progress saved there; rank 0 reads
  /// and checks it against `fingerprint`, removes files of unfinished layers and
  /// tells the other ranks where to start. Throws when the saved progress is
  /// unreadable or belongs to other settings.
  RunProgress(std::filesystem::path temporary_dir, nlohmann::json fingerprint, bool resuming,
              comm::Communicator& comm);

  /// The first decoder layer still to compress (0 for a fresh run).
  int first_layer() const { return completed_layers_; }

  /// The hidden states entering first_layer() for the chunks `data` holds.
  HiddenStates load_hidden_states(const CalibrationShard& data, int64_t hidden_size) const;

  /// Every rank, after decoder layer `layer` is written by its sink: saves `hidden`
  /// (the states entering the next layer; null when no later layer needs them),
  /// waits for every rank, then rank 0 records the layer (and its `report`) as complete.
  void commit_layer(int layer, const CalibrationShard* data, const HiddenStates* hidden, const nlohmann::json& report);

  /// Rank 0: the reports of every completed layer, resumed ones included.
  const nlohmann::json& layer_reports() const { return layer_reports_; }

  /// The shards of the layers completed before this process started.
  std::vector<ct::ShardRecord> resumed_layer_shards() const;

  /// Rank 0, once every rank is past its last commit: removes the progress folder
  /// (it is not part of the checkpoint).
  void discard();

 private:
  std::filesystem::path progress_dir() const;
  std::filesystem::path hidden_dir(int layer) const;
  void read_saved_state();
  void remove_unfinished_work() const;
  /// Once a layer is saved: a timed-out collective names this folder as kept for --resume.
  void mark_resumable() const;

  std::filesystem::path temporary_dir_;
  nlohmann::json fingerprint_;
  comm::Communicator& comm_;
  int completed_layers_ = 0;
  int resumed_layers_ = 0;  // complete before this process started
  nlohmann::json layer_reports_ = nlohmann::json::array();
};

}  // namespace dcomp::pipeline
