// Prefix and suffix tests for tensor, module and key names ("model.layers.3.mlp.gate",
// "….weight_packed", "quant_stage"): the one place they are written (C++17 has no
// std::string::starts_with / ends_with).
#pragma once

#include <string_view>

namespace dcomp::io {

/// Whether `text` ends with `suffix` ("a.weight_scale" ends with ".weight_scale").
inline bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// Whether `text` starts with `prefix` ("model.layers.0.mlp" starts with "model.layers.").
inline bool starts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && text.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace dcomp::io
