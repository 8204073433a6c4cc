// N:M magnitude pruning mask: the baseline that keeps, in every group of M consecutive
// input columns of each row, the M − N weights of largest magnitude.
//
// reference: llm-compressor src/llmcompressor/modifiers/pruning/helpers.py and
// magnitude/base.py (|W| scores, N:M mask structure); Mishra et al., "Accelerating
// Sparse Deep Neural Networks" (arXiv 2104.08378), 2:4 structured sparsity.
#pragma once

#include <ATen/core/Tensor.h>

namespace dcomp::quant {

/// w [out, in] fp32 → bool [out, in] (true = kept): in each row, each group of m
/// consecutive columns loses its n smallest |w| (ties: the lower column is pruned
/// first). Requires 0 < n < m and m dividing in; throws std::invalid_argument otherwise.
at::Tensor magnitude_prune_mask(const at::Tensor& w, int n, int m);

}  // namespace dcomp::quant
