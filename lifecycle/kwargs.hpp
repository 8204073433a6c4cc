// Keyword arguments that travel with lifecycle calls (the **kwargs of the
// upstream API): a name → any-value map with typed access.
#pragma once

#include <any>
#include <map>
#include <optional>
#include <string>

#include "lifecycle/errors.hpp"

namespace dcomp::lifecycle {

using Kwargs = std::map<std::string, std::any>;

/// The value of `key` as T, or nullopt when absent or holding no value.
/// Throws LifecycleError when present with another type.
template <class T>
std::optional<T> kwarg(const Kwargs& kwargs, const std::string& key) {
  auto it = kwargs.find(key);
  if (it == kwargs.end() || !it->second.has_value()) return std::nullopt;
  if (const T* value = std::any_cast<T>(&it->second)) return *value;
  throw LifecycleError("keyword argument '" + key + "' has an unexpected type");
}

}  // namespace dcomp::lifecycle
