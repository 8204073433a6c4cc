#include "lifecycle/completed_modules.hpp"

#include <vector>

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

}  // namespace dcomp::lifecycle
