// reference: llm-compressor src/llmcompressor/modifiers/modifier.py
#include "lifecycle/modifier.hpp"

#include "lifecycle/errors.hpp"
#include "lifecycle/modifier_args.hpp"

namespace dcomp::lifecycle {

Modifier::Modifier(std::string class_name) : class_name_(std::move(class_name)) {}

void Modifier::read_common_args(ModifierArgs& args) {
  start = args.optional<double>("start");
  end = args.optional<double>("end");
  update = args.optional<double>("update");
  if (auto value = args.optional<std::string>("group")) group = *value;
  index = args.optional<int>("index");
}

nlohmann::json Modifier::serialize_args() const {
  nlohmann::json out = own_args();
  if (start) out["start"] = *start;
  if (end) out["end"] = *end;
  if (update) out["update"] = *update;
  if (index) out["index"] = *index;
  return out;
}

ModifierResult Modifier::initialize(State& state, const Kwargs& kwargs) {
  if (initialized_) throw LifecycleError(class_name_ + ": cannot initialize a modifier that is already initialized");
  if (finalized_) throw LifecycleError(class_name_ + ": cannot initialize a modifier that is already finalized");
  pending_report_ = nullptr;
  initialized_ = on_initialize(state, kwargs);
  Event fake_start;
  fake_start.type = EventType::BATCH_START;
  fake_start.global_step = 0;
  if (should_start(fake_start)) {
    on_start(state, fake_start, kwargs);
    started_ = true;
  }
  return take_report();
}

ModifierResult Modifier::finalize(State& state, const Kwargs& kwargs) {
  if (finalized_) throw LifecycleError(class_name_ + ": cannot finalize a modifier twice");
  if (!initialized_) throw LifecycleError(class_name_ + ": cannot finalize an uninitialized modifier");
  pending_report_ = nullptr;
  finalized_ = on_finalize(state, kwargs);
  return take_report();
}

ModifierResult Modifier::update_event(State& state, const Event& event, const Kwargs& kwargs) {
  if (!initialized_) throw LifecycleError(class_name_ + ": cannot update an uninitialized modifier");
  if (finalized_) throw LifecycleError(class_name_ + ": cannot update a finalized modifier");
  pending_report_ = nullptr;
  on_event(state, event, kwargs);
  const auto type = event.type;
  if (type == EventType::CALIBRATION_START) {
    on_calibration_start(state, event, kwargs);
    started_ = true;
  } else if (type == EventType::SEQUENTIAL_EPOCH_END) {
    on_sequential_epoch_end(state, event, kwargs);
  } else if (type == EventType::CALIBRATION_END) {
    on_calibration_end(state, event, kwargs);
    ended_ = true;
  } else if (type == EventType::BATCH_START && !started_ && should_start(event)) {
    on_start(state, event, kwargs);
    started_ = true;
    on_update(state, event, kwargs);
  } else if (type == EventType::BATCH_END && !ended_ && should_end(event)) {
    on_end(state, event, kwargs);
    ended_ = true;
    on_update(state, event, kwargs);
  } else if (started_ && !ended_) {
    on_update(state, event, kwargs);
  }
  return take_report();
}

bool Modifier::on_initialize(State& state, const Kwargs& kwargs) {
  const auto plan = kwarg<std::shared_ptr<CompressionPlan>>(kwargs, "plan");
  return on_initialize_plan(state, kwargs, plan ? *plan : nullptr);
}

void Modifier::on_sequential_epoch_end(State& state, const Event& event, const Kwargs& kwargs) {
  if (LayerWork* layer = layer_of(kwargs)) on_layer(state, event, *layer);
}

LayerWork* Modifier::layer_of(const Kwargs& kwargs) {
  const auto layer = kwarg<std::shared_ptr<LayerWork>>(kwargs, "layer");
  return layer ? layer->get() : nullptr;
}

bool Modifier::should_start(const Event& event) const {
  if (!start) return false;
  double current = event.current_index();
  return *start <= current && (!end || current < *end);
}

bool Modifier::should_end(const Event& event) const {
  double current = event.current_index();
  return end && current >= *end;
}

void Modifier::report(const std::string& key, nlohmann::json value) {
  if (pending_report_.is_null()) pending_report_ = nlohmann::json::object();
  pending_report_[key] = std::move(value);
}

ModifierResult Modifier::take_report() {
  if (pending_report_.is_null()) return std::nullopt;
  nlohmann::json out = nlohmann::json::object();
  out["modifier"] = class_name_;
  for (auto& [key, value] : pending_report_.items()) out[key] = value;
  pending_report_ = nullptr;
  return out;
}

}  // namespace dcomp::lifecycle
