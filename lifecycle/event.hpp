// Lifecycle event types and the Event record passed to modifiers.
// reference: llm-compressor src/llmcompressor/core/events/event.py
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dcomp::lifecycle {

enum class EventType {
  INITIALIZE,
  FINALIZE,
  BATCH_START,
  LOSS_CALCULATED,
  BATCH_END,
  CALIBRATION_START,
  SEQUENTIAL_EPOCH_END,
  CALIBRATION_END,
  OPTIM_PRE_STEP,
  OPTIM_POST_STEP,
};

inline constexpr EventType kAllEventTypes[] = {
    EventType::INITIALIZE,        EventType::FINALIZE,        EventType::BATCH_START,
    EventType::LOSS_CALCULATED,   EventType::BATCH_END,       EventType::CALIBRATION_START,
    EventType::SEQUENTIAL_EPOCH_END, EventType::CALIBRATION_END, EventType::OPTIM_PRE_STEP,
    EventType::OPTIM_POST_STEP,
};

/// The upstream string value, e.g. "batch_start".
std::string_view event_value(EventType type);
/// The member name, e.g. "BATCH_START".
std::string_view event_name(EventType type);
/// Accepts either the member name or the value; nullopt when unknown.
std::optional<EventType> parse_event_type(std::string_view text);

/// One lifecycle event. Step arithmetic follows the upstream dataclass exactly.
struct Event {
  std::optional<EventType> type;
  std::optional<int64_t> steps_per_epoch;
  std::optional<int64_t> batches_per_step;
  int64_t invocations_per_step = 1;
  int64_t global_step = 0;
  int64_t global_batch = 0;

  bool epoch_based() const { return steps_per_epoch.has_value(); }
  /// global_step // steps_per_epoch; throws LifecycleError when not epoch based.
  int64_t epoch() const;
  double epoch_full() const;
  int64_t epoch_step() const;
  int64_t epoch_batch() const;
  /// global_step, or epoch_full when epoch based (throws when epoch_full - epoch > 1).
  double current_index() const;
  /// Sets global_step (and global_batch) from an index, as the upstream setter does.
  void set_current_index(double value);
  /// False before start or after end; otherwise true when update is unset or <= 0,
  /// or the index is a multiple of update.
  bool should_update(std::optional<double> start, std::optional<double> end, std::optional<double> update) const;
};

}  // namespace dcomp::lifecycle
