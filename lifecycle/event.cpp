// reference: llm-compressor src/llmcompressor/core/events/event.py
#include "lifecycle/event.hpp"

#include <cmath>

#include "lifecycle/errors.hpp"

namespace dcomp::lifecycle {

std::string_view event_value(EventType type) {
  switch (type) {
    case EventType::INITIALIZE: return "initialize";
    case EventType::FINALIZE: return "finalize";
    case EventType::BATCH_START: return "batch_start";
    case EventType::LOSS_CALCULATED: return "loss_calculated";
    case EventType::BATCH_END: return "batch_end";
    case EventType::CALIBRATION_START: return "calibration_start";
    case EventType::SEQUENTIAL_EPOCH_END: return "sequential_epoch_end";
    case EventType::CALIBRATION_END: return "calibration_end";
    case EventType::OPTIM_PRE_STEP: return "optim_pre_step";
    case EventType::OPTIM_POST_STEP: return "optim_post_step";
  }
  return "unknown";
}

std::string_view event_name(EventType type) {
  switch (type) {
    case EventType::INITIALIZE: return "INITIALIZE";
    case EventType::FINALIZE: return "FINALIZE";
    case EventType::BATCH_START: return "BATCH_START";
    case EventType::LOSS_CALCULATED: return "LOSS_CALCULATED";
    case EventType::BATCH_END: return "BATCH_END";
    case EventType::CALIBRATION_START: return "CALIBRATION_START";
    case EventType::SEQUENTIAL_EPOCH_END: return "SEQUENTIAL_EPOCH_END";
    case EventType::CALIBRATION_END: return "CALIBRATION_END";
    case EventType::OPTIM_PRE_STEP: return "OPTIM_PRE_STEP";
    case EventType::OPTIM_POST_STEP: return "OPTIM_POST_STEP";
  }
  return "UNKNOWN";
}

std::optional<EventType> parse_event_type(std::string_view text) {
  for (EventType type : kAllEventTypes) {
    if (text == event_name(type) || text == event_value(type)) return type;
  }
  return std::nullopt;
}

int64_t Event::epoch() const {
  if (!steps_per_epoch) throw LifecycleError("Event: steps_per_epoch is not set, the event is not epoch based");
  return global_step / *steps_per_epoch;
}

double Event::epoch_full() const {
  if (!steps_per_epoch) throw LifecycleError("Event: steps_per_epoch is not set, the event is not epoch based");
  return static_cast<double>(global_step) / static_cast<double>(*steps_per_epoch);
}

int64_t Event::epoch_step() const {
  if (!steps_per_epoch) throw LifecycleError("Event: steps_per_epoch is not set, the event is not epoch based");
  return global_step % *steps_per_epoch;
}

int64_t Event::epoch_batch() const {
  if (!steps_per_epoch) throw LifecycleError("Event: steps_per_epoch is not set, the event is not epoch based");
  int64_t batches_per_epoch = batches_per_step && *batches_per_step != 0 ? *steps_per_epoch * *batches_per_step
                                                                        : *steps_per_epoch;
  return global_batch % batches_per_epoch;
}

double Event::current_index() const {
  if (!epoch_based()) return static_cast<double>(global_step);
  double full = epoch_full();
  if (full - static_cast<double>(epoch()) > 1.0) {
    throw LifecycleError("Event: too many steps per epoch for the current index");
  }
  return full;
}

void Event::set_current_index(double value) {
  if (!epoch_based()) {
    global_step = static_cast<int64_t>(value);
  } else {
    global_step = static_cast<int64_t>(value * static_cast<double>(*steps_per_epoch));
  }
  global_batch = batches_per_step && *batches_per_step >= 2 ? global_step * *batches_per_step : global_step;
}

bool Event::should_update(std::optional<double> start, std::optional<double> end,
                          std::optional<double> update) const {
  double current = current_index();
  if (start && current < *start) return false;
  if (end && current > *end) return false;
  return !update || *update <= 0.0 || std::fmod(current, *update) < 1e-10;
}

}  // namespace dcomp::lifecycle
