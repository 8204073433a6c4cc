// Dense fp32 copies on raw row-major buffers for the GPTQ / SparseGPT solves: a
// transposed copy, one triangle mirrored onto the other (either way), a triangle zeroed, permuted
// gathers, and a finiteness scan. Square work is split into 64×64 tiles (so that both
// the rows read and the rows written stay in cache) and spread over at::parallel_for.
//
// reference: the element-wise definitions below; LAPACK's column-major storage
// convention (element (r, c) of an n×n matrix at r + c·n), which is what
// inverse_hessian.cpp converts to and from.
#pragma once

#include <cstdint>

namespace dcomp::quant {

/// src, dst [n, n] fp32 row-major, distinct: dst[j, i] = src[i, j].
void transpose_square(const float* src, float* dst, int64_t n);

/// m [n, n] fp32 row-major: m[x, y] = m[y, x] for y < x (strict upper triangle copied
/// onto the strict lower one; the diagonal and the upper triangle are kept).
void mirror_upper_onto_lower(float* m, int64_t n);

/// m [n, n] fp32 row-major: m[y, x] = m[x, y] for y < x (strict lower triangle copied
/// onto the strict upper one).
void mirror_lower_onto_upper(float* m, int64_t n);

/// m [n, n] fp32 row-major: m[x, y] = 0 for y > x.
void zero_strict_upper(float* m, int64_t n);

/// src, dst [n, n] fp32 row-major, index int64 [n] (a permutation): dst[i, j] = src[index[i], index[j]].
void gather_square(const float* src, const int64_t* index, float* dst, int64_t n);

/// src, dst [rows, n] row-major (fp32, or bytes), index int64 [n]: dst[r, j] = src[r, index[j]].
void gather_columns(const float* src, const int64_t* index, float* dst, int64_t rows, int64_t n);
void gather_columns(const uint8_t* src, const int64_t* index, uint8_t* dst, int64_t rows, int64_t n);

/// m [rows, n] row-major (fp32, or bytes), index int64 [n]: m[r, j] = m_before[r, index[j]],
/// row by row through a scratch row.
void permute_columns_in_place(float* m, const int64_t* index, int64_t rows, int64_t n);
void permute_columns_in_place(uint8_t* m, const int64_t* index, int64_t rows, int64_t n);

/// values [count] fp32: true when none is NaN or ±infinity.
bool all_finite(const float* values, int64_t count);

}  // namespace dcomp::quant
