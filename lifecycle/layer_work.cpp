#include "lifecycle/layer_work.hpp"

#include "lifecycle/errors.hpp"

namespace dcomp::lifecycle {

const LinearModule* LayerWork::find(const std::string& name) const {
  for (const auto& module : linears) {
    if (module.name == name) return &module;
  }
  return nullptr;
}

LinearModule* LayerWork::find(const std::string& name) {
  return const_cast<LinearModule*>(static_cast<const LayerWork&>(*this).find(name));
}

InputStatistics& LayerWork::input_of(const LinearModule& module) {
  auto it = inputs.find(module.input);
  if (it == inputs.end()) {
    throw LifecycleError("layer " + std::to_string(layer_index) + ": no calibration statistics for the input of " +
                         module.name);
  }
  return it->second;
}

void LayerWork::for_each(size_t count, const std::function<void(size_t)>& job) const {
  if (parallel_for && count > 0) {
    parallel_for(count, job);
    return;
  }
  for (size_t i = 0; i < count; ++i) job(i);
}

}  // namespace dcomp::lifecycle
