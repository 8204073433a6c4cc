// reference: llm-compressor src/llmcompressor/modifiers/gptq/gptq_quantize.py (quantize_weight, steps 7–8);
// PyTorch aten/src/ATen/native/BatchLinearAlgebra{,Kernel}.cpp (linalg_cholesky_ex: tril/triu of the
// input into a column-major copy, then potrf; cholesky_inverse: potri, then the other triangle mirrored).
#include "kernels/quant/inverse_hessian.hpp"

#include <functional>
#include <stdexcept>
#include <string>

#include <ATen/ATen.h>
#include <ATen/native/BatchLinearAlgebra.h>

#include "kernels/quant/matrix_copies.hpp"

namespace dcomp::quant {

namespace {

void check_hessian(const at::Tensor& hessian) {
  if (!hessian.defined() || hessian.dim() != 2 || hessian.size(0) != hessian.size(1) ||
      hessian.scalar_type() != at::kFloat || hessian.size(0) == 0) {
    throw std::invalid_argument("inverse Hessian: expected a square fp32 Hessian [in, in]");
  }
}

void check_options(double dampening_frac, int max_retries) {
  if (!(dampening_frac >= 0.0)) {
    throw std::invalid_argument("inverse Hessian: dampening_frac must be ≥ 0, got " + std::to_string(dampening_frac));
  }
  if (max_retries < 0) throw std::invalid_argument("inverse Hessian: max_retries must be ≥ 0");
}

// U with UᵀU = (A + damping·I)⁻¹ in place, or false when a factorization fails.
// buffer: [n, n] fp32 row-major m holding A column-major, as LAPACK reads it (its
// element (r, c) is m[c, r]; only r ≥ c is read). On success m holds U column-major,
// zeros below U's diagonal.
bool factor_in_place(at::Tensor& buffer, float damping) {
  const int64_t n = buffer.size(0);
  const int ni = static_cast<int>(n);
  float* m = buffer.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) m[i * n + i] += damping;
  int info = 0;
  at::native::lapackCholesky<float>('L', ni, m, ni, &info);  // L: A + λI = L Lᵀ
  if (info != 0) return false;
  at::native::lapackCholeskyInverse<float>('L', ni, m, ni, &info);  // lower triangle of (L Lᵀ)⁻¹
  if (info != 0) return false;
  mirror_upper_onto_lower(m, n);  // the column-major upper triangle: the whole symmetric inverse
  at::native::lapackCholesky<float>('U', ni, m, ni, &info);  // U: (A + λI)⁻¹ = Uᵀ U
  if (info != 0) return false;
  zero_strict_upper(m, n);  // column-major strict lower: what is left of the inverse
  return all_finite(m, n * n);
}

// The damping schedule around factor_in_place. `buffer` holds the first attempt's
// matrix; `refill` writes it again for each retry.
InverseHessianFactor factor_with_retries(at::Tensor& buffer, const std::function<void(float*)>& refill,
                                         float mean_diagonal, double dampening_frac, int max_retries) {
  bool first = true;
  const auto attempt = [&](float damping) -> at::Tensor {
    if (!first) refill(buffer.data_ptr<float>());
    first = false;
    if (!factor_in_place(buffer, damping)) return {};
    return buffer.t();  // [n, n] U, column-major
  };
  return factor_with_damping_retries(attempt, mean_diagonal, dampening_frac, max_retries,
                                     at::eye(buffer.size(0), at::kFloat));
}

}  // namespace

InverseHessianFactor factor_with_damping_retries(const std::function<at::Tensor(float)>& attempt, float mean_diagonal,
                                                 double dampening_frac, int max_retries, const at::Tensor& identity) {
  // fp32 like upstream: damp = percdamp * mean(diag(H)) on a float tensor.
  float damping = static_cast<float>(dampening_frac) * mean_diagonal;
  InverseHessianFactor result;
  for (int retry = 0; retry <= max_retries; ++retry) {
    if (retry > 0) {
      damping = damping != 0.0f ? damping * 10.0f : 0.01f * mean_diagonal;
      ++result.retries;
    }
    at::Tensor upper = attempt(damping);
    if (upper.defined()) {
      result.upper = upper;
      result.damping = damping;
      return result;
    }
  }
  result.upper = identity;
  result.identity_fallback = true;
  result.damping = 0.0;
  return result;
}

at::Tensor mask_dead_inputs(at::Tensor& hessian) {
  check_hessian(hessian);
  const at::Tensor dead = hessian.diagonal().eq(0);
  hessian.diagonal().masked_fill_(dead, 1.0);
  return dead;
}

InverseHessianFactor inverse_hessian_factor(const at::Tensor& hessian, double dampening_frac, int max_retries) {
  check_hessian(hessian);
  check_options(dampening_frac, max_retries);
  const at::Tensor h = hessian.contiguous();
  const int64_t n = h.size(0);
  if (!all_finite(h.data_ptr<float>(), h.numel())) {
    throw std::invalid_argument("inverse Hessian: the Hessian contains NaN or infinite values");
  }
  // The column-major copy of H: LAPACK reads its lower triangle, as linalg.cholesky does.
  const auto fill = [&](float* m) { transpose_square(h.data_ptr<float>(), m, n); };
  at::Tensor buffer = at::empty({n, n}, at::kFloat);  // [n, n] fp32, read column-major
  fill(buffer.data_ptr<float>());
  return factor_with_retries(buffer, fill, h.diagonal().mean().item<float>(), dampening_frac, max_retries);
}

InverseHessianFactor permuted_inverse_hessian_factor(const at::Tensor& hessian, const at::Tensor& perm,
                                                     double dampening_frac, int max_retries, at::Tensor& dead) {
  check_hessian(hessian);
  check_options(dampening_frac, max_retries);
  const at::Tensor h = hessian.contiguous();
  const int64_t n = h.size(0);
  if (!perm.defined() || perm.dim() != 1 || perm.size(0) != n || perm.scalar_type() != at::kLong) {
    throw std::invalid_argument("inverse Hessian: expected an int64 permutation [" + std::to_string(n) + "]");
  }
  if (!all_finite(h.data_ptr<float>(), h.numel())) {
    throw std::invalid_argument("inverse Hessian: the Hessian contains NaN or infinite values");
  }
  const at::Tensor order = perm.contiguous();
  at::Tensor buffer = at::empty({n, n}, at::kFloat);  // [n, n] fp32, read column-major
  // The lower triangle of A = P·H·Pᵀ where LAPACK reads it column-major (the upper
  // triangle of m: m[c, r] = A[r, c] for r ≥ c), dead inputs masked on the diagonal.
  const auto fill = [&](float* m) {
    gather_square(h.data_ptr<float>(), order.data_ptr<int64_t>(), m, n);
    mirror_lower_onto_upper(m, n);
    for (int64_t i = 0; i < n; ++i) {
      if (m[i * n + i] == 0.0f) m[i * n + i] = 1.0f;
    }
  };
  const at::Tensor diagonal = h.diagonal().index_select(0, order);
  dead = diagonal.eq(0);
  fill(buffer.data_ptr<float>());
  // The mean over the strided diagonal of an [n, n] matrix, as for the permuted copy.
  return factor_with_retries(buffer, fill, buffer.diagonal().mean().item<float>(), dampening_frac, max_retries);
}

}  // namespace dcomp::quant
