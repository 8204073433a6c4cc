// The names of a decoder layer's tensors and modules in a Hugging Face checkpoint:
// "model.layers.<i>" (the layer), "model.layers.<i>.<relative name>" (its parts). The one place
// the prefix is built; every loader, writer, verifier, modifier and pipeline stage asks here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kernels/io/name_affixes.hpp"

namespace dcomp::io {

/// What every decoder-layer name starts with.
inline constexpr std::string_view kDecoderLayersPrefix = "model.layers.";

/// "model.layers.<i>": the decoder layer module itself. `index` is a number, or its digits as
/// they appear in another format's name (GGUF's "blk.<i>.").
inline std::string layer_name(std::string_view index) { return std::string(kDecoderLayersPrefix).append(index); }
inline std::string layer_name(int64_t index) { return layer_name(std::to_string(index)); }

/// "model.layers.<i>.": the prefix of every tensor and module of layer i.
template <typename Index>
std::string layer_prefix(Index index) {
  return layer_name(index) + ".";
}

/// "model.layers.<i>.<relative_name>" ("self_attn.q_proj", "mlp.experts.3.down_proj.weight").
template <typename Index>
std::string layer_module_name(Index index, std::string_view relative_name) {
  return layer_prefix(index).append(relative_name);
}

/// Whether a name lies inside the decoder layers ("model.layers.3.mlp.gate", not "lm_head").
inline bool in_decoder_layers(std::string_view name) { return starts_with(name, kDecoderLayersPrefix); }

/// The layer index of a name inside the decoder layers ("model.layers.12.mlp.gate" → 12); nullopt
/// for any other name, or when the index is not 1 to 9 plain digits followed by a dot.
inline std::optional<int64_t> layer_index_of(std::string_view name) {
  if (!in_decoder_layers(name)) return std::nullopt;
  name.remove_prefix(kDecoderLayersPrefix.size());
  const size_t dot = name.find('.');
  if (dot == 0 || dot == std::string_view::npos || dot > 9) return std::nullopt;
  int64_t index = 0;
  for (const char digit : name.substr(0, dot)) {
    if (digit < '0' || digit > '9') return std::nullopt;
    index = index * 10 + (digit - '0');
  }
  return index;
}

}  // namespace dcomp::io
