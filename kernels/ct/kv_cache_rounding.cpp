// reference: the OCP 8-bit floating point specification (E4M3: bias 7, 3 mantissa bits,
// subnormal step 2^-9, largest finite 448); vLLM's FP8 KV-cache writes (see the header).
#include "kernels/ct/kv_cache_rounding.hpp"

#include <ATen/ATen.h>

#include <stdexcept>
#include <tuple>

#include "kernels/quant/grid_tensor_ops.hpp"

namespace dcomp::ct {

namespace {

constexpr double kE4m3Max = 448.0;

// |y| in [0, 448] rounded toward zero onto the E4M3 grid: the grid step of y's binade is
// 2^(e − 3) for y = 1.m · 2^e with e ≥ −6 (frexp's exponent ex = e + 1), and 2^-9 below 2^-6.
at::Tensor truncate_to_e4m3(const at::Tensor& magnitude) {
  at::Tensor exponent = std::get<1>(at::frexp(magnitude));                // int32, y = m · 2^ex, m in [0.5, 1)
  const at::Tensor step = at::pow(2.0, (exponent.clamp_min(-5) - 4).to(at::kFloat));  // exact powers of two
  return at::floor(magnitude / step) * step;  // exact: dividing by a power of two
}

}  // namespace

const char* to_string(KvCacheRounding rounding) {
  return rounding == KvCacheRounding::TowardZero ? "toward-zero" : "nearest";
}

KvCacheRounding kv_cache_rounding_from_string(const std::string& text) {
  if (text == "nearest") return KvCacheRounding::Nearest;
  if (text == "toward-zero") return KvCacheRounding::TowardZero;
  throw std::invalid_argument("unknown KV-cache rounding \"" + text + "\" (nearest or toward-zero)");
}

at::Tensor fake_quantize_kv_cache(const at::Tensor& x, const at::Tensor& scale, KvCacheRounding rounding) {
  const at::Tensor s = scale.to(at::kFloat).reshape({1});
  const at::Tensor scaled = (x.to(at::kFloat) / s).clamp(-kE4m3Max, kE4m3Max);  // [...] fp32
  at::Tensor rounded;
  if (rounding == KvCacheRounding::Nearest) {
    rounded = quant::round_to_fp8_e4m3(scaled).values;
  } else {
    rounded = truncate_to_e4m3(scaled.abs()) * scaled.sign();
  }
  return rounded * s;
}

std::function<at::Tensor(const at::Tensor&)> make_kv_cache_quantizer(at::Tensor scale, KvCacheRounding rounding) {
  return [scale = scale.to(at::kFloat).reshape({1}).clone(), rounding](const at::Tensor& x) {
    return fake_quantize_kv_cache(x, scale, rounding);
  };
}

}  // namespace dcomp::ct
