// reference: compressed-tensors src/compressed_tensors/utils/match.py
#include "lifecycle/target_match.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>
#include <regex>

#include "lifecycle/errors.hpp"

namespace dcomp::lifecycle {
namespace {

const std::regex& compiled(const std::string& pattern) {
  static std::mutex mutex;
  static std::map<std::string, std::regex> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(pattern);
  if (it == cache.end()) {
    try {
      it = cache.emplace(pattern, std::regex(pattern, std::regex::ECMAScript)).first;
    } catch (const std::regex_error& e) {
      throw RecipeError("invalid regular expression in target 're:" + pattern + "': " + e.what());
    }
  }
  return it->second;
}

}  // namespace

bool target_matches(const ModuleInfo& module, const std::string& target) {
  if (target.rfind("re:", 0) == 0) {
    return std::regex_search(module.name, compiled(target.substr(3)), std::regex_constants::match_continuous);
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
