// reference: element-wise definitions in matrix_copies.hpp (tiled loops, same results).
#include "kernels/quant/matrix_copies.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include <ATen/Parallel.h>

namespace dcomp::quant {

namespace {

constexpr int64_t kTile = 64;            // square tile side for the transposing copies
constexpr int64_t kElementGrain = 1 << 16;  // elements per parallel chunk for the streaming loops

int64_t tile_count(int64_t n) { return (n + kTile - 1) / kTile; }

// dst[y, x] = src[x, y] for x in [x0, x1), y in [y0, y1) (row-major, leading dimension
// n): rows of dst written in order, src read down its columns.
void transpose_tile(const float* src, float* dst, int64_t n, int64_t x0, int64_t x1, int64_t y0, int64_t y1) {
  for (int64_t y = y0; y < y1; ++y) {
    float* dst_row = dst + y * n;
    for (int64_t x = x0; x < x1; ++x) dst_row[x] = src[x * n + y];
  }
}

}  // namespace

void transpose_square(const float* src, float* dst, int64_t n) {
  const int64_t tiles = tile_count(n);
  at::parallel_for(0, tiles, 1, [&](int64_t begin, int64_t end) {
    for (int64_t tx = begin; tx < end; ++tx) {
      const int64_t x0 = tx * kTile;
      const int64_t x1 = std::min(x0 + kTile, n);
      for (int64_t y0 = 0; y0 < n; y0 += kTile) transpose_tile(src, dst, n, x0, x1, y0, std::min(y0 + kTile, n));
    }
  });
}

namespace {

// Calls visit(x, y) for every (x, y) with y < x, tile by tile over the lower
// triangle: rows x in the outer loop when `rows_outer`, else columns y. Tile rows tx
// and tiles − 1 − tx go to the same parallel chunk so the chunks carry equal work.
template <typename Visit>
void for_strict_lower(int64_t n, bool rows_outer, Visit visit) {
  const int64_t tiles = tile_count(n);
  auto tile_row = [&](int64_t tx) {
    const int64_t x0 = tx * kTile;
    const int64_t x1 = std::min(x0 + kTile, n);
    for (int64_t ty = 0; ty <= tx; ++ty) {
      const int64_t y0 = ty * kTile;
      const int64_t y1 = std::min(y0 + kTile, n);
      if (rows_outer) {
        for (int64_t x = x0; x < x1; ++x) {
          const int64_t y_end = std::min(y1, x);
          for (int64_t y = y0; y < y_end; ++y) visit(x, y);
        }
      } else {
        for (int64_t y = y0; y < y1; ++y) {
          for (int64_t x = std::max(x0, y + 1); x < x1; ++x) visit(x, y);
        }
      }
    }
  };
  at::parallel_for(0, (tiles + 1) / 2, 1, [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k) {
      tile_row(k);
      if (tiles - 1 - k != k) tile_row(tiles - 1 - k);
    }
  });
}

}  // namespace

void mirror_upper_onto_lower(float* m, int64_t n) {
  // Rows of the lower triangle written in order, the upper one read down its columns.
  for_strict_lower(n, /*rows_outer=*/true, [m, n](int64_t x, int64_t y) { m[x * n + y] = m[y * n + x]; });
}

void mirror_lower_onto_upper(float* m, int64_t n) {
  // Rows of the upper triangle written in order, the lower one read down its columns.
  for_strict_lower(n, /*rows_outer=*/false, [m, n](int64_t x, int64_t y) { m[y * n + x] = m[x * n + y]; });
}

void zero_strict_upper(float* m, int64_t n) {
  const int64_t grain = std::max<int64_t>(1, kElementGrain / std::max<int64_t>(n, 1));
  at::parallel_for(0, n, grain, [&](int64_t begin, int64_t end) {
    for (int64_t x = begin; x < end; ++x) {
      if (x + 1 < n) std::memset(m + x * n + x + 1, 0, static_cast<size_t>(n - x - 1) * sizeof(float));
    }
  });
}

namespace {

// dst[r, j] = src[row_index(r), index[j]] for r in [0, rows).
template <typename T, typename RowIndex>
void gather_rows_and_columns(const T* src, const int64_t* index, T* dst, int64_t rows, int64_t n, RowIndex row_index) {
  const int64_t grain = std::max<int64_t>(1, kElementGrain / std::max<int64_t>(n, 1));
  at::parallel_for(0, rows, grain, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const T* src_row = src + row_index(r) * n;
      T* dst_row = dst + r * n;
      for (int64_t j = 0; j < n; ++j) dst_row[j] = src_row[index[j]];
    }
  });
}

}  // namespace

void gather_square(const float* src, const int64_t* index, float* dst, int64_t n) {
  gather_rows_and_columns(src, index, dst, n, n, [index](int64_t r) { return index[r]; });
}

void gather_columns(const float* src, const int64_t* index, float* dst, int64_t rows, int64_t n) {
  gather_rows_and_columns(src, index, dst, rows, n, [](int64_t r) { return r; });
}

void gather_columns(const uint8_t* src, const int64_t* index, uint8_t* dst, int64_t rows, int64_t n) {
  gather_rows_and_columns(src, index, dst, rows, n, [](int64_t r) { return r; });
}

namespace {

template <typename T>
void permute_rows_in_place(T* m, const int64_t* index, int64_t rows, int64_t n) {
  const int64_t grain = std::max<int64_t>(1, kElementGrain / std::max<int64_t>(n, 1));
  at::parallel_for(0, rows, grain, [&](int64_t begin, int64_t end) {
    std::vector<T> scratch(static_cast<size_t>(n));
    for (int64_t r = begin; r < end; ++r) {
      T* row = m + r * n;
      std::copy(row, row + n, scratch.begin());
      for (int64_t j = 0; j < n; ++j) row[j] = scratch[static_cast<size_t>(index[j])];
    }
  });
}

}  // namespace

void permute_columns_in_place(float* m, const int64_t* index, int64_t rows, int64_t n) {
  permute_rows_in_place(m, index, rows, n);
}

void permute_columns_in_place(uint8_t* m, const int64_t* index, int64_t rows, int64_t n) {
  permute_rows_in_place(m, index, rows, n);
}

bool all_finite(const float* values, int64_t count) {
  // An fp32 value is NaN or infinite exactly when its exponent bits are all ones.
  return at::parallel_reduce(
      int64_t{0}, count, kElementGrain, true,
      [&](int64_t begin, int64_t end, bool finite) {
        uint32_t non_finite = 0;
        for (int64_t i = begin; i < end; ++i) {
          uint32_t bits;
          std::memcpy(&bits, values + i, sizeof bits);
          non_finite |= static_cast<uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
        }
        return finite && non_finite == 0;
      },
      [](bool a, bool b) { return a && b; });
}

}  // namespace dcomp::quant
