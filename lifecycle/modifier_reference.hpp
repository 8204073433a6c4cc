// The recipe reference in the README, generated from the modifier registry and the
// preset schemes (`dcomp modifiers`), so that it says what the parsers accept.
#pragma once

#include <string>

#include "lifecycle/modifier_registry.hpp"

namespace dcomp::lifecycle {

/// Markdown: the modifiers with their accepted and refused arguments, the llm-compressor
/// modifiers dcomp does not implement, the preset schemes and the quantization-args fields.
std::string modifier_reference_markdown(const ModifierRegistry& registry);

}  // namespace dcomp::lifecycle
