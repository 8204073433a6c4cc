// Keys and values of the tokens already processed, per decoder layer, so that
// generation feeds only the new token through the model.
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

namespace dcomp::model {

/// One layer's cached keys and values after RoPE (keys) and before grouping. Multi-head latent
/// attention caches them expanded: keys [batch, heads, T, qk_head_dim], values [batch, heads, T, v_head_dim].
struct LayerKVCache {
  at::Tensor keys;    // [batch, kv_heads, cached_tokens, head_dim] fp32, undefined while empty
  at::Tensor values;  // [batch, kv_heads, cached_tokens, head_dim] fp32, undefined while empty

  /// Number of positions cached (the position of the next token).
  int64_t length() const { return keys.defined() ? keys.size(2) : 0; }
};

/// Caches of every decoder layer of one model.
struct KVCache {
  std::vector<LayerKVCache> layers;

  explicit KVCache(int64_t num_layers = 0) : layers(static_cast<size_t>(num_layers)) {}
  int64_t length() const { return layers.empty() ? 0 : layers.front().length(); }
};

}  // namespace dcomp::model
