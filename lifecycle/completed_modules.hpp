// Modules compressed by an earlier, interrupted run that this run resumes: the
// pipeline passes their name prefixes to finalize as the keyword argument
// "completed_module_prefixes" (std::vector<std::string>, e.g. "model.layers.3."),
// so that modifiers do not count them as never compressed.
#pragma once

#include <set>
#include <string>

#include "lifecycle/kwargs.hpp"

namespace dcomp::lifecycle {

/// Removes from `pending` every name that starts with a prefix listed in `kwargs`.
void drop_completed_modules(std::set<std::string>& pending, const Kwargs& kwargs);

/// At finalize: drops the completed modules from `pending`, then throws LifecycleError
/// "<modifier>: failed to <verb> N module(s), e.g. <name>" when any remain.
void require_all_reached(std::set<std::string>& pending, const Kwargs& kwargs, const std::string& modifier,
                         const std::string& verb);

}  // namespace dcomp::lifecycle
