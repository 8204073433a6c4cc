// The shared state of one compression run, updated by initialize() and read by
// every modifier.
// reference: llm-compressor src/llmcompressor/core/state.py
#pragma once

#include <any>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lifecycle/kwargs.hpp"
#include "lifecycle/model_handle.hpp"

namespace dcomp::lifecycle {

/// Where this process runs.
struct Hardware {
  std::optional<std::string> device;  // "cpu" or "cuda:N"
  std::optional<std::vector<std::string>> devices;
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  int local_world_size = 1;
  bool distributed = false;
  std::optional<std::string> distributed_strategy;  // communicator backend: "single", "mpi", "nccl"
};

/// Data sets known to the run (calibration is the one used by oneshot).
struct Data {
  std::shared_ptr<CalibrationSet> train, val, test, calib;
};

struct State {
  std::shared_ptr<ModelHandle> model;
  std::shared_ptr<ModelHandle> teacher_model;
  std::any optimizer;
  std::optional<double> loss;
  std::any batch_data;
  Data data;
  Hardware hardware;
  int64_t current_batch_idx = -1;
  bool sequential_prefetch = false;

  /// A model and an optimizer are both present.
  bool compression_ready() const { return model != nullptr && optimizer.has_value(); }

  /// Sets the fields present in `kwargs` ("model", "teacher_model", "optimizer",
  /// "calib_data", "train_data", "val_data", "test_data", "device", "hardware",
  /// "loss", "batch_data", "sequential_prefetch"); returns the keys it did not use.
  Kwargs update(const Kwargs& kwargs);

 private:
  void assign(const std::string& key, const std::any& value, Kwargs& remaining);
};

}  // namespace dcomp::lifecycle
