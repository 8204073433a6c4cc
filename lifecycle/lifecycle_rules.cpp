// reference: llm-compressor src/llmcompressor/core/lifecycle.py (event, finalize, _validate_event_order)
#include "lifecycle/lifecycle_rules.hpp"

#include <algorithm>
#include <string>

#include "lifecycle/errors.hpp"

namespace dcomp::lifecycle {
namespace {

std::optional<size_t> order_index(EventType type) {
  const auto& order = LifecycleRules::kEventOrder;
  auto it = std::find(order.begin(), order.end(), type);
  if (it == order.end()) return std::nullopt;
  return static_cast<size_t>(it - order.begin());
}

std::string order_repr() {
  std::string out = "[";
  for (size_t i = 0; i < LifecycleRules::kEventOrder.size(); ++i) {
    out += (i ? ", " : "") + event_repr(LifecycleRules::kEventOrder[i]);
  }
  return out + "]";
}

}  // namespace

std::string event_repr(EventType type) { return "EventType." + std::string(event_name(type)); }

bool LifecycleRules::validate_event_order(EventType type) {
  auto index = order_index(type);
  if (!index) return true;
  bool valid = type == EventType::BATCH_START ? last_event_type_ != EventType::BATCH_START
                                              : *order_index(last_event_type_) <= *index;
  if (valid) last_event_type_ = type;
  return valid;
}

void LifecycleRules::admit_event(EventType type, std::optional<int64_t> global_step, const Kwargs& kwargs) {
  if (!initialized_) throw LifecycleError("Cannot invoke event before initializing");
  if (finalized_) throw LifecycleError("Cannot invoke event after finalizing");
  if (type == EventType::INITIALIZE || type == EventType::FINALIZE) {
    throw LifecycleError("Cannot invoke " + event_repr(type) + " event. Use the corresponding method instead.");
  }
  const EventType last = last_event_type_;
  if (!validate_event_order(type)) {
    throw LifecycleError("Lifecycle events must appear following order: " + order_repr() + ". Instead, " +
                         event_repr(last) + " was called before " + event_repr(type));
  }
  if (type == EventType::LOSS_CALCULATED) {
    auto it = kwargs.find("loss");
    if (it == kwargs.end() || !it->second.has_value()) {
      throw LifecycleError("Loss must be provided for loss calculated event");
    }
  }
  if (global_step) global_step_ = *global_step;
}

void LifecycleRules::check_finalize() const {
  if (!initialized_) throw LifecycleError("Cannot finalize before initializing");
  if (finalized_) throw LifecycleError("Cannot finalize more than once");
}

}  // namespace dcomp::lifecycle
