// reference: llm-compressor src/llmcompressor/modifiers/gptq/gptq_quantize.py (quantize_weight, steps 7–8).
#include "kernels/quant/inverse_hessian_tensor.hpp"

#include <stdexcept>
#include <string>
#include <tuple>

#include <ATen/ATen.h>

namespace dcomp::quant {

namespace {

// U with UᵀU = (A + damping·I)⁻¹, or an undefined tensor when a step fails. a: [n, n] fp32.
at::Tensor factor_with_aten_once(const at::Tensor& a, float damping) {
  at::Tensor damped = a.clone();
  damped.diagonal().add_(damping);
  auto [lower, lower_info] = at::linalg_cholesky_ex(damped, /*upper=*/false, /*check_errors=*/false);
  if (lower_info.item<int>() != 0) return {};
  const at::Tensor inverse = at::cholesky_inverse(lower);  // upper=false: from L
  auto [upper, upper_info] = at::linalg_cholesky_ex(inverse, /*upper=*/true, /*check_errors=*/false);
  if (upper_info.item<int>() != 0 || !upper.isfinite().all().item<bool>()) return {};
  return upper;
}

}  // namespace

InverseHessianFactor permuted_inverse_hessian_factor_tensor(const at::Tensor& hessian, const at::Tensor& perm,
                                                            double dampening_frac, int max_retries, at::Tensor& dead) {
  if (!hessian.defined() || hessian.dim() != 2 || hessian.size(0) != hessian.size(1) ||
      hessian.scalar_type() != at::kFloat || hessian.size(0) == 0) {
    throw std::invalid_argument("inverse Hessian: expected a square fp32 Hessian [in, in]");
  }
  const int64_t n = hessian.size(0);
  if (!perm.defined() || perm.dim() != 1 || perm.size(0) != n || perm.scalar_type() != at::kLong ||
      perm.device() != hessian.device()) {
    throw std::invalid_argument("inverse Hessian: expected an int64 permutation [" + std::to_string(n) +
                                "] on the Hessian's device");
  }
  if (!(dampening_frac >= 0.0)) {
    throw std::invalid_argument("inverse Hessian: dampening_frac must be ≥ 0, got " + std::to_string(dampening_frac));
  }
  if (max_retries < 0) throw std::invalid_argument("inverse Hessian: max_retries must be ≥ 0");
  if (!hessian.isfinite().all().item<bool>()) {
    throw std::invalid_argument("inverse Hessian: the Hessian contains NaN or infinite values");
  }
  // P·H·Pᵀ with its lower triangle mirrored up (what LAPACK reads), dead inputs' diagonal 1.
  at::Tensor a = hessian.index_select(0, perm).index_select(1, perm).tril();
  a = a + a.tril(-1).t();
  dead = a.diagonal().eq(0);
  a.diagonal().masked_fill_(dead, 1.0f);
  const float mean_diagonal = a.diagonal().mean().item<float>();
  return factor_with_damping_retries([&](float damping) { return factor_with_aten_once(a, damping); }, mean_diagonal,
                                     dampening_frac, max_retries, at::eye(n, hessian.options()));
}

}  // namespace dcomp::quant
