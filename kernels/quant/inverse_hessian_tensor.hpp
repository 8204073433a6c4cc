// The inverse-Hessian factor of inverse_hessian.hpp written with ATen's linear algebra
// instead of direct LAPACK calls, so that it runs where the Hessian lives (cuSOLVER on a
// GPU, LAPACK on the CPU): the permuted Hessian P·H·Pᵀ, dead inputs masked, the damping
// λ = frac·mean(diag) raised tenfold on each failed attempt, and upstream's chain
// linalg.cholesky → cholesky_inverse → linalg.cholesky(upper=True). On CPU tensors the
// factor is bit for bit permuted_inverse_hessian_factor's (the same LAPACK routines on the
// same column-major data; tests/quant/gptq_tensor_solve_test.cpp checks it).
//
// reference: llm-compressor src/llmcompressor/modifiers/gptq/gptq_quantize.py
// (quantize_weight: dead = diag(H) == 0; damp = percdamp·mean(diag H); cholesky →
// cholesky_inverse → cholesky(upper=True); identity on LinAlgError).
#pragma once

#include <ATen/core/Tensor.h>

#include "kernels/quant/inverse_hessian.hpp"

namespace dcomp::quant {

/// hessian [n, n] fp32 on any device (only its lower triangle is read); perm int64 [n] on
/// the same device (position → row of `hessian`). Returns the factor of the damped P·H·Pᵀ
/// with `upper` on that device (row-major here, unlike the LAPACK path: strides do not
/// change values). `dead` receives bool [n], permuted order, on that device. One host
/// synchronization per attempt (the factorization's status). Throws std::invalid_argument
/// for a non-square, non-fp32 or non-finite Hessian.
InverseHessianFactor permuted_inverse_hessian_factor_tensor(const at::Tensor& hessian, const at::Tensor& perm,
                                                            double dampening_frac, int max_retries, at::Tensor& dead);

}  // namespace dcomp::quant
