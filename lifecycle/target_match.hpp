// Which modules a recipe's `targets` and `ignore` lists select.
// reference: compressed-tensors src/compressed_tensors/utils/match.py
//
// A target matches a module when it equals the module's name exactly, when it
// is "re:<pattern>" and the pattern matches at the start of the name (Python
// re.match semantics: anchored at the start only), or when it equals one of
// the module's class names ("Linear").
#pragma once

#include <string>
#include <vector>

#include "lifecycle/model_handle.hpp"

namespace dcomp::lifecycle {

bool target_matches(const ModuleInfo& module, const std::string& target);
bool any_target_matches(const ModuleInfo& module, const std::vector<std::string>& targets);
/// Modules matched by `targets` and not by `ignore`, in model order.
std::vector<ModuleInfo> select_modules(const std::vector<ModuleInfo>& modules, const std::vector<std::string>& targets,
                                       const std::vector<std::string>& ignore);
/// How specific a target is, for choosing between config groups:
/// 0 exact name, 1 regular expression, 2 class name.
int target_priority(const std::string& target);

}  // namespace dcomp::lifecycle
