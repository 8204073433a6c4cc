// reference: arXiv 2210.17323 Algorithm 1 and §3 (lazy batch updates); llm-compressor
// src/llmcompressor/modifiers/gptq/gptq_quantize.py (quantize_weight, the block loop).
#include "kernels/quant/gptq_solve.hpp"

#include <algorithm>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "kernels/quant/gptq_solve_tile.hpp"

// Every product is rounded to fp32 before it is added or subtracted, as in the
// upstream tensor ops (no fused multiply-add, even where the target has FMA).
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace dcomp::quant {

namespace gptq_detail {

void load_tile(const Block& b, int64_t r0, int64_t live, Tile& t) {
  if (live < kLanes) std::fill(t.values.begin(), t.values.end(), 0.0f);
  for (int64_t l = 0; l < live; ++l) {
    const float* src = b.work + (r0 + l) * b.n + b.first;
    float* dst = t.values.data() + l;
    for (int64_t j = 0; j < b.count; ++j) dst[j * kLanes] = src[j];
  }
  std::fill(std::begin(t.loss), std::end(t.loss), 0.0);
}

void store_tile(const Block& b, int64_t r0, int64_t live, const Tile& t) {
  auto* codes = static_cast<uint8_t*>(b.targets->codes);
  for (int64_t l = 0; l < live; ++l) {
    const int64_t row = r0 + l;
    float* dequantized = b.work + row * b.n + b.first;
    uint8_t* code_row = codes + row * b.n + b.first;
    float* err = b.err + row * b.err_stride;
    for (int64_t i = 0; i < b.count; ++i) {
      dequantized[i] = t.dequant[i * kLanes + l];
      code_row[i] = static_cast<uint8_t>(static_cast<int32_t>(t.codes[i * kLanes + l]));
      err[i] = t.values[i * kLanes + l];
    }
    b.row_loss[row] += t.loss[l];
  }
}

namespace {

// The solve of one tile, lane by lane: the scalar statements of the upstream loop.
void solve_tile_portable(const Block& b, int64_t r0, Tile& t) {
  const GptqSolveTargets& g = *b.targets;
  const QuantGrid& grid = g.grid;
  for (int64_t i = 0; i < b.count; ++i) {
    const int64_t offset = g.scale_column[b.first + i] * g.padded_rows + r0;
    const float* scale = g.scale + offset;
    const float* zero_point = g.zero_point + offset;
    const float* u_row = b.u + i * b.count;  // U[first + i, first : first + count]
    const float d = u_row[i];
    float* column = t.values.data() + i * kLanes;
    float scaled[kLanes];
    for (int64_t l = 0; l < kLanes; ++l) {
      const float value = column[l];
      const int32_t code = grid.code(value, scale[l], zero_point[l]);
      const float q = grid.value(code, scale[l], zero_point[l]);
      t.codes[i * kLanes + l] = static_cast<float>(code);
      t.dequant[i * kLanes + l] = q;
      const float diff = value - q;
      t.loss[l] += static_cast<double>(diff * diff / (d * d));
      scaled[l] = diff / d;
    }
    for (int64_t j = i + 1; j < b.count; ++j) {
      const float u_ij = u_row[j];
      float* later = t.values.data() + j * kLanes;
      for (int64_t l = 0; l < kLanes; ++l) later[l] -= scaled[l] * u_ij;
    }
    std::copy(scaled, scaled + kLanes, column);
  }
}

}  // namespace

void process_tile_portable(const Block& b, int64_t r0, int64_t live, Tile& t) {
  load_tile(b, r0, live, t);
  solve_tile_portable(b, r0, t);
  store_tile(b, r0, live, t);
}

}  // namespace gptq_detail

double gptq_solve(at::Tensor& work, const at::Tensor& upper, int64_t block_size, const GptqSolveTargets& targets) {
  using namespace gptq_detail;
  TORCH_CHECK(work.dim() == 2 && work.is_contiguous() && work.scalar_type() == at::kFloat,
              "gptq_solve: work must be a contiguous fp32 matrix");
  const int64_t rows = work.size(0);
  const int64_t n = work.size(1);
  TORCH_CHECK(upper.dim() == 2 && upper.size(0) == n && upper.size(1) == n && upper.scalar_type() == at::kFloat,
              "gptq_solve: upper must be an fp32 [n, n] factor");
  TORCH_CHECK(block_size > 0, "gptq_solve: block_size must be positive");
  TORCH_CHECK(targets.padded_rows >= rows && targets.padded_rows % kGptqRowTile == 0,
              "gptq_solve: padded_rows must cover the rows in whole tiles");
  const bool vectorized = targets.vectorized && avx512_available();

  const int64_t err_stride = std::min(block_size, n);
  at::Tensor err = at::empty({rows, err_stride}, at::kFloat);  // [rows, block] scaled errors of one block
  std::vector<double> row_loss(static_cast<size_t>(rows), 0.0);
  const int64_t tiles = (rows + kLanes - 1) / kLanes;

  Block block;
  block.targets = &targets;
  block.n = n;
  block.work = work.data_ptr<float>();
  block.err = err.data_ptr<float>();
  block.err_stride = err_stride;
  block.row_loss = row_loss.data();
  for (int64_t i1 = 0; i1 < n; i1 += block_size) {
    const int64_t i2 = std::min(i1 + block_size, n);
    const int64_t count = i2 - i1;
    const at::Tensor u_block = upper.narrow(0, i1, count).narrow(1, i1, count).contiguous();  // [count, count]
    block.first = i1;
    block.count = count;
    block.u = u_block.data_ptr<float>();
    at::parallel_for(0, tiles, 1, [&](int64_t begin, int64_t end) {
      Tile tile(count);
      for (int64_t k = begin; k < end; ++k) {
        const int64_t r0 = k * kLanes;
        const int64_t live = std::min(kLanes, rows - r0);
        if (vectorized) {
          process_tile_avx512(block, r0, live, tile);
        } else {
          process_tile_portable(block, r0, live, tile);
        }
      }
    });
    if (i2 < n) {
      at::Tensor rest = work.narrow(1, i2, n - i2);
      rest.addmm_(err.narrow(1, 0, count), upper.narrow(0, i1, count).narrow(1, i2, n - i2), /*beta=*/1,
                  /*alpha=*/-1);
    }
  }
  double total = 0.0;
  for (const double loss : row_loss) total += loss;
  return total / 2.0;
}

}  // namespace dcomp::quant
