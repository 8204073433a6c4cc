// reference: llm-compressor src/llmcompressor/modifiers/gptq/gptq_quantize.py (quantize_weight, steps 7–8).
#include "kernels/quant/inverse_hessian.hpp"

#include <stdexcept>
#include <string>
#include <tuple>

#include <ATen/ATen.h>

namespace dcomp::quant {

namespace {

void check_hessian(const at::Tensor& hessian) {
  if (!hessian.defined() || hessian.dim() != 2 || hessian.size(0) != hessian.size(1) ||
      hessian.scalar_type() != at::kFloat || hessian.size(0) == 0) {
    throw std::invalid_argument("inverse Hessian: expected a square fp32 Hessian [in, in]");
  }
}

// U with UᵀU = (H + damping·I)⁻¹, or an undefined tensor when a factorization fails.
at::Tensor try_factor(const at::Tensor& hessian, float damping) {
  at::Tensor damped = hessian.clone();
  damped.diagonal().add_(damping);
  auto [lower, info] = at::linalg_cholesky_ex(damped, /*upper=*/false, /*check_errors=*/false);
  if (info.item<int>() != 0) return {};
  damped = at::Tensor();
  const at::Tensor inverse = at::cholesky_inverse(lower, /*upper=*/false);
  lower = at::Tensor();
  auto [upper, inverse_info] = at::linalg_cholesky_ex(inverse, /*upper=*/true, /*check_errors=*/false);
  if (inverse_info.item<int>() != 0 || !at::isfinite(upper).all().item<bool>()) return {};
  return upper.contiguous();  // LAPACK results come column-major; callers read raw rows
}

}  // namespace

at::Tensor mask_dead_inputs(at::Tensor& hessian) {
  check_hessian(hessian);
  const at::Tensor dead = hessian.diagonal().eq(0);
  hessian.diagonal().masked_fill_(dead, 1.0);
  return dead;
}

InverseHessianFactor inverse_hessian_factor(const at::Tensor& hessian, double dampening_frac, int max_retries) {
  check_hessian(hessian);
  if (!(dampening_frac >= 0.0)) {
    throw std::invalid_argument("inverse Hessian: dampening_frac must be ≥ 0, got " + std::to_string(dampening_frac));
  }
  if (max_retries < 0) throw std::invalid_argument("inverse Hessian: max_retries must be ≥ 0");
  if (!at::isfinite(hessian).all().item<bool>()) {
    throw std::invalid_argument("inverse Hessian: the Hessian contains NaN or infinite values");
  }
  const float mean_diagonal = hessian.diagonal().mean().item<float>();
  // fp32 like upstream: damp = percdamp * mean(diag(H)) on a float tensor.
  float damping = static_cast<float>(dampening_frac) * mean_diagonal;
  InverseHessianFactor result;
  for (int attempt = 0; attempt <= max_retries; ++attempt) {
    if (attempt > 0) {
      damping = damping != 0.0f ? damping * 10.0f : 0.01f * mean_diagonal;
      ++result.retries;
    }
    at::Tensor upper = try_factor(hessian, damping);
    if (upper.defined()) {
      result.upper = std::move(upper);
      result.damping = damping;
      return result;
    }
  }
  result.upper = at::eye(hessian.size(0), at::kFloat);
  result.identity_fallback = true;
  result.damping = 0.0;
  return result;
}

}  // namespace dcomp::quant
