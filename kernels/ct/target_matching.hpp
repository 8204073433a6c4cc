// Which config group (or ignore entry) applies to a module, by compressed-tensors'
// target rules.
//
// A target matches a module when it equals the module's name, when it is "re:<pattern>"
// and the pattern matches at the start of the name (Python re.match: anchored at the
// start only), or when it names one of the module's classes ("Linear").
// When several groups match, exact names win over patterns (taken in alphabetical
// order of the target text), which win over class names; ties keep group order.
//
// reference: compressed-tensors src/compressed_tensors/utils/match.py (match_name,
// is_match) and quantization/lifecycle/apply.py (_scheme_from_targets priority).
#pragma once

#include <string>
#include <vector>

namespace dcomp::ct {

/// How a target matched a module, best first.
enum class TargetMatch { None, ExactName, Pattern, ClassName };

/// How `target` matches module `name` whose class names (most derived first) are `class_names`.
/// An invalid "re:" pattern throws std::invalid_argument naming it.
TargetMatch match_target(const std::string& target, const std::string& name,
                         const std::vector<std::string>& class_names);

/// True when any of `targets` matches.
bool matches_any(const std::vector<std::string>& targets, const std::string& name,
                 const std::vector<std::string>& class_names);

/// The index of the group whose targets match best (see above), or -1 when none does.
/// `group_targets[i]` are the targets of group i.
int best_matching_group(const std::vector<std::vector<std::string>>& group_targets, const std::string& name,
                        const std::vector<std::string>& class_names);

}  // namespace dcomp::ct
