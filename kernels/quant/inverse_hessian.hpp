// The inverse-Hessian factor GPTQ and SparseGPT propagate errors with: dead inputs
// masked, the Hessian damped, and the upper Cholesky factor of its inverse taken; the
// damping grows tenfold on each failed factorization before falling back to identity.
//
// reference: llm-compressor src/llmcompressor/modifiers/gptq/gptq_quantize.py
// (quantize_weight: dead = diag(H) == 0; damp = percdamp·mean(diag H);
// cholesky → cholesky_inverse → cholesky(upper=True); identity on LinAlgError) and
// IST-DASLab/gptq gptq.py (fasterquant).
#pragma once

#include <ATen/core/Tensor.h>

namespace dcomp::quant {

/// Result of inverse_hessian_factor.
struct InverseHessianFactor {
  at::Tensor upper;  // [n, n] fp32: U with UᵀU = (H + damping·I)⁻¹, U upper triangular; identity on fallback
  double damping = 0.0;           // the absolute damping added to the diagonal that succeeded
  int retries = 0;                // failed factorizations before success (or before the fallback)
  bool identity_fallback = false; // every attempt failed: U = I (round-to-nearest / no error feedback)
};

/// Inputs that never fired: diag(H) == 0. Sets those diagonal entries of `hessian`
/// ([n, n] fp32, modified in place) to 1 and returns the mask, bool [n] (true = dead).
at::Tensor mask_dead_inputs(at::Tensor& hessian);

/// hessian [n, n] fp32, symmetric (dead inputs already masked). Adds
/// λ = dampening_frac·mean(diag H) to the diagonal and factors; when the Cholesky
/// factorization of H + λI or of its inverse fails (or is not finite), λ is multiplied
/// by 10 and tried again, up to `max_retries` times (a zero λ is first raised to
/// 0.01·mean(diag H)). Throws std::invalid_argument for a non-square, non-fp32 or
/// non-finite Hessian.
InverseHessianFactor inverse_hessian_factor(const at::Tensor& hessian, double dampening_frac, int max_retries);

}  // namespace dcomp::quant
