// The Modifier interface: one algorithm of a recipe (GPTQ, SmoothQuant, ...)
// that reacts to lifecycle events.
// reference: llm-compressor src/llmcompressor/modifiers/modifier.py
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lifecycle/event.hpp"
#include "lifecycle/kwargs.hpp"
#include "lifecycle/layer_work.hpp"
#include "lifecycle/state.hpp"

namespace dcomp::lifecycle {

class ModifierArgs;

/// What a modifier reports for one call (what it saw and did), or nothing.
using ModifierResult = std::optional<nlohmann::json>;

class Modifier {
 public:
  explicit Modifier(std::string class_name);
  virtual ~Modifier() = default;
  Modifier(const Modifier&) = delete;
  Modifier& operator=(const Modifier&) = delete;

  const std::string& class_name() const { return class_name_; }

  // -- scheduling fields shared by every modifier (upstream Modifier fields) --
  std::optional<double> start;
  std::optional<double> end;
  std::optional<double> update;
  std::string group;
  std::optional<int> index;
  bool requires_calibration_data = false;

  /// Reads start / end / update / group / index from the recipe.
  void read_common_args(ModifierArgs& args);
  /// The arguments as they would be written back to a recipe (None fields omitted).
  nlohmann::json serialize_args() const;

  // -- lifecycle entry points (enforce the modifier's own state rules) --
  ModifierResult initialize(State& state, const Kwargs& kwargs);
  ModifierResult finalize(State& state, const Kwargs& kwargs);
  ModifierResult update_event(State& state, const Event& event, const Kwargs& kwargs);

  bool initialized() const { return initialized_; }
  bool finalized() const { return finalized_; }
  bool started() const { return started_; }
  bool ended() const { return ended_; }

  /// start is set, start <= index, and (end unset or index < end).
  bool should_start(const Event& event) const;
  /// end is set and index >= end.
  bool should_end(const Event& event) const;

 protected:
  /// Returns whether initialization succeeded (stored as initialized()). The default hands
  /// the plan the pipeline passes (kwargs["plan"], null when absent) to on_initialize_plan.
  virtual bool on_initialize(State& state, const Kwargs& kwargs);
  virtual bool on_finalize(State& state, const Kwargs& kwargs) { return true; }
  virtual void on_event(State& state, const Event& event, const Kwargs& kwargs) {}
  virtual void on_start(State& state, const Event& event, const Kwargs& kwargs) {}
  virtual void on_update(State& state, const Event& event, const Kwargs& kwargs) {}
  virtual void on_end(State& state, const Event& event, const Kwargs& kwargs) {}
  virtual void on_calibration_start(State& state, const Event& event, const Kwargs& kwargs) {}
  /// kwargs["subgraph"] names what was just calibrated (e.g. a decoder layer). The default hands
  /// the layer the pipeline passes (kwargs["layer"]) to on_layer.
  virtual void on_sequential_epoch_end(State& state, const Event& event, const Kwargs& kwargs);
  virtual void on_calibration_end(State& state, const Event& event, const Kwargs& kwargs) {}

  // -- the typed hooks dcomp's modifiers implement, with what the pipeline passes --
  /// At initialize: `plan` collects what the modifier needs gathered and what it will write
  /// (null when no pipeline runs, e.g. a recipe being checked).
  virtual bool on_initialize_plan(State& state, const Kwargs& kwargs, const std::shared_ptr<CompressionPlan>& plan) {
    return true;
  }
  /// At SEQUENTIAL_EPOCH_END for a decoder layer (or lm_head): the layer's Linears, statistics
  /// and norms, to compress in place.
  virtual void on_layer(State& state, const Event& event, LayerWork& layer) {}
  /// The layer of a SEQUENTIAL_EPOCH_END's kwargs, or null (an epoch without a layer).
  static LayerWork* layer_of(const Kwargs& kwargs);

  /// Adds to what the current call returns (merged into one JSON object/array).
  void report(const std::string& key, nlohmann::json value);
  /// Modifier-specific arguments for serialize_args().
  virtual nlohmann::json own_args() const { return nlohmann::json::object(); }

 private:
  ModifierResult take_report();

  std::string class_name_;
  bool initialized_ = false;
  bool finalized_ = false;
  bool started_ = false;
  bool ended_ = false;
  nlohmann::json pending_report_;
};

using ModifierPtr = std::shared_ptr<Modifier>;

}  // namespace dcomp::lifecycle
