// Test modifiers: one that records every hook it receives into a shared log,
// and one that throws on a chosen hook.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "lifecycle/modifier.hpp"
#include "lifecycle/modifier_registry.hpp"

namespace dcomp::testing {

/// A thread-safe list of "<modifier id>:<hook>" strings.
class CallLog {
 public:
  void add(std::string entry) {
    std::lock_guard<std::mutex> lock(mutex_);
    entries_.push_back(std::move(entry));
  }
  std::vector<std::string> entries() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return entries_;
  }
  void clear() {
    std::lock_guard<std::mutex> lock(mutex_);
    entries_.clear();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> entries_;
};

class RecordingModifier : public lifecycle::Modifier {
 public:
  RecordingModifier(std::string id, std::shared_ptr<CallLog> log, std::string class_name = "RecordingModifier")
      : Modifier(std::move(class_name)), id_(std::move(id)), log_(std::move(log)) {}

  std::string id_;
  std::shared_ptr<CallLog> log_;
  std::string throw_on;  // hook name that throws, e.g. "on_sequential_epoch_end"
  bool initialize_result = true;

 protected:
  void record(const std::string& hook) {
    log_->add(id_ + ":" + hook);
    if (hook == throw_on) throw std::runtime_error("boom in " + hook);
  }
  bool on_initialize(lifecycle::State&, const lifecycle::Kwargs&) override {
    record("on_initialize");
    report("id", id_);
    return initialize_result;
  }
  bool on_finalize(lifecycle::State&, const lifecycle::Kwargs&) override {
    record("on_finalize");
    return true;
  }
  void on_event(lifecycle::State&, const lifecycle::Event& event, const lifecycle::Kwargs&) override {
    record("on_event(" + std::string(lifecycle::event_name(*event.type)) + ")");
    report("saw", std::string(lifecycle::event_name(*event.type)));
  }
  void on_start(lifecycle::State&, const lifecycle::Event&, const lifecycle::Kwargs&) override { record("on_start"); }
  void on_update(lifecycle::State&, const lifecycle::Event&, const lifecycle::Kwargs&) override { record("on_update"); }
  void on_end(lifecycle::State&, const lifecycle::Event&, const lifecycle::Kwargs&) override { record("on_end"); }
  void on_calibration_start(lifecycle::State&, const lifecycle::Event&, const lifecycle::Kwargs&) override {
    record("on_calibration_start");
  }
  void on_sequential_epoch_end(lifecycle::State&, const lifecycle::Event&, const lifecycle::Kwargs&) override {
    record("on_sequential_epoch_end");
  }
  void on_calibration_end(lifecycle::State&, const lifecycle::Event&, const lifecycle::Kwargs&) override {
    record("on_calibration_end");
  }
};

/// A registry with "RecordingModifier" (arguments: id, throw_on) writing to `log`.
inline lifecycle::ModifierRegistry recording_registry(std::shared_ptr<CallLog> log) {
  lifecycle::ModifierRegistry registry;
  registry.add("RecordingModifier", [log](lifecycle::ModifierArgs& args) {
    auto modifier = std::make_shared<RecordingModifier>(args.get<std::string>("id", "r"), log);
    modifier->throw_on = args.get<std::string>("throw_on", "");
    return modifier;
  });
  registry.add("OtherModifier", [log](lifecycle::ModifierArgs& args) {
    return std::make_shared<RecordingModifier>(args.get<std::string>("id", "o"), log, "OtherModifier");
  });
  return registry;
}

}  // namespace dcomp::testing
