// The inverse-Hessian factor GPTQ and SparseGPT propagate errors with: dead inputs
// masked, the Hessian damped, and the upper Cholesky factor of its inverse taken; the
// damping grows tenfold on each failed factorization before falling back to identity.
//
// reference: llm-compressor src/llmcompressor/modifiers/gptq/gptq_quantize.py
// (quantize_weight: dead = diag(H) == 0; damp = percdamp·mean(diag H);
// cholesky → cholesky_inverse → cholesky(upper=True); identity on LinAlgError) and
// IST-DASLab/gptq gptq.py (fasterquant).
#pragma once

#include <functional>

#include <ATen/core/Tensor.h>

namespace dcomp::quant {

/// Result of inverse_hessian_factor.
struct InverseHessianFactor {
  // [n, n] fp32: U with UᵀU = (H + damping·I)⁻¹, U upper triangular (zeros below the
  // diagonal); identity on fallback. Stored column-major as LAPACK leaves it
  // (upper.t() is contiguous): call .contiguous() for raw rows.
  at::Tensor upper;
  double damping = 0.0;           // the absolute damping added to the diagonal that succeeded
  int retries = 0;                // failed factorizations before success (or before the fallback)
  bool identity_fallback = false; // every attempt failed: U = I (round-to-nearest / no error feedback)
};

/// The damping schedule of every factorization: attempt(λ) for λ = fl(frac·mean_diagonal)
/// (fp32, as upstream), then λ·10 (a zero λ first becomes 0.01·mean_diagonal) at most
/// max_retries more times; attempt returns U, or an undefined tensor when its factorization
/// failed. When every attempt fails, U = `identity` and identity_fallback is set.
InverseHessianFactor factor_with_damping_retries(const std::function<at::Tensor(float)>& attempt, float mean_diagonal,
                                                 double dampening_frac, int max_retries, const at::Tensor& identity);

/// Inputs that never fired: diag(H) == 0. Sets those diagonal entries of `hessian`
/// ([n, n] fp32, modified in place) to 1 and returns the mask, bool [n] (true = dead).
at::Tensor mask_dead_inputs(at::Tensor& hessian);

/// hessian [n, n] fp32, symmetric (dead inputs already masked; only its lower
/// triangle is read). Adds λ = dampening_frac·mean(diag H) to the diagonal and factors
/// with the LAPACK calls, in the order and storage, of upstream's
/// linalg.cholesky → cholesky_inverse → linalg.cholesky(upper=True) on the CPU
/// (potrf 'L', potri 'L', potrf 'U'), so U is bit for bit what that chain returns,
/// without its intermediate tensor copies. When a factorization fails (or U is not
/// finite), λ is multiplied by 10 and tried again, up to `max_retries` times (a zero λ
/// is first raised to 0.01·mean(diag H)). Costs about (4/3)·n³ FLOPs per attempt.
/// Throws std::invalid_argument for a non-square, non-fp32 or non-finite Hessian.
InverseHessianFactor inverse_hessian_factor(const at::Tensor& hessian, double dampening_frac, int max_retries);

/// The same for P·H·Pᵀ, the Hessian with rows and columns in the order `perm`
/// (int64 [n], a permutation: position → row of `hessian`), after mask_dead_inputs on
/// it — bit for bit what mask_dead_inputs + inverse_hessian_factor on the permuted copy
/// give — without that copy: each attempt gathers straight into LAPACK's buffer.
/// `dead` receives the dead-input mask, bool [n] in permuted order.
InverseHessianFactor permuted_inverse_hessian_factor(const at::Tensor& hessian, const at::Tensor& perm,
                                                     double dampening_frac, int max_retries, at::Tensor& dead);

}  // namespace dcomp::quant
