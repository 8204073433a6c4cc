// Errors raised by the lifecycle, recipes and modifiers.
#pragma once

#include <stdexcept>
#include <string>

namespace dcomp::lifecycle {

/// A lifecycle rule was broken (the equivalent of llm-compressor's ValueError
/// from CompressionLifecycle / Modifier).
class LifecycleError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A recipe could not be read; the message carries "file:line:column: problem".
class RecipeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace dcomp::lifecycle
