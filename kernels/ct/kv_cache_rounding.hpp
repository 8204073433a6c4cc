// How an FP8 KV cache rounds the keys and values it stores. vLLM's CUDA kernels (and
// compressed-tensors' QuantizedKVCache) round to nearest, ties to even, saturating at ±448;
// vLLM's CPU attention backend (cpu_attn_reshape_and_cache, kv_cache_dtype "fp8") rounds
// toward zero onto the same E4M3 grid, also saturating, for normal and subnormal values alike.
// Rounding toward zero shrinks every cached key and value, which is why the same checkpoint
// loses more perplexity on vLLM's CPU build than on a GPU.
// reference: vLLM csrc/quantization/w8a8/fp8/nvidia/quant_utils.cuh (scaled_vec_conversion:
// __nv_cvt_float_to_fp8(x / scale, __NV_SATFINITE, __NV_E4M3)); vLLM's CPU backend measured
// bit for bit on keys from −1000 to 1000 and 0.01 to 1e-5 (launch/interop.sh checks the
// perplexity this gives against vLLM's).
#pragma once

#include <functional>
#include <string>

#include <ATen/core/Tensor.h>

namespace dcomp::ct {

enum class KvCacheRounding {
  Nearest,     // round to nearest even: vLLM on GPUs, compressed-tensors
  TowardZero,  // truncate: vLLM's CPU build
};

/// "nearest" or "toward-zero".
const char* to_string(KvCacheRounding rounding);
/// Parses "nearest" / "toward-zero"; throws std::invalid_argument naming the accepted values.
KvCacheRounding kv_cache_rounding_from_string(const std::string& text);

/// x [...] fp32 → the values an FP8 E4M3 cache with per-tensor `scale` ([1] fp32, positive)
/// returns: q = clamp(x / scale, ±448) rounded by `rounding` onto the E4M3 grid, times scale.
at::Tensor fake_quantize_kv_cache(const at::Tensor& x, const at::Tensor& scale, KvCacheRounding rounding);

/// fake_quantize_kv_cache bound to one scale, as a layer's key or value quantizer.
std::function<at::Tensor(const at::Tensor&)> make_kv_cache_quantizer(at::Tensor scale, KvCacheRounding rounding);

}  // namespace dcomp::ct
