// SparseGPT's column loop (the mask choice and the error feedback of sparsegpt_prune)
// written only in ATen tensor operations on whole columns and blocks, so that it runs on
// whatever device its tensors live on (a CUDA GPU as well as the CPU), for one module or
// a batch of same-shape modules (e.g. every expert's gate_proj) at once. On the CPU it
// computes the same fp32 operations, element by element and in the same order, as
// sparsegpt_prune's loop (lazy_batch_update.hpp): its weights and masks are bit for bit
// those of sparsegpt_prune, its losses equal.
//
// reference: Frantar & Alistarh, "SparseGPT" (arXiv 2301.00774), Algorithm 1;
// llm-compressor src/llmcompressor/modifiers/pruning/sparsegpt/sgpt_sparsify.py
// (sparsify_weight).
#pragma once

#include <vector>

#include <ATen/core/Tensor.h>

#include "kernels/quant/sparsegpt.hpp"

namespace dcomp::quant {

struct SparseGptTensorResult {
  at::Tensor weight;          // fp32, the shape of `work` ([rows, in] or [E, rows, in]), on work's device:
                              // pruned (zeros where mask is false) and error-compensated
  at::Tensor mask;            // bool, same shape and device, true = kept
  std::vector<double> loss;   // one per module (E entries, 1 for a 2-D work): Σ (w − q)² / U[i,i]² / 2
};

/// work: fp32 [rows, in], or [E, rows, in] for E modules of the same shape, on any device,
/// with its dead input columns already zeroed (mask_dead_inputs). Not modified.
/// upper: fp32 [in, in] upper factor U (UᵀU = H⁻¹) as inverse_hessian_factor returns it
/// (any strides), shared by every module, or [E, in, in], one per module; on work's device.
/// Only options.sparsity, prune_n, prune_m and block_size are read (validated as
/// sparsegpt_prune validates them).
///
/// For each block [i1, i2) of block_size columns:
///  - unstructured: saliency s = w²/(d·d), d = U[i,i], in fp32 over the block's current
///    values; per module, every weight with s ≤ the int(rows·count·sparsity)-th smallest s
///    (0-based) of the block is pruned;
///  - N:M: at every column i with (i − i1) % M == 0, each row prunes its N smallest s among
///    columns i … i+M−1 (a stable ascending sort: ties to the lower column);
///  - per column i: q = pruned ? 0 : w; scaled = (w − q)/d; the later columns j of the block
///    get w_j −= fp32(scaled·U[i,j]) (a product, then a subtraction: no fused multiply-add);
///  - W[:, i2:] −= Err·U[i1:i2, i2:] with addmm_(beta 1, alpha −1), as lazy_batch_update.
///    On the CPU one addmm_ per module, lazy_batch_update's own call (a BLAS may pick its
///    kernels by the product's size: OpenBLAS's small-matrix kernels round otherwise, and
///    baddbmm_ uses ATen's own loop below 400 multiply-adds). On a GPU a shared U makes
///    one addmm_ over the batch viewed as [E·rows, count].
///    On CUDA the GEMMs follow the global TF32 setting (off unless a caller turns it on).
/// Losses: each term (w − q)²/(d·d) in fp32, summed in double per row over a block's
/// columns in order, the block sums added to the row's total in block order (on the
/// device); the rows are summed on the host in row order and halved.
///
/// Throws std::invalid_argument for mismatched shapes, dtypes or devices, non-finite
/// input, a factor whose diagonal is not positive, or bad options.
SparseGptTensorResult sparsegpt_prune_tensor(const at::Tensor& work, const at::Tensor& upper,
                                             const SparseGptOptions& options);

}  // namespace dcomp::quant
