// Dequantization of ggml tensors to float32, value for value what the reference
// (gguf-py's quants.py, which transformers' GGUF loading calls) computes.
//
// Blocks of 32 values along each row:
//   Q8_0: f16 d, int8 q[32];              x[i] = d * q[i]
//   Q4_0: f16 d, u8 qs[16];               x[i] = d * ((qs[i] & 15) - 8), x[i+16] = d * ((qs[i] >> 4) - 8)
//   Q4_1: f16 d, f16 m, u8 qs[16];        x[i] = d * (qs[i] & 15) + m,  x[i+16] = d * (qs[i] >> 4) + m
// (one float32 product, then one float32 sum: no fused multiply-add).
// reference: ggml/src/ggml-quants.c dequantize_row_q8_0 / q4_0 / q4_1; gguf-py/gguf/quants.py
#pragma once

#include <ATen/core/Tensor.h>

#include "kernels/gguf/gguf_file.hpp"

namespace dcomp::gguf {

/// The tensor as float32 [shape] (a fresh tensor, not a view of the file). Throws
/// GgufError naming the file, the tensor and its type when the type is not one of
/// F32, F16, BF16, Q8_0, Q4_0, Q4_1.
at::Tensor dequantize_ggml(const GgufFile& file, const GgufTensorInfo& info);

}  // namespace dcomp::gguf
