// reference: compressed-tensors src/compressed_tensors/utils/match.py
#include "lifecycle/target_match.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "kernels/ct/name_pattern.hpp"
#include "lifecycle/errors.hpp"

namespace dcomp::lifecycle {

bool target_matches(const ModuleInfo& module, const std::string& target) {
  if (ct::is_name_pattern(target)) {
    try {
      return ct::name_pattern_matches(target, module.name);
    } catch (const std::invalid_argument& error) {
      throw RecipeError(std::string("target: ") + error.what());
    }
  }
  if (module.name == target) return true;
  return std::find(module.class_names.begin(), module.class_names.end(), target) != module.class_names.end();
}

bool any_target_matches(const ModuleInfo& module, const std::vector<std::string>& targets) {
  return std::any_of(targets.begin(), targets.end(), [&](const auto& t) { return target_matches(module, t); });
}

std::vector<ModuleInfo> select_modules(const std::vector<ModuleInfo>& modules, const std::vector<std::string>& targets,
                                       const std::vector<std::string>& ignore) {
  std::vector<ModuleInfo> out;
  for (const auto& module : modules) {
    if (any_target_matches(module, targets) && !any_target_matches(module, ignore)) out.push_back(module);
  }
  return out;
}

int target_priority(const std::string& target) {
  if (target.rfind("re:", 0) == 0) return 1;
  // Class names are identifiers without dots; module names contain dots.
  if (target.find('.') == std::string::npos && !target.empty() && std::isupper(static_cast<unsigned char>(target[0])))
    return 2;
  return 0;
}

}  // namespace dcomp::lifecycle
