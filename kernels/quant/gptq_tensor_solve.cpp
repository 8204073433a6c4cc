// reference: arXiv 2210.17323 Algorithm 1 and §3 (lazy batch updates); llm-compressor
// src/llmcompressor/modifiers/gptq/gptq_quantize.py (quantize_weight, the block loop).
#include "kernels/quant/gptq_tensor_solve.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include <ATen/ATen.h>

#include "kernels/io/shape_text.hpp"
#include "kernels/quant/grid_tensor_ops.hpp"
#include "kernels/quant/module_losses.hpp"

namespace dcomp::quant {

namespace {

std::string describe_tensor(const at::Tensor& t) {
  if (!t.defined()) return "undefined";
  return io::shape_text(t.sizes()) + " " + c10::toString(t.scalar_type()) + " on " + t.device().str();
}

void check_tensor_solve_inputs(const at::Tensor& work, const at::Tensor& upper, int64_t block_size, const GptqTensorTargets& t) {
  if (!work.defined() || work.dim() != 3 || work.scalar_type() != at::kFloat || !work.is_contiguous() ||
      work.numel() == 0) {
    throw std::invalid_argument("gptq_solve_tensor: expected a contiguous non-empty fp32 work [E, rows, n], got " +
                                describe_tensor(work));
  }
  const int64_t modules = work.size(0), rows = work.size(1), n = work.size(2);
  const bool shared = upper.defined() && upper.dim() == 2 && upper.size(0) == n && upper.size(1) == n;
  const bool own = upper.defined() && upper.dim() == 3 && upper.size(0) == modules && upper.size(1) == n &&
                   upper.size(2) == n;
  if ((!shared && !own) || upper.scalar_type() != at::kFloat || upper.device() != work.device()) {
    throw std::invalid_argument("gptq_solve_tensor: expected an fp32 factor [n, n] or [E, n, n] on " +
                                work.device().str() + " for work " + describe_tensor(work) + ", got " + describe_tensor(upper));
  }
  if (block_size <= 0) throw std::invalid_argument("gptq_solve_tensor: block_size must be positive");
  for (const at::Tensor* table : {&t.scale, &t.zero_point}) {
    if (!table->defined() || table->dim() != 3 || table->size(0) != modules || table->size(2) != rows ||
        table->scalar_type() != at::kFloat || table->device() != work.device()) {
      throw std::invalid_argument("gptq_solve_tensor: expected fp32 scale and zero-point tables [E, scale_columns, " +
                                  std::to_string(rows) + "] on " + work.device().str() + ", got " + describe_tensor(*table));
    }
  }
  if (!t.scale_column.defined() || t.scale_column.dim() != 2 || t.scale_column.size(0) != modules ||
      t.scale_column.size(1) != n || t.scale_column.scalar_type() != at::kLong ||
      t.scale_column.device() != work.device()) {
    throw std::invalid_argument("gptq_solve_tensor: expected int64 scale columns [E, n] on " + work.device().str() +
                                ", got " + describe_tensor(t.scale_column));
  }
}

// One block of columns [i1, i1 + count) of every module, transposed so that a column is a
// contiguous [E, rows] slice. Leaves the codes, dequantized values and scaled errors.
struct BlockColumns {
  at::Tensor values;  // fp32 [E, count, rows]: the block's columns, updated in place by earlier columns
  at::Tensor codes;   // fp32 [E, count, rows]
  at::Tensor dequantized;  // fp32 [E, count, rows]
  at::Tensor err;     // fp32 [E, count, rows]: (w − q) / U[i,i]
  at::Tensor loss;    // fp64 [E, rows]: this block's Σ (w − q)² / U[i,i]² per row
};

void solve_block(BlockColumns& b, const at::Tensor& u_block, const at::Tensor& scale, const at::Tensor& zero_point,
                 const QuantGrid& grid) {
  const int64_t count = b.values.size(1);
  const at::Tensor diagonal = u_block.diagonal(0, 1, 2).contiguous();  // [1|E, count]
  for (int64_t i = 0; i < count; ++i) {
    const at::Tensor x = b.values.select(1, i);  // [E, rows], every update from earlier columns applied
    const GridRounding rounded = round_to_grid(grid, x, scale.select(1, i), zero_point.select(1, i));
    b.codes.select(1, i).copy_(rounded.codes);
    b.dequantized.select(1, i).copy_(rounded.values);
    const at::Tensor d = diagonal.narrow(1, i, 1);  // [1|E, 1]
    const at::Tensor diff = x - rounded.values;
    b.loss.add_(diff.mul(diff).div_(d * d).to(at::kDouble));
    const at::Tensor scaled = diff.div(d);  // [E, rows]
    b.err.select(1, i).copy_(scaled);
    if (i + 1 < count) {
      const at::Tensor u = u_block.select(1, i).narrow(1, i + 1, count - i - 1).unsqueeze(2);  // [1|E, later, 1]
      b.values.narrow(1, i + 1, count - i - 1).sub_(scaled.unsqueeze(1) * u);  // product rounded, then subtracted
    }
  }
}

}  // namespace

GptqTensorSolution gptq_solve_tensor(at::Tensor& work, const at::Tensor& upper, int64_t block_size,
                                     const GptqTensorTargets& targets) {
  check_tensor_solve_inputs(work, upper, block_size, targets);
  const int64_t modules = work.size(0), rows = work.size(1), n = work.size(2);
  const bool shared = upper.dim() == 2;
  const at::Tensor upper_stack = shared ? upper.unsqueeze(0) : upper;  // [1|E, n, n]
  const at::TensorOptions fp32 = work.options();
  GptqTensorSolution solution;
  solution.codes = at::empty({modules, rows, n}, fp32.dtype(targets.grid.traits().code_dtype));
  at::Tensor row_loss = at::zeros({modules, rows}, fp32.dtype(at::kDouble));  // [E, rows]

  for (int64_t i1 = 0; i1 < n; i1 += block_size) {
    const int64_t i2 = std::min(i1 + block_size, n);
    const int64_t count = i2 - i1;
    const at::Tensor u_block = upper_stack.narrow(1, i1, count).narrow(2, i1, count).contiguous();
    const at::Tensor index = targets.scale_column.narrow(1, i1, count).unsqueeze(2).expand({modules, count, rows});
    const at::Tensor scale = targets.scale.gather(1, index);  // [E, count, rows]
    const at::Tensor zero_point = targets.zero_point.gather(1, index);
    BlockColumns block;
    block.values = work.narrow(2, i1, count).transpose(1, 2).contiguous();
    block.codes = at::empty_like(block.values);
    block.dequantized = at::empty_like(block.values);
    block.err = at::empty_like(block.values);
    block.loss = at::zeros({modules, rows}, fp32.dtype(at::kDouble));
    solve_block(block, u_block, scale, zero_point, targets.grid);
    row_loss.add_(block.loss);
    work.narrow(2, i1, count).copy_(block.dequantized.transpose(1, 2));
    solution.codes.narrow(2, i1, count).copy_(block.codes.transpose(1, 2));  // exact integers in fp32
    if (i2 == n) break;
    // The columns after the block: W[:, i2:] −= Err · U[i1:i2, i2:], as gptq_solve's addmm.
    const at::Tensor err = block.err.transpose(1, 2).contiguous();  // [E, rows, count]
    // A shared U on a GPU: the stack as one [E·rows, count] matrix. On the CPU one GEMM per
    // module, the call gptq_solve makes: a BLAS may pick its kernels by the product's size
    // (OpenBLAS's small-matrix kernels), so only the same call is sure to give the same bytes.
    if (shared && !work.device().is_cpu()) {
      work.view({modules * rows, n})
          .narrow(1, i2, n - i2)
          .addmm_(err.view({modules * rows, count}), upper.narrow(0, i1, count).narrow(1, i2, n - i2), /*beta=*/1,
                  /*alpha=*/-1);
    } else {
      for (int64_t e = 0; e < modules; ++e) {
        work.select(0, e).narrow(1, i2, n - i2).addmm_(
            err.select(0, e), upper_stack.select(0, shared ? 0 : e).narrow(0, i1, count).narrow(1, i2, n - i2),
            /*beta=*/1, /*alpha=*/-1);
      }
    }
  }
  solution.loss = module_losses(row_loss);
  return solution;
}

}  // namespace dcomp::quant
