// What modifiers may know about the model and the calibration data without
// depending on how they are stored: module names and classes (for targets and
// ignore lists) and sample counts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dcomp::lifecycle {

/// One module of the model, e.g. name "model.layers.0.self_attn.q_proj" with
/// class_names {"Linear"} (the class and its bases, most derived first).
struct ModuleInfo {
  std::string name;
  std::vector<std::string> class_names;
  int64_t in_features = 0;
  int64_t out_features = 0;
};

class ModelHandle {
 public:
  virtual ~ModelHandle() = default;
  /// e.g. "LlamaForCausalLM".
  virtual std::string architecture() const = 0;
  virtual int num_layers() const = 0;
  /// Every module a target can name, in model order.
  virtual std::vector<ModuleInfo> modules() const = 0;
  /// The Linears a serving engine runs as one fused Linear (full names: q/k/v, gate/up,
  /// q_a_proj with kv_a_proj_with_mqa), which must be quantized alike; none by default.
  virtual std::vector<std::vector<std::string>> fused_groups() const { return {}; }
};

class CalibrationSet {
 public:
  virtual ~CalibrationSet() = default;
  /// Samples held by this rank.
  virtual size_t local_samples() const = 0;
  /// Samples over all ranks.
  virtual size_t total_samples() const = 0;
};

}  // namespace dcomp::lifecycle
