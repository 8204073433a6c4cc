// The CPU reference of the fused GPTQ block step: the per-column loop of GPTQ as plain
// fp32 loops over rows and columns, written from the algorithm (not from the kernel).
//
// reference: arXiv 2210.17323 Algorithm 1; llm-compressor src/llmcompressor/modifiers/gptq/
// gptq_quantize.py (quantize_weight); compressed-tensors quantization/lifecycle/forward.py
// (_quantize: round(clamp(x / scale + zero_point)), _dequantize: (q − zero_point)·scale).
#include <algorithm>
#include <cmath>

#include "kernels/cuda/gptq_block_step.hpp"

// Products are rounded to fp32 before they are subtracted, as in the tensor ops the
// algorithm is written with; a fused multiply-add would change the last bit.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace dcomp::gpu {

void gptq_block_step_reference(const GptqBlock& b, const GptqQuantTargets& t, int64_t* ties) {
  int64_t halfway = 0;
  for (int64_t r = 0; r < b.rows; ++r) {
    float* w = b.weight + r * b.columns + b.first;  // the block's columns of row r
    for (int64_t i = 0; i < b.count; ++i) {
      const int64_t column = b.first + i;
      const int64_t q_at = r * t.scale_row_stride + t.scale_column[column];
      const float scale = t.scale[q_at];
      const float zero = t.zero_point[q_at];
      const float value = w[i];
      float x = value / scale;
      x += zero;
      x = std::clamp(x, t.q_min, t.q_max);
      if (x - std::floor(x) == 0.5f) ++halfway;
      const float q = std::nearbyint(x);  // round half to even (default rounding mode)
      const float dequant = (q - zero) * scale;
      const float* u_row = b.hinv + i * b.hinv_ld;  // U[column, first …]
      const float err = (value - dequant) / u_row[i];
      for (int64_t j = i + 1; j < b.count; ++j) w[j] -= err * u_row[j];
      w[i] = dequant;
      t.codes[r * b.columns + column] = static_cast<int8_t>(q);
      b.err[r * b.err_ld + i] = err;
    }
  }
  if (ties) *ties = halfway;
}

}  // namespace dcomp::gpu
