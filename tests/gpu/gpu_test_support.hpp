// Shared pieces of the GPU tests: a fixture that skips, with the CUDA runtime's reason,
// where no GPU is usable, and seeded host data.
#pragma once

#include <gtest/gtest.h>

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <vector>

namespace dcomp::gpu::testing {

/// Every GPU test derives from this: without a usable device, SetUp skips the test with
/// "no CUDA device: <the runtime's error text>".
class GpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int count = 0;
    const cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
      cudaGetLastError();
      GTEST_SKIP() << "no CUDA device: " << cudaGetErrorString(err);
    }
    if (count == 0) GTEST_SKIP() << "no CUDA device: none visible";
  }
};

/// [rows, columns] fp32 row-major, normal entries with column c scaled by
/// column_scale[c % column_scale.size()] (uneven channels, as activations have).
inline std::vector<float> random_matrix(int64_t rows, int64_t columns, uint64_t seed,
                                        const std::vector<float>& column_scale = {1.0f}) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> m(static_cast<size_t>(rows * columns));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < columns; ++c) {
      m[static_cast<size_t>(r * columns + c)] = normal(gen) * column_scale[static_cast<size_t>(c) % column_scale.size()];
    }
  }
  return m;
}

/// n values from lo to hi, evenly spaced.
inline std::vector<float> linear_scales(int64_t n, float lo, float hi) {
  std::vector<float> s(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) s[static_cast<size_t>(i)] = lo + (hi - lo) * static_cast<float>(i) / static_cast<float>(n > 1 ? n - 1 : 1);
  return s;
}

/// How two [rows, columns] code matrices (solve order) differ.
struct CodeComparison {
  int64_t mismatches = 0;            // codes that differ
  int64_t rows_affected = 0;         // rows with at least one differing code
  int64_t first_block_mismatches = 0;  // differing codes in columns [0, first_block)
  int max_step = 0;                  // largest |code difference|
  int64_t first_flip_column = -1;    // smallest column with a differing code (−1: none)
};

inline CodeComparison compare_codes(const int8_t* a, const int8_t* b, int64_t rows, int64_t columns,
                                    int64_t first_block) {
  CodeComparison result;
  for (int64_t r = 0; r < rows; ++r) {
    bool affected = false;
    for (int64_t c = 0; c < columns; ++c) {
      const int step = std::abs(static_cast<int>(a[r * columns + c]) - static_cast<int>(b[r * columns + c]));
      if (step == 0) continue;
      affected = true;
      ++result.mismatches;
      if (c < first_block) ++result.first_block_mismatches;
      result.max_step = std::max(result.max_step, step);
      if (result.first_flip_column < 0 || c < result.first_flip_column) result.first_flip_column = c;
    }
    result.rows_affected += affected;
  }
  return result;
}

}  // namespace dcomp::gpu::testing
