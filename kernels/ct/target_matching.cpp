// reference: compressed-tensors src/compressed_tensors/utils/match.py (match_name,
// _match_class, match_targets: targets sorted by ("re:" in target, target), name
// matches before class matches) and quantization/lifecycle/apply.py
// (target_to_scheme: a target listed by several groups belongs to the last one).
#include "kernels/ct/target_matching.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

#include "kernels/ct/name_pattern.hpp"

namespace dcomp::ct {
namespace {

constexpr const char* kPatternPrefix = "re:";

bool is_pattern(const std::string& target) { return is_name_pattern(target); }

// Python re.match: the pattern must match a prefix of the name.
bool pattern_matches(const std::string& target, const std::string& name) {
  return name_pattern_matches(target, name);
}

bool name_matches(const std::string& target, const std::string& name) {
  return is_pattern(target) ? pattern_matches(target, name) : target == name;
}

bool class_matches(const std::string& target, const std::vector<std::string>& class_names) {
  return std::find(class_names.begin(), class_names.end(), target) != class_names.end();
}

}  // namespace

TargetMatch match_target(const std::string& target, const std::string& name,
                         const std::vector<std::string>& class_names) {
  if (is_pattern(target)) return pattern_matches(target, name) ? TargetMatch::Pattern : TargetMatch::None;
  if (target == name) return TargetMatch::ExactName;
  if (class_matches(target, class_names)) return TargetMatch::ClassName;
  return TargetMatch::None;
}

bool matches_any(const std::vector<std::string>& targets, const std::string& name,
                 const std::vector<std::string>& class_names) {
  return std::any_of(targets.begin(), targets.end(), [&](const std::string& target) {
    return match_target(target, name, class_names) != TargetMatch::None;
  });
}

int best_matching_group(const std::vector<std::vector<std::string>>& group_targets, const std::string& name,
                        const std::vector<std::string>& class_names) {
  std::map<std::string, int> group_of_target;  // a later group takes over a repeated target
  for (size_t group = 0; group < group_targets.size(); ++group) {
    for (const std::string& target : group_targets[group]) group_of_target[target] = static_cast<int>(group);
  }
  std::vector<std::string> ordered;
  for (const auto& entry : group_of_target) ordered.push_back(entry.first);
  std::stable_sort(ordered.begin(), ordered.end(), [](const std::string& a, const std::string& b) {
    const bool a_pattern = a.find(kPatternPrefix) != std::string::npos;
    const bool b_pattern = b.find(kPatternPrefix) != std::string::npos;
    if (a_pattern != b_pattern) return !a_pattern;
    return a < b;
  });
  for (const std::string& target : ordered) {
    if (name_matches(target, name)) return group_of_target.at(target);
  }
  for (const std::string& target : ordered) {
    if (class_matches(target, class_names)) return group_of_target.at(target);
  }
  return -1;
}

}  // namespace dcomp::ct
