// The tile of gptq_solve on AVX-512: the 16 rows of a tile are the 16 lanes. Every
// lane performs the fp32 operations of solve_tile_portable (gptq_solve.cpp) in the
// same order (division, clamp, round half to even, exact IEEE each), so the two agree
// bit for bit. Full tiles move between rows and lanes with 16×16 in-register
// transposes, and the in-block updates are applied four solved columns at a time
// (each later column still receives them in column order).
//
// reference: arXiv 2210.17323 Algorithm 1 and §3; llm-compressor
// src/llmcompressor/modifiers/gptq/gptq_quantize.py (quantize_weight, the block loop).
#include "kernels/quant/gptq_solve_tile.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define DCOMP_GPTQ_AVX512 1
#include <immintrin.h>
#endif

// Every product is rounded to fp32 before it is added or subtracted, as in the
// upstream tensor ops: GCC and Clang would otherwise fuse a·b − c into an FMA here.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
// GCC 12's AVX-512 headers trip -Wmaybe-uninitialized on their own _mm512_undefined_* helpers.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace dcomp::quant::gptq_detail {

#ifdef DCOMP_GPTQ_AVX512

namespace {

#define DCOMP_AVX512 __attribute__((target("avx512f")))

// r[i] holds row i of a 16×16 block; afterwards r[j] holds column j (r[j][i] = before r[i][j]).
DCOMP_AVX512 inline void transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int k = 0; k < 8; ++k) {  // within 128-bit lanes: pairs of rows interleaved
    t[2 * k] = _mm512_unpacklo_ps(r[2 * k], r[2 * k + 1]);
    t[2 * k + 1] = _mm512_unpackhi_ps(r[2 * k], r[2 * k + 1]);
  }
  __m512 u[16];  // u[4g + c], lane L: rows 4g … 4g+3 of column 4L + c
  for (int g = 0; g < 4; ++g) {
    u[4 * g + 0] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0x44);
    u[4 * g + 1] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0xEE);
    u[4 * g + 2] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0x44);
    u[4 * g + 3] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0xEE);
  }
  for (int c = 0; c < 4; ++c) {  // gather lane L of u[c], u[4+c], u[8+c], u[12+c] into column 4L + c
    const __m512 even_low = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88);
    const __m512 odd_low = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xDD);
    const __m512 even_high = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88);
    const __m512 odd_high = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xDD);
    r[c] = _mm512_shuffle_f32x4(even_low, even_high, 0x88);
    r[8 + c] = _mm512_shuffle_f32x4(even_low, even_high, 0xDD);
    r[4 + c] = _mm512_shuffle_f32x4(odd_low, odd_high, 0x88);
    r[12 + c] = _mm512_shuffle_f32x4(odd_low, odd_high, 0xDD);
  }
}

DCOMP_AVX512 void load_full_tile(const Block& b, int64_t r0, Tile& t) {
  const float* src = b.work + r0 * b.n + b.first;
  int64_t j0 = 0;
  for (; j0 + kLanes <= b.count; j0 += kLanes) {
    __m512 r[kLanes];
    for (int64_t l = 0; l < kLanes; ++l) r[l] = _mm512_loadu_ps(src + l * b.n + j0);
    transpose16(r);
    for (int64_t j = 0; j < kLanes; ++j) _mm512_storeu_ps(t.values.data() + (j0 + j) * kLanes, r[j]);
  }
  for (; j0 < b.count; ++j0) {
    for (int64_t l = 0; l < kLanes; ++l) t.values[j0 * kLanes + l] = src[l * b.n + j0];
  }
  for (double& loss : t.loss) loss = 0.0;
}

// Columns [i0, i0 + 16) of a column-major tile array as 16 row vectors.
DCOMP_AVX512 inline void tile_rows(const std::vector<float>& tile, int64_t i0, __m512 r[kLanes]) {
  for (int64_t j = 0; j < kLanes; ++j) r[j] = _mm512_loadu_ps(tile.data() + (i0 + j) * kLanes);
  transpose16(r);
}

DCOMP_AVX512 void store_full_tile(const Block& b, int64_t r0, const Tile& t) {
  float* dequantized = b.work + r0 * b.n + b.first;
  uint8_t* codes = static_cast<uint8_t*>(b.targets->codes) + r0 * b.n + b.first;
  float* err = b.err + r0 * b.err_stride;
  int64_t i0 = 0;
  for (; i0 + kLanes <= b.count; i0 += kLanes) {
    __m512 r[kLanes];
    tile_rows(t.dequant, i0, r);
    for (int64_t l = 0; l < kLanes; ++l) _mm512_storeu_ps(dequantized + l * b.n + i0, r[l]);
    tile_rows(t.values, i0, r);
    for (int64_t l = 0; l < kLanes; ++l) _mm512_storeu_ps(err + l * b.err_stride + i0, r[l]);
    tile_rows(t.codes, i0, r);
    for (int64_t l = 0; l < kLanes; ++l) {
      const __m128i bytes = _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(r[l]));  // int8 / E4M3 bits, truncated
      _mm_storeu_si128(reinterpret_cast<__m128i*>(codes + l * b.n + i0), bytes);
    }
  }
  for (; i0 < b.count; ++i0) {
    for (int64_t l = 0; l < kLanes; ++l) {
      dequantized[l * b.n + i0] = t.dequant[i0 * kLanes + l];
      codes[l * b.n + i0] = static_cast<uint8_t>(static_cast<int32_t>(t.codes[i0 * kLanes + l]));
      err[l * b.err_stride + i0] = t.values[i0 * kLanes + l];
    }
  }
  for (int64_t l = 0; l < kLanes; ++l) b.row_loss[r0 + l] += t.loss[l];
}

struct LaneLoss {
  __m512d low;   // lanes 0–7
  __m512d high;  // lanes 8–15
};

// Quantizes column i of the tile (its updates from earlier columns all applied),
// records codes, dequantized values and loss, and leaves (w − q) / U[i,i] in the
// column; returns it.
DCOMP_AVX512 inline __m512 solve_column(const Block& b, int64_t r0, Tile& t, int64_t i, LaneLoss& loss) {
  const GptqSolveTargets& g = *b.targets;
  const QuantGrid& grid = g.grid;
  const int64_t offset = g.scale_column[b.first + i] * g.padded_rows + r0;
  const __m512 scale = _mm512_loadu_ps(g.scale + offset);
  const __m512 zero_point = _mm512_loadu_ps(g.zero_point + offset);
  const float d = b.u[i * b.count + i];
  float* column = t.values.data() + i * kLanes;
  const __m512 value = _mm512_loadu_ps(column);
  __m512 q;
  if (grid.element == ElementFormat::Int && grid.dtype == FloatDType::F32) {
    // QuantGrid::code: x/scale + zp, std::clamp (which keeps x on ties and NaN: max and
    // min return their second operand then), round half to even.
    __m512 x = _mm512_add_ps(_mm512_div_ps(value, scale), zero_point);
    x = _mm512_min_ps(_mm512_set1_ps(grid.q_max), _mm512_max_ps(_mm512_set1_ps(grid.q_min), x));
    const __m512 code = _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm512_storeu_ps(t.codes.data() + i * kLanes, code);
    q = _mm512_mul_ps(_mm512_sub_ps(code, zero_point), scale);  // QuantGrid::value
  } else {
    // FP8 / FP4 codes, and every grid of a BF16 / F16 model (its roundings): lane by lane.
    alignas(64) float lanes[kLanes];
    alignas(64) float scales[kLanes];
    alignas(64) float zero_points[kLanes];
    _mm512_store_ps(lanes, value);
    _mm512_store_ps(scales, scale);
    _mm512_store_ps(zero_points, zero_point);
    for (int64_t l = 0; l < kLanes; ++l) {
      const int32_t code = grid.code(lanes[l], scales[l], zero_points[l]);
      t.codes[i * kLanes + l] = static_cast<float>(code);
      lanes[l] = grid.value(code, scales[l], zero_points[l]);
    }
    q = _mm512_load_ps(lanes);
  }
  _mm512_storeu_ps(t.dequant.data() + i * kLanes, q);
  const __m512 diff = _mm512_sub_ps(value, q);
  const __m512 ratio = _mm512_div_ps(_mm512_mul_ps(diff, diff), _mm512_set1_ps(d * d));
  loss.low = _mm512_add_pd(loss.low, _mm512_cvtps_pd(_mm512_castps512_ps256(ratio)));
  loss.high = _mm512_add_pd(
      loss.high, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(ratio), 1))));
  const __m512 scaled = _mm512_div_ps(diff, _mm512_set1_ps(d));
  _mm512_storeu_ps(column, scaled);
  return scaled;
}

// column −= scaled · u (the product rounded first).
DCOMP_AVX512 inline __m512 minus_product(__m512 column, __m512 scaled, float u) {
  return _mm512_sub_ps(column, _mm512_mul_ps(scaled, _mm512_set1_ps(u)));
}

// Column j of the tile −= scaled · u.
DCOMP_AVX512 inline void update(float* values, int64_t j, __m512 scaled, float u) {
  float* column = values + j * kLanes;
  _mm512_storeu_ps(column, minus_product(_mm512_loadu_ps(column), scaled, u));
}

DCOMP_AVX512 void solve_tile(const Block& b, int64_t r0, Tile& t) {
  const int64_t count = b.count;
  float* values = t.values.data();
  LaneLoss loss{_mm512_setzero_pd(), _mm512_setzero_pd()};
  int64_t i = 0;
  for (; i + 4 <= count; i += 4) {
    const float* u0 = b.u + i * count;  // rows i … i+3 of the block's U
    const float* u1 = u0 + count;
    const float* u2 = u1 + count;
    const float* u3 = u2 + count;
    const __m512 s0 = solve_column(b, r0, t, i, loss);
    update(values, i + 1, s0, u0[i + 1]);
    update(values, i + 2, s0, u0[i + 2]);
    update(values, i + 3, s0, u0[i + 3]);
    const __m512 s1 = solve_column(b, r0, t, i + 1, loss);
    update(values, i + 2, s1, u1[i + 2]);
    update(values, i + 3, s1, u1[i + 3]);
    const __m512 s2 = solve_column(b, r0, t, i + 2, loss);
    update(values, i + 3, s2, u2[i + 3]);
    const __m512 s3 = solve_column(b, r0, t, i + 3, loss);
    for (int64_t j = i + 4; j < count; ++j) {
      float* column = values + j * kLanes;
      __m512 x = _mm512_loadu_ps(column);
      x = minus_product(x, s0, u0[j]);
      x = minus_product(x, s1, u1[j]);
      x = minus_product(x, s2, u2[j]);
      x = minus_product(x, s3, u3[j]);
      _mm512_storeu_ps(column, x);
    }
  }
  for (; i < count; ++i) {
    const __m512 s = solve_column(b, r0, t, i, loss);
    for (int64_t j = i + 1; j < count; ++j) update(values, j, s, b.u[i * count + j]);
  }
  _mm512_storeu_pd(t.loss, loss.low);
  _mm512_storeu_pd(t.loss + 8, loss.high);
}

}  // namespace

void process_tile_avx512(const Block& b, int64_t r0, int64_t live, Tile& t) {
  if (live == kLanes) {
    load_full_tile(b, r0, t);
    solve_tile(b, r0, t);
    store_full_tile(b, r0, t);
  } else {
    load_tile(b, r0, live, t);
    solve_tile(b, r0, t);
    store_tile(b, r0, live, t);
  }
}

bool avx512_available() {
  static const bool available = __builtin_cpu_supports("avx512f");
  return available;
}

#else  // no AVX-512 kernel on this target

void process_tile_avx512(const Block& b, int64_t r0, int64_t live, Tile& t) { process_tile_portable(b, r0, live, t); }

bool avx512_available() { return false; }

#endif

}  // namespace dcomp::quant::gptq_detail
