// Upstream's GPTQ column loop transcribed op for op in LibTorch tensor ops
// (fp32, the same calls upstream makes): the independent reference of the GPTQ
// tests and the baseline of bench_gptq_solve.
// reference: llm-compressor src/llmcompressor/modifiers/gptq/gptq_quantize.py
// (quantize_weight: Cholesky → cholesky_inverse → upper Cholesky, per-column
// quantize / error / outer-product update inside each block, one matmul per block).
#pragma once

#include <ATen/ATen.h>

#include <algorithm>
#include <cstdint>
#include <tuple>

#include "kernels/quant/observers.hpp"
#include "kernels/quant/quant_args.hpp"

namespace dcomp::quant::testing {

// Upstream's loop op for op, for Int grids with Channel ([out, 1]) or Group
// ([out, groups]) scales; actorder None or Static. Returns the codes [out, in] in the
// original column order.
inline at::Tensor upstream_codes(const at::Tensor& weight, const at::Tensor& hessian, const QParams& qparams,
                          const QuantizationArgs& args, int64_t block_size, double percdamp) {
  const int64_t columns = weight.size(1);
  const float q_min = -static_cast<float>(int64_t{1} << (args.num_bits - 1));
  const float q_max = static_cast<float>((int64_t{1} << (args.num_bits - 1)) - 1);
  at::Tensor w = weight.clone();
  at::Tensor h = hessian.clone();
  at::Tensor perm = at::arange(columns, at::kLong);
  if (args.actorder == ActOrder::Static) {
    perm = std::get<1>(at::sort(h.diagonal(), /*stable=*/true, 0, /*descending=*/true));
    w = w.index_select(1, perm);
    h = h.index_select(0, perm).index_select(1, perm);
  }
  const int64_t group_size = args.strategy == Strategy::Group ? *args.group_size : columns;
  const at::Tensor group = at::arange(columns, at::kLong).div(group_size, "floor").index_select(0, perm).contiguous();
  const at::Tensor scale = qparams.scale;
  const at::Tensor zero_point = qparams.zero_point.to(at::kFloat);

  const at::Tensor dead = h.diagonal().eq(0);
  h.diagonal().masked_fill_(dead, 1.0);
  w.masked_fill_(dead.unsqueeze(0), 0.0);
  h.diagonal().add_(static_cast<float>(percdamp) * h.diagonal().mean().item<float>());
  const at::Tensor hinv = at::linalg_cholesky(at::cholesky_inverse(at::linalg_cholesky(h)), /*upper=*/true);

  at::Tensor codes = at::empty(w.sizes(), at::kChar);
  for (int64_t i1 = 0; i1 < columns; i1 += block_size) {
    const int64_t i2 = std::min(i1 + block_size, columns);
    const int64_t count = i2 - i1;
    at::Tensor w1 = w.slice(1, i1, i2).clone();
    at::Tensor q1 = at::zeros_like(w1);
    at::Tensor err1 = at::zeros_like(w1);
    const at::Tensor hinv1 = hinv.slice(0, i1, i2).slice(1, i1, i2);
    for (int64_t i = 0; i < count; ++i) {
      const at::Tensor col = w1.select(1, i);
      const at::Tensor d = hinv1[i][i];
      const int64_t g = group[i1 + i].item<int64_t>();
      const at::Tensor s = scale.select(1, g);
      const at::Tensor z = zero_point.select(1, g);
      const at::Tensor integer = (col / s + z).clamp(q_min, q_max).round();
      const at::Tensor q = (integer - z) * s;
      codes.select(1, i1 + i).copy_(integer);
      q1.select(1, i).copy_(q);
      const at::Tensor err = (col - q) / d;
      w1.slice(1, i, count).sub_(err.unsqueeze(1).matmul(hinv1.select(0, i).slice(0, i, count).unsqueeze(0)));
      err1.select(1, i).copy_(err);
    }
    w.slice(1, i1, i2).copy_(q1);
    if (i2 < columns) w.slice(1, i2, columns).sub_(err1.matmul(hinv.slice(0, i1, i2).slice(1, i2, columns)));
  }
  return codes.index_select(1, at::argsort(perm));
}

}  // namespace dcomp::quant::testing
