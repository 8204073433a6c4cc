// reference: llm-compressor src/llmcompressor/core/state.py (State.update)
#include "lifecycle/state.hpp"

namespace dcomp::lifecycle {

Kwargs State::update(const Kwargs& kwargs) {
  Kwargs remaining;
  for (const auto& [key, value] : kwargs) {
    if (!value.has_value()) continue;  // None is "not given", as upstream
    try {
      assign(key, value, remaining);
    } catch (const std::bad_any_cast&) {
      throw LifecycleError("State.update: keyword argument '" + key + "' has an unexpected type");
    }
  }
  return remaining;
}

void State::assign(const std::string& key, const std::any& value, Kwargs& remaining) {
  {
    if (key == "model") {
      model = std::any_cast<std::shared_ptr<ModelHandle>>(value);
    } else if (key == "teacher_model") {
      teacher_model = std::any_cast<std::shared_ptr<ModelHandle>>(value);
    } else if (key == "optimizer") {
      optimizer = value;
    } else if (key == "calib_data") {
      data.calib = std::any_cast<std::shared_ptr<CalibrationSet>>(value);
    } else if (key == "train_data") {
      data.train = std::any_cast<std::shared_ptr<CalibrationSet>>(value);
    } else if (key == "val_data") {
      data.val = std::any_cast<std::shared_ptr<CalibrationSet>>(value);
    } else if (key == "test_data") {
      data.test = std::any_cast<std::shared_ptr<CalibrationSet>>(value);
    } else if (key == "device") {
      hardware.device = std::any_cast<std::string>(value);
    } else if (key == "hardware") {
      hardware = std::any_cast<Hardware>(value);
    } else if (key == "loss") {
      loss = std::any_cast<double>(value);
    } else if (key == "batch_data") {
      batch_data = value;
    } else if (key == "sequential_prefetch") {
      sequential_prefetch = std::any_cast<bool>(value);
    } else {
      remaining.emplace(key, value);
    }
  }
}

}  // namespace dcomp::lifecycle
