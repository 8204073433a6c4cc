// Internals of gptq_solve (gptq_solve.cpp, gptq_solve_avx512.cpp): one block of
// columns and one tile of kGptqRowTile rows of it, held column-major so that the
// rows are the vector lanes.
//
// reference: arXiv 2210.17323 Algorithm 1 and §3; llm-compressor
// src/llmcompressor/modifiers/gptq/gptq_quantize.py (quantize_weight, the block loop).
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/quant/gptq_solve.hpp"

namespace dcomp::quant::gptq_detail {

constexpr int64_t kLanes = kGptqRowTile;

// One block [first, first + count) of the solve, shared by the tiles of all threads.
struct Block {
  const GptqSolveTargets* targets = nullptr;
  int64_t n = 0;
  int64_t first = 0;
  int64_t count = 0;
  const float* u = nullptr;     // [count, count] fp32 row-major: U[first + i, first + j]
  float* work = nullptr;        // [rows, n] fp32: the weight in solve order, updated by earlier blocks
  float* err = nullptr;         // [rows, err_stride] fp32: the block's scaled errors, for the GEMM
  int64_t err_stride = 0;
  double* row_loss = nullptr;   // [rows]
};

// Scratch of one tile, column-major [count, kLanes]: lane l of column i at i·kLanes + l.
struct Tile {
  std::vector<float> values;   // the block's values; column i becomes its scaled error once solved
  std::vector<float> dequant;  // (code − zp)·scale
  std::vector<float> codes;    // the code as an exact fp32 integer: the Int value, or the E4M3 bits 0–255
  double loss[kLanes] = {};    // the block's Σ (w − q)² / U[i,i]² per lane

  explicit Tile(int64_t count)
      : values(static_cast<size_t>(count * kLanes)),
        dequant(static_cast<size_t>(count * kLanes)),
        codes(static_cast<size_t>(count * kLanes)) {}
};

/// Rows [r0, r0 + live) of the block into the tile (lanes past `live` zero, loss zero).
void load_tile(const Block& b, int64_t r0, int64_t live, Tile& t);
/// Dequantized values back into the block's columns of `work`, codes to theirs,
/// scaled errors to the GEMM operand, the tile's loss onto each row's.
void store_tile(const Block& b, int64_t r0, int64_t live, const Tile& t);

/// Rows [r0, r0 + live) of the block: load, solve (quantize, scaled error, in-block
/// updates), store (dequantized values into `work`, codes, errors into `err`, loss).
void process_tile_portable(const Block& b, int64_t r0, int64_t live, Tile& t);

/// The same on AVX-512, bit for bit; only when avx512_available().
void process_tile_avx512(const Block& b, int64_t r0, int64_t live, Tile& t);
bool avx512_available();

}  // namespace dcomp::quant::gptq_detail
