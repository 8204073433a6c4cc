// The rules of a compression lifecycle, separate from how events reach the
// modifiers: CompressionLifecycle applies them with direct calls, and the
// coordinator actor applies the same object before fanning out to modifier actors.
// reference: llm-compressor src/llmcompressor/core/lifecycle.py
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "lifecycle/event.hpp"
#include "lifecycle/kwargs.hpp"

namespace dcomp::lifecycle {

class LifecycleRules {
 public:
  /// The tracked batch events, in the order they must appear within a batch.
  static constexpr std::array<EventType, 5> kEventOrder = {
      EventType::BATCH_START, EventType::LOSS_CALCULATED, EventType::OPTIM_PRE_STEP, EventType::OPTIM_POST_STEP,
      EventType::BATCH_END};

  bool initialized() const { return initialized_; }
  bool finalized() const { return finalized_; }
  EventType last_event_type() const { return last_event_type_; }
  int64_t global_step() const { return global_step_; }

  /// Checks, in this order: initialized, not finalized, not INITIALIZE/FINALIZE,
  /// event order, a loss for LOSS_CALCULATED. Throws LifecycleError with the
  /// upstream message; on success records the event (order state and global step).
  void admit_event(EventType type, std::optional<int64_t> global_step, const Kwargs& kwargs);
  /// Throws unless initialized and not yet finalized.
  void check_finalize() const;
  void mark_initialized() { initialized_ = true; }
  void mark_finalized() { finalized_ = true; }

  /// The order rule on its own: events outside kEventOrder are always valid and
  /// not tracked; BATCH_START is valid unless the last tracked event was
  /// BATCH_START; other tracked events may not move backwards. Records the
  /// event when valid.
  bool validate_event_order(EventType type);

 private:
  bool initialized_ = false;
  bool finalized_ = false;
  EventType last_event_type_ = EventType::BATCH_END;
  int64_t global_step_ = 0;
};

/// "EventType.BATCH_START", as the upstream messages print event types.
std::string event_repr(EventType type);

}  // namespace dcomp::lifecycle
