// The registry of every modifier dcomp implements, by recipe class name.
#include "lifecycle/modifier_registry.hpp"

namespace dcomp::lifecycle {

const ModifierRegistry& ModifierRegistry::builtin() {
  static const ModifierRegistry registry = [] {
    ModifierRegistry r;
    return r;
  }();
  return registry;
}

}  // namespace dcomp::lifecycle
