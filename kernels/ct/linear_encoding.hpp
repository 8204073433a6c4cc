// The safetensors tensors that store one compressed Linear in a compressed-tensors
// checkpoint, from the quantization / pruning result (quant::CompressedWeight).
//
// Per format, for module <m> ([out, in] weight, G groups, model dtype D):
//   pack-quantized   <m>.weight_packed int32 [out, ceil(in*bits/32)], <m>.weight_scale D,
//                    <m>.weight_shape int64 [2], <m>.weight_zero_point (asymmetric only:
//                    int32 packed along dim 0 [ceil(out*bits/32), G] for group/channel,
//                    int8 otherwise), <m>.weight_g_idx int32 [in] (actorder group only)
//   int-/naive-quantized (int)  <m>.weight int8 [out, in], <m>.weight_scale D,
//                    <m>.weight_zero_point int8 (asymmetric only), <m>.weight_g_idx
//   float-/naive-quantized (fp8)  <m>.weight F8_E4M3 [out, in], <m>.weight_scale D
//   static input activations add <m>.input_scale D [1] (and <m>.input_zero_point int8 [1]
//   when asymmetric); dynamic ones add nothing.
//   dense (pruned only)  <m>.weight D [out, in] with the pruned zeros in place, or, when
//                    requested for 2:4 sparsity, the legacy <m>.compressed / .bitmask / .shape.
// Scale shapes: tensor [1], channel [out, 1], group [out, G], block [ceil(out/bh), ceil(in/bw)].
//
// reference: compressed-tensors compressors/pack_quantized/base.py, naive_quantized/base.py
// (tensor names, zero point packing only for group/channel, symmetric zero points dropped).
#pragma once

#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "kernels/io/safetensors.hpp"
#include "kernels/quant/compressed_weight.hpp"

namespace dcomp::ct {

/// Any CompressedWeight that cannot be stored as asked; the message names the module.
class EncodingError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// The tensors storing `weight` of Linear `module_name` in `format` ("pack-quantized",
/// "int-quantized", "float-quantized", "naive-quantized" or "dense"); floating tensors are
/// converted to `model_dtype` (kFloat, kHalf or kBFloat16). With `legacy_sparse_24_bitmask`,
/// a pruned-only 2:4 weight is stored as sparse-24-bitmask instead of dense.
/// Every shape, dtype and value range is checked first (EncodingError naming the module).
std::vector<io::NamedTensor> encode_compressed_linear(const std::string& module_name,
                                                      const quant::CompressedWeight& weight, const std::string& format,
                                                      at::ScalarType model_dtype, bool legacy_sparse_24_bitmask = false);

/// The expected scale shape for `args` and a weight [out, in]: tensor [1], channel
/// [out, 1], group [out, ceil(in/group_size)], block [ceil(out/bh), ceil(in/bw)].
std::vector<int64_t> expected_scale_shape(const quant::QuantizationArgs& args, int64_t out_features,
                                          int64_t in_features);

}  // namespace dcomp::ct
