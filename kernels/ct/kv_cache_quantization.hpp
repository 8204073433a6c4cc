// The KV-cache quantization a compressed checkpoint declares (kv_cache_scheme with
// per-layer self_attn.k_scale / v_scale), applied when the model runs: each layer's keys
// (after RoPE) and values are fake-quantized to FP8 with its scales before attention, as
// vLLM's FP8 KV cache stores them and compressed-tensors' QuantizedKVCache returns them.
// reference: compressed-tensors quantization/lifecycle/forward.py (forward_quantize for the
// "k" / "v" bases) and modeling/kvcache.py (QuantizedKVCache.update).
#pragma once

#include <filesystem>

#include "kernels/ct/kv_cache_rounding.hpp"
#include "kernels/model/causal_lm.hpp"

namespace dcomp::ct {

/// Sets every decoder layer's key and value quantizers from the checkpoint in `model_dir`,
/// rounding as `rounding` says (see kv_cache_rounding.hpp); a no-op when its config has no
/// kv_cache_scheme. Throws DecodingError naming the file for a scheme dcomp cannot apply or a
/// missing or malformed scale.
void attach_kv_cache_quantization(model::CausalLM& model, const std::filesystem::path& model_dir,
                                  KvCacheRounding rounding = KvCacheRounding::Nearest);

/// The model in `model_dir` as it is deployed: CausalLM::load with make_linear_loader (weights
/// dequantized, input activation quantization attached), then attach_kv_cache_quantization.
model::CausalLM load_deployed_model(const std::filesystem::path& model_dir,
                                    KvCacheRounding kv_cache_rounding = KvCacheRounding::Nearest);

}  // namespace dcomp::ct
