#include "lifecycle/completed_modules.hpp"

#include <vector>

#include "lifecycle/errors.hpp"

namespace dcomp::lifecycle {

void drop_completed_modules(std::set<std::string>& pending, const Kwargs& kwargs) {
  const auto prefixes = kwarg<std::vector<std::string>>(kwargs, "completed_module_prefixes");
  if (!prefixes) return;
  for (auto it = pending.begin(); it != pending.end();) {
    bool completed = false;
    for (const auto& prefix : *prefixes) completed = completed || it->rfind(prefix, 0) == 0;
    it = completed ? pending.erase(it) : std::next(it);
  }
}

void require_all_reached(std::set<std::string>& pending, const Kwargs& kwargs, const std::string& modifier,
                         const std::string& verb) {
  drop_completed_modules(pending, kwargs);
  if (pending.empty()) return;
  throw LifecycleError(modifier + ": failed to " + verb + " " + std::to_string(pending.size()) + " module(s), e.g. " +
                       *pending.begin());
}

}  // namespace dcomp::lifecycle
