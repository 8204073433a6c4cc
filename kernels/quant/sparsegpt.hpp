// SparseGPT: prune an [out, in] weight column by column (unstructured or N:M), choosing
// the weights with the smallest OBS saliency w²/Hinv[i,i]² and pushing each pruned
// column's error onto the columns still to come, as GPTQ does for rounding.
//
// reference: Frantar & Alistarh, "SparseGPT: Massive Language Models Can Be Accurately
// Pruned in One-Shot" (arXiv 2301.00774), Algorithm 1; IST-DASLab/sparsegpt sparsegpt.py
// (SparseGPT.fasterprune); llm-compressor
// src/llmcompressor/modifiers/pruning/sparsegpt/sgpt_sparsify.py (sparsify_weight).
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

namespace dcomp::quant {

struct SparseGptOptions {
  double sparsity = 0.5;          // unstructured: fraction pruned per block, in [0, 1)
  int prune_n = 0;                // N:M: prune N of every M consecutive input columns ("2:4" → 2, 4);
  int prune_m = 0;                // 0:0 = unstructured
  int64_t block_size = 128;       // columns per lazy-update block (and per unstructured mask)
  double dampening_frac = 0.01;   // damping = frac · mean(diag H)
  int max_damping_retries = 6;    // damping ×10 per failed Cholesky before falling back to identity
};

struct SparseGptResult {
  at::Tensor weight;  // [out, in] fp32, pruned (zeros where mask is false) and error-compensated
  at::Tensor mask;    // bool [out, in], true = kept
  double loss = 0;    // Σ (w − q)² / Hinv[i,i]² / 2
  double damping = 0; // absolute damping added to diag(H)
  int retries = 0;
  bool fell_back_to_identity = false;  // no factorization succeeded: pruning without error feedback
};

/// weight [out, in] fp32; hessian [in, in] fp32 (normalized, see HessianAccumulator).
/// Unstructured: at the start of each block, with saliency s = w²/Hinv[i,i]² over the
/// block, every weight with s ≤ the int(numel·sparsity)-th smallest s is pruned (as
/// upstream, which prunes that element too). N:M: at every column i with
/// (i − block start) % M == 0, each row prunes its N smallest s among columns i … i+M−1
/// (ties to the lower column). Pruned weights become 0 and their error is propagated.
/// N:M requires M to divide both block_size and in. Throws std::invalid_argument for bad
/// shapes, dtypes, non-finite input or options.
SparseGptResult sparsegpt_prune(const at::Tensor& weight, const at::Tensor& hessian, const SparseGptOptions& options);

/// Same-shape weights ([out, in] fp32 on the host) pruned together on `device` by the
/// tensor-ops loop (sparsegpt_tensor_solve.hpp): the Hessians (one shared by every weight, or
/// one per weight; [in, in] fp32) go there, are masked and factorized there
/// (inverse_hessian_tensor.hpp), and only the pruned weights and masks come back to the host.
/// On the CPU each result is bit for bit sparsegpt_prune's. Throws std::invalid_argument as
/// sparsegpt_prune does, and for weights of different shapes or a Hessian count other than 1
/// or the weight count.
std::vector<SparseGptResult> sparsegpt_prune_batch(const std::vector<at::Tensor>& weights,
                                                   const std::vector<at::Tensor>& hessians,
                                                   const SparseGptOptions& options, c10::Device device);

}  // namespace dcomp::quant
