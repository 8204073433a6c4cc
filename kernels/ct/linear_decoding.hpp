// The dequantized fp32 weight of one Linear stored in a compressed-tensors checkpoint,
// from whichever layout holds it (see linear_encoding.hpp for the tensor names):
// pack-quantized (with or without zero point and g_idx), nvfp4- and mxfp4-pack-quantized
// (E2M1 codes times FP8 scales over the global scale, or times 2^(e − 127)), int-/naive-quantized int8,
// float-/naive-quantized FP8 E4M3, dense, and the legacy sparse-24-bitmask (alone or
// holding quantized codes).
//
// Dequantization follows compressed-tensors: W[r, c] = (q[r, c] - zp[r, g]) * scale[r, g],
// g = c / group_size, or g_idx[c] when the checkpoint has one; block scales cover
// [bh, bw] tiles. It is computed in fp32 from the stored scale, which is exact for
// bf16 / fp16 scales (an 8-bit code times a 16-bit scale fits fp32's mantissa): the same
// weights transformers decompresses to when loading with dtype=float32, and the same
// effective weights a compression pipeline that rounds its scales to the model dtype used.
// (compressed-tensors computes in the scale's dtype, so loading a bf16 checkpoint in bf16
// rounds these products once more to bf16.)
//
// reference: compressed-tensors quantization/lifecycle/forward.py and forward_helpers.py
// (dequantize, _dequantize), compressors/pack_quantized/base.py (decompress),
// compressors/naive_quantized/base.py (decompress).
#pragma once

#include <string>

#include <ATen/core/Tensor.h>

#include "kernels/io/safetensors.hpp"
#include "kernels/quant/quant_args.hpp"

namespace dcomp::ct {

/// A stored Linear that cannot be decoded; the message names the file, tensor and problem.
class DecodingError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// codes [out, in] (any real dtype holding the integer or FP8 values) → dequantized fp32
/// [out, in]. `scale` has the strategy's shape (see expected_scale_shape); `zero_point`
/// (same shape, integer) and `g_idx` (int [in]) may be undefined.
at::Tensor dequantize_weight(const at::Tensor& codes, const at::Tensor& scale, const at::Tensor& zero_point,
                             const at::Tensor& g_idx, const quant::QuantizationArgs& args);

/// The fp32 weight [out, in] of Linear `module_name` in `reader`. `weight_args` are the
/// weight quantization arguments of the module's config group (nullptr when no group
/// quantizes it). The layout is recognized from the tensors present; quantized codes
/// without weight_args are an error, a floating weight is taken as it is (checkpoints
/// saved with quantization_status "frozen" or "decompressed" hold those).
at::Tensor decode_linear_weight(const io::CheckpointReader& reader, const std::string& module_name,
                                const quant::QuantizationArgs* weight_args);

}  // namespace dcomp::ct
