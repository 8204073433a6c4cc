// reference: arXiv 2301.00774 Algorithm 1; llm-compressor
// modifiers/pruning/sparsegpt/sgpt_sparsify.py (sparsify_weight); the loop order of
// kernels/quant/lazy_batch_update.hpp.
#include "kernels/quant/sparsegpt_tensor_solve.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <tuple>

#include <ATen/ATen.h>

#include "kernels/io/shape_text.hpp"
#include "kernels/quant/module_losses.hpp"

namespace dcomp::quant {

namespace {

constexpr const char* kName = "sparsegpt_prune_tensor: ";

void check_options(const SparseGptOptions& options, int64_t in) {
  if (options.block_size <= 0) throw std::invalid_argument(std::string(kName) + "block_size must be positive");
  if (options.prune_n != 0 || options.prune_m != 0) {
    if (options.prune_n <= 0 || options.prune_m <= options.prune_n) {
      throw std::invalid_argument(std::string(kName) + "N:M structure needs 0 < N < M, got " +
                                  std::to_string(options.prune_n) + ":" + std::to_string(options.prune_m));
    }
    if (options.block_size % options.prune_m != 0 || in % options.prune_m != 0) {
      throw std::invalid_argument(std::string(kName) + "M = " + std::to_string(options.prune_m) +
                                  " must divide block_size " + std::to_string(options.block_size) + " and the " +
                                  std::to_string(in) + " input columns");
    }
  } else if (!(options.sparsity >= 0.0 && options.sparsity < 1.0)) {
    throw std::invalid_argument(std::string(kName) + "sparsity must be in [0, 1), got " +
                                std::to_string(options.sparsity));
  }
}

void check_tensors(const at::Tensor& work, const at::Tensor& upper) {
  if (!work.defined() || (work.dim() != 2 && work.dim() != 3) || work.scalar_type() != at::kFloat ||
      work.numel() == 0) {
    throw std::invalid_argument(std::string(kName) + "expected a non-empty fp32 work [rows, in] or [E, rows, in], got " +
                                (work.defined() ? std::string(c10::toString(work.scalar_type())) + " " + io::shape_text(work.sizes())
                                                : std::string("an undefined tensor")));
  }
  const int64_t in = work.size(-1);
  const bool shared = upper.defined() && upper.dim() == 2;
  const bool per_module = upper.defined() && upper.dim() == 3 && work.dim() == 3 && upper.size(0) == work.size(0);
  if ((!shared && !per_module) || upper.size(-1) != in || upper.size(-2) != in || upper.scalar_type() != at::kFloat) {
    throw std::invalid_argument(std::string(kName) + "expected an fp32 factor [" + std::to_string(in) + ", " +
                                std::to_string(in) + "]" +
                                (work.dim() == 3 ? " or [" + std::to_string(work.size(0)) + ", " + std::to_string(in) +
                                                       ", " + std::to_string(in) + "]"
                                                 : std::string()) +
                                " for work " + io::shape_text(work.sizes()) + ", got " +
                                (upper.defined() ? std::string(c10::toString(upper.scalar_type())) + " " + io::shape_text(upper.sizes())
                                                 : std::string("an undefined tensor")));
  }
  if (upper.device() != work.device()) {
    throw std::invalid_argument(std::string(kName) + "work is on " + work.device().str() + " but the factor is on " +
                                upper.device().str());
  }
  if (!at::isfinite(work).all().item<bool>()) {
    throw std::invalid_argument(std::string(kName) + "work contains NaN or infinite values");
  }
  if (!at::isfinite(upper).all().item<bool>() || !(at::diagonal(upper, 0, -2, -1) > 0).all().item<bool>()) {
    throw std::invalid_argument(std::string(kName) +
                                "the factor must be finite with a positive diagonal (inverse_hessian_factor's U)");
  }
}

// The state of one solve, every tensor on work's device. E modules, E1 = E (one factor
// per module) or 1 (shared), n input columns.
struct SolveState {
  at::Tensor weight;    // [E, rows, n] fp32, updated in place
  at::Tensor pruned;    // [E, rows, n] bool, true = pruned
  at::Tensor upper;     // [E1, n, n] fp32, each [n, n] row-major as lazy_batch_update reads U
  at::Tensor diagonal;  // [E1, n] fp32, U[i, i]
  at::Tensor err;       // [E, rows, min(block_size, n)] fp32: scaled errors of one block (lazy_batch_update's layout)
  at::Tensor row_loss;  // [E, rows] double
};

// Unstructured: per module, s ≤ the kth smallest saliency of the block is pruned.
// block: [E, count, rows] fp32 (columns as rows); dd: [E1, count] fp32 d·d. Returns bool
// [E, count, rows], true = pruned.
at::Tensor choose_unstructured(const at::Tensor& block, const at::Tensor& dd, double sparsity) {
  const int64_t modules = block.size(0);
  const at::Tensor scores = (block * block).div_(dd.unsqueeze(-1));  // [E, count, rows]
  const auto kth = static_cast<int64_t>(static_cast<double>(block.size(1) * block.size(2)) * sparsity);
  const at::Tensor threshold = std::get<0>(scores.reshape({modules, -1}).kthvalue(kth + 1, 1));  // [E]
  return scores.le(threshold.view({modules, 1, 1}));
}

// N:M: each row prunes its N smallest saliencies among the M columns of `group` (ties to
// the lower column). group: [E, M, rows] fp32; dd: [E1, M]; pruned: [E, M, rows] bool view.
void choose_n_of_m(const at::Tensor& group, const at::Tensor& dd, int64_t prune_n, at::Tensor pruned) {
  const at::Tensor scores = (group * group).div_(dd.unsqueeze(-1));
  const at::Tensor order = std::get<1>(scores.sort(/*stable=*/true, /*dim=*/1, /*descending=*/false));  // [E, M, rows]
  pruned.scatter_(1, order.narrow(1, 0, prune_n), true);
}

// The columns [i1, i2) of every module: choose the mask, replace each column in order and
// push its scaled error onto the block's later columns; Err and the losses are stored.
void solve_block(SolveState& s, int64_t i1, int64_t i2, const SparseGptOptions& options) {
  const int64_t count = i2 - i1;
  const int64_t modules = s.weight.size(0);
  const bool structured = options.prune_n != 0;
  at::Tensor block = s.weight.narrow(2, i1, count).transpose(1, 2).contiguous();  // [E, count, rows]
  const at::Tensor d = s.diagonal.narrow(1, i1, count);                          // [E1, count]
  const at::Tensor dd = d * d;
  at::Tensor pruned = structured ? at::zeros_like(block, block.options().dtype(at::kBool))
                                 : choose_unstructured(block, dd, options.sparsity);  // [E, count, rows]
  at::Tensor err = at::empty_like(block);                                             // [E, count, rows]
  at::Tensor block_loss = at::zeros({modules, block.size(2)}, block.options().dtype(at::kDouble));
  for (int64_t c = 0; c < count; ++c) {
    if (structured && c % options.prune_m == 0) {
      choose_n_of_m(block.narrow(1, c, options.prune_m), dd.narrow(1, c, options.prune_m), options.prune_n,
                    pruned.narrow(1, c, options.prune_m));
    }
    at::Tensor column = block.select(1, c);  // [E, rows]
    const at::Tensor q = column.masked_fill(pruned.select(1, c), 0.0f);
    const at::Tensor diff = column - q;
    block_loss.add_((diff * diff).div_(dd.narrow(1, c, 1)).to(at::kDouble));
    const at::Tensor scaled = diff / d.narrow(1, c, 1);  // [E, rows]
    if (c + 1 < count) {
      const at::Tensor u_row = s.upper.select(1, i1 + c).narrow(1, i1 + c + 1, count - c - 1);  // [E1, later]
      block.narrow(1, c + 1, count - c - 1).sub_(u_row.unsqueeze(-1) * scaled.unsqueeze(1));
    }
    column.copy_(q);
    err.select(1, c).copy_(scaled);
  }
  s.weight.narrow(2, i1, count).copy_(block.transpose(1, 2));
  s.pruned.narrow(2, i1, count).copy_(pruned.transpose(1, 2));
  s.err.narrow(2, 0, count).copy_(err.transpose(1, 2));
  s.row_loss.add_(block_loss);
}

// W[:, i2:] −= Err · U[i1:i2, i2:], with the operand strides lazy_batch_update passes.
void propagate_block_error(SolveState& s, int64_t i1, int64_t i2) {
  const int64_t n = s.weight.size(2);
  const int64_t count = i2 - i1;
  const int64_t modules = s.weight.size(0);
  const int64_t rows = s.weight.size(1);
  // A shared U on a GPU: the batch as one [E·rows, count] matrix. On the CPU one GEMM per
  // module, as lazy_batch_update makes it: a BLAS may pick its kernels by the product's size
  // (OpenBLAS's small-matrix kernels), so only the same call is sure to give the same bytes.
  const bool shared = s.upper.size(0) == 1;
  if (shared && !s.weight.device().is_cpu()) {
    at::Tensor rest = s.weight.view({modules * rows, n}).narrow(1, i2, n - i2);
    rest.addmm_(s.err.view({modules * rows, s.err.size(2)}).narrow(1, 0, count),
                s.upper[0].narrow(0, i1, count).narrow(1, i2, n - i2), /*beta=*/1, /*alpha=*/-1);
    return;
  }
  for (int64_t e = 0; e < modules; ++e) {
    at::Tensor rest = s.weight[e].narrow(1, i2, n - i2);
    rest.addmm_(s.err[e].narrow(1, 0, count), s.upper[shared ? 0 : e].narrow(0, i1, count).narrow(1, i2, n - i2),
                /*beta=*/1, /*alpha=*/-1);
  }
}

}  // namespace

SparseGptTensorResult sparsegpt_prune_tensor(const at::Tensor& work, const at::Tensor& upper,
                                             const SparseGptOptions& options) {
  check_tensors(work, upper);
  const int64_t n = work.size(-1);
  check_options(options, n);
  const bool batched = work.dim() == 3;
  SolveState s;
  s.weight = (batched ? work : work.unsqueeze(0)).clone(at::MemoryFormat::Contiguous);  // [E, rows, n]
  s.upper = (upper.dim() == 3 ? upper : upper.unsqueeze(0)).contiguous();              // [E1, n, n]
  s.diagonal = at::diagonal(s.upper, 0, -2, -1).contiguous();                          // [E1, n]
  s.pruned = at::zeros_like(s.weight, s.weight.options().dtype(at::kBool));
  const int64_t modules = s.weight.size(0);
  const int64_t rows = s.weight.size(1);
  s.err = at::empty({modules, rows, std::min(options.block_size, n)}, s.weight.options());
  s.row_loss = at::zeros({modules, rows}, s.weight.options().dtype(at::kDouble));

  for (int64_t i1 = 0; i1 < n; i1 += options.block_size) {
    const int64_t i2 = std::min(i1 + options.block_size, n);
    solve_block(s, i1, i2, options);
    if (i2 < n) propagate_block_error(s, i1, i2);
  }

  SparseGptTensorResult result;
  result.loss = module_losses(s.row_loss);
  result.weight = batched ? s.weight : s.weight.squeeze(0);
  result.mask = (batched ? s.pruned : s.pruned.squeeze(0)).logical_not();
  return result;
}

}  // namespace dcomp::quant
